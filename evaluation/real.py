"""Real recordings from ``../shared/data/real`` (never copied into the repository).

* ``skin_patches``: darker-skinned subjects (India, Sierra Leone), forehead and cheek patches,
  MJPEG at 15 fps, one mean heart rate per recording from a pulse oximeter. The whole frame is
  skin, so the monitor runs with ``skin_roi="frame"``.
* ``evm_face/face.mp4``: a real face, 10 s; no contact sensor: 52.5 +- 3 bpm.
* ``oximetry``: fingertip camera PPG (mean R, G, B per frame) with four clinical oximeters.
* ``wfdb/mixedsignals``: contact PPG (Pleth) with ECG in the same record.

The last two are traces, not video: they go through the DSP API (:mod:`rppg_sdk.dsp`), the same
spectral estimator the monitor uses.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["REAL_DIR", "RealVideo", "oximetry_windows", "real_videos", "wfdb_windows"]

REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
#: The face video has no contact sensor: independent estimates agree on 52-53 bpm.
FACE_MP4_BPM = 52.5
#: Clinical oximeters show a trailing average: their reading at t describes about [t-10, t]; the
#: best lag against camera windows is 6-9 s in all six recordings (tests/test_dsp_real_data.py).
OXIMETER_DELAY_S = 7
WINDOW_S = 10


@dataclass(frozen=True)
class RealVideo:
    """A real video with a constant truth (the recording's mean heart rate)."""

    set_name: str
    name: str
    path: Path
    truth_bpm: float
    skin_roi: str


def real_videos(root: Path = REAL_DIR) -> Iterator[RealVideo]:
    """Every real video present under ``root`` (none when the folder is absent)."""
    patches = root / "skin_patches"
    gt_file = patches / "ground_truth.csv"
    if gt_file.exists():
        with gt_file.open() as fh:
            truth = {
                (r["country"], r["video"]): float(r["heart_rate_bpm"]) for r in csv.DictReader(fh)
            }
        for path in sorted(patches.glob("*/*.avi")):
            video = path.stem.rsplit("_", 1)[0]
            yield RealVideo(
                "skin_patches",
                f"{path.parent.name}/{path.stem}",
                path,
                truth[(path.parent.name, video)],
                "frame",
            )
    face = root / "evm_face" / "face.mp4"
    if face.exists():
        yield RealVideo("face_video", "evm_face/face", face, FACE_MP4_BPM, "face")


def oximetry_windows(root: Path = REAL_DIR) -> Iterator[tuple[str, np.ndarray, float, float]]:
    """(recording, green window (300,), fs_hz, truth bpm) for every 10 s window, 1 s stride."""
    fs = 30.0
    for subject in ("100001", "100002", "100003"):
        gt = root / "oximetry" / "gt" / f"{subject}.csv"
        if not gt.exists():
            continue
        rows = []
        with gt.open(encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                if ":" in row["Time"]:
                    vals = [row[k].strip() for k in ("Pulse 1", "Pulse 2", "Pulse 4", "Pulse 5")]
                    rows.append([float(v) if v else np.nan for v in vals])
        pulse = np.array(rows)
        pulse[(pulse < 30) | (pulse > 250)] = np.nan
        for hand in ("Left", "Right"):
            green = np.loadtxt(
                root / "oximetry" / "ppg-csv" / hand / f"{subject}.csv", delimiter=",", skiprows=1
            )[:, 1]
            win = int(WINDOW_S * fs)
            for k in range((green.size - win) // int(fs) + 1):
                block = pulse[k + OXIMETER_DELAY_S : k + OXIMETER_DELAY_S + WINDOW_S]
                if block.size and np.isfinite(block).any():
                    yield (
                        f"{subject}/{hand}",
                        green[k * 30 : k * 30 + win],
                        fs,
                        float(np.nanmedian(block)),
                    )


def wfdb_windows(root: Path = REAL_DIR) -> Iterator[tuple[str, np.ndarray, float, float]]:
    """(record, Pleth window, fs_hz, ECG heart rate over the same window) for 10 s windows."""
    rec = root / "wfdb" / "mixedsignals"
    if not rec.with_suffix(".hea").exists():
        return
    import wfdb  # noqa: PLC0415
    from scipy.signal import butter, filtfilt, find_peaks  # noqa: PLC0415

    r = wfdb.rdrecord(str(rec), smooth_frames=False)
    names = list(r.sig_name)
    ppg = np.asarray(r.e_p_signal[names.index("Pleth")], dtype=np.float64)
    fs_p = float(r.fs * r.samps_per_frame[names.index("Pleth")])
    ecg_i = names.index("II")
    ecg = np.asarray(r.e_p_signal[ecg_i], dtype=np.float64)
    fs_e = float(r.fs * r.samps_per_frame[ecg_i])
    # R-peaks: the ECG has gaps (NaN); 5-20 Hz band-pass, polarity by the larger extreme.
    ecg = np.nan_to_num(ecg - np.nanmedian(ecg))
    b, a = butter(2, [5.0 / (fs_e / 2), 20.0 / (fs_e / 2)], btype="band")
    ecg = filtfilt(b, a, ecg)
    if abs(np.percentile(ecg, 0.5)) > abs(np.percentile(ecg, 99.5)):
        ecg = -ecg
    peaks, _ = find_peaks(ecg, distance=int(0.3 * fs_e), height=0.4 * np.percentile(ecg, 99.5))
    beat_t = peaks / fs_e
    dur = min(ppg.size / fs_p, ecg.size / fs_e)
    for s in range(0, int(dur) - WINDOW_S + 1):
        beats = beat_t[(beat_t >= s) & (beat_t < s + WINDOW_S)]
        if beats.size < 3:
            continue
        bpm = 60.0 / float(np.mean(np.diff(beats)))
        seg = ppg[int(s * fs_p) : int((s + WINDOW_S) * fs_p)]
        if np.isfinite(seg).all():
            yield "mixedsignals", seg, fs_p, bpm
