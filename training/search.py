"""AutoHR architecture search from the command line: :func:`training.nas.run_search` on small
generated clips (``--synthetic``) or on the clips a training configuration names
(``--train-args``). Run ``python -m training.search --help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from training.losses import LOSSES
from training.models.autohr import AutoHRSearch
from training.nas import SearchConfig, run_search, synthetic_batches

__all__ = ["main"]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m training.search",
        description="AutoHR differentiable architecture search (first-order DARTS, PC-DARTS).",
    )
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--synthetic", action="store_true", help="search on small generated clips")
    src.add_argument(
        "--train-args",
        default=None,
        help="search on the train/validation clips that `python -m training.train TRAIN_ARGS` "
        "would use (quote them: --train-args '--data ubfc-rppg --data-path /data/UBFC "
        "--clip-frames 128'); --fs-hz and --in-channels then come from them",
    )
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--warmup-epochs", type=int, default=5)
    ap.add_argument("--channels", type=int, default=8, help="supernet width (paper: 8)")
    ap.add_argument("--partial-k", type=int, default=4, help="PC-DARTS channel ratio K")
    ap.add_argument("--in-channels", type=int, default=3, choices=(1, 3))
    ap.add_argument("--loss", default="hybrid", choices=sorted(LOSSES))
    ap.add_argument("--fs-hz", type=float, default=30.0)
    ap.add_argument("--weight-lr", type=float, default=1e-4)
    ap.add_argument("--arch-lr", type=float, default=6e-4)
    ap.add_argument("--frames", type=int, default=64, help="synthetic clip length")
    ap.add_argument("--size", type=int, default=32, help="synthetic clip side")
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0, help="data-loading processes (--train-args)")
    ap.add_argument("--train-batches", type=int, default=8)
    ap.add_argument("--val-batches", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("runs/search"))
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def _loaders_from_train_args(
    train_args: str, batch_size: int, workers: int
) -> tuple[Iterable[Any], Iterable[Any], float, int]:
    """Train and validation loaders that ``python -m training.train TRAIN_ARGS`` would use."""
    import shlex

    from torch.utils.data import DataLoader

    from training.data.build import build_datasets, load_videos
    from training.data.clips import ClipConfig
    from training.train import parse_args

    t = parse_args(shlex.split(train_args))
    videos = load_videos(
        t.data,
        data_path=t.data_path,
        cache_dir=t.cache_dir,
        fps_hz=t.fps,
        size=t.size,
        synthetic=t.synthetic,
        progress=not t.no_progress,
    )
    train_ds, val_ds, _ = build_datasets(
        videos,
        ClipConfig(int(t.clip_frames), float(t.fps), int(t.size), t.normalization),
        folds=t.folds,
        fold=t.fold,
        val_share=t.val_share,
        seed=t.seed,
        contrastive=t.mode == "contrastive",
        samples_per_epoch=t.samples_per_epoch,
        augment=t.augment,
    )
    kw: dict[str, Any] = dict(batch_size=batch_size, num_workers=workers, drop_last=True)
    train_dl = DataLoader(train_ds, shuffle=True, **kw)
    val_dl = DataLoader(val_ds, shuffle=True, **kw)
    return train_dl, val_dl, float(t.fps), int(t.in_channels)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if not args.synthetic and args.train_args is None:
        print("expected a data source: --synthetic or --train-args '...'", file=sys.stderr)
        return 2
    torch.manual_seed(args.seed)
    train: Iterable[Any]
    val: Iterable[Any]
    if args.train_args is not None:
        train, val, args.fs_hz, args.in_channels = _loaders_from_train_args(
            args.train_args, args.batch_size, args.workers
        )
    cfg = SearchConfig(
        epochs=args.epochs,
        warmup_epochs=args.warmup_epochs,
        weight_lr=args.weight_lr,
        arch_lr=args.arch_lr,
        loss=args.loss,
        fs_hz=args.fs_hz,
    )
    model = AutoHRSearch(args.in_channels, channels=args.channels, partial_k=args.partial_k)
    if args.synthetic:
        common = dict(
            batch_size=args.batch_size,
            channels=args.in_channels,
            frames=args.frames,
            size=args.size,
            fs_hz=args.fs_hz,
        )
        train = synthetic_batches(args.train_batches, seed=args.seed, **common)
        val = synthetic_batches(args.val_batches, seed=args.seed + 1, **common)
    result = run_search(model, train, val, cfg, args.out, progress=not args.no_progress)
    print(f"final genotype: {result.genotype.to_json()} (written to {args.out / 'genotype.json'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
