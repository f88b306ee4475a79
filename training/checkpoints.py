"""Checkpoints: the resumable state of a run, and model files that rebuild a trained network.

Two kinds of file, both ``torch.save`` dicts written atomically (unique temporary name, then
rename):

- a *checkpoint* (``checkpoint.pt``): ``model``, ``optimizer``, ``scheduler``, ``epoch``,
  ``config`` (the run's options), plus whatever the trainer adds (``best``, ``metrics``);
  :func:`resume` continues from it.
- a *model file* (``best.pt``, ``--ship-to``, ``adapted.pt``, ``training/checkpoints/*.pt``):
  ``model``, ``config``, ``epoch``, ``metrics``; :func:`load_shipped_model` rebuilds the network
  from the config's ``model``, ``in_channels`` and ``model_kwargs``.

:func:`load_init_weights` starts a run from a model file (``--init-weights``); a 3-channel
model's first convolution is folded into a 1-channel one there (near-infrared models).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from training.distributed import unwrap_model
from training.files import atomic_path
from training.models import build_model

__all__ = [
    "fold_to_one_channel",
    "load_checkpoint",
    "load_init_weights",
    "load_shipped_model",
    "resume",
    "save_checkpoint",
    "save_model_file",
]


def save_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    epoch: int,
    config: Mapping[str, Any],
    **extra: Any,
) -> Path:
    """Write the resumable state of a run (the model unwrapped from DDP)."""
    state = {
        "model": unwrap_model(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": int(epoch),
        "config": dict(config),
        **extra,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def save_model_file(
    path: str | Path,
    *,
    model: nn.Module | Mapping[str, torch.Tensor],
    config: Mapping[str, Any],
    epoch: int,
    metrics: Mapping[str, Any],
) -> Path:
    """Write the weights alone with what rebuilds them (:func:`load_shipped_model` reads it)."""
    weights = unwrap_model(model).state_dict() if isinstance(model, nn.Module) else dict(model)
    with atomic_path(path) as tmp:
        torch.save(
            {"model": weights, "config": dict(config), "epoch": epoch, "metrics": dict(metrics)},
            tmp,
        )
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint or model file as a dict; ``ValueError`` when it lacks ``model``/``config``."""
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "config" not in ckpt:
        raise ValueError(f"{path}: expected a checkpoint with 'model' and 'config'")
    return ckpt


def resume(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Load a checkpoint's model, optimizer and scheduler state in place; return the checkpoint
    (its ``epoch`` is the last one finished)."""
    ckpt = load_checkpoint(path, map_location)
    for key in ("optimizer", "scheduler", "epoch"):
        if key not in ckpt:
            raise ValueError(f"{path}: expected a resumable checkpoint with {key!r}")
    unwrap_model(model).load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    return ckpt


def fold_to_one_channel(
    state: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``state`` with every weight that takes 3 input channels where ``target``'s takes 1 summed
    over those channels (the rest unchanged).

    Grey video is three equal channels: a convolution with kernels ``k_B, k_G, k_R`` answers
    ``x`` on each channel exactly as one with the kernel ``k_B + k_G + k_R`` answers ``x`` on
    one channel, so the folded network gives a one-channel grey input the 3-channel network's
    output for the same input repeated (and the temporal normalisation of a repeated channel
    is the repeated normalisation).
    """
    out = dict(state)
    for key, value in state.items():
        want = target.get(key)
        if (
            want is not None
            and value.ndim >= 3
            and value.ndim == want.ndim
            and value.shape[1] == 3
            and want.shape[1] == 1
            and value.shape[0] == want.shape[0]
            and value.shape[2:] == want.shape[2:]
        ):
            out[key] = value.sum(dim=1, keepdim=True)
    return out


def load_init_weights(
    model: nn.Module, path: str | Path, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Start ``model`` from the weights of a model file or checkpoint (fine-tuning).

    A model file of the same architecture with 3 input channels initialises a 1-channel model:
    its first convolution is folded (:func:`fold_to_one_channel`). Anything else that does not
    match raises as :meth:`torch.nn.Module.load_state_dict` does. Returns the file's dict.
    """
    init = load_checkpoint(path, map_location)
    target = unwrap_model(model)
    state = init["model"]
    if int(init["config"].get("in_channels", 3)) == 3:
        state = fold_to_one_channel(state, target.state_dict())
    target.load_state_dict(state)
    return init


def load_shipped_model(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model from a model file or checkpoint (``best.pt``, ``--ship-to``, shipped).

    Returns the model in eval mode and the training configuration stored with it.
    """
    ckpt = load_checkpoint(path, device)
    cfg = ckpt["config"]
    model = build_model(
        cfg["model"], int(cfg.get("in_channels", 3)), **(cfg.get("model_kwargs") or {})
    )
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), cfg
