"""Scoring a model against POS on the same face crops, window by window (used by
``training.evaluate`` and ``deploy.verify``).

How a video is scored: the face crops (the SDK's tracker) are cut into windows of ``window_s``
seconds. The model runs over each window in chunks of its own clip length with 50 % overlap
(outputs standardised, Hann-weighted and added), the way a streaming runtime would run it. POS
(``rppg_sdk.dsp.extract_pulse``) gets the mean colour of the same crops (and, when given, of the
tracker's skin mask). Both waveforms are read by the SDK's spectral core. Metrics: heart-rate MAE,
RMSE and Pearson r over windows; waveform SNR around the true heart rate; MCC against the contact
PPG when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from tqdm import tqdm

from training.data.clips import normalize_clip
from training.data.preprocess import FaceVideo
from training.losses import (
    heart_rate_bpm,
    hr_mae,
    hr_pearson,
    hr_rmse,
    waveform_mcc,
    waveform_snr_db,
)

__all__ = [
    "MethodScores",
    "WindowResult",
    "evaluate_videos",
    "model_waveform",
    "plot_windows",
    "pos_waveform",
    "summarize",
    "synthetic_skin_masks",
    "video_from_file",
]

FloatArray = npt.NDArray[np.float64]


@torch.no_grad()
def model_waveform(
    model: nn.Module,
    frames: npt.NDArray[np.uint8],
    *,
    clip_frames: int,
    size: int,
    normalization: str = "temporal",
    batch_size: int = 8,
) -> FloatArray:
    """The model's pulse over a whole crop sequence ``(T, S, S, C)``, chunk by chunk.

    Chunks of ``clip_frames`` frames start every ``clip_frames // 2`` frames (the last one is
    aligned to the end); each chunk's output is standardised, weighted by a Hann window and added
    into place, then divided by the summed weights.
    """
    n = frames.shape[0]
    if n < clip_frames:
        raise ValueError(f"frames: expected at least {clip_frames} frames, got {n}")
    hop = max(1, clip_frames // 2)
    starts = list(range(0, n - clip_frames + 1, hop))
    if starts[-1] != n - clip_frames:
        starts.append(n - clip_frames)
    out = np.zeros(n)
    weight = np.zeros(n)
    win = np.hanning(clip_frames + 2)[1:-1]
    model.eval()
    for i in range(0, len(starts), batch_size):
        chunk_starts = starts[i : i + batch_size]
        x = torch.stack(
            [
                torch.from_numpy(np.array(frames[s : s + clip_frames])).permute(3, 0, 1, 2)
                for s in chunk_starts
            ]
        ).float()
        if x.shape[-1] != size:
            n_, c, t, h, w = x.shape
            x = (
                torch.nn.functional.interpolate(
                    x.permute(0, 2, 1, 3, 4).reshape(n_ * t, c, h, w),
                    size=(size, size),
                    mode="area",
                )
                .reshape(n_, t, c, size, size)
                .permute(0, 2, 1, 3, 4)
            )
        y = model(normalize_clip(x, normalization)).double().numpy()  # type: ignore[arg-type]
        for s, wave in zip(chunk_starts, y, strict=True):
            wave = (wave - wave.mean()) / (wave.std() + 1e-12)
            out[s : s + clip_frames] += win * wave
            weight[s : s + clip_frames] += win
    return out / np.maximum(weight, 1e-12)


def pos_waveform(
    frames: npt.NDArray[np.uint8], fs_hz: float, masks: npt.NDArray[np.float32] | None = None
) -> FloatArray:
    """POS (``rppg_sdk.dsp.extract_pulse``) over the mean colour of BGR crops ``(T, S, S, 3)``.

    ``masks`` ``(T, S, S)`` weights the mean (the tracker's skin regions); ``None`` averages the
    whole crop, exactly the pixels the model sees.
    """
    from rppg_sdk.dsp import PulseMethod, extract_pulse

    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 4 or f.shape[3] != 3:
        raise ValueError(f"frames: expected BGR crops (T, S, S, 3), got {f.shape}")
    if masks is None:
        bgr = f.mean(axis=(1, 2))
    else:
        w = np.asarray(masks, dtype=np.float64)[..., None]
        bgr = (f * w).sum(axis=(1, 2)) / np.maximum(w.sum(axis=(1, 2)), 1e-9)
    rgb = np.maximum(bgr[:, ::-1], 1e-3)  # the SDK takes R, G, B columns
    return extract_pulse(np.ascontiguousarray(rgb), fs_hz, PulseMethod.POS)


@dataclass(frozen=True)
class WindowResult:
    """One window of one video, scored for one method."""

    video_id: str
    method: str
    start_s: float
    true_bpm: float
    pred_bpm: float
    snr_db: float
    mcc: float


@dataclass(frozen=True)
class MethodScores:
    """Per-dataset (or per-video) scores of one method."""

    method: str
    n_windows: int
    mae_bpm: float
    rmse_bpm: float
    pearson_r: float
    snr_db: float
    mcc: float


def _score_windows(
    video_id: str,
    method: str,
    wave: FloatArray,
    truth_bpm: FloatArray,
    truth_ppg: FloatArray,
    fs_hz: float,
    window: int,
) -> list[WindowResult]:
    out = []
    n = wave.shape[0]
    starts = list(range(0, max(1, n - window + 1), window))
    for s in starts:
        seg = wave[s : s + window]
        tb = truth_bpm[s : s + window]
        true = float(np.nanmean(tb)) if tb.size and np.isfinite(tb).any() else math.nan
        ppg = truth_ppg[s : s + window] if truth_ppg.size else np.zeros(0)
        if math.isnan(true) and ppg.size and np.isfinite(ppg).all() and ppg.std() > 0:
            true = heart_rate_bpm(ppg, fs_hz)
        pred = heart_rate_bpm(seg, fs_hz)
        snr = waveform_snr_db(seg, true, fs_hz) if math.isfinite(true) else math.nan
        mcc = math.nan
        if ppg.size == seg.size and ppg.size and np.isfinite(ppg).all() and ppg.std() > 0:
            mcc = float(waveform_mcc(seg[None], ppg[None], fs_hz)[0])
        out.append(WindowResult(video_id, method, s / fs_hz, true, pred, snr, mcc))
    return out


def summarize(rows: Sequence[WindowResult], method: str) -> MethodScores:
    """MAE / RMSE / r over the windows of ``method``, and mean SNR and MCC."""
    r = [w for w in rows if w.method == method and math.isfinite(w.true_bpm)]
    if not r:
        return MethodScores(method, 0, math.nan, math.nan, math.nan, math.nan, math.nan)
    p = np.array([w.pred_bpm for w in r])
    t = np.array([w.true_bpm for w in r])
    mcc = [w.mcc for w in r if math.isfinite(w.mcc)]
    return MethodScores(
        method,
        len(r),
        hr_mae(p, t),
        hr_rmse(p, t),
        hr_pearson(p, t) if len(r) > 1 else math.nan,
        float(np.nanmean([w.snr_db for w in r])),
        float(np.mean(mcc)) if mcc else math.nan,
    )


def evaluate_videos(
    model: nn.Module,
    model_cfg: dict[str, Any],
    videos: Sequence[FaceVideo],
    *,
    window_s: float = 10.0,
    masks: Sequence[npt.NDArray[np.float32] | None] | None = None,
    progress: bool = True,
) -> list[WindowResult]:
    """Window results of the model and of POS (whole crop; and skin mask when ``masks``)."""
    rows: list[WindowResult] = []
    clip_frames = int(model_cfg["clip_frames"])
    size = int(model_cfg["size"])
    norm = str(model_cfg.get("normalization", "temporal"))
    for i, v in enumerate(tqdm(videos, desc="evaluate", disable=not progress)):
        fs = float(v.fps_hz)
        window = min(int(round(window_s * fs)), v.n_frames)
        frames = np.asarray(v.frames)
        if v.n_frames < clip_frames:
            continue
        waves = {
            "model": model_waveform(
                model, frames, clip_frames=clip_frames, size=size, normalization=norm
            )
        }
        if frames.shape[3] == 3:
            waves["pos"] = pos_waveform(frames, fs)
            m = masks[i] if masks is not None else None
            if m is not None:
                waves["pos_skin"] = pos_waveform(frames, fs, m)
        for name, wave in waves.items():
            rows += _score_windows(v.video_id, name, wave, v.bpm, v.ppg, fs, window)
    return rows


def plot_windows(rows: Sequence[WindowResult], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = sorted({w.method for w in rows})
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    lo, hi = 40.0, 190.0
    for m in methods:
        r = [w for w in rows if w.method == m and math.isfinite(w.true_bpm)]
        ax.scatter([w.true_bpm for w in r], [w.pred_bpm for w in r], s=14, alpha=0.7, label=m)
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xlabel("true heart rate (bpm)")
    ax.set_ylabel("estimated heart rate (bpm)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def video_from_file(path: str, bpm: float, crop: int) -> tuple[FaceVideo, Any]:
    """A real video's crops (the SDK tracker, with skin masks for POS) and a constant truth."""
    from rppg_sdk.face import FaceTracker, FaceTrackerOptions

    from training.data.records import folder_records, iter_frames

    p = Path(path)
    rec = [r for r in folder_records(p.parent) if Path(str(r.video_path)).name == p.name][0]
    crops, masks, ts = [], [], []
    last_mask = None
    with FaceTracker(FaceTrackerOptions(crop_size=crop, skin_regions=True)) as tr:
        for frame, t in iter_frames(rec):
            obs = tr.update(frame)
            if obs is None:
                if not crops:
                    continue
                crops.append(crops[-1])
            else:
                crops.append(obs.crop)
                last_mask = obs.skin_mask if obs.skin_mask is not None else last_mask
            masks.append(last_mask)
            ts.append(t)
    if not crops:
        raise ValueError(f"{path}: no face found")
    import cv2

    fps = cv2.VideoCapture(str(p)).get(cv2.CAP_PROP_FPS) or 30.0
    n = len(crops)
    full = [m if m is not None else np.ones((crop, crop), np.float32) for m in masks]
    video = FaceVideo(
        np.stack(crops),
        np.asarray(ts),
        np.zeros(0),
        np.full(n, float(bpm)),
        float(fps),
        p.stem,
        p.stem,
        "video",
        np.ones(n, bool),
    )
    return video, np.stack(full)


def synthetic_skin_masks(cfg: Any, videos: Sequence[FaceVideo]) -> list[Any]:
    """The tracker's skin masks for synthetic videos (re-rendered: the cache keeps crops only).

    POS in the SDK averages the skin regions, not the whole crop; scoring it on both keeps the
    comparison with the model fair.
    """
    from rppg_sdk import synthetic as syn
    from rppg_sdk.face import FaceTrackerOptions

    from training.data.preprocess import crop_faces
    from training.data.synthetic import random_spec

    out = []
    for v in tqdm(videos, desc="skin masks"):
        index = int(v.video_id.rsplit("_", 1)[1])
        clip = syn.render_clip(random_spec(cfg, index))
        opts = FaceTrackerOptions(crop_size=int(v.frames.shape[1]), skin_regions=True)
        crops, _, masks = crop_faces(iter(clip.frames), opts, return_masks=True)
        if crops.shape != v.frames.shape:
            raise ValueError(f"{v.video_id}: re-rendered crops differ from the cached ones")
        out.append(masks)
    return out
