"""One epoch of training and one pass of evaluation (what a step of every run does).

The objective is an :class:`Objective`: supervised (a loss of :data:`training.losses.LOSSES`
against the clip's PPG) or contrastive (Gideon & Stent 2021, section 3.5: each clip is squeezed
in time by a ratio in ``neg_ratio`` to make a negative with a 1.25-1.5x higher heart rate, the
negative's output stretched back is the positive, and the multi-view triplet loss over PSD-MSE
pulls anchor and positive spectra together and pushes the negative's away; no labels).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from training.augment import frequency_resample, resample_ppg
from training.distributed import all_reduce_sum, unwrap_model
from training.losses import LOSSES, irrelevant_power_ratio, mvtl_loss, no_pulse_loss
from training.models.saliency import SaliencyFrontEnd, saliency_loss

__all__ = [
    "Objective",
    "contrastive_loss",
    "evaluate",
    "mean_ipr",
    "predict",
    "supervised_loss",
    "train_one_epoch",
]


@dataclass(frozen=True)
class Objective:
    """What a training step minimises.

    Parameters
    ----------
    mode
        ``"supervised"`` or ``"contrastive"``.
    loss
        Supervised loss, a name in :data:`training.losses.LOSSES`.
    fs_hz
        Frame rate of the clips.
    neg_ratio
        Contrastive negatives: range of the frequency-resampling ratio.
    n_views, view_s
        Multi-view triplet loss: number of views and their length in seconds.
    neg_weight
        Supervised runs: weight of :func:`training.losses.no_pulse_loss` on clips without a
        pulse (``batch["pulse"]`` False), which have no waveform to fit.
    saliency_weights
        ``(w_s, w_t)`` of the saliency sampler's sparsity and temporal-consistency regularisers
        (Gideon & Stent 2021, Eq. 1-3; the paper uses 1, 1), added to the loss when the model is
        wrapped in :class:`training.models.saliency.SaliencyFrontEnd`.
    """

    mode: str = "supervised"
    loss: str = "neg_pearson"
    fs_hz: float = 30.0
    neg_ratio: tuple[float, float] = (0.66, 0.8)
    n_views: int = 4
    view_s: float = 5.0
    neg_weight: float = 1.0
    saliency_weights: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        if self.mode not in ("supervised", "contrastive"):
            raise ValueError(f"mode: expected 'supervised' or 'contrastive', got {self.mode!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {sorted(LOSSES)}, got {self.loss!r}")
        if not float(self.fs_hz) > 0:
            raise ValueError(f"fs_hz: expected a positive rate, got {self.fs_hz!r}")
        object.__setattr__(self, "neg_ratio", tuple(float(v) for v in self.neg_ratio))
        object.__setattr__(self, "saliency_weights", tuple(float(v) for v in self.saliency_weights))


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


def supervised_loss(
    pred: torch.Tensor, batch: dict[str, Any], objective: Objective, device: torch.device
) -> torch.Tensor:
    """The objective's loss on clips with a pulse and, weighted by ``objective.neg_weight``,
    :func:`training.losses.no_pulse_loss` on clips without one (each term weighted by its share
    of the batch)."""
    loss_fn = LOSSES[objective.loss]
    pulse = torch.as_tensor(batch.get("pulse", torch.ones(pred.shape[0], dtype=torch.bool)))
    pulse = pulse.to(device).bool()
    n = pred.shape[0]
    total = pred.new_zeros(())
    if bool(pulse.any()):
        k = int(pulse.sum())
        y, b = batch["ppg"].to(device)[pulse], batch["bpm"].to(device)[pulse]
        total = total + loss_fn(pred[pulse], y, b, objective.fs_hz) * (k / n)
    if not bool(pulse.all()):
        k = int((~pulse).sum())
        neg = no_pulse_loss(pred[~pulse], objective.fs_hz)
        total = total + objective.neg_weight * neg * (k / n)
    return total


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader[Any],
    device: torch.device,
    epoch: int,
    objective: Objective,
    *,
    seed: int = 0,
    rank: int = 0,
    grad_clip: float = 5.0,
    progress: bool = False,
) -> dict[str, float]:
    """One pass over ``loader``; returns the mean training loss (over all ranks) and the time.

    The contrastive negatives' ratios come from a generator seeded with
    ``(seed, epoch, rank)``, so a resumed run draws what an uninterrupted one would.
    """
    model.train()
    rng = np.random.default_rng([seed, epoch, rank, 7])
    total, count, t0 = 0.0, 0, time.time()
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, disable=not progress)
    net = unwrap_model(model)
    with_saliency = isinstance(net, SaliencyFrontEnd) and any(objective.saliency_weights)
    for batch in bar:
        video = batch["video"].to(device, non_blocking=True)
        saliency: torch.Tensor | None = None
        if objective.mode == "supervised" and with_saliency:
            # One pass gives the pulse and the maps the regularisers shape (single process:
            # the unwrapped module, so DDP's hooks do not see this forward).
            out = net.forward_with_saliency(video)
            loss = supervised_loss(out.pulse, batch, objective, device)
            saliency = out.saliency
        elif objective.mode == "contrastive":
            loss = contrastive_loss(
                model,
                video,
                objective.fs_hz,
                rng,
                neg_ratio=objective.neg_ratio,
                n_views=objective.n_views,
                view_s=objective.view_s,
            )
            if with_saliency:
                saliency = net.sample(video)[1]
        else:
            pred = model(video)
            loss = supervised_loss(pred, batch, objective, device)
        if saliency is not None:
            loss = loss + saliency_loss(saliency, *objective.saliency_weights)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"epoch {epoch}: the loss became {float(loss)}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        if grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        total += float(loss.detach()) * video.shape[0]
        count += video.shape[0]
        bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
    total, n = all_reduce_sum([total, float(count)])
    return {"train_loss": total / max(n, 1.0), "epoch_time_s": time.time() - t0}


@torch.no_grad()
def predict(
    model: nn.Module, loader: DataLoader[Any], device: torch.device, progress: bool = False
) -> dict[str, np.ndarray]:
    """Model waveforms, label waveforms and heart rates of every clip of ``loader``."""
    model.eval()
    preds, ppgs, bpms, vids, pulses = [], [], [], [], []
    for batch in tqdm(loader, desc="eval", leave=False, disable=not progress):
        preds.append(model(batch["video"].to(device)).float().cpu())
        ppgs.append(batch["ppg"].float())
        bpms.append(batch["bpm"].float())
        vids.append(torch.as_tensor(batch["video_index"]))
        n = batch["video"].shape[0]
        pulses.append(torch.as_tensor(batch.get("pulse", torch.ones(n, dtype=torch.bool))))
    return {
        "pulse": torch.cat(pulses).numpy().astype(bool),
        "pred": torch.cat(preds).numpy().astype(np.float64),
        "ppg": torch.cat(ppgs).numpy().astype(np.float64),
        "bpm": torch.cat(bpms).numpy().astype(np.float64),
        "video_index": torch.cat(vids).numpy(),
    }


def evaluate(
    model: nn.Module,
    loader: DataLoader[Any],
    device: torch.device,
    objective: Objective,
    *,
    progress: bool = False,
) -> dict[str, float]:
    """Validation metrics: loss (when labelled), HR MAE/RMSE, waveform IPR.

    Supervised runs report their own loss; contrastive runs report MCC as ``val_loss`` when the
    clips have labels, and the IPR otherwise. Heart rates are read by the SDK's spectral core
    (:func:`training.losses.heart_rate_bpm`), the code that reads the shipped model at run time.
    """
    from training.losses import heart_rate_bpm, hr_mae, hr_rmse

    fs = objective.fs_hz
    out = predict(model, loader, device, progress=progress)
    pred = torch.from_numpy(out["pred"])
    res: dict[str, float] = {"val_ipr": float(irrelevant_power_ratio(pred, fs))}
    labelled = np.isfinite(out["ppg"]).all(axis=1) & (np.abs(out["ppg"]).sum(axis=1) > 0)
    if labelled.any():
        p = pred[labelled]
        y = torch.from_numpy(out["ppg"][labelled])
        b = torch.from_numpy(out["bpm"][labelled])
        name = objective.loss if objective.mode == "supervised" else "mcc"
        res["val_loss"] = float(LOSSES[name](p, y, b, fs))
    negative = ~out["pulse"]
    if negative.any():
        # Clips without a pulse: how concentrated the model's spectrum is there. Supervised
        # selection sees it as training does (each part weighted by its share of the clips).
        res["val_no_pulse"] = float(no_pulse_loss(pred[negative], fs))
        if objective.mode == "supervised" and "val_loss" in res:
            share = float(negative.mean())
            res["val_loss"] = (1 - share) * res["val_loss"] + share * objective.neg_weight * res[
                "val_no_pulse"
            ]
    good = np.isfinite(out["bpm"])
    if good.any():
        try:
            est = np.array([heart_rate_bpm(w, fs) for w in out["pred"][good]])
            res["val_mae_bpm"] = hr_mae(est, out["bpm"][good])
            res["val_rmse_bpm"] = hr_rmse(est, out["bpm"][good])
        except (ImportError, AttributeError) as exc:  # the SDK's C++ core is not built
            print(f"heart-rate metrics skipped: {exc}", file=sys.stderr)
    if objective.mode == "contrastive" and "val_loss" not in res:
        res["val_loss"] = res["val_ipr"]
    return res


@torch.no_grad()
def mean_ipr(model: nn.Module, loader: DataLoader[Any], fs_hz: float) -> float:
    """Mean irrelevant power ratio of the model's output over ``loader``'s clips."""
    model.eval()
    total, n = 0.0, 0
    for b in loader:
        total += float(irrelevant_power_ratio(model(b["video"]), fs_hz)) * b["video"].shape[0]
        n += b["video"].shape[0]
    if n == 0:
        raise ValueError("loader: expected at least one clip, got none")
    return total / n
