"""Pulse-rate variability and breathing on the monitor's readings (issue 12), as a user gets
them: rendered face video whose pulse carries a known beat sequence and breathing, through
``HeartRateMonitor``.

One 32 s still clip is rendered per session (rendering is the slow part); the noisy and moving
clips are ``slow`` (``python -m evaluation.vitals`` runs them all and prints the table).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import require_module
from rppg_sdk import MonitorOptions
from rppg_sdk.extractors import PulseWindow
from rppg_sdk.synthetic.pulse import beat_sequence, ppg_from_beats
from rppg_sdk.vitals import measure_vitals

from evaluation.vitals import BREATHING_PER_MIN, VIDEO_RMSSD_MS, RenderedCase, render_case


@pytest.fixture(scope="session")
def still_clip() -> tuple[RenderedCase, list[Any]]:
    require_module("skimage", extra="demo")
    return render_case("still", 32.0)


def test_still_face_prv_and_breathing(still_clip: tuple[RenderedCase, list[Any]]) -> None:
    case, readings = still_clip
    print(f"\n{case}")
    for r in readings:
        if r.timestamp_s < 20.0 - 1e-6:
            assert r.breathing_rate_bpm is None and r.breathing_confidence is None
        if r.timestamp_s < 30.0 - 1e-6:
            assert r.prv is None
    last = readings[-1]
    assert last.prv is not None, "no PRV after 32 s of a still face"
    assert last.prv.window_s >= 30.0
    assert last.prv.confidence >= 0.3
    assert case.rmssd_ms is not None
    assert abs(case.rmssd_ms - case.rmssd_truth_ms) < VIDEO_RMSSD_MS
    assert last.breathing_rate_bpm is not None
    assert abs(last.breathing_rate_bpm - case.breathing_truth_per_min) < BREATHING_PER_MIN
    # From 20 s on, breathing is given on every reading (a still face: always confident).
    late = [r for r in readings if r.timestamp_s >= 21.0]
    assert all(r.breathing_rate_bpm is not None for r in late)
    row = last.as_dict()
    assert row["prv_rmssd_ms"] == pytest.approx(last.prv.rmssd_ms, abs=0.01)
    assert row["breathing_rate_bpm"] == pytest.approx(last.breathing_rate_bpm, abs=0.01)
    assert set(row) >= {"prv_sdnn_ms", "prv_confidence", "breathing_confidence"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("sensor noise 12", {"sensor_noise_std": 12.0}),
        ("talking + noise 8", {"motion": "talking", "sensor_noise_std": 8.0}),
    ],
)
def test_noise_or_motion_lowers_the_confidence(name: str, kw: dict[str, Any]) -> None:
    """Sensor noise at these levels, alone or with talking, moves the beats by tens of ms
    (RMSSD +24 / +15 ms on 40 s clips, ``python -m evaluation.vitals``): the confidence must
    fall below 0.3, and so ``reading.prv`` to ``None`` at the default threshold."""
    require_module("skimage", extra="demo")
    case, readings = render_case(name, 36.0, options={"vitals_min_confidence": 0.0}, **kw)
    print(f"\n{case}")
    assert case.rmssd_ms is not None and case.prv_confidence is not None
    assert case.prv_confidence < 0.3
    late = [r.prv.confidence for r in readings if r.prv is not None]
    assert late and max(late) < 0.5  # never near a still face's 0.9


# ----------------------------------------------------------------------------- gating


class _FakeExtractor:
    """A PulseExtractor holding a fixed pulse: what the monitor asks, answered from it."""

    method_name = "pos"

    def __init__(self, pulse: np.ndarray, fs_hz: float) -> None:
        self.pulse, self.fs = pulse, fs_hz
        self.asked: list[tuple[float, float, float]] = []

    def pulse_window(
        self, end_s: float, window_s: float, min_window_s: float
    ) -> PulseWindow | None:
        self.asked.append((end_s, window_s, min_window_s))
        n = min(self.pulse.size, int(round(min(end_s, window_s) * self.fs)))
        if n / self.fs + 1e-6 < min_window_s:
            return None
        times = end_s - (n - 1 - np.arange(n)) / self.fs
        return PulseWindow(times, self.pulse[-n:], self.fs, 0, "pos", 3)


def _fake(duration_s: float, noise: float = 0.0) -> _FakeExtractor:
    beats = beat_sequence(duration_s + 1, 70.0, 15.0, 40.0, 15.0, 2)
    ppg, _ = ppg_from_beats(beats, int(duration_s * 30), 30.0, 15.0, 0.15, 0.15, rng=2)
    ppg = ppg + noise * np.random.default_rng(0).standard_normal(ppg.size)
    return _FakeExtractor(ppg, 30.0)


def test_vitals_wait_for_enough_signal() -> None:
    o = MonitorOptions()
    ext = _fake(60.0)
    assert measure_vitals(ext, 15.0, o).breathing_rate_bpm is None  # 15 s of pulse
    v = measure_vitals(ext, 25.0, o)
    assert v.prv is None and v.breathing_rate_bpm is not None
    v = measure_vitals(ext, 60.0, o)
    assert v.prv is not None and v.prv.window_s == pytest.approx(60.0, abs=0.1)
    assert ext.asked[-1] == (60.0, o.prv_window_s, min(o.min_prv_s, o.min_breathing_s))
    assert measure_vitals(ext, 60.0, MonitorOptions(vitals=False)).prv is None


def test_vitals_below_the_confidence_threshold_are_none() -> None:
    noisy = _fake(60.0, noise=1.0)
    v = measure_vitals(noisy, 60.0, MonitorOptions(vitals_min_confidence=0.0))
    assert v.prv is not None and v.prv.confidence < 0.3
    assert measure_vitals(noisy, 60.0, MonitorOptions()).prv is None
    strict = measure_vitals(_fake(60.0), 60.0, MonitorOptions(vitals_min_confidence=1.0))
    assert strict.prv is None and strict.breathing_confidence is not None
    assert (strict.breathing_rate_bpm is None) == (strict.breathing_confidence < 1.0)
    weak = measure_vitals(_fake(60.0, noise=3.0), 60.0, MonitorOptions())
    assert weak.breathing_confidence is not None and weak.breathing_confidence < 0.3
    assert weak.breathing_rate_bpm is None  # the confidence is given, the rate is not


def test_a_short_history_degrades_to_none() -> None:
    """A 24 s history (a face that came back 24 s ago, a model's shorter stitched pulse) is
    below the PRV minimum: ``None``, no error; breathing (20 s) is given."""
    v = measure_vitals(_fake(24.0), 60.0, MonitorOptions())
    assert v.prv is None and v.breathing_rate_bpm is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [("prv_window_s", 5.0), ("min_prv_s", 70.0), ("min_breathing_s", 2.0),
     ("vitals_min_confidence", 1.5), ("prv_window_s", float("nan"))],
)  # fmt: skip
def test_bad_vitals_options(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        MonitorOptions(**{field: value})
    with pytest.raises(TypeError, match="vitals"):
        MonitorOptions(vitals="yes")  # type: ignore[arg-type]
