"""The classical pulse chain in the C++ core (``rppg::PulseMonitor`` and its parts).

The chain replaced a Python implementation; ``fixtures/pulse_chain_reference.json`` holds that
implementation's readings on generated ROI traces (``fixtures/make_pulse_chain_reference.py``),
so a change of behaviour shows here.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rppg_sdk import _core
from rppg_sdk.analysis import PulseAnalyzer
from rppg_sdk.confidence import (
    ConfidenceInputs,
    ConfidenceModel,
    calibrated_model,
    core_coefficients,
)
from rppg_sdk.extractors.base import Method
from rppg_sdk.extractors.classical import ClassicalExtractor
from rppg_sdk.reading import ReadingStatus
from rppg_sdk.tracking import TrackerOptions, core_tracker_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "pulse_chain_reference.json"
sys.path.insert(0, str(ROOT / "benchmarks"))

from pulse_chain_parity import replay_stream  # noqa: E402


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data["streams"]


def _close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol


@pytest.mark.parametrize(
    ("stream", "method"),
    [("colour", "pos"), ("colour", "chrom"), ("colour", "green"), ("mono", "mono")],
)
def test_chain_matches_the_frozen_readings(
    reference: dict[str, Any], stream: str, method: str
) -> None:
    rows = np.array(reference[stream]["rows"])
    want = reference[stream]["readings"][method]
    got = replay_stream(rows, Method(method))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g["status"] == w["status"], (g["t"], g, w)
        assert _close(g["bpm"], w["bpm"], 0.01), (g["t"], g["bpm"], w["bpm"])
        assert _close(g["confidence"], w["confidence"], 0.001), (g["t"], g, w)
        assert _close(g["raw_bpm"], w["raw_bpm"], 0.01)
        assert _close(g["snr_db"], w["snr_db"], 1e-3)
        for key in ("reference_share", "motion_share", "harmonic_ratio"):
            assert _close(g[key], w[key], 1e-4), (key, g[key], w[key])


def test_streaming_monitor_matches_the_extractor_and_analyzer(reference: dict[str, Any]) -> None:
    """``_core.PulseMonitor`` (what a C++ DMS runs) gives the readings the SDK's classical path
    gives on the same frames."""
    rows = np.array(reference["colour"]["rows"])
    want = reference["colour"]["readings"]["pos"]
    mon = _core.PulseMonitor(
        "pos", 3, True, 0.7, 4.0, 10.0, 5.0, 1.0, 30.0,
        core_tracker_config(TrackerOptions()), core_coefficients(calibrated_model("pos")), 0.3,
        6.0, remove_reference=True,
    )  # fmt: skip
    got = []
    for r in rows:
        out = mon.push(r[0], r[1:4], r[4:7], r[8], r[9], bool(r[10] > 0))
        if out is not None:
            got.append(out)
    assert [g["status"] for g in got] == [w["status"] for w in want]
    for g, w in zip(got, want, strict=True):
        if w["bpm"] is not None:
            assert abs(g["bpm"] - w["bpm"]) <= 0.01
            assert abs(g["confidence"] - w["confidence"]) <= 0.001


def test_a_custom_confidence_model_is_called() -> None:
    """A subclass of ConfidenceModel (someone's own) is evaluated in Python on the evidence."""

    class Half(ConfidenceModel):
        def __call__(self, x: ConfidenceInputs) -> float:
            return 0.5 if x.snr_db > 0 else 0.1

    t = np.arange(0, 12, 1 / 30)
    pulse = np.sin(2 * np.pi * 1.2 * t)
    from rppg_sdk.extractors.base import PulseWindow  # noqa: PLC0415

    window = PulseWindow(times_s=t, pulse=pulse, fs_hz=30.0, box_moves=0, method_name="pos",
                         input_channels=3)  # fmt: skip
    analyzer = PulseAnalyzer((0.7, 4.0), 10.0, TrackerOptions(), Half(), 0.6, 6.0)
    r = analyzer.analyze(window, 12.0, None, "pos", 3)
    assert r.confidence == 0.5
    assert r.status is ReadingStatus.LOW_QUALITY
    assert r.bpm is not None and abs(r.bpm - 72.0) < 0.5
    fitted = PulseAnalyzer((0.7, 4.0), 10.0, TrackerOptions(), None, 0.6, 6.0)
    r2 = fitted.analyze(window, 12.0, None, "pos", 3)
    assert r2.evidence is not None
    assert r2.confidence == pytest.approx(calibrated_model("pos")(r2.evidence), abs=1e-12)


def test_sixty_second_windows_for_variability() -> None:
    """The trace buffer keeps 64 s + 2 s whatever the monitor's own window (pulse-rate
    variability asks for 60 s pulse windows)."""
    ext = ClassicalExtractor(Method.POS, window_s=10.0)
    rng = np.random.default_rng(0)
    t = np.arange(0, 63, 1 / 30)
    for ts in t:
        g = 120 * (1 - 0.002 * np.sin(2 * np.pi * 1.1 * ts)) + rng.normal(0, 0.05)
        ext.push_means(ts, [90.0, g, 160.0])
    w = ext.pulse_window(float(t[-1]), 60.0, 30.0)
    assert w is not None
    assert abs(w.span_s - 60.0) < 0.05
    with pytest.raises(ValueError, match="max_window_s"):
        ext.pulse_window(float(t[-1]), 70.0, 30.0)


def test_bad_input_is_refused() -> None:
    ext = ClassicalExtractor(Method.POS)
    ext.push_means(1.0, [90.0, 120.0, 160.0])
    with pytest.raises(ValueError, match="timestamp"):
        ext.push_means(1.0, [90.0, 120.0, 160.0])
    with pytest.raises(ValueError, match="finite"):
        ext.push_means(2.0, [90.0, float("nan"), 160.0])
    with pytest.raises(ValueError, match="channels"):
        ext.push_means(2.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="method"):
        _core.PulseWindowBuilder(0.7, 4.0, "magic", 3, True, 64.0, 30.0)


def test_core_logit_is_the_fitted_features_form() -> None:
    """The C++ logit (what every reading uses) is intercept + coefficients . features(), the
    form ``evaluation.calibrate`` fits in Python."""
    rng = np.random.default_rng(3)
    models = [calibrated_model(m) for m in ("pos", "chrom", "green", "mono", "physnet", "x")]
    extra = ConfidenceModel(classical_coef=2.5, classical_harmonic_coef=-1.5, signature_coef=-0.1)
    for m in [*models, extra]:
        coefs = np.array(
            [m.snr_coef, m.ipr_coef, m.reference_coef, m.move_coef, m.harmonic_coef,
             m.motion_coef, m.classical_coef, m.classical_harmonic_coef, m.signature_coef]
        )  # fmt: skip
        for _ in range(50):
            x = ConfidenceInputs(
                snr_db=float(rng.uniform(-25, 25)),
                irrelevant_power_ratio=float(rng.uniform(-0.1, 1.1)),
                box_moves=int(rng.integers(-1, 4)),
                window_fraction=float(rng.uniform(0, 1.2)),
                edge_distance_bpm=float(rng.choice([rng.uniform(-2, 20), math.inf])),
                reference_share=float(rng.uniform(-0.1, 1.1)),
                harmonic_ratio=float(rng.choice([rng.uniform(0, 2), math.nan])),
                motion_share=float(rng.uniform(0, 1)),
                classical_share=float(rng.choice([rng.uniform(-0.1, 1.1), math.nan])),
                classical_harmonic_ratio=float(rng.choice([rng.uniform(0, 2), math.nan])),
                signature_deg=float(rng.choice([rng.uniform(-5, 100), math.nan])),
            )
            want = m.intercept + float(coefs @ np.array(x.features()))
            assert m.logit(x) == pytest.approx(want, abs=1e-12)
            c = m(x)
            assert 0.0 <= c <= 1.0
            if x.snr_db <= m.snr_floor_db or x.edge_distance_bpm <= 0:
                assert c == 0.0
