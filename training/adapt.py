"""Self-supervised adaptation of a shipped model to a new camera, from unlabelled video.

An integrator records a few minutes of people in front of the target camera (a car cabin's NIR
camera, a kiosk webcam), drops the files into a folder and runs::

    nox -s adapt -- --videos /path/to/folder
    python -m training.adapt --checkpoint training/checkpoints/physnet.pt --videos DIR \
        --out runs/adapt

The videos go through the SDK's face tracker (cached), then the model is fine-tuned with the
contrastive objective of Gideon & Stent (2021): no contact sensor, no labels. The irrelevant power
ratio (IPR: share of the output's power outside 40-250 bpm) of the model's output on those videos
is reported before and after, and the epoch with the lowest IPR is kept (the paper's label-free
model selection). Lower IPR means the output looks more like a pulse; it is not proof of a correct
heart rate, so check a few recordings against a reference when you can.

Outputs in ``--out``: ``adapted.pt`` (loadable like any shipped checkpoint), ``adapt.json``
(IPR before/after per epoch) and ``metrics.csv`` / ``metrics.png``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from training.data.clips import ClipConfig, ClipDataset
from training.data.preprocess import FaceVideo, preprocess_record
from training.data.records import folder_records
from training.losses import irrelevant_power_ratio
from training.train import _append_csv, load_shipped_model, plot_metrics, train_one_epoch

__all__ = ["adapt", "get_args_parser", "main", "mean_ipr"]


@torch.no_grad()
def mean_ipr(model: torch.nn.Module, loader: DataLoader[Any], fs_hz: float) -> float:
    """Mean irrelevant power ratio of the model's output over ``loader``'s clips."""
    model.eval()
    vals = [
        float(irrelevant_power_ratio(model(b["video"]), fs_hz)) * b["video"].shape[0]
        for b in loader
    ]
    n = sum(b["video"].shape[0] for b in loader)
    return float(sum(vals) / max(n, 1))


def adapt(
    model: torch.nn.Module,
    cfg: dict[str, Any],
    videos: Sequence[FaceVideo],
    *,
    epochs: int = 5,
    lr: float = 1e-4,
    batch_size: int = 4,
    samples_per_epoch: int = 0,
    seed: int = 0,
    out_dir: Path | None = None,
    progress: bool = True,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Contrastive fine-tuning on unlabelled ``videos``; returns the lowest-IPR model, a report."""
    clip = ClipConfig(
        int(cfg["clip_frames"]),
        float(cfg["fps"]),
        int(cfg["size"]),
        cfg.get("normalization", "temporal"),
    )
    train_ds = ClipDataset(
        videos,
        clip,
        train=True,
        labelled=False,
        seed=seed,
        samples_per_epoch=samples_per_epoch or None,
    )
    eval_ds = ClipDataset(videos, clip, train=False, labelled=False)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=False, drop_last=True)
    eval_loader = DataLoader(eval_ds, batch_size=batch_size, shuffle=False)
    if len(train_loader) == 0:
        raise ValueError(
            f"videos: expected at least {batch_size} clips per epoch, got "
            f"{len(train_ds)}; pass more video or a smaller batch size"
        )
    args = argparse.Namespace(
        mode="contrastive",
        loss="mcc",
        fps=float(cfg["fps"]),
        seed=seed,
        rank=0,
        neg_ratio=list(cfg.get("neg_ratio", [0.66, 0.8])),
        n_views=int(cfg.get("n_views", 4)),
        view_s=float(cfg.get("view_s", 5.0)),
        no_progress=not progress,
        distributed=False,
    )
    before = mean_ipr(model, eval_loader, clip.fs_hz)
    best_ipr, best_state, best_epoch = before, copy.deepcopy(model.state_dict()), -1
    history = []
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    for epoch in range(epochs):
        train_ds.set_epoch(epoch)
        stats = train_one_epoch(model, opt, train_loader, torch.device("cpu"), epoch, args)
        ipr = mean_ipr(model, eval_loader, clip.fs_hz)
        row = {"epoch": epoch, **stats, "val_ipr": ipr}
        history.append(row)
        if out_dir is not None:
            _append_csv(out_dir / "metrics.csv", row)
            plot_metrics(out_dir / "metrics.csv", out_dir / "metrics.png")
        if progress:
            print(f"epoch {epoch}: train_loss={stats['train_loss']:.4f} IPR={ipr:.4f}", flush=True)
        if ipr < best_ipr:
            best_ipr, best_state, best_epoch = ipr, copy.deepcopy(model.state_dict()), epoch
    model.load_state_dict(best_state)
    report = {
        "ipr_before": before,
        "ipr_after": best_ipr,
        "best_epoch": best_epoch,
        "n_videos": len(videos),
        "n_eval_clips": len(eval_ds),
        "history": history,
    }
    return model.eval(), report


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Adapt a shipped rPPG model to unlabelled video")
    p.add_argument("--checkpoint", default="training/checkpoints/physnet.pt")
    p.add_argument("--videos", required=True, help="folder of video files from the target camera")
    p.add_argument("--out", default="runs/adapt")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("-b", "--batch-size", type=int, default=4)
    p.add_argument("--samples-per-epoch", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default="cache")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = get_args_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from rppg_sdk.face import FaceTrackerOptions

    model, cfg = load_shipped_model(args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    opts = FaceTrackerOptions(crop_size=max(64, int(cfg["size"])), skin_regions=False)
    records = folder_records(args.videos, fps_hz=float(cfg["fps"]))
    videos = [
        preprocess_record(r, opts, cache_dir=args.cache_dir)
        for r in tqdm(records, desc="preprocess", disable=args.no_progress)
    ]
    channels = int(cfg.get("in_channels", 3))
    videos = [_channels(v, channels) for v in videos]
    model, report = adapt(
        model,
        cfg,
        videos,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        samples_per_epoch=args.samples_per_epoch,
        seed=args.seed,
        out_dir=out,
        progress=not args.no_progress,
    )
    torch.save(
        {
            "model": model.state_dict(),
            "config": {**cfg, "adapted_on": str(args.videos)},
            "epoch": report["best_epoch"],
            "metrics": report,
        },
        out / "adapted.pt",
    )
    (out / "adapt.json").write_text(
        json.dumps(
            report,
            indent=2,
            default=lambda o: None if isinstance(o, float) and math.isnan(o) else str(o),
        )
    )
    print(
        f"IPR before {report['ipr_before']:.4f} -> after {report['ipr_after']:.4f} "
        f"(epoch {report['best_epoch']}); weights in {out / 'adapted.pt'}"
    )
    return report


def _channels(v: FaceVideo, channels: int) -> FaceVideo:
    """Match the model's channels: grey cameras feed an RGB model three equal channels."""
    if v.channels == channels:
        return v
    frames = np.asarray(v.frames)
    if channels == 3 and v.channels == 1:
        frames = np.repeat(frames, 3, axis=3)
    elif channels == 1 and v.channels == 3:
        frames = frames.mean(axis=3, keepdims=True).round().astype(np.uint8)
    return FaceVideo(
        frames,
        v.timestamps_s,
        v.ppg,
        v.bpm,
        v.fps_hz,
        v.subject_id,
        v.video_id,
        v.dataset,
        v.face_found,
    )


if __name__ == "__main__":
    main()
