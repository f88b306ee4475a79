"""The cabin evaluation's readings as ReadingRecords (``python -m evaluation.cabin --no-pulse
--readings``), the input the one-channel confidence is fitted on (issue 10, item 6)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rppg_sdk.synthetic.cabin import cabin_truth

from evaluation import cabin
from evaluation.metrics import read_records

# One short scene (the warm-up is 10 s, so 11.5 s gives two readings) keeps the tests to a cold
# render of 2 x 11.5 s, shared through one cache; the evaluation's 30 s scenes are cached only
# on a warm machine.
SHORT_S = 11.5


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cabin_cache")


def _short_scene() -> Any:
    return dataclasses.replace(cabin.cabin_scene("turns", 0), duration_s=SHORT_S)


def test_cabin_no_pulse_readings_round_trip_with_their_evidence(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = _short_scene()
    # The CLI as a user runs it, on one short scene instead of the 40 of tune and holdout.
    flat_scene = dataclasses.replace(scene, pulse=False)

    def scenes(splits: list[str], no_pulse: bool = False) -> list[tuple[str, str, int, Any]]:
        assert list(splits) == ["tune"] and no_pulse
        return [("tune", "turns", 0, scene), ("tune", "turns", 0, flat_scene)]

    monkeypatch.setattr(cabin, "cabin_scenes", scenes)
    path = tmp_path / "cabin.csv"
    args = ["--splits", "tune", "--no-pulse", "--cache", str(cache)]
    args += ["--readings", str(path), "--plot", str(tmp_path / "cabin.png")]
    assert cabin.main(args) == 0
    assert (tmp_path / "cabin.png").is_file()

    records = read_records(path)
    pulse = [r for r in records if r.has_pulse]
    flat = [r for r in records if not r.has_pulse]
    assert pulse and flat
    # Readings before the warm-up window are left out.
    assert min(r.timestamp_s for r in records) >= cabin.WINDOW_S
    for r in records:
        assert (r.set_name, r.split, r.method, r.method_used) == ("cabin", "tune", "pos", "mono")
        assert r.input_channels == 1
        # The confidence's evidence came through (a one-channel reading: no colour signature).
        assert math.isfinite(r.snr_db) and 0.0 <= r.irrelevant_power_ratio <= 1.0
        assert math.isfinite(r.harmonic_ratio) and math.isfinite(r.edge_distance_bpm)
        assert 0.0 < r.window_fraction <= 1.0 and math.isnan(r.signature_deg)
    assert {r.condition for r in flat} == {"turns_no_pulse"}
    assert {r.clip for r in flat} == {"turns_0_no_pulse"}
    assert {r.condition for r in pulse} == {"turns"}
    # The truth is the renderer's mean rate over each reading's window.
    truth = cabin_truth(scene)
    for r in pulse:
        assert r.truth_bpm == pytest.approx(
            truth.mean_bpm(r.timestamp_s - cabin.WINDOW_S, r.timestamp_s + 1e-9)
        )


def test_measure_scene_records_match_its_arrays(cache: Path) -> None:
    """The records are the table's readings: same times, rates, truths and confidences."""
    result = cabin.measure_scene("holdout", "turns", 0, _short_scene(), cache)
    assert result.pulse and len(result.records) == result.times_s.size > 0
    np.testing.assert_allclose([r.timestamp_s for r in result.records], result.times_s)
    np.testing.assert_allclose([r.bpm for r in result.records], result.bpm)
    np.testing.assert_allclose([r.truth_bpm for r in result.records], result.true_bpm)
    np.testing.assert_allclose([r.confidence for r in result.records], result.confidence)
    assert {r.split for r in result.records} == {"holdout"}


def test_cabin_scenes_add_a_no_pulse_control_after_each_scene() -> None:
    plain = cabin.cabin_scenes(["tune"])
    both = cabin.cabin_scenes(["tune"], no_pulse=True)
    assert len(both) == 2 * len(plain)
    assert [s[:3] for s in both[::2]] == [s[:3] for s in plain]
    assert all(s[3].pulse for s in both[::2]) and not any(s[3].pulse for s in both[1::2])
    for (_, _, _, on), (_, _, _, off) in zip(both[::2], both[1::2], strict=True):
        assert dataclasses.replace(off, pulse=True) == on


def test_summary_table_keeps_no_pulse_controls_out_of_the_accuracy_rows() -> None:
    def result(pulse: bool, bpm: float, conf: float) -> cabin.CabinResult:
        t = np.array([10.0, 11.0])
        true = np.full(2, 70.0 if pulse else math.nan)
        b, c = np.full(2, bpm), np.full(2, conf)
        return cabin.CabinResult("tune", "turns", 0, t, b, true, c, 0, 600, pulse=pulse)

    table = cabin.summary_table([result(True, 71.0, 0.9), result(False, 120.0, 0.4)])
    rows = {line.split("|")[2].strip(): line for line in table.splitlines() if "| tune |" in line}
    # MAE 1.00 in the condition's and the "all" rows: the control's 50 bpm error is not in them.
    assert "| 1.00 |" in rows["turns"] and "| 1.00 |" in rows["all"]
    assert "| 0.40 | 100% | 0% |" in rows["turns, no pulse"]
