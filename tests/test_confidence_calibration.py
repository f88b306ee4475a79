"""The shipped confidence fit (python/rppg_sdk/confidence.json) is what the evaluation gives.

Slow (renders and measures the suite's tune part, ~15-30 min on 2 cores): ``pytest -m slow
tests/test_confidence_calibration.py``. The fast tests check the shipped file itself.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from rppg_sdk.confidence import (
    CALIBRATION_FILE,
    ConfidenceInputs,
    ConfidenceModel,
    calibrated_model,
    calibration_report,
)

SHIPPED_METHODS = ("pos", "chrom", "green", "mono", "physnet", "autohr", "physnet_nir")


def _shipped() -> dict:
    return json.loads(CALIBRATION_FILE.read_text())


def test_every_shipped_method_has_a_fit_and_its_reliability() -> None:
    data = _shipped()
    for method in SHIPPED_METHODS:
        entry = data["methods"][method]
        assert entry["fitted_on_readings"] >= 20
        assert calibrated_model(method) == ConfidenceModel(**entry["coefficients"])
        assert calibration_report(method) is not None
        assert entry["reliability_holdout"], method  # reported on data it was not fitted on


def test_fitted_models_rank_evidence_the_physical_way() -> None:
    """More SNR never lowers confidence; a window of noise scores low. A classical method's own
    SNR is evidence for it; a network draws a clean wave from noise or a lamp, so for models
    the evidence is the classical pulse from the same skin (more of it at the rate, more
    confidence; a bare sinusoid there, less)."""
    for method in SHIPPED_METHODS:
        m = calibrated_model(method)
        assert m.snr_coef >= 0, method
        assert m(ConfidenceInputs(snr_db=12.0, irrelevant_power_ratio=0.2)) >= m(
            ConfidenceInputs(snr_db=0.0, irrelevant_power_ratio=0.2)
        )
        assert m(ConfidenceInputs(snr_db=-10.0, irrelevant_power_ratio=0.6)) < 0.3, method
    for method in ("pos", "chrom", "green", "mono"):
        assert calibrated_model(method).snr_coef > 0, method
    for method in ("physnet", "autohr", "physnet_nir"):
        m = calibrated_model(method)
        assert m.classical_coef > 0 and m.classical_harmonic_coef < 0, method
        seen = {"snr_db": 8.0, "irrelevant_power_ratio": 0.1, "classical_harmonic_ratio": 0.1}
        assert m(ConfidenceInputs(classical_share=0.7, **seen)) > m(
            ConfidenceInputs(classical_share=0.1, **seen)
        )
        # The same reading whose classical pulse is a bare sinusoid (a lamp, not a pulse).
        flicker = {**seen, "classical_harmonic_ratio": 0.005}
        assert m(ConfidenceInputs(classical_share=0.7, **flicker)) < m(
            ConfidenceInputs(classical_share=0.7, **seen)
        )


def test_an_unknown_method_gets_the_hand_set_model() -> None:
    assert calibrated_model("my_model_file") == ConfidenceModel()


@pytest.mark.slow
def test_refitting_on_the_tune_part_gives_the_shipped_coefficients(tmp_path: Path) -> None:
    from evaluation.calibrate import fit_method
    from evaluation.run import CLASSICAL, MODELS, measure_suite
    from evaluation.suite import suite_clips

    cache = Path(__file__).resolve().parents[1] / "cache" / "evaluation"
    records = measure_suite(suite_clips(("tune",)), CLASSICAL + MODELS, cache, workers=2)
    shipped = _shipped()["methods"]
    for method in ("pos", "chrom", "green", "physnet", "autohr"):
        own = [r for r in records if r.method_used == method]
        refit = fit_method(own).as_dict()
        for key, value in shipped[method]["coefficients"].items():
            assert math.isclose(refit[key], value, rel_tol=0.1, abs_tol=0.05), (method, key)


# ---- one-channel fits (mono, physnet_nir) from several readings files ----


def _records(
    n: int, method: str, used: str, set_name: str, channels: int, seed: int, no_pulse: int = 0
) -> list:
    """``n`` readings whose SNR says whether they are right (within 5 bpm), the last
    ``no_pulse`` of them from clips without a pulse."""
    import numpy as np

    from evaluation.metrics import ReadingRecord

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        right = bool(rng.random() < 0.6)
        flat = i >= n - no_pulse
        snr = float(rng.normal(6.0 if right and not flat else -1.0, 2.0))
        out.append(
            ReadingRecord(
                set_name=set_name,
                condition="grey" if channels == 1 else "still",
                clip=f"{set_name}/{seed}/{i // 20}",
                split="tune",
                method=method,
                timestamp_s=float(i % 20),
                bpm=72.0 if right else 110.0,
                truth_bpm=math.nan if flat else 72.0,
                confidence=0.5,
                status="ok",
                snr_db=snr,
                irrelevant_power_ratio=float(rng.uniform(0.05, 0.4)),
                input_channels=channels,
                method_used=used,
                box_moves=0,
                window_fraction=1.0,
                edge_distance_bpm=20.0,
                reference_share=0.0,
                harmonic_ratio=float(rng.uniform(0.02, 0.5)),
                motion_share=float(rng.uniform(0.0, 0.5)),
            )
        )
    return out


def test_mono_is_fitted_on_one_channel_readings_of_several_files(tmp_path: Path) -> None:
    """The suite's colour readings and its few grey ones in one file, the cabin scenes' (with
    no-pulse controls) in another: mono is fitted on the grey and cabin readings alone, each
    grey reading once although the suite wrote it under each classical method's name."""
    from evaluation.calibrate import fit_method, main
    from evaluation.metrics import write_records

    colour = _records(150, "pos", "pos", "suite", 3, seed=1, no_pulse=20)
    grey = _records(40, "pos", "mono", "suite", 1, seed=2)
    grey_again = [dataclasses.replace(r, method="chrom") for r in grey]
    cabin = _records(80, "pos", "mono", "cabin", 1, seed=3, no_pulse=40)
    write_records(tmp_path / "suite.csv", colour + grey + grey_again)
    write_records(tmp_path / "cabin.csv", cabin)
    out = tmp_path / "confidence.json"
    argv = ["--readings", str(tmp_path / "suite.csv"), str(tmp_path / "cabin.csv")]
    assert main([*argv, "--out", str(out)]) == 0

    mono = json.loads(out.read_text())["methods"]["mono"]
    assert mono["fitted_on_readings"] == len(grey) + len(cabin)
    assert mono["fitted_on"]["sets"] == {"cabin": len(cabin), "suite": len(grey)}
    assert mono["fitted_on"]["no_pulse_readings"] == 40
    assert mono["coefficients"] == fit_method(grey + cabin).as_dict()
    assert mono["coefficients"] != fit_method(colour + grey + cabin).as_dict()
    assert mono["summary_tune"]["no_pulse_readings"] == 40
    assert set(mono["summary_tune_by_set"]) == {"cabin", "suite"}

    # The suite's file alone has too few grey readings: mono falls back to all classical ones.
    alone = tmp_path / "alone.json"
    assert main(["--readings", str(tmp_path / "suite.csv"), "--out", str(alone)]) == 0
    fallback = json.loads(alone.read_text())["methods"]["mono"]
    assert fallback["fitted_on_readings"] == len(colour) + len(grey)


def test_refitting_some_methods_keeps_the_others_and_names_missing_ones(tmp_path: Path) -> None:
    from evaluation.calibrate import main
    from evaluation.metrics import write_records

    write_records(tmp_path / "nir.csv", _records(60, "physnet_nir", "physnet_nir", "cabin", 1, 4))
    out = tmp_path / "confidence.json"
    out.write_text(json.dumps({"methods": {"pos": {"coefficients": {"intercept": 1.0}}}}))
    assert main(["--readings", str(tmp_path / "nir.csv"), "--out", str(out)] +
                ["--methods", "physnet_nir"]) == 0  # fmt: skip
    methods = json.loads(out.read_text())["methods"]
    assert methods["pos"] == {"coefficients": {"intercept": 1.0}}
    assert methods["physnet_nir"]["fitted_on_readings"] == 60
    with pytest.raises(SystemExit):
        main(["--readings", str(tmp_path / "nir.csv"), "--out", str(out), "--methods", "mono"])


@pytest.mark.slow
def test_refitting_the_one_channel_methods_gives_the_shipped_coefficients() -> None:
    """mono and physnet_nir are fitted on one-channel readings: the suite's grey clips and the
    cabin scenes with their no-pulse controls (tune parts; ~5 min on 2 cores, cached renders)."""
    from evaluation.cabin import cabin_scenes, measure_scene, records_of
    from evaluation.calibrate import fit_method, fitted_name, unique_readings
    from evaluation.run import measure_suite
    from evaluation.suite import suite_clips

    root = Path(__file__).resolve().parents[1]
    clips = suite_clips(("tune",), ("grey_nir",))
    suite = measure_suite(clips, ("pos", "physnet_nir"), root / "cache" / "evaluation", workers=2)
    shipped = _shipped()["methods"]
    for used, method, model in (("mono", "pos", None), ("physnet_nir", "model", "physnet_nir")):
        scenes = cabin_scenes(["tune"], no_pulse=True)
        cache = root / "cache" / "evaluation" / "cabin"
        cabin = records_of([measure_scene(*s, cache, method, model) for s in scenes])
        own = [r for r in unique_readings(suite + cabin) if fitted_name(r) == used]
        assert shipped[used]["fitted_on"]["sets"] == {
            "cabin": sum(r.set_name == "cabin" for r in own),
            "suite": sum(r.set_name == "suite" for r in own),
        }
        refit = fit_method(own).as_dict()
        for key, value in shipped[used]["coefficients"].items():
            assert math.isclose(refit[key], value, rel_tol=0.1, abs_tol=0.05), (used, key)
