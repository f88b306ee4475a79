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
    p.add_argument(
        "--whole-frame",
        action="store_true",
        help="the videos are skin close-ups: the whole frame resized (what the monitor does "
        "with skin_roi='frame'), no face tracker",
    )
    p.add_argument(
        "--heldout-every",
        type=int,
        default=0,
        help="with --whole-frame and no --heldout-videos: every N-th subject of --videos "
        "(sorted; the name before the last '_' in its folder) is held out, scored only",
    )
    return p


def whole_frame_videos(folder: str | Path, size: int) -> list[FaceVideo]:
    """Every video file below ``folder``, each frame resized to ``size`` x ``size`` (area
    averaging: :class:`rppg_sdk.roi` does the same for ``skin_roi="frame"``); unlabelled."""
    import cv2  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    files = sorted(
        p
        for p in Path(folder).rglob("*")
        if p.suffix.lower() in (".avi", ".mp4", ".mov", ".mkv", ".webm")
    )
    if not files:
        raise FileNotFoundError(f"videos: expected video files under {folder}, found none")
    out = []
    for path in files:
        cap = cv2.VideoCapture(str(path))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA))
        cap.release()
        if len(frames) < 8:
            continue
        n = len(frames)
        subject = f"{path.parent.name}/{path.stem.rsplit('_', 1)[0]}"
        out.append(
            FaceVideo(
                np.stack(frames).astype(np.uint8),
                np.arange(n, dtype=np.float64) / fps,
                np.zeros(0),
                np.zeros(0),
                fps,
                subject,
                f"{path.parent.name}/{path.stem}",
                "folder",
                np.ones(n, dtype=bool),
            )
        )
    return out


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
    heldout: list[FaceVideo] | None
    if args.whole_frame:
        size = int(cfg["size"])
        videos = [
            match_channels(v, int(cfg.get("in_channels", 3)))
            for v in whole_frame_videos(args.videos, size)
        ]
        heldout = None
        if args.heldout_videos:
            heldout = whole_frame_videos(args.heldout_videos, size)
        elif args.heldout_every > 1:
            subjects = sorted({v.subject_id for v in videos})
            held = set(subjects[:: args.heldout_every])
            heldout = [v for v in videos if v.subject_id in held]
            videos = [v for v in videos if v.subject_id not in held]
    else:
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
    report["adapted_on_videos"] = sorted(v.video_id for v in videos)
    report["heldout_videos"] = sorted(v.video_id for v in heldout or [])
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
