"""Evaluate a trained model against POS on the same face clips, per video and per dataset.

Examples
--------
The held-out synthetic fold of the model's own training configuration, plus a real video with a
known heart rate::

    python -m training.evaluate --checkpoint training/checkpoints/physnet.pt --synthetic-heldout \\
        --video ../shared/data/real/evm_face/face.mp4 --video-bpm 52.5 --out runs/eval_physnet

A real dataset (subject-wise fold ``--fold`` of ``--folds``, or all of it with ``--all``)::

    python -m training.evaluate --checkpoint ... --data ubfc-rppg --data-path /data/UBFC --all

How a video is scored: the face crops (the SDK's tracker) are cut into windows of ``--window-s``
seconds (10 s, the contrastive paper's W). The model runs over each window in chunks of its own
clip length with 50 % overlap (outputs standardised, Hann-weighted and added), the way a streaming
runtime would run it. POS (``rppg_sdk.dsp.extract_pulse``) gets the mean colour of the same crops.
Both waveforms are read by the SDK's spectral core. Metrics: heart-rate MAE, RMSE and Pearson r
over windows; waveform SNR around the true heart rate; MCC against the contact PPG when there is
one. Results go to ``<out>/results.json``, ``<out>/windows.csv`` and ``<out>/evaluation.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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
    "main",
    "model_waveform",
    "pos_waveform",
    "summarize",
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


def _plot(rows: Sequence[WindowResult], path: Path, title: str) -> None:
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


def _video_from_file(path: str, bpm: float, crop: int) -> tuple[FaceVideo, Any]:
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


def _synthetic_skin_masks(cfg: Any, videos: Sequence[FaceVideo]) -> list[Any]:
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


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Evaluate an rPPG model against POS")
    p.add_argument("--checkpoint", required=True, help="best.pt / training/checkpoints/*.pt")
    p.add_argument(
        "--synthetic-heldout",
        action="store_true",
        help="the held-out fold of the synthetic set the model was trained with",
    )
    p.add_argument(
        "--synthetic",
        default=None,
        help="a fresh synthetic set, all of it: SyntheticSetConfig fields as YAML, e.g. "
        "'{seed: 1, n_videos: 12, motion_share: 1.0}' (use a seed the model was not trained on)",
    )
    p.add_argument("--data", default=None, help="ubfc-rppg | pure | cohface | mr-nirp-car")
    p.add_argument("--data-path", default=None)
    p.add_argument("--all", action="store_true", help="every video of --data, not one fold")
    p.add_argument("--folds", type=int, default=None, help="default: the checkpoint's")
    p.add_argument("--fold", type=int, default=None, help="default: the checkpoint's")
    p.add_argument("--video", action="append", default=[], help="a real video file")
    p.add_argument(
        "--video-bpm",
        type=float,
        action="append",
        default=[],
        help="its true heart rate (one per --video)",
    )
    p.add_argument("--window-s", type=float, default=10.0)
    p.add_argument(
        "--no-skin-masks",
        action="store_true",
        help="skip POS on the tracker's skin mask for synthetic sets (it re-renders them)",
    )
    p.add_argument("--cache-dir", default="cache")
    p.add_argument("--out", default="runs/eval")
    p.add_argument("--threads", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = get_args_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from training.train import build_datasets, load_shipped_model

    model, cfg = load_shipped_model(args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "checkpoint": str(args.checkpoint),
        "window_s": args.window_s,
        "sets": {},
    }
    all_rows: list[WindowResult] = []

    sets: list[tuple[str, list[FaceVideo], list[Any] | None]] = []
    if args.synthetic_heldout or args.data:
        ns = argparse.Namespace(**cfg)
        ns.cache_dir = args.cache_dir
        ns.no_progress = False
        ns.rank = 0
        if args.data:
            ns.data, ns.data_path = args.data, args.data_path
        if args.folds is not None:
            ns.folds = args.folds
        if args.fold is not None:
            ns.fold = args.fold
        from training.train import _load_videos

        videos = _load_videos(ns)
        if args.all and args.data:
            chosen = videos
        else:
            _, _, test_ds = build_datasets(ns, videos)
            chosen = test_ds.videos
        masks = None
        if not args.data and not args.no_skin_masks:
            from training.data.synthetic import SyntheticSetConfig

            scfg = SyntheticSetConfig(
                **{"fps_hz": float(cfg["fps"]), **(cfg.get("synthetic") or {})}
            )
            masks = _synthetic_skin_masks(scfg, chosen)
        sets.append((args.data or "synthetic-heldout", chosen, masks))
    if args.synthetic:
        import yaml

        from training.data.synthetic import SyntheticSetConfig, build_synthetic_videos

        fields = yaml.safe_load(args.synthetic) or {}
        if not isinstance(fields, dict):
            raise ValueError(f"--synthetic: expected a mapping, got {args.synthetic!r}")
        base = dict(cfg.get("synthetic") or {})
        trained_seed = base.get("seed", 0)
        scfg = SyntheticSetConfig(**{"fps_hz": float(cfg["fps"]), **base, **fields})
        if scfg.seed == trained_seed:
            print(f"warning: --synthetic uses the training seed {trained_seed}: not held out")
        fresh = build_synthetic_videos(scfg, cache_dir=args.cache_dir)
        masks = None if args.no_skin_masks else _synthetic_skin_masks(scfg, fresh)
        sets.append((f"synthetic-seed{scfg.seed}", fresh, masks))
    if len(args.video_bpm) not in (0, len(args.video)):
        raise ValueError("--video-bpm: expected one value per --video")
    for i, path in enumerate(args.video):
        bpm = args.video_bpm[i] if args.video_bpm else math.nan
        v, m = _video_from_file(path, bpm, max(64, int(cfg["size"])))
        sets.append((Path(path).name, [v], [m]))

    for name, videos, masks in sets:
        rows = evaluate_videos(model, cfg, videos, window_s=args.window_s, masks=masks)
        all_rows += rows
        methods = sorted({w.method for w in rows})
        per_video = {
            vid: {m: asdict(summarize([w for w in rows if w.video_id == vid], m)) for m in methods}
            for vid in sorted({w.video_id for w in rows})
        }
        results["sets"][name] = {
            "n_videos": len(videos),
            "dataset": {m: asdict(summarize(rows, m)) for m in methods},
            "per_video": per_video,
        }
        _plot(
            rows, out / f"evaluation_{_safe(name)}.png", f"{Path(args.checkpoint).name} on {name}"
        )
        for m in methods:
            s = summarize(rows, m)
            print(
                f"{name:>22} {m:>8}: windows={s.n_windows:3d} MAE={s.mae_bpm:6.2f} "
                f"RMSE={s.rmse_bpm:6.2f} r={s.pearson_r:5.2f} SNR={s.snr_db:6.2f} dB "
                f"MCC={s.mcc:5.2f}"
            )
    with (out / "windows.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(WindowResult.__dataclass_fields__))
        w.writeheader()
        w.writerows(asdict(r) for r in all_rows)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=_json_default))
    return results


def _safe(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in s)


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return str(o)


if __name__ == "__main__":
    main()
