"""Distributed set-up for training: processes started by ``torchrun``, one model replica each.

``torchrun`` (or any launcher) sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`init_distributed` joins the process group (gloo on CPU, NCCL on CUDA). Everything else here
works the same in a single process, where there is no group: the barrier returns at once and the
process is the main one.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "DistContext",
    "all_reduce_sum",
    "any_rank",
    "barrier",
    "cleanup",
    "get_rank",
    "get_world_size",
    "init_distributed",
    "is_main_process",
    "main_process_first",
    "seed_everything",
    "unwrap_model",
    "wrap_model",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank among ``world_size`` and the device it drives."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "cpu", dist_url: str = "env://") -> DistContext:
    """Join the process group that the launcher's environment describes, if there is one.

    Without ``WORLD_SIZE > 1`` in the environment this is a single-process run and nothing is
    initialised. On CUDA each process takes the GPU of its ``LOCAL_RANK``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or "RANK" not in os.environ:
        return DistContext(device=str(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    on_cuda = str(device).startswith("cuda")
    if on_cuda:
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    if not dist.is_initialized():
        dist.init_process_group(
            backend="nccl" if on_cuda else "gloo",
            init_method=dist_url,
            world_size=world,
            rank=rank,
        )
    return DistContext(rank, world, local_rank, str(device))


def get_rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def get_world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    return get_rank() == 0


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if get_world_size() > 1:
        dist.barrier()


@contextlib.contextmanager
def main_process_first() -> Iterator[None]:
    """Run the block on rank 0 first, then on the other ranks.

    For shared caches: rank 0 renders or preprocesses, the others wait at a barrier and then
    read what it wrote instead of computing the same files at the same time.
    """
    if not is_main_process():
        barrier()
    try:
        yield
    finally:
        if is_main_process():
            barrier()


def all_reduce_sum(values: list[float]) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (the values themselves in one process)."""
    if get_world_size() == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return [float(v) for v in t]


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any (ranks must agree to stop together, or
    the others wait forever at the next collective)."""
    if get_world_size() == 1:
        return bool(flag)
    t = torch.tensor([float(flag)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def wrap_model(model: nn.Module, ctx: DistContext) -> nn.Module:
    """``DistributedDataParallel`` around ``model`` when there are several ranks.

    DDP broadcasts rank 0's parameters at construction, so every replica starts identical.
    """
    if not ctx.distributed:
        return model
    ids = [ctx.local_rank] if ctx.device.startswith("cuda") else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a DDP wrapper (the model itself otherwise)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def seed_everything(seed: int, *, rank: int = 0, deterministic: bool = False) -> None:
    """Seed Python, numpy's legacy state and torch with ``seed + rank``.

    Ranks get different streams so their random draws (dropout, augmentation outside the
    dataset's own per-item seeds) are not copies of each other; rank 0 of a distributed run
    draws what a single-process run draws.
    """
    s = int(seed) + int(rank)
    random.seed(s)
    # Legacy global numpy state, for any third-party code that still draws from it.
    np.random.seed(s % (2**32))  # noqa: NPY002
    torch.manual_seed(s)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def cleanup() -> None:
    """Leave the process group (after a last barrier), if there is one."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
