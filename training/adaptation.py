"""Self-supervised adaptation of a trained model to a new camera, from unlabelled video.

The model is fine-tuned with the contrastive objective of Gideon & Stent (2021)
(:class:`training.engine.Objective` in ``"contrastive"`` mode): no contact sensor, no labels.
Model selection is label-free too: the weights with the lowest irrelevant power ratio (IPR: share
of the output's power outside 40-250 bpm) on the adaptation videos, the starting weights
included. That selected IPR can only be at or below the starting one, by construction, so it is
reported as what it is (``ipr_selected``), and the honest check is the IPR on *held-out* videos,
used neither for training nor for selection (``heldout_ipr_before`` / ``heldout_ipr_after``).
Lower IPR means the output looks more like a pulse; it is not proof of a correct heart rate.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from training.data.clips import ClipConfig, ClipDataset
from training.data.preprocess import FaceVideo
from training.engine import Objective, mean_ipr, train_one_epoch
from training.logger import append_csv, plot_metrics

__all__ = ["adapt", "match_channels"]


def adapt(
    model: torch.nn.Module,
    cfg: dict[str, Any],
    videos: Sequence[FaceVideo],
    *,
    heldout: Sequence[FaceVideo] | None = None,
    epochs: int = 5,
    lr: float = 1e-4,
    batch_size: int = 4,
    samples_per_epoch: int = 0,
    seed: int = 0,
    out_dir: Path | None = None,
    progress: bool = True,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Contrastive fine-tuning on unlabelled ``videos``; returns the selected model and a report.

    Parameters
    ----------
    model, cfg
        The model and the training configuration stored with it (``clip_frames``, ``fps``,
        ``size``, ``normalization``; optional ``neg_ratio``, ``n_views``, ``view_s``).
    videos
        Face videos from the target camera (labels, if any, are not used).
    heldout
        Other videos from the target camera, scored before and after and never trained on.
    out_dir
        Where ``metrics.csv`` / ``metrics.png`` go (one row per epoch); nothing when ``None``.

    Returns
    -------
    model, report
        ``report`` holds ``ipr_before`` (the starting weights on the adaptation clips),
        ``ipr_selected`` and ``selected_epoch`` (``-1``: no epoch beat the start, the starting
        weights are returned), ``history`` (every epoch's IPR), ``weights_changed``, and
        ``heldout_ipr_before`` / ``heldout_ipr_after`` when ``heldout`` is given.
    """
    clip = ClipConfig(
        int(cfg["clip_frames"]),
        float(cfg["fps"]),
        int(cfg["size"]),
        cfg.get("normalization", "temporal"),
    )
    objective = Objective(
        mode="contrastive",
        loss="mcc",
        fs_hz=clip.fs_hz,
        neg_ratio=tuple(cfg.get("neg_ratio", (0.66, 0.8))),
        n_views=int(cfg.get("n_views", 4)),
        view_s=float(cfg.get("view_s", 5.0)),
    )
    train_ds = ClipDataset(
        videos,
        clip,
        train=True,
        labelled=False,
        seed=seed,
        samples_per_epoch=samples_per_epoch or None,
    )
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=False, drop_last=True)
    if len(train_loader) == 0:
        raise ValueError(
            f"videos: expected at least {batch_size} clips per epoch, got "
            f"{len(train_ds)}; pass more video or a smaller batch size"
        )
    eval_loader = DataLoader(
        ClipDataset(videos, clip, train=False, labelled=False), batch_size=batch_size
    )
    heldout_loader = (
        DataLoader(ClipDataset(heldout, clip, train=False, labelled=False), batch_size=batch_size)
        if heldout
        else None
    )
    start_state = copy.deepcopy(model.state_dict())
    before = mean_ipr(model, eval_loader, clip.fs_hz)
    heldout_before = mean_ipr(model, heldout_loader, clip.fs_hz) if heldout_loader else None
    best_ipr, best_state, best_epoch = before, start_state, -1
    history = []
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    for epoch in range(epochs):
        train_ds.set_epoch(epoch)
        stats = train_one_epoch(
            model, opt, train_loader, torch.device("cpu"), epoch, objective, seed=seed
        )
        ipr = mean_ipr(model, eval_loader, clip.fs_hz)
        row = {"epoch": epoch, **stats, "val_ipr": ipr}
        history.append(row)
        if out_dir is not None:
            append_csv(out_dir / "metrics.csv", row)
            plot_metrics(out_dir / "metrics.csv", out_dir / "metrics.png")
        if progress:
            print(f"epoch {epoch}: train_loss={stats['train_loss']:.4f} IPR={ipr:.4f}", flush=True)
        if ipr < best_ipr:
            best_ipr, best_state, best_epoch = ipr, copy.deepcopy(model.state_dict()), epoch
    model.load_state_dict(best_state)
    report: dict[str, Any] = {
        "ipr_before": before,
        "ipr_selected": best_ipr,
        "selected_epoch": best_epoch,
        "weights_changed": any(not torch.equal(v, start_state[k]) for k, v in best_state.items()),
        "n_videos": len(videos),
        "n_eval_clips": len(eval_loader.dataset),  # type: ignore[arg-type]
        "history": history,
    }
    if heldout_loader is not None:
        report["n_heldout_videos"] = len(heldout or [])
        report["heldout_ipr_before"] = heldout_before
        report["heldout_ipr_after"] = mean_ipr(model, heldout_loader, clip.fs_hz)
    return model.eval(), report


def match_channels(v: FaceVideo, channels: int) -> FaceVideo:
    """Match the model's channels: grey cameras feed an RGB model three equal channels."""
    if v.channels == channels:
        return v
    frames = np.asarray(v.frames)
    if channels == 3 and v.channels == 1:
        frames = np.repeat(frames, 3, axis=3)
    elif channels == 1 and v.channels == 3:
        frames = frames.mean(axis=3, keepdims=True).round().astype(np.uint8)
    return FaceVideo(
        frames,
        v.timestamps_s,
        v.ppg,
        v.bpm,
        v.fps_hz,
        v.subject_id,
        v.video_id,
        v.dataset,
        v.face_found,
    )
