"""A whole training run from its options: data, model, optimiser, epochs, selection, outputs.

:func:`fit` is what ``python -m training.train`` runs (the options are
:func:`training.train.get_args_parser`'s). Outputs in ``output_dir``: ``config.json``,
``checkpoint.pt`` (latest, resumable), ``best.pt`` (the selected epoch's weights),
``metrics.csv`` and ``metrics.png``; ``ship_to`` gets a copy of ``best.pt``. Supervised runs keep
the epoch with the lowest validation loss; contrastive runs the lowest IPR (label-free).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from training.checkpoints import resume, save_checkpoint, save_model_file
from training.data.build import build_datasets, load_videos
from training.data.clips import ClipConfig
from training.data.preprocess import FaceVideo
from training.distributed import (
    DistContext,
    any_rank,
    cleanup,
    init_distributed,
    seed_everything,
    unwrap_model,
    wrap_model,
)
from training.engine import Objective, evaluate, train_one_epoch
from training.logger import append_csv, format_row, plot_metrics
from training.models import build_model

__all__ = ["FitResult", "config_dict", "fit", "objective_from"]


@dataclass
class FitResult:
    """What a run ends with, on every rank.

    ``model`` is this rank's replica after the last epoch run (not the selected one: that is
    ``best.pt``); ``best`` is the selected epoch's ``{"score", "epoch", "metrics"}`` on rank 0
    and empty elsewhere.
    """

    model: nn.Module
    rank: int
    world_size: int
    best: dict[str, Any] = field(default_factory=dict)


def config_dict(args: argparse.Namespace, ctx: DistContext | None = None) -> dict[str, Any]:
    """The run's options as JSON-able values (what checkpoints store as ``config``)."""
    cfg: dict[str, Any] = json.loads(json.dumps(vars(args), default=str))
    if ctx is not None:
        cfg["world_size"] = ctx.world_size
    return cfg


def objective_from(args: argparse.Namespace) -> Objective:
    return Objective(
        mode=args.mode,
        loss=args.loss if args.mode == "supervised" else "mcc",
        fs_hz=float(args.fps),
        neg_ratio=tuple(args.neg_ratio),
        n_views=int(args.n_views),
        view_s=float(args.view_s),
        neg_weight=float(getattr(args, "neg_weight", 1.0)),
        saliency_weights=tuple(getattr(args, "saliency_weights", (1.0, 1.0))),
    )


def fit(args: argparse.Namespace, videos: Sequence[FaceVideo] | None = None) -> FitResult:
    """Train as ``args`` says (one process, or one rank of a ``torchrun`` launch).

    ``videos`` replaces the data that ``args.data`` names (tests, notebooks).
    """
    objective = objective_from(args)  # validates mode and loss before any work
    ctx = init_distributed(args.device, args.dist_url)
    try:
        return _fit(args, ctx, objective, videos)
    finally:
        cleanup()


def _fit(
    args: argparse.Namespace,
    ctx: DistContext,
    objective: Objective,
    videos: Sequence[FaceVideo] | None,
) -> FitResult:
    if args.threads:
        torch.set_num_threads(int(args.threads))
    seed_everything(int(args.seed), rank=ctx.rank, deterministic=bool(args.deterministic))
    device = torch.device(ctx.device)
    progress = not args.no_progress and ctx.is_main
    out_dir = Path(args.output_dir)
    config = config_dict(args, ctx)
    if ctx.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(config, indent=2))

    if videos is None:
        videos = load_videos(
            args.data,
            data_path=args.data_path,
            cache_dir=args.cache_dir,
            fps_hz=args.fps,
            size=args.size,
            synthetic=args.synthetic,
            progress=progress,
        )
    clip = ClipConfig(int(args.clip_frames), float(args.fps), int(args.size), args.normalization)
    train_ds, val_ds, _ = build_datasets(
        videos,
        clip,
        folds=args.folds,
        fold=args.fold,
        val_share=args.val_share,
        seed=args.seed,
        contrastive=objective.mode == "contrastive",
        samples_per_epoch=args.samples_per_epoch,
        augment=args.augment,
    )
    sampler = (
        DistributedSampler(
            train_ds, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=args.seed
        )
        if ctx.distributed
        else None
    )
    train_loader = DataLoader(
        train_ds,
        batch_size=args.batch_size,
        sampler=sampler,
        shuffle=False,
        num_workers=args.workers,
        drop_last=True,
        persistent_workers=args.workers > 0,
    )
    val_loader = DataLoader(
        val_ds, batch_size=args.batch_size, shuffle=False, num_workers=args.workers
    )

    model = wrap_model(
        build_model(args.model, args.in_channels, **args.model_kwargs).to(device), ctx
    )
    if getattr(args, "init_weights", None) and not args.resume:
        # Fine-tuning: start from a trained model file (same architecture and options; a
        # 3-channel file's first convolution is folded for a 1-channel model).
        from training.checkpoints import load_init_weights  # noqa: PLC0415

        load_init_weights(model, args.init_weights, device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max(1, args.epochs), eta_min=args.lr * args.lr_min_ratio
    )

    start_epoch, best = 0, {"score": math.inf}
    if args.resume:
        ckpt = resume(args.resume, model, optimizer, scheduler, device)
        start_epoch = int(ckpt["epoch"]) + 1
        best = ckpt.get("best", best)

    select_key = "val_ipr" if objective.mode == "contrastive" else "val_loss"
    t_start = time.time()
    for epoch in range(start_epoch, args.epochs):
        train_ds.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        stats = train_one_epoch(
            model,
            optimizer,
            train_loader,
            device,
            epoch,
            objective,
            seed=args.seed,
            rank=ctx.rank,
            progress=progress,
        )
        scheduler.step()
        if ctx.is_main:
            metrics = evaluate(
                unwrap_model(model), val_loader, device, objective, progress=progress
            )
            row = {
                "epoch": epoch,
                **stats,
                **metrics,
                "lr": optimizer.param_groups[0]["lr"],
                "wall_s": time.time() - t_start,
            }
            score = float(metrics.get(select_key, math.inf))
            if score < best["score"]:
                best = {"score": score, "epoch": epoch, "metrics": row}
                save_model_file(
                    out_dir / "best.pt", model=model, config=config, epoch=epoch, metrics=row
                )
            save_checkpoint(
                out_dir / "checkpoint.pt",
                model=model,
                optimizer=optimizer,
                scheduler=scheduler,
                epoch=epoch,
                config=config,
                metrics=row,
                best=best,
            )
            append_csv(out_dir / "metrics.csv", row)
            if (epoch + 1) % max(1, args.plot_every) == 0 or epoch + 1 == args.epochs:
                plot_metrics(out_dir / "metrics.csv", out_dir / "metrics.png")
            print(format_row(row), flush=True)
        out_of_time = bool(args.max_train_minutes) and (
            (time.time() - t_start) / 60 >= args.max_train_minutes
        )
        if any_rank(out_of_time or epoch == args.stop_epoch):
            if ctx.is_main:
                plot_metrics(out_dir / "metrics.csv", out_dir / "metrics.png")
                why = "--max-train-minutes reached" if out_of_time else "--stop-epoch"
                print(f"stopping after epoch {epoch}: {why}", flush=True)
            break

    if ctx.is_main and args.ship_to and (out_dir / "best.pt").is_file():
        Path(args.ship_to).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out_dir / "best.pt", args.ship_to)
        print(f"best epoch {best.get('epoch')} written to {args.ship_to}", flush=True)
    return FitResult(unwrap_model(model), ctx.rank, ctx.world_size, best if ctx.is_main else {})
