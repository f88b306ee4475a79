"""The shipped confidence fit (python/rppg_sdk/confidence.json) is what the evaluation gives.

Slow (renders and measures the suite's tune part, ~15-30 min on 2 cores): ``pytest -m slow
tests/test_confidence_calibration.py``. The fast tests check the shipped file itself.
"""

from __future__ import annotations

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

SHIPPED_METHODS = ("pos", "chrom", "green", "mono", "physnet", "autohr")


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
    for method in ("physnet", "autohr"):
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
