"""The evaluation harness: records, tables, the confidence fit, and the real-data readers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import require_real_data
from rppg_sdk import HeartRateReading, ReadingStatus
from rppg_sdk.confidence import ConfidenceInputs

from evaluation.calibrate import fit_method, reliability_table
from evaluation.metrics import ReadingRecord, read_records, summarize, write_records
from evaluation.report import tables
from evaluation.run import _record
from evaluation.suite import CONDITIONS, suite_clips


def _rec(bpm: float, truth: float, snr: float, conf: float = 0.5, **kw: float) -> ReadingRecord:
    base = dict(
        set_name="suite", condition="still", clip="c", split="tune", method="pos",
        timestamp_s=10.0, bpm=bpm, truth_bpm=truth, confidence=conf, status="ok", snr_db=snr,
        irrelevant_power_ratio=0.2, input_channels=3, method_used="pos", box_moves=0,
        window_fraction=1.0, edge_distance_bpm=30.0, reference_share=0.0, harmonic_ratio=0.1,
        motion_share=0.0, classical_share=0.7, classical_harmonic_ratio=0.12,
        signature_deg=11.0,
    )  # fmt: skip
    base.update(kw)
    return ReadingRecord(**base)  # type: ignore[arg-type]


def test_a_record_carries_the_confidence_evidence_not_the_estimators_ipr() -> None:
    ev = ConfidenceInputs(
        snr_db=3.0, irrelevant_power_ratio=0.61, motion_share=0.4, classical_share=0.55
    )
    r = HeartRateReading(
        timestamp_s=12.0, status=ReadingStatus.OK, bpm=70.0, confidence=0.8, snr_db=3.0,
        irrelevant_power_ratio=0.05, method="pos", window_s=10.0, window_end_s=12.0,
        evidence=ev,
    )  # fmt: skip
    rec = _record("suite", "still", "c", "tune", "pos", r, 71.0)
    assert rec.irrelevant_power_ratio == 0.61 and rec.motion_share == 0.4
    assert rec.classical_share == 0.55
    assert rec.error_bpm == 1.0


def test_records_round_trip_through_csv(tmp_path: Path) -> None:
    recs = [_rec(70, 71, 3.0), _rec(90, math.nan, -5.0, condition="no_pulse")]
    write_records(tmp_path / "r.csv", recs)
    back = read_records(tmp_path / "r.csv")
    assert back[0] == recs[0] and not back[1].has_pulse


def test_summaries_count_confident_readings_and_no_pulse_alike() -> None:
    s = summarize([_rec(70, 71, 3.0, conf=0.9), _rec(100, 70, 3.0, conf=0.2)])
    assert s.n == 2 and s.mae_bpm == pytest.approx(15.5) and s.within5 == 0.5
    assert s.n_confident == 1 and s.confident_mae_bpm == pytest.approx(1.0)
    n = summarize([_rec(90, math.nan, -5.0, conf=0.7, condition="no_pulse")])
    assert math.isnan(n.mae_bpm) and n.n_confident == 1 and n.max_confidence == 0.7
    assert "| still | pos | 2 |" in tables([_rec(70, 71, 3.0), _rec(100, 70, 3.0)])


def test_the_fit_learns_that_snr_separates_right_from_wrong() -> None:
    rng = np.random.default_rng(0)
    recs = [_rec(70 + rng.normal(0, 1), 70, rng.uniform(0, 8)) for _ in range(60)]
    recs += [_rec(120, 70, rng.uniform(-10, -2)) for _ in range(60)]
    model = fit_method(recs)
    assert model.snr_coef > 0
    table = {row["band"]: row for row in reliability_table(recs, model)}
    assert table["0.8-1.0"]["within5"] == 1.0 and table["0.0-0.3"]["within5"] == 0.0
    with pytest.raises(ValueError, match="at least 20 readings"):
        fit_method(recs[:5])


def test_the_suite_is_fixed_and_its_parts_do_not_share_seeds() -> None:
    tune = list(suite_clips(("tune",)))
    holdout = list(suite_clips(("holdout",)))
    assert {c.condition for c in tune} == set(CONDITIONS)
    assert [c.key for c in tune] == [c.key for c in suite_clips(("tune",))]  # deterministic
    assert not {c.spec_kwargs["seed"] for c in tune} & {c.spec_kwargs["seed"] for c in holdout}
    assert {c.spec_kwargs["face"] for c in tune}.isdisjoint(
        {c.spec_kwargs["face"] for c in holdout}
    )
    with pytest.raises(ValueError, match="split"):
        list(suite_clips(("train",)))


def test_wfdb_windows_carry_the_ecg_heart_rate() -> None:
    require_real_data("wfdb", "mixedsignals.hea")
    from evaluation.real import wfdb_windows

    windows = list(wfdb_windows())
    assert len(windows) > 100
    assert 95 < np.median([truth for *_, truth in windows]) < 115  # the record's ~104 bpm
