"""Train an rPPG model, supervised or contrastive: the command line of :func:`training.trainer.fit`.

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
the lowest validation loss. Contrastive training (Gideon & Stent 2021, section 3.5; see
:mod:`training.engine`) needs no labels and keeps the epoch with the lowest irrelevant power
ratio on the training videos.

Outputs in ``--output-dir``: ``checkpoint.pt`` (latest: model, optimizer, scheduler, epoch,
config; ``--resume`` it), ``best.pt``, ``metrics.csv`` and ``metrics.png``. ``--ship-to PATH``
also writes the best weights alone (model + config + metrics) to ``PATH``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.data.build import DATA_SOURCES
from training.data.preprocess import FaceVideo
from training.losses import LOSSES
from training.trainer import fit

__all__ = ["get_args_parser", "main", "parse_args"]

DICT_ARGS = ("model_kwargs", "synthetic", "augment")


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
        help=" | ".join(DATA_SOURCES),
    )
    p.add_argument("--data-path", default=None, help="dataset root (all but synthetic)")
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
    p.add_argument(
        "--neg-weight",
        type=float,
        default=1.0,
        help="weight of the no-pulse loss on clips without a pulse (realistic data)",
    )
    p.add_argument(
        "--saliency-weights",
        type=float,
        nargs=2,
        default=[1.0, 1.0],
        help="sparsity and temporal weights of the saliency regularisers (model_kwargs "
        "{saliency: true}); 0 0 switches them off",
    )
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
    p.add_argument(
        "--init-weights",
        default=None,
        help="start from this model file's weights (fine-tuning; same architecture)",
    )
    # release: export, parity, sidecar, evaluation through the SDK, model card
    p.add_argument(
        "--release-name",
        default=None,
        help="after training, export best.pt as this model (ONNX + sidecar + card); "
        "default: no release",
    )
    p.add_argument("--release-dir", default=None, help="default: <output-dir>/release")
    p.add_argument(
        "--evaluate",
        default="holdout",
        help="suite parts the release is scored on through HeartRateMonitor ('' : none)",
    )
    p.add_argument(
        "--evaluate-real",
        default="skin_patches,face_video",
        help="real recording sets the release is scored on ('' : none)",
    )
    p.add_argument("--evaluate-baselines", default="pos,physnet", help="measured beside it")
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


def main(args: argparse.Namespace, videos: Sequence[FaceVideo] | None = None) -> dict[str, Any]:
    """Train as ``args`` says; returns the best epoch's metrics (rank 0) or ``{}``.

    ``videos`` replaces the data that ``args.data`` names (tests, notebooks).
    """
    result = fit(args, videos)
    if result.rank == 0 and args.release_name:
        from training.release import release  # noqa: PLC0415

        release(args, command=_command())
    return result.best


def _command() -> str:
    import shlex  # noqa: PLC0415
    import sys  # noqa: PLC0415

    return "python -m training.train " + shlex.join(sys.argv[1:])


if __name__ == "__main__":
    main(parse_args())
