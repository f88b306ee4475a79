"""Bi-level differentiable architecture search for AutoHR (DARTS / PC-DARTS, first order).

AutoHR (Yu et al. 2020) searches its cell by alternating two optimisers over the supernet
:class:`training.models.AutoHRSearch`: the network weights on a training split and the
architecture parameters (operation logits ``alpha`` and edge-normalisation logits ``beta``) on a
validation split, each minimising the same loss (AutoHR's hybrid loss by default). This module
uses the first-order approximation of DARTS (the architecture gradient is taken at the current
weights, without the unrolled step), which is what fits a CPU. Architecture steps start after
``warmup_epochs`` (5 of 12 in the paper) so the operations are trained before they are ranked.

After every epoch the derived genotype (:meth:`AutoHRSearch.genotype`) is printed and written to
``<out_dir>/genotype_epochNN.json``; the last one is also ``<out_dir>/genotype.json`` (load it with
:meth:`training.models.Genotype.from_json` and pass it to ``build_model("autohr", genotype=...)``),
and ``<out_dir>/arch_weights.png`` shows the final operation weights of every edge.

Batches are any iterable (a list, a ``DataLoader``) of ``(video, ppg, bpm)`` tuples or of dicts
with those keys: video ``(N, C, T, H, W)``, ppg ``(N, T)``, bpm ``(N,)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from training.losses import LOSSES, SupervisedLoss
from training.models.autohr import AutoHRSearch
from training.models.search_space import Genotype, edges_of

__all__ = [
    "SearchConfig",
    "SearchResult",
    "arch_step",
    "make_optimizers",
    "plot_arch_weights",
    "run_search",
    "synthetic_batches",
    "unpack_batch",
    "weight_step",
]

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class SearchConfig:
    """Settings of the search (defaults: AutoHR's Appendix B).

    Parameters
    ----------
    epochs
        Search epochs (12 in the paper).
    warmup_epochs
        Epochs of weight training before the architecture is updated (5 in the paper).
    weight_lr, weight_decay
        Adam for the network weights (1e-4, 5e-5).
    arch_lr, arch_decay
        Adam for the architecture parameters (6e-4, 1e-3).
    loss
        Name in :data:`training.losses.LOSSES` (AutoHR: ``"hybrid"``).
    fs_hz
        Frame rate of the clips.
    grad_clip
        Gradient-norm clip for the weights (DARTS uses 5); ``0`` disables it.
    """

    epochs: int = 12
    warmup_epochs: int = 5
    weight_lr: float = 1e-4
    weight_decay: float = 5e-5
    arch_lr: float = 6e-4
    arch_decay: float = 1e-3
    loss: str = "hybrid"
    fs_hz: float = 30.0
    grad_clip: float = 5.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.warmup_epochs < 0:
            raise ValueError(
                f"epochs, warmup_epochs: expected >= 1 and >= 0, got {self.epochs}, "
                f"{self.warmup_epochs}"
            )
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {sorted(LOSSES)}, got {self.loss!r}")
        for name in ("weight_lr", "arch_lr", "fs_hz"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected > 0, got {getattr(self, name)}")


@dataclass
class SearchResult:
    """Outcome of :func:`run_search`: the final genotype and per-epoch history."""

    genotype: Genotype
    genotypes: list[Genotype] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def unpack_batch(batch: Any) -> Batch:
    """``(video, ppg, bpm)`` from a tuple/list or a dict with those keys."""
    if isinstance(batch, dict):
        try:
            video, ppg, bpm = batch["video"], batch["ppg"], batch["bpm"]
        except KeyError as exc:
            raise ValueError(f"batch: expected keys video, ppg, bpm, got {sorted(batch)}") from exc
    elif isinstance(batch, tuple | list) and len(batch) >= 3:
        video, ppg, bpm = batch[0], batch[1], batch[2]
    else:
        raise TypeError(f"batch: expected (video, ppg, bpm) or a dict, got {type(batch).__name__}")
    return video, ppg, bpm


def make_optimizers(
    model: AutoHRSearch, cfg: SearchConfig
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Adam for the weights and Adam (betas 0.5, 0.999, as DARTS) for the architecture."""
    w_opt = torch.optim.Adam(
        model.weight_parameters(), lr=cfg.weight_lr, weight_decay=cfg.weight_decay
    )
    a_opt = torch.optim.Adam(
        model.arch_parameters(), lr=cfg.arch_lr, betas=(0.5, 0.999), weight_decay=cfg.arch_decay
    )
    return w_opt, a_opt


def _loss(model: AutoHRSearch, batch: Any, loss_fn: SupervisedLoss, fs_hz: float) -> torch.Tensor:
    video, ppg, bpm = unpack_batch(batch)
    pred = model(video)
    pulse = batch.get("pulse") if isinstance(batch, dict) else None
    if pulse is None or bool(torch.as_tensor(pulse).all()):
        return loss_fn(pred, ppg, bpm, fs_hz)
    # Realistic data: clips without a pulse count as in training (training.engine), a flat
    # in-band spectrum, each part weighted by its share of the batch.
    from training.losses import no_pulse_loss  # noqa: PLC0415

    pos = torch.as_tensor(pulse).bool()
    n = pred.shape[0]
    total = no_pulse_loss(pred[~pos], fs_hz) * (int((~pos).sum()) / n)
    if bool(pos.any()):
        total = total + loss_fn(pred[pos], ppg[pos], bpm[pos], fs_hz) * (int(pos.sum()) / n)
    return total


def arch_step(
    model: AutoHRSearch,
    a_opt: torch.optim.Optimizer,
    val_batch: Any,
    loss_fn: SupervisedLoss,
    fs_hz: float,
) -> float:
    """One first-order architecture step on a validation batch; returns its loss."""
    model.zero_grad(set_to_none=True)
    a_opt.zero_grad(set_to_none=True)
    loss = _loss(model, val_batch, loss_fn, fs_hz)
    loss.backward()  # type: ignore[no-untyped-call]
    a_opt.step()
    # The weights received gradients too; they must not leak into the next weight step.
    model.zero_grad(set_to_none=True)
    return float(loss.detach())


def weight_step(
    model: AutoHRSearch,
    w_opt: torch.optim.Optimizer,
    train_batch: Any,
    loss_fn: SupervisedLoss,
    fs_hz: float,
    grad_clip: float = 5.0,
) -> float:
    """One weight step on a training batch (architecture parameters untouched); returns its loss."""
    model.zero_grad(set_to_none=True)
    loss = _loss(model, train_batch, loss_fn, fs_hz)
    loss.backward()  # type: ignore[no-untyped-call]
    for p in model.arch_parameters():
        p.grad = None
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(list(model.weight_parameters()), grad_clip)
    w_opt.step()
    return float(loss.detach())


def _forever(batches: Iterable[Any]) -> Iterator[Any]:
    """Re-iterate ``batches`` without end (the validation split may be shorter than training)."""
    while True:
        empty = True
        for b in batches:
            empty = False
            yield b
        if empty:
            raise ValueError("val_batches: expected at least one batch, got none")


def plot_arch_weights(model: AutoHRSearch, path: Path) -> None:
    """Heat map of the operation weights ``softmax(alpha)`` of every edge (rows, labelled with
    the edge-normalisation weight ``softmax(beta)`` among the node's incoming edges)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    op_w = torch.softmax(model.alphas.detach(), dim=-1).cpu().numpy()
    edge_w = (model.edge_scores().sum(dim=1)).cpu().numpy()
    labels = [
        f"{'in' if i == 0 else f'B{i}'} -> B{j} (edge {w:.2f})"
        for (i, j), w in zip(edges_of(), edge_w, strict=True)
    ]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    im = ax.imshow(op_w, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(model.primitives)), model.primitives, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_title("AutoHR search: operation weights softmax(alpha) per edge")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_search(
    model: AutoHRSearch,
    train_batches: Iterable[Any],
    val_batches: Iterable[Any],
    cfg: SearchConfig | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> SearchResult:
    """Search: per epoch, alternate an architecture step on a validation batch (after warm-up)
    and a weight step on a training batch for every training batch; derive the genotype.

    Parameters
    ----------
    model
        The supernet.
    train_batches, val_batches
        Re-iterable collections of batches (see the module docstring).
    cfg
        Search settings.
    out_dir
        Where genotypes, history and the plot go (nothing is written when ``None``).
    progress
        Show a tqdm bar per epoch.
    """
    if not isinstance(model, AutoHRSearch):
        raise TypeError(f"model: expected an AutoHRSearch supernet, got {type(model).__name__}")
    cfg = cfg or SearchConfig()
    loss_fn = LOSSES[cfg.loss]
    w_opt, a_opt = make_optimizers(model, cfg)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    val_iter = _forever(val_batches)
    result = SearchResult(genotype=model.genotype())
    model.train()
    for epoch in range(cfg.epochs):
        update_arch = epoch >= cfg.warmup_epochs
        t_losses, v_losses = [], []
        bar = tqdm(
            train_batches,
            desc=f"search epoch {epoch + 1}/{cfg.epochs}",
            disable=not progress,
            leave=False,
        )
        for train_batch in bar:
            if update_arch:
                v_losses.append(arch_step(model, a_opt, next(val_iter), loss_fn, cfg.fs_hz))
            t_losses.append(
                weight_step(model, w_opt, train_batch, loss_fn, cfg.fs_hz, cfg.grad_clip)
            )
            bar.set_postfix(train=f"{t_losses[-1]:.3f}")
        if not t_losses:
            raise ValueError("train_batches: expected at least one batch, got none")
        geno = model.genotype()
        result.genotypes.append(geno)
        result.genotype = geno
        result.train_loss.append(sum(t_losses) / len(t_losses))
        result.val_loss.append(sum(v_losses) / len(v_losses) if v_losses else math.nan)
        print(
            f"epoch {epoch + 1}: train {result.train_loss[-1]:.4f} val {result.val_loss[-1]:.4f} "
            f"arch {'on' if update_arch else 'warm-up'} genotype {geno.to_json()}",
            flush=True,
        )
        if out is not None:
            (out / f"genotype_epoch{epoch + 1:02d}.json").write_text(geno.to_json())
    if out is not None:
        (out / "genotype.json").write_text(result.genotype.to_json())
        history = {
            "config": asdict(cfg),
            "train_loss": result.train_loss,
            "val_loss": result.val_loss,
            "genotypes": [json.loads(g.to_json()) for g in result.genotypes],
            "alphas": model.alphas.detach().cpu().tolist(),
            "betas": model.betas.detach().cpu().tolist(),
            "primitives": list(model.primitives),
        }
        (out / "history.json").write_text(json.dumps(history, indent=1))
        plot_arch_weights(model, out / "arch_weights.png")
    return result


def synthetic_batches(
    n_batches: int,
    batch_size: int = 2,
    channels: int = 3,
    frames: int = 64,
    size: int = 32,
    fs_hz: float = 30.0,
    seed: int = 0,
) -> list[Batch]:
    """Small generated clips for smoke tests: a skin-coloured disc whose brightness follows a
    sine at a random heart rate (50-150 bpm), in noise; the PPG is that sine."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(frames, dtype=torch.float32) / fs_hz
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    disc = (((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size / 3) ** 2).float()
    tint = torch.tensor([0.6, 0.45, 0.35])[:channels] if channels == 3 else torch.tensor([0.5])
    out: list[Batch] = []
    for _ in range(n_batches):
        bpm = 50.0 + 100.0 * torch.rand(batch_size, generator=g)
        phase = 2 * math.pi * torch.rand(batch_size, 1, generator=g)
        ppg = torch.sin(2 * math.pi * (bpm[:, None] / 60.0) * t[None] + phase)
        amp = 1.0 + 0.02 * ppg  # (N, T)
        video = (
            tint.view(1, -1, 1, 1, 1)
            * disc.view(1, 1, 1, size, size)
            * amp.view(batch_size, 1, frames, 1, 1)
        )
        video = video + 0.01 * torch.randn(video.shape, generator=g)
        out.append(((video - video.mean()) / video.std(), ppg, bpm))
    return out
