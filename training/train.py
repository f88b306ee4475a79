"""Train an rPPG model, supervised or contrastive (torchvision "references" style).

Examples
--------
One process (CPU or one GPU)::

    python -m training.train --config training/configs/physnet_synthetic.yaml
    python -m training.train --config training/configs/physnet_synthetic.yaml --epochs 2 --lr 3e-4

Several GPUs or machines (DDP; gloo on CPU, NCCL on CUDA)::

    torchrun --nproc_per_node 2 -m training.train --config training/configs/physnet_synthetic.yaml

Every key of the YAML file is an argument below (``clip_frames`` is ``--clip-frames``); the
command line overrides the file. Dict-valued keys (``model_kwargs``, ``synthetic``, ``augment``)
take YAML/JSON on the command line: ``--model-kwargs '{width: 0.5}'``.

Supervised training minimises any loss of :data:`training.losses.LOSSES` and keeps the epoch with
the lowest validation loss. Contrastive training (Gideon & Stent 2021, section 3.5) needs no
labels: each clip (anchor) is squeezed in time by a ratio in [0.66, 0.8] (the negative, a
1.25-1.5x higher heart rate), the negative's output is stretched back (the positive) and the
multi-view triplet loss over PSD-MSE pulls anchor and positive spectra together and pushes the
negative's away. Its model selection is label-free: the epoch with the lowest irrelevant power
ratio on the training videos.

Outputs in ``--output-dir``: ``checkpoint.pt`` (latest: model, optimizer, scheduler, epoch,
config; ``--resume`` it), ``best.pt``, ``metrics.csv`` and ``metrics.png``. ``--ship-to PATH``
also writes the best weights alone (model + config + metrics) to ``PATH``.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from training.augment import AugmentConfig, frequency_resample, resample_ppg
from training.data.clips import ClipConfig, ClipDataset
from training.data.preprocess import FaceVideo
from training.losses import LOSSES, irrelevant_power_ratio, mvtl_loss
from training.models import build_model

__all__ = [
    "build_datasets",
    "contrastive_loss",
    "evaluate",
    "get_args_parser",
    "load_shipped_model",
    "main",
    "parse_args",
    "run_distributed",
    "train_one_epoch",
]

DICT_ARGS = ("model_kwargs", "synthetic", "augment")


# ----------------------------------------------------------------------------- arguments


def _yaml_dict(text: str) -> dict[str, Any]:
    import yaml

    value = yaml.safe_load(text) if isinstance(text, str) else text
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a mapping like '{{width: 0.5}}', got {text!r}")
    return value


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    """All options of :func:`main`; a ``--config`` YAML file supplies defaults for them."""
    p = argparse.ArgumentParser(description="Train an rPPG model", add_help=add_help)
    p.add_argument("--config", default=None, help="YAML file of defaults for these options")
    # model
    p.add_argument("--model", default="physnet", help="physnet | autohr | autohr_search")
    p.add_argument("--model-kwargs", type=_yaml_dict, default={}, help="e.g. '{width: 0.25}'")
    p.add_argument("--in-channels", type=int, default=3, help="3 (BGR) or 1 (near-infrared)")
    # data
    p.add_argument(
        "--data",
        default="synthetic",
        help="synthetic | ubfc-rppg | pure | cohface | mr-nirp-car | folder",
    )
    p.add_argument("--data-path", default=None, help="dataset root (real datasets / folder)")
    p.add_argument("--cache-dir", default="cache", help="preprocessed face clips go here")
    p.add_argument(
        "--synthetic",
        type=_yaml_dict,
        default={},
        help="options of training.data.synthetic.SyntheticSetConfig",
    )
    p.add_argument("--folds", type=int, default=5, help="subject-wise folds")
    p.add_argument("--fold", type=int, default=0, help="which fold is held out for testing")
    p.add_argument(
        "--val-share",
        type=float,
        default=0.2,
        help="share of the training subjects held out for validation / selection",
    )
    p.add_argument("--clip-frames", type=int, default=300, help="T, frames per clip (W * fps)")
    p.add_argument("--fps", type=float, default=30.0, help="clip frame rate")
    p.add_argument("--size", type=int, default=64, help="H = W of the clips")
    p.add_argument("--normalization", default="temporal", help="temporal | standard | none")
    p.add_argument("--samples-per-epoch", type=int, default=0, help="random clips per epoch")
    p.add_argument(
        "--augment", type=_yaml_dict, default={}, help="options of training.augment.AugmentConfig"
    )
    # optimisation
    p.add_argument("--mode", default="supervised", help="supervised | contrastive")
    p.add_argument("--loss", default="neg_pearson", help=f"supervised loss: {sorted(LOSSES)}")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("-b", "--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--lr-min-ratio", type=float, default=0.05, help="cosine schedule floor")
    p.add_argument(
        "--max-train-minutes",
        type=float,
        default=0.0,
        help="stop after the epoch that crosses this wall time (0: no limit)",
    )
    p.add_argument(
        "--stop-epoch",
        type=int,
        default=-1,
        help="stop after this epoch as if interrupted (the schedule still spans --epochs)",
    )
    p.add_argument("--plot-every", type=int, default=5, help="redraw metrics.png every N epochs")
    p.add_argument(
        "--neg-ratio",
        type=float,
        nargs=2,
        default=[0.66, 0.8],
        help="contrastive negatives: frequency resampling ratio range",
    )
    p.add_argument("--n-views", type=int, default=4, help="MVTL views V_N")
    p.add_argument("--view-s", type=float, default=5.0, help="MVTL view length V_L (s)")
    # run
    p.add_argument("--output-dir", default="runs/default")
    p.add_argument("--ship-to", default=None, help="also write the best weights here")
    p.add_argument("--resume", default=None, help="checkpoint.pt to continue from")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="deterministic kernels (slower; same numbers on every run)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("-j", "--workers", type=int, default=0, help="data-loading processes")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--dist-url", default="env://")
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` with the ``--config`` file's values as defaults (command line wins)."""
    parser = get_args_parser()
    pre, _ = parser.parse_known_args(argv)
    if pre.config:
        import yaml

        cfg = yaml.safe_load(Path(pre.config).read_text()) or {}
        if not isinstance(cfg, dict):
            raise ValueError(f"{pre.config}: expected a mapping of option: value")
        known = {a.dest for a in parser._actions}
        defaults = {}
        for k, v in cfg.items():
            dest = k.replace("-", "_")
            if dest not in known:
                raise ValueError(f"{pre.config}: unknown option {k!r}")
            defaults[dest] = v
        parser.set_defaults(**defaults)
    args = parser.parse_args(argv)
    for k in DICT_ARGS:
        setattr(
            args,
            k,
            _yaml_dict(getattr(args, k))
            if isinstance(getattr(args, k), str)
            else dict(getattr(args, k) or {}),
        )
    return args


def _config_dict(args: argparse.Namespace) -> dict[str, Any]:
    return json.loads(json.dumps(vars(args), default=str))


# ----------------------------------------------------------------------------- distributed


def _init_distributed(args: argparse.Namespace) -> None:
    args.rank, args.world_size, args.local_rank = 0, 1, 0
    args.distributed = False
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        args.rank = int(os.environ["RANK"])
        args.world_size = int(os.environ["WORLD_SIZE"])
        args.local_rank = int(os.environ.get("LOCAL_RANK", args.rank))
        args.distributed = True
        backend = "nccl" if str(args.device).startswith("cuda") else "gloo"
        if str(args.device).startswith("cuda"):
            torch.cuda.set_device(args.local_rank)
            args.device = f"cuda:{args.local_rank}"
        dist.init_process_group(
            backend=backend, init_method=args.dist_url, world_size=args.world_size, rank=args.rank
        )
        dist.barrier()


def _is_main(args: argparse.Namespace) -> bool:
    return int(getattr(args, "rank", 0)) == 0


def _spawn_entry(
    rank: int,
    args: argparse.Namespace,
    world_size: int,
    port: int,
    videos: Sequence[FaceVideo] | None,
) -> None:
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world_size),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    main(args, videos)


def run_distributed(
    args: argparse.Namespace,
    world_size: int,
    port: int = 29531,
    videos: Sequence[FaceVideo] | None = None,
) -> None:
    """Run :func:`main` in ``world_size`` local processes (what ``torchrun`` does on one host)."""
    import torch.multiprocessing as mp

    mp.spawn(_spawn_entry, args=(args, world_size, port, videos), nprocs=world_size, join=True)


# ----------------------------------------------------------------------------- setup


def _seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    # Legacy global numpy state, for any third-party code that still draws from it.
    np.random.seed(seed % (2**32))  # noqa: NPY002
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def _load_videos(args: argparse.Namespace) -> list[FaceVideo]:
    if args.data == "synthetic":
        from training.data.synthetic import SyntheticSetConfig, build_synthetic_videos

        cfg = SyntheticSetConfig(**{"fps_hz": args.fps, **args.synthetic})
        return build_synthetic_videos(
            cfg, cache_dir=args.cache_dir, progress=not args.no_progress and _is_main(args)
        )
    from training.data.preprocess import preprocess_record
    from training.data.records import folder_records, load_dataset

    if not args.data_path:
        raise ValueError(f"--data-path: expected the {args.data} root folder, got nothing")
    records = (
        folder_records(args.data_path)
        if args.data == "folder"
        else load_dataset(args.data, args.data_path)
    )
    from rppg_sdk.face import FaceTrackerOptions

    opts = FaceTrackerOptions(crop_size=max(64, int(args.size)), skin_regions=False)
    return [
        preprocess_record(r, opts, cache_dir=args.cache_dir)
        for r in tqdm(records, desc="preprocess", disable=args.no_progress)
    ]


def build_datasets(
    args: argparse.Namespace, videos: Sequence[FaceVideo] | None = None
) -> tuple[ClipDataset, ClipDataset, ClipDataset]:
    """``(train, val, test)`` clip datasets from subject-wise splits of the videos.

    The test side is fold ``args.fold`` of ``args.folds``; validation is ``args.val_share`` of
    the remaining subjects. In contrastive mode (no labels) the validation videos join training,
    as in the paper, and the validation set is the training videos cut into fixed windows (for
    the label-free IPR model selection).
    """
    from training.data.splits import subject_kfold

    vids = list(videos) if videos is not None else _load_videos(args)
    subjects = [v.subject_id for v in vids]
    train_idx, test_idx = subject_kfold(subjects, args.folds, args.fold, seed=args.seed)
    train_subjects = sorted({subjects[i] for i in train_idx})
    rng = np.random.default_rng(args.seed + 1)
    n_val = (
        max(1, int(round(args.val_share * len(train_subjects)))) if len(train_subjects) > 1 else 0
    )
    val_subjects = set(rng.permutation(train_subjects)[:n_val].tolist())
    contrastive = args.mode == "contrastive"
    tr = [vids[i] for i in train_idx if contrastive or subjects[i] not in val_subjects]
    va = [vids[i] for i in train_idx if subjects[i] in val_subjects] or tr
    te = [vids[i] for i in test_idx]
    clip = ClipConfig(int(args.clip_frames), float(args.fps), int(args.size), args.normalization)
    aug = AugmentConfig(**args.augment)
    train_ds = ClipDataset(
        tr,
        clip,
        train=True,
        samples_per_epoch=args.samples_per_epoch or None,
        augment=aug,
        labelled=not contrastive,
        seed=args.seed,
    )
    val_ds = ClipDataset(tr if contrastive else va, clip, train=False, labelled=True)
    test_ds = ClipDataset(te, clip, train=False, labelled=True)
    return train_ds, val_ds, test_ds


# ----------------------------------------------------------------------------- steps


def contrastive_loss(
    model: nn.Module,
    video: torch.Tensor,
    fs_hz: float,
    rng: np.random.Generator,
    *,
    neg_ratio: tuple[float, float] = (0.66, 0.8),
    n_views: int = 4,
    view_s: float = 5.0,
) -> torch.Tensor:
    """MVTL over PSD-MSE of one batch (Gideon & Stent 2021, Fig. 2), no labels needed."""
    ratio = float(rng.uniform(*neg_ratio))
    t = video.shape[2]
    negative_video = frequency_resample(video, ratio)
    y_a = model(video)
    y_n = model(negative_video)
    y_p = resample_ppg(y_n, t)  # back to the anchor's time scale: same heart rate as y_a
    view_s = min(view_s, y_n.shape[1] / fs_hz)
    return mvtl_loss(y_a, y_p, y_n, fs_hz, n_views=n_views, view_s=view_s)


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader[Any],
    device: torch.device,
    epoch: int,
    args: argparse.Namespace,
) -> dict[str, float]:
    """One pass over ``loader``; returns the mean training loss and the time it took."""
    model.train()
    loss_fn = LOSSES[args.loss] if args.mode == "supervised" else None
    rng = np.random.default_rng([args.seed, epoch, getattr(args, "rank", 0), 7])
    total, count, t0 = 0.0, 0, time.time()
    bar = tqdm(
        loader, desc=f"epoch {epoch}", leave=False, disable=args.no_progress or not _is_main(args)
    )
    for batch in bar:
        video = batch["video"].to(device, non_blocking=True)
        if args.mode == "contrastive":
            loss = contrastive_loss(
                model,
                video,
                args.fps,
                rng,
                neg_ratio=tuple(args.neg_ratio),
                n_views=args.n_views,
                view_s=args.view_s,
            )
        else:
            assert loss_fn is not None
            pred = model(video)
            loss = loss_fn(pred, batch["ppg"].to(device), batch["bpm"].to(device), args.fps)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"epoch {epoch}: the loss became {float(loss)}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        total += float(loss.detach()) * video.shape[0]
        count += video.shape[0]
        bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
    if getattr(args, "distributed", False):
        t = torch.tensor([total, count], dtype=torch.float64)
        dist.all_reduce(t)
        total, count = float(t[0]), int(t[1])
    return {"train_loss": total / max(count, 1), "epoch_time_s": time.time() - t0}


@torch.no_grad()
def predict(
    model: nn.Module, loader: DataLoader[Any], device: torch.device, progress: bool = False
) -> dict[str, np.ndarray]:
    """Model waveforms, label waveforms and heart rates of every clip of ``loader``."""
    model.eval()
    preds, ppgs, bpms, vids = [], [], [], []
    for batch in tqdm(loader, desc="eval", leave=False, disable=not progress):
        preds.append(model(batch["video"].to(device)).float().cpu())
        ppgs.append(batch["ppg"].float())
        bpms.append(batch["bpm"].float())
        vids.append(torch.as_tensor(batch["video_index"]))
    return {
        "pred": torch.cat(preds).numpy().astype(np.float64),
        "ppg": torch.cat(ppgs).numpy().astype(np.float64),
        "bpm": torch.cat(bpms).numpy().astype(np.float64),
        "video_index": torch.cat(vids).numpy(),
    }


def evaluate(
    model: nn.Module,
    loader: DataLoader[Any],
    device: torch.device,
    args: argparse.Namespace,
) -> dict[str, float]:
    """Validation metrics: supervised loss (when labelled), HR MAE/RMSE, waveform SNR, IPR.

    Heart rates are read by the SDK's spectral core (:func:`training.losses.heart_rate_bpm`),
    the same code that reads the shipped model's output at run time.
    """
    from training.losses import heart_rate_bpm, hr_mae, hr_rmse

    out = predict(model, loader, device, progress=not args.no_progress)
    pred = torch.from_numpy(out["pred"])
    res: dict[str, float] = {"val_ipr": float(irrelevant_power_ratio(pred, args.fps))}
    labelled = np.isfinite(out["ppg"]).all(axis=1) & (np.abs(out["ppg"]).sum(axis=1) > 0)
    if labelled.any():
        p = pred[labelled]
        y = torch.from_numpy(out["ppg"][labelled])
        b = torch.from_numpy(out["bpm"][labelled])
        name = args.loss if args.mode == "supervised" else "mcc"
        res["val_loss"] = float(LOSSES[name](p, y, b, args.fps))
    good = np.isfinite(out["bpm"])
    if good.any():
        try:
            est = np.array([heart_rate_bpm(w, args.fps) for w in out["pred"][good]])
            res["val_mae_bpm"] = hr_mae(est, out["bpm"][good])
            res["val_rmse_bpm"] = hr_rmse(est, out["bpm"][good])
        except (ImportError, AttributeError) as exc:  # the SDK's C++ core is not built
            print(f"heart-rate metrics skipped: {exc}", file=sys.stderr)
    if args.mode == "contrastive" and "val_loss" not in res:
        res["val_loss"] = res["val_ipr"]
    return res


# ----------------------------------------------------------------------------- logging


def _append_csv(path: Path, row: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = []
    if path.is_file():
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    rows.append({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def plot_metrics(csv_path: Path, png_path: Path) -> None:
    """Loss, heart-rate error and IPR per epoch, from ``metrics.csv``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return

    def col(k: str) -> list[float]:
        return [float(r[k]) if r.get(k) not in (None, "", "nan") else math.nan for r in rows]

    ep = col("epoch")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for k in ("train_loss", "val_loss"):
        axes[0].plot(ep, col(k), marker="o", label=k)
    axes[0].set_title("loss")
    for k in ("val_mae_bpm", "val_rmse_bpm"):
        axes[1].plot(ep, col(k), marker="o", label=k)
    axes[1].set_title("heart-rate error (bpm)")
    axes[2].plot(ep, col("val_ipr"), marker="o", label="val_ipr")
    axes[2].set_title("irrelevant power ratio")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- checkpoints


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def load_shipped_model(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model from a checkpoint written by :func:`main` (``best.pt`` or ``--ship-to``).

    Returns the model in eval mode and the training configuration stored with it.
    """
    ckpt = torch.load(path, map_location=device, weights_only=False)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "config" not in ckpt:
        raise ValueError(f"{path}: expected a checkpoint with 'model' and 'config'")
    cfg = ckpt["config"]
    model = build_model(
        cfg["model"], int(cfg.get("in_channels", 3)), **(cfg.get("model_kwargs") or {})
    )
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), cfg


# ----------------------------------------------------------------------------- main


def main(args: argparse.Namespace, videos: Sequence[FaceVideo] | None = None) -> dict[str, Any]:
    """Train as ``args`` says; returns the best epoch's metrics (rank 0) or ``{}``.

    ``videos`` replaces the data that ``args.data`` names (tests, notebooks).
    """
    _init_distributed(args)
    if args.threads:
        torch.set_num_threads(int(args.threads))
    _seed_everything(int(args.seed), bool(args.deterministic))
    if args.mode not in ("supervised", "contrastive"):
        raise ValueError(f"--mode: expected 'supervised' or 'contrastive', got {args.mode!r}")
    if args.mode == "supervised" and args.loss not in LOSSES:
        raise ValueError(f"--loss: expected one of {sorted(LOSSES)}, got {args.loss!r}")
    device = torch.device(args.device)
    out_dir = Path(args.output_dir)
    if _is_main(args):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(_config_dict(args), indent=2))

    train_ds, val_ds, _ = build_datasets(args, videos)
    sampler = (
        DistributedSampler(
            train_ds, num_replicas=args.world_size, rank=args.rank, shuffle=True, seed=args.seed
        )
        if args.distributed
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

    model: nn.Module = build_model(args.model, args.in_channels, **args.model_kwargs).to(device)
    if args.distributed:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max(1, args.epochs), eta_min=args.lr * args.lr_min_ratio
    )

    start_epoch, best = 0, {"score": math.inf}
    if args.resume:
        ckpt = torch.load(args.resume, map_location=device, weights_only=False)
        _unwrap(model).load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        start_epoch = int(ckpt["epoch"]) + 1
        best = ckpt.get("best", best)

    select_key = "val_ipr" if args.mode == "contrastive" else "val_loss"
    t_start = time.time()
    for epoch in range(start_epoch, args.epochs):
        train_ds.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        stats = train_one_epoch(model, optimizer, train_loader, device, epoch, args)
        scheduler.step()
        if _is_main(args):
            metrics = evaluate(_unwrap(model), val_loader, device, args)
            row = {
                "epoch": epoch,
                **stats,
                **metrics,
                "lr": optimizer.param_groups[0]["lr"],
                "wall_s": time.time() - t_start,
            }
            score = float(metrics.get(select_key, math.inf))
            state = {
                "model": _unwrap(model).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "config": _config_dict(args),
                "metrics": row,
            }
            if score < best["score"]:
                best = {"score": score, "epoch": epoch, "metrics": row}
                torch.save(
                    {
                        "model": state["model"],
                        "config": state["config"],
                        "epoch": epoch,
                        "metrics": row,
                    },
                    out_dir / "best.pt",
                )
            state["best"] = best
            torch.save(state, out_dir / "checkpoint.tmp.pt")
            os.replace(out_dir / "checkpoint.tmp.pt", out_dir / "checkpoint.pt")
            _append_csv(out_dir / "metrics.csv", row)
            if (epoch + 1) % max(1, args.plot_every) == 0 or epoch + 1 == args.epochs:
                plot_metrics(out_dir / "metrics.csv", out_dir / "metrics.png")
            summary = " ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
            )
            print(f"[{datetime.datetime.now():%H:%M:%S}] {summary}", flush=True)
        out_of_time = bool(args.max_train_minutes) and (
            (time.time() - t_start) / 60 >= args.max_train_minutes
        )
        stop = out_of_time or epoch == args.stop_epoch
        if args.distributed:
            # Every rank must agree to stop, or the others wait forever at the next collective.
            flag = torch.tensor([float(stop)])
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item())
        if stop:
            if _is_main(args):
                plot_metrics(out_dir / "metrics.csv", out_dir / "metrics.png")
                why = "--max-train-minutes reached" if out_of_time else "--stop-epoch"
                print(f"stopping after epoch {epoch}: {why}", flush=True)
            break

    result: dict[str, Any] = {}
    if _is_main(args):
        result = best
        if args.ship_to and (out_dir / "best.pt").is_file():
            Path(args.ship_to).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out_dir / "best.pt", args.ship_to)
            print(f"best epoch {best.get('epoch')} written to {args.ship_to}", flush=True)
    if args.distributed:
        dist.barrier()
        dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main(parse_args())
