"""Adapt a shipped model to a new camera from unlabelled video: the command line of
:func:`training.adaptation.adapt`.

An integrator records a few minutes of people in front of the target camera (a car cabin's NIR
camera, a kiosk webcam), drops the files into a folder and runs::

    nox -s adapt -- --videos /path/to/folder
    python -m training.adapt --checkpoint training/checkpoints/physnet.pt --videos DIR \\
        --heldout-videos OTHER_DIR --out runs/adapt

The videos go through the SDK's face tracker (cached), then the model is fine-tuned with the
contrastive objective (no labels) and the lowest-IPR weights are kept. The IPR of the kept
weights on the adaptation videos cannot be above the start (selection picks the lowest, the start
included); ``--heldout-videos`` gives the IPR before and after on videos used for neither
training nor selection, the figure to trust.

Outputs in ``--out``: ``adapted.pt`` (loadable like any shipped checkpoint), ``adapt.json``
(the report) and ``metrics.csv`` / ``metrics.png``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from training.adaptation import adapt, match_channels
from training.checkpoints import load_shipped_model, save_model_file
from training.data.build import load_videos
from training.data.preprocess import FaceVideo

__all__ = ["get_args_parser", "main"]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Adapt a shipped rPPG model to unlabelled video")
    p.add_argument("--checkpoint", default="training/checkpoints/physnet.pt")
    p.add_argument("--videos", required=True, help="folder of video files from the target camera")
    p.add_argument(
        "--heldout-videos",
        default=None,
        help="another folder from the same camera, only scored (IPR before / after)",
    )
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


def _folder_videos(path: str, cfg: dict[str, Any], args: argparse.Namespace) -> list[FaceVideo]:
    videos = load_videos(
        "folder",
        data_path=path,
        cache_dir=args.cache_dir,
        fps_hz=float(cfg["fps"]),
        size=int(cfg["size"]),
        progress=not args.no_progress,
    )
    return [match_channels(v, int(cfg.get("in_channels", 3))) for v in videos]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = get_args_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, cfg = load_shipped_model(args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    videos = _folder_videos(args.videos, cfg, args)
    heldout = _folder_videos(args.heldout_videos, cfg, args) if args.heldout_videos else None
    model, report = adapt(
        model,
        cfg,
        videos,
        heldout=heldout,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        samples_per_epoch=args.samples_per_epoch,
        seed=args.seed,
        out_dir=out,
        progress=not args.no_progress,
    )
    save_model_file(
        out / "adapted.pt",
        model=model,
        config={**cfg, "adapted_on": str(args.videos)},
        epoch=report["selected_epoch"],
        metrics=report,
    )
    (out / "adapt.json").write_text(
        json.dumps(
            report,
            indent=2,
            default=lambda o: None if isinstance(o, float) and math.isnan(o) else str(o),
        )
    )
    kept = (
        f"epoch {report['selected_epoch']}"
        if report["selected_epoch"] >= 0
        else "the starting weights (no epoch lowered it)"
    )
    print(
        f"IPR on the adaptation videos: start {report['ipr_before']:.4f}, kept {kept} at "
        f"{report['ipr_selected']:.4f} (the lowest is kept, so this cannot rise)"
    )
    if heldout is not None:
        print(
            f"IPR on the held-out videos: {report['heldout_ipr_before']:.4f} -> "
            f"{report['heldout_ipr_after']:.4f}"
        )
    print(f"weights in {out / 'adapted.pt'}")
    return report


if __name__ == "__main__":
    main()
