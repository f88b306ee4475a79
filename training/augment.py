"""Augmentations of the two papers, on clips ``(C, T, H, W)`` (or batches ``(N, C, T, H, W)``).

- **DA1** (AutoHR, Yu et al. 2020, section II-D): random spatio-temporal cutout tubes, each under
  20 % of the frame's area and 20 % of the clip's length, mimicking occlusion of the face.
- **DA2** (AutoHR): temporal up/down-sampling so that rare heart rates get samples: clips above
  90 bpm are stretched ×2 (heart rate halved), clips below 70 bpm are sub-sampled by 2 (heart rate
  doubled); the PPG is resampled the same way and the heart-rate label scaled.
- **Random temporal stretch** (Gideon & Stent 2021, section 3.5): a shorter stretch of video is
  stretched to the window length with trilinear interpolation, lowering the heart rate by at
  most a third.
- **Redraw** of clips whose ground-truth PPG has an irrelevant power ratio above 0.6
  (Gideon & Stent 2021): the dataset asks :func:`needs_redraw` and samples again.
- The **frequency resampler** of contrastive training (negatives) lives here too:
  :func:`frequency_resample` squeezes a clip in time by a ratio in [0.66, 0.8], raising the
  visible heart rate by 1.25-1.5×.

A temporal scale ``s`` below means: ``round(s * T)`` source frames become ``T`` output frames, so
the heart rate seen in the output is ``s`` times the source's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "AugmentConfig",
    "cutout_tubes",
    "frequency_resample",
    "needs_redraw",
    "plan_temporal_scale",
    "resample_ppg",
    "resample_video",
]


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations run, and how strongly.

    Parameters
    ----------
    cutout_p
        Probability that a clip gets DA1 tubes.
    cutout_max_tubes
        1 to this many tubes per clip.
    cutout_max_area
        Largest tube cross-section as a share of the frame area (paper: under 20 %).
    cutout_max_length
        Longest tube as a share of the clip length (paper: under 20 %).
    da2_p
        Probability that a clip outside 70-90 bpm is re-timed (DA2).
    da2_high_bpm, da2_low_bpm
        Above ``da2_high_bpm`` the heart rate is halved; below ``da2_low_bpm`` it is doubled.
    stretch_p
        Probability of the random temporal stretch (when DA2 did not fire).
    stretch_min
        Smallest scale of the stretch (2/3: the heart rate drops by at most a third).
    ipr_max
        Clips whose ground-truth irrelevant power ratio is above this are redrawn.
    """

    cutout_p: float = 0.0
    cutout_max_tubes: int = 2
    cutout_max_area: float = 0.2
    cutout_max_length: float = 0.2
    da2_p: float = 0.0
    da2_high_bpm: float = 90.0
    da2_low_bpm: float = 70.0
    stretch_p: float = 0.0
    stretch_min: float = 2.0 / 3.0
    ipr_max: float = 0.6

    def __post_init__(self) -> None:
        for name in ("cutout_p", "da2_p", "stretch_p", "ipr_max"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"{name}: expected a probability in [0, 1], got {v!r}")
        for name in ("cutout_max_area", "cutout_max_length"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not 0.0 < float(v) <= 1.0:
                raise ValueError(f"{name}: expected a share in (0, 1], got {v!r}")
        if not isinstance(self.cutout_max_tubes, int) or self.cutout_max_tubes < 1:
            raise ValueError(
                f"cutout_max_tubes: expected an int >= 1, got {self.cutout_max_tubes!r}"
            )
        if not 0.1 <= float(self.stretch_min) <= 1.0:
            raise ValueError(f"stretch_min: expected a scale in [0.1, 1], got {self.stretch_min!r}")
        if not float(self.da2_low_bpm) < float(self.da2_high_bpm):
            raise ValueError(
                "da2_low_bpm < da2_high_bpm expected, got "
                f"{self.da2_low_bpm} and {self.da2_high_bpm}"
            )


def plan_temporal_scale(bpm: float, cfg: AugmentConfig, rng: np.random.Generator) -> float:
    """The temporal scale ``s`` for one clip: DA2's 2 or 1/2, a stretch in [stretch_min, 1], or 1.

    ``bpm`` may be NaN (no label): DA2 is then skipped, the stretch is not (it needs no label).
    """
    if math.isfinite(bpm) and cfg.da2_p > 0 and rng.random() < cfg.da2_p:
        if bpm > cfg.da2_high_bpm:
            return 0.5
        if bpm < cfg.da2_low_bpm:
            return 2.0
    if cfg.stretch_p > 0 and rng.random() < cfg.stretch_p:
        return float(rng.uniform(cfg.stretch_min, 1.0))
    return 1.0


def resample_video(clip: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Trilinear re-timing of ``(C, T, H, W)`` or ``(N, C, T, H, W)`` to ``n_frames`` frames.

    Space is left as it is (trilinear with an unchanged size is linear in time only).
    """
    if clip.ndim not in (4, 5):
        raise ValueError(f"clip: expected (C, T, H, W) or (N, C, T, H, W), got {tuple(clip.shape)}")
    if not isinstance(n_frames, int) or n_frames < 2:
        raise ValueError(f"n_frames: expected an int >= 2, got {n_frames!r}")
    x = clip if clip.ndim == 5 else clip.unsqueeze(0)
    if x.shape[2] == n_frames:
        return clip
    out = F.interpolate(
        x, size=(n_frames, x.shape[3], x.shape[4]), mode="trilinear", align_corners=False
    )
    return out if clip.ndim == 5 else out.squeeze(0)


def resample_ppg(ppg: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Linear re-timing of ``(T,)`` or ``(N, T)`` signals to ``n_samples`` samples."""
    if ppg.ndim not in (1, 2):
        raise ValueError(f"ppg: expected (T,) or (N, T), got {tuple(ppg.shape)}")
    x = ppg.reshape(-1, 1, ppg.shape[-1])
    if x.shape[-1] == n_samples:
        return ppg
    out = F.interpolate(x, size=n_samples, mode="linear", align_corners=False)
    return out.reshape(*ppg.shape[:-1], n_samples)


def cutout_tubes(
    clip: torch.Tensor, cfg: AugmentConfig, rng: np.random.Generator, *, fill: float = 0.0
) -> torch.Tensor:
    """DA1: erase 1..``cutout_max_tubes`` random spatio-temporal boxes of a ``(C, T, H, W)`` clip.

    Each tube covers at most ``cutout_max_area`` of the frame and ``cutout_max_length`` of the
    clip. Returns a new tensor; ``clip`` is left untouched. ``fill`` is the value written (0 is
    the clip mean after normalisation: "nothing there").
    """
    if clip.ndim != 4:
        raise ValueError(f"clip: expected (C, T, H, W), got {tuple(clip.shape)}")
    out = clip.clone()
    _, t, h, w = clip.shape
    for _ in range(int(rng.integers(1, cfg.cutout_max_tubes + 1))):
        area = rng.uniform(0.02, cfg.cutout_max_area) * h * w
        aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
        th = max(1, min(h, int(round(math.sqrt(area * aspect)))))
        tw = max(1, min(w, int(round(area / th))))
        tl = max(1, int(round(rng.uniform(0.05, cfg.cutout_max_length) * t)))
        y0 = int(rng.integers(0, h - th + 1))
        x0 = int(rng.integers(0, w - tw + 1))
        t0 = int(rng.integers(0, t - tl + 1))
        out[:, t0 : t0 + tl, y0 : y0 + th, x0 : x0 + tw] = fill
    return out


def needs_redraw(ppg: torch.Tensor, fs_hz: float, cfg: AugmentConfig) -> bool:
    """Whether a ground-truth PPG clip is too poor to train on (IPR above ``cfg.ipr_max``)."""
    from training.losses import irrelevant_power_ratio  # one definition of IPR

    if not bool(torch.isfinite(ppg).all()) or float(ppg.std()) == 0.0:
        return True
    ipr = irrelevant_power_ratio(ppg.reshape(1, -1).float(), fs_hz)
    return float(ipr.mean()) > cfg.ipr_max


def frequency_resample(clip: torch.Tensor, ratio: float, *, multiple_of: int = 4) -> torch.Tensor:
    """Contrastive negatives: squeeze ``(N, C, T, H, W)`` in time to about ``ratio * T`` frames.

    Played at the same frame rate the squeezed clip shows a heart rate ``1 / ratio`` times higher
    (ratio 0.66-0.8 -> 1.25-1.5×). The length is rounded to a multiple of ``multiple_of`` so
    encoders that pool time by 4 accept it.
    """
    if clip.ndim != 5:
        raise ValueError(f"clip: expected (N, C, T, H, W), got {tuple(clip.shape)}")
    if not 0.1 < ratio <= 1.0:
        raise ValueError(f"ratio: expected 0.1 < ratio <= 1, got {ratio}")
    n = max(multiple_of, int(round(clip.shape[2] * ratio / multiple_of)) * multiple_of)
    return resample_video(clip, n)
