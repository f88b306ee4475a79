"""Readings against truth: the records every set produces and the numbers a table shows."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

__all__ = [
    "CONFIDENT",
    "WITHIN_BPM",
    "ReadingRecord",
    "Summary",
    "read_records",
    "summarize",
    "write_records",
]

#: Readings at or above this confidence are the ones an app shows as trustworthy.
CONFIDENT = 0.6
#: An error within this many bpm counts as right (the issue's and the field's usual bound).
WITHIN_BPM = 5.0


@dataclass(frozen=True)
class ReadingRecord:
    """One reading with its truth. ``truth_bpm`` is NaN on clips with no pulse."""

    set_name: str
    condition: str
    clip: str
    split: str
    method: str
    timestamp_s: float
    bpm: float
    truth_bpm: float
    confidence: float
    status: str
    snr_db: float
    irrelevant_power_ratio: float
    input_channels: int
    method_used: str
    box_moves: int
    window_fraction: float
    edge_distance_bpm: float
    reference_share: float
    harmonic_ratio: float
    motion_share: float
    classical_share: float = math.nan
    classical_harmonic_ratio: float = math.nan
    signature_deg: float = math.nan

    @property
    def has_pulse(self) -> bool:
        return math.isfinite(self.truth_bpm)

    @property
    def error_bpm(self) -> float:
        return abs(self.bpm - self.truth_bpm)


def write_records(path: Path, records: Iterable[ReadingRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, [f.name for f in fields(ReadingRecord)])
        w.writeheader()
        for r in records:
            w.writerow(asdict(r))


def read_records(path: Path) -> list[ReadingRecord]:
    types = {f.name: f.type for f in fields(ReadingRecord)}
    out = []
    with path.open() as fh:
        for row in csv.DictReader(fh):
            kw = {
                k: (float(v) if types[k] == "float" else int(v) if types[k] == "int" else v)
                for k, v in row.items()
            }
            out.append(ReadingRecord(**kw))  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class Summary:
    """What one table row says about a group of readings.

    On clips with a pulse: MAE, RMSE, share within 5 bpm and mean confidence over every reading
    with a heart rate, and the same over the confident readings (confidence >= 0.6) with their
    share of all readings (coverage). On clips without a pulse only the confidences mean
    anything: their mean, their maximum and the share of readings at or above 0.6 (should be
    none).
    """

    n: int
    mae_bpm: float
    rmse_bpm: float
    within5: float
    mean_confidence: float
    max_confidence: float
    n_confident: int
    coverage: float
    confident_mae_bpm: float
    confident_rmse_bpm: float
    confident_within5: float


def summarize(records: Sequence[ReadingRecord]) -> Summary:
    nan = float("nan")
    if not records:
        return Summary(0, nan, nan, nan, nan, nan, 0, nan, nan, nan, nan)
    conf = np.array([r.confidence for r in records])
    sure = conf >= CONFIDENT
    if records[0].has_pulse:
        err = np.array([r.error_bpm for r in records])

        def stats(e: np.ndarray) -> tuple[float, float, float]:
            if e.size == 0:
                return nan, nan, nan
            return float(e.mean()), float(np.sqrt(np.mean(e**2))), float(np.mean(e <= WITHIN_BPM))

        mae, rmse, w5 = stats(err)
        cmae, crmse, cw5 = stats(err[sure])
    else:
        mae = rmse = w5 = cmae = crmse = cw5 = nan
    return Summary(
        n=len(records),
        mae_bpm=mae,
        rmse_bpm=rmse,
        within5=w5,
        mean_confidence=float(conf.mean()),
        max_confidence=float(conf.max()),
        n_confident=int(sure.sum()),
        coverage=float(sure.mean()),
        confident_mae_bpm=cmae,
        confident_rmse_bpm=crmse,
        confident_within5=cw5,
    )
