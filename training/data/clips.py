"""A torch Dataset of W-second face clips with the PPG resampled to the frames and a heart rate.

Two modes:

``train=True``
    Each item is a fresh random clip: a video chosen in proportion to its length, a random start,
    optionally re-timed (DA2 / random stretch), redrawn when the ground-truth PPG is too poor
    (IPR), and optionally cut out (DA1). Items are reproducible: item ``i`` of epoch ``e`` is drawn
    from a generator seeded with ``(seed, e, i)``, whatever the worker or process that draws it.
``train=False``
    Fixed windows: every video cut into consecutive clips of ``clip_frames`` frames (stride
    ``stride_frames``), for validation and testing.

Clips come out as float32 ``(C, T, H, W)`` after :func:`normalize_clip`, the PPG z-scored
within the clip, and ``bpm`` (NaN when unknown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from rppg_sdk.backends.base import NORMALIZATIONS
from rppg_sdk.extractors.model import normalize_frames
from torch.utils.data import Dataset

from training.augment import (
    AugmentConfig,
    cutout_tubes,
    needs_redraw,
    plan_temporal_scale,
    resample_ppg,
    resample_video,
)
from training.data.preprocess import FaceVideo

__all__ = ["ClipConfig", "ClipDataset", "normalize_clip"]

Normalization = Literal["temporal", "standard", "none"]

# Redraws before a clip is accepted whatever its IPR (a video of only poor PPG must still load).
_MAX_REDRAWS = 10


@dataclass(frozen=True)
class ClipConfig:
    """Shape of the clips a model sees.

    Parameters
    ----------
    clip_frames
        ``T``: frames per clip (divisible by 4 for the models).
    fs_hz
        Frame rate of the clips; videos at another rate are re-timed to it.
    size
        ``H = W`` of the clips; crops of another size are area-resized.
    normalization
        See :func:`normalize_clip`.
    """

    clip_frames: int = 300
    fs_hz: float = 30.0
    size: int = 64
    normalization: Normalization = "temporal"

    def __post_init__(self) -> None:
        if not isinstance(self.clip_frames, int) or self.clip_frames < 8 or self.clip_frames % 4:
            raise ValueError(
                f"clip_frames: expected an int >= 8 divisible by 4, got {self.clip_frames!r}"
            )
        if not isinstance(self.size, int) or self.size < 16:
            raise ValueError(f"size: expected an int >= 16, got {self.size!r}")
        if not float(self.fs_hz) > 0:
            raise ValueError(f"fs_hz: expected a positive rate, got {self.fs_hz!r}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization: expected one of {NORMALIZATIONS}, got {self.normalization!r}"
            )

    @property
    def clip_s(self) -> float:
        return self.clip_frames / float(self.fs_hz)


def normalize_clip(clip: torch.Tensor, method: Normalization = "temporal") -> torch.Tensor:
    """Normalise a uint8-valued ``(C, T, H, W)`` or ``(N, C, T, H, W)`` clip for the models.

    The arithmetic is the runtime's :func:`rppg_sdk.extractors.model.normalize_frames` (one
    implementation: an exported model sees at run time exactly what it was trained on), applied
    to each clip; see there for the methods.
    """
    single = clip.ndim == 4
    if clip.ndim not in (4, 5):
        raise ValueError(f"clip: expected (C, T, H, W) or (N, C, T, H, W), got {tuple(clip.shape)}")
    batch = clip.detach().float().cpu().numpy()
    if single:
        batch = batch[None]
    out = torch.from_numpy(np.stack([normalize_frames(c, method) for c in batch]))
    out = out.to(clip.device)
    return out.squeeze(0) if single else out


def _zscore(x: torch.Tensor) -> torch.Tensor:
    s = x.std()
    return (x - x.mean()) / (s if float(s) > 0 else 1.0)


class ClipDataset(Dataset[dict[str, Any]]):
    """Clips of :class:`~training.data.preprocess.FaceVideo` recordings.

    Parameters
    ----------
    videos
        Preprocessed recordings (all with the same channel count).
    config
        Clip shape; see :class:`ClipConfig`.
    train
        Random clips with augmentation (True) or fixed windows (False).
    samples_per_epoch
        Number of random clips per epoch in training mode (default: one clip's worth of frames
        per ``clip_frames`` frames of video).
    stride_frames
        Window stride in evaluation mode (default: ``clip_frames``, no overlap).
    augment
        Augmentations in training mode (``None``: none, but the IPR redraw still applies with
        the default threshold when ``labelled``).
    labelled
        Use the PPG (redraws, labels). Unlabelled data (contrastive training) gives zeros for the
        PPG and NaN for ``bpm``.
    seed
        Base seed of the random clips.
    """

    def __init__(
        self,
        videos: Sequence[FaceVideo],
        config: ClipConfig,
        *,
        train: bool,
        samples_per_epoch: int | None = None,
        stride_frames: int | None = None,
        augment: AugmentConfig | None = None,
        labelled: bool = True,
        seed: int = 0,
    ) -> None:
        if not videos:
            raise ValueError("videos: expected at least one recording, got none")
        channels = {v.channels for v in videos}
        if len(channels) != 1:
            raise ValueError(f"videos: expected one channel count, got {sorted(channels)}")
        self.videos = list(videos)
        self.config = config
        self.train = bool(train)
        self.augment = augment or AugmentConfig()
        self.labelled = bool(labelled)
        self.seed = int(seed)
        self.epoch = 0
        self.channels = channels.pop()
        # Negatives: labelled videos rendered without a pulse (PPG all zeros, no heart rate).
        # Their clips are kept (not redrawn for a poor PPG) and flagged ``"pulse": False``.
        self._negative = [
            self.labelled
            and v.ppg.size > 0
            and not np.any(v.ppg)
            and (v.bpm.size == 0 or not np.isfinite(v.bpm).any())
            for v in self.videos
        ]
        # Source frames per output frame for each video (videos at another rate are re-timed).
        self._rate = [v.fps_hz / config.fs_hz for v in self.videos]
        lengths = np.array([v.n_frames for v in self.videos], dtype=np.float64)
        usable = lengths / np.array(self._rate) >= config.clip_frames * 0.5
        if self.train:
            if not usable.any():
                raise ValueError(
                    f"videos: expected at least one video of {config.clip_frames * 0.5:.0f} "
                    "clip frames or more, got only shorter ones"
                )
            # Weighted by duration, not frames: a 60 fps clip is not worth four 15 fps ones.
            durations = np.where(usable, lengths / np.array(self._rate), 0.0)
            self._weights = durations / durations.sum()
            default = int(lengths.sum() // config.clip_frames)
            self.samples_per_epoch = int(samples_per_epoch or max(1, default))
            self.windows: list[tuple[int, int]] = []
        else:
            stride = int(stride_frames or config.clip_frames)
            self.windows = []
            for vi, v in enumerate(self.videos):
                need = int(math.ceil(config.clip_frames * self._rate[vi]))
                for start in range(0, v.n_frames - need + 1, max(1, int(stride * self._rate[vi]))):
                    self.windows.append((vi, start))
            if not self.windows:
                raise ValueError(
                    f"videos: none is long enough for one clip of {config.clip_frames} frames"
                )
            self.samples_per_epoch = len(self.windows)

    def set_epoch(self, epoch: int) -> None:
        """Draw a new set of random clips (training mode); call once per epoch."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    # ------------------------------------------------------------------ items

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} clips")
        if not self.train:
            vi, start = self.windows[index]
            return self._make(vi, start, 1.0, None)
        rng = np.random.default_rng([self.seed, self.epoch, index])
        item: dict[str, Any] | None = None
        for _ in range(_MAX_REDRAWS):
            vi = int(rng.choice(len(self.videos), p=self._weights))
            bpm_guess = self._mean_bpm(vi)
            scale = plan_temporal_scale(bpm_guess, self.augment, rng)
            need = int(math.ceil(self.config.clip_frames * scale * self._rate[vi]))
            n = self.videos[vi].n_frames
            if need > n:
                scale = 1.0
                need = int(math.ceil(self.config.clip_frames * self._rate[vi]))
                if need > n:
                    continue
            start = int(rng.integers(0, n - need + 1))
            item = self._make(vi, start, scale, rng)
            if (
                not self.labelled
                or self._negative[vi]
                or not needs_redraw(item["ppg"], self.config.fs_hz, self.augment)
            ):
                break
        if item is None:
            raise RuntimeError("no video was long enough for a clip after several draws")
        return item

    def _mean_bpm(self, vi: int) -> float:
        b = self.videos[vi].bpm
        if not self.labelled or b.size == 0 or not np.isfinite(b).any():
            return math.nan
        return float(np.nanmean(b))

    def _make(
        self, vi: int, start: int, scale: float, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        cfg = self.config
        v = self.videos[vi]
        need = int(math.ceil(cfg.clip_frames * scale * self._rate[vi]))
        # A copy: cached frames are read-only memory maps.
        frames = torch.from_numpy(np.array(v.frames[start : start + need]))
        x = frames.permute(3, 0, 1, 2).float()  # (C, T', S, S)
        if x.shape[-1] != cfg.size or x.shape[-2] != cfg.size:
            x = F.interpolate(x, size=(cfg.size, cfg.size), mode="area")
        x = resample_video(x, cfg.clip_frames)
        x = normalize_clip(x, cfg.normalization)
        if (
            self.train
            and rng is not None
            and self.augment.cutout_p > 0
            and (rng.random() < self.augment.cutout_p)
        ):
            x = cutout_tubes(x, self.augment, rng)
        ppg = torch.zeros(cfg.clip_frames)
        bpm = math.nan
        if self.labelled and v.ppg.size:
            raw = torch.from_numpy(np.asarray(v.ppg[start : start + need], dtype=np.float64))
            if bool(torch.isfinite(raw).all()):
                ppg = _zscore(resample_ppg(raw, cfg.clip_frames)).float()
            else:
                ppg = torch.full((cfg.clip_frames,), math.nan)
        if self.labelled and v.bpm.size:
            seg = v.bpm[start : start + need]
            if np.isfinite(seg).any():
                bpm = float(np.nanmean(seg)) * scale
        if (
            self.labelled
            and math.isnan(bpm)
            and bool(torch.isfinite(ppg).all())
            and float(ppg.abs().sum()) > 0
        ):
            bpm = _bpm_from_ppg(ppg.numpy(), cfg.fs_hz)
        return {
            "video": x.contiguous(),
            "ppg": ppg,
            "bpm": torch.tensor(bpm, dtype=torch.float32),
            "video_index": vi,
            "pulse": not self._negative[vi],
            "start": start,
            "scale": scale,
        }


def _bpm_from_ppg(ppg: np.ndarray, fs_hz: float) -> float:
    """Heart rate of a ground-truth PPG with the SDK's spectral core (one implementation)."""
    from rppg_sdk.dsp import SpectralOptions, estimate_heart_rate

    try:
        return float(
            estimate_heart_rate(
                ppg.astype(np.float64), fs_hz, SpectralOptions(band_hz=(40 / 60, 250 / 60))
            ).bpm
        )
    except ValueError:
        return math.nan
