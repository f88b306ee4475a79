"""training.augment: DA1 tubes, DA2 / stretch re-timing with scaled labels, IPR redraw, and the
contrastive frequency resampler."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from training.augment import (  # noqa: E402
    AugmentConfig,
    cutout_tubes,
    frequency_resample,
    needs_redraw,
    plan_temporal_scale,
    resample_ppg,
    resample_video,
)
from training.data import ClipConfig, ClipDataset, FaceVideo  # noqa: E402

FPS = 30.0


def _dominant_bpm(x: np.ndarray, fs: float = FPS) -> float:
    spec = np.abs(np.fft.rfft(x - x.mean(), n=8192))
    return float(np.fft.rfftfreq(8192, 1 / fs)[np.argmax(spec)] * 60)


def test_cutout_tubes_stay_within_the_papers_limits() -> None:
    cfg = AugmentConfig(
        cutout_p=1.0, cutout_max_tubes=1, cutout_max_area=0.2, cutout_max_length=0.2
    )
    clip = torch.ones(3, 100, 40, 40)
    for seed in range(20):
        out = cutout_tubes(clip, cfg, np.random.default_rng(seed))
        erased = out[0] == 0
        assert erased.any()
        frames = erased.any(dim=(1, 2))
        assert frames.sum() <= 20  # at most 20 % of the length
        per_frame = erased.sum(dim=(1, 2)).max()
        assert per_frame <= 0.2 * 40 * 40 * 1.1  # at most ~20 % of the area (rounding)
        assert torch.equal(erased, out[2] == 0)  # all channels erased together
    assert float(clip.min()) == 1.0  # the input is untouched


def test_da2_halves_fast_and_doubles_slow_heart_rates() -> None:
    cfg = AugmentConfig(da2_p=1.0)
    rng = np.random.default_rng(0)
    assert plan_temporal_scale(120.0, cfg, rng) == 0.5
    assert plan_temporal_scale(55.0, cfg, rng) == 2.0
    assert plan_temporal_scale(80.0, cfg, rng) == 1.0
    assert plan_temporal_scale(math.nan, cfg, rng) == 1.0  # no label, no DA2
    stretch = AugmentConfig(stretch_p=1.0)
    scales = [plan_temporal_scale(80.0, stretch, rng) for _ in range(200)]
    assert min(scales) >= 2 / 3 - 1e-9 and max(scales) <= 1.0 and np.std(scales) > 0.05


def test_retimed_ppg_moves_to_the_scaled_heart_rate() -> None:
    t = np.arange(600) / FPS
    ppg = torch.from_numpy(np.sin(2 * np.pi * 1.0 * t))  # 60 bpm
    # DA2 sub-sampling: 600 source samples into 300 -> 120 bpm at the same rate.
    fast = resample_ppg(ppg, 300).numpy()
    assert _dominant_bpm(fast) == pytest.approx(120.0, abs=3.0)
    video = ppg.reshape(1, -1, 1, 1).expand(3, -1, 4, 4).float()
    slow = resample_video(video[:, :150], 300)[0, :, 0, 0].numpy()  # stretch x2 -> 30 bpm
    assert _dominant_bpm(slow) == pytest.approx(30.0, abs=3.0)


def _video(bpm: float, n: int = 400) -> FaceVideo:
    t = np.arange(n) / FPS
    ppg = np.sin(2 * np.pi * bpm / 60 * t)
    frames = 120 * (1 + 0.02 * ppg[:, None, None, None]) * np.ones((n, 16, 16, 3))
    return FaceVideo(
        frames.astype(np.uint8), t, ppg, np.full(n, bpm), FPS, "s", "v", "x", np.ones(n, bool)
    )


def test_dataset_scales_labels_with_da2() -> None:
    ds = ClipDataset(
        [_video(120.0)],
        ClipConfig(96, FPS, 16),
        train=True,
        samples_per_epoch=4,
        augment=AugmentConfig(da2_p=1.0),
    )
    item = ds[0]
    assert item["scale"] == 0.5
    assert float(item["bpm"]) == pytest.approx(60.0)
    assert _dominant_bpm(item["ppg"].numpy()) == pytest.approx(60.0, abs=6.0)


def test_redraw_rejects_out_of_band_ground_truth() -> None:
    t = torch.arange(300) / FPS
    cfg = AugmentConfig(ipr_max=0.6)
    assert not needs_redraw(torch.sin(2 * math.pi * 1.2 * t), FPS, cfg)
    assert needs_redraw(torch.sin(2 * math.pi * 0.2 * t), FPS, cfg)  # 12 "bpm": drift
    assert needs_redraw(torch.zeros(300), FPS, cfg)  # a flat (missing) signal
    assert needs_redraw(torch.full((300,), math.nan), FPS, cfg)


def test_frequency_resample_raises_the_heart_rate() -> None:
    t = np.arange(320) / FPS
    wave = torch.from_numpy(np.sin(2 * np.pi * 1.0 * t)).float()
    clip = wave.reshape(1, 1, -1, 1, 1).expand(2, 3, -1, 4, 4)
    neg = frequency_resample(clip, 0.7)
    assert neg.shape[2] % 4 == 0 and neg.shape[2] == 224
    assert _dominant_bpm(neg[0, 0, :, 0, 0].numpy()) == pytest.approx(60 / 0.7, abs=3.0)
    back = resample_ppg(neg[:, 0, :, 0, 0], 320)
    assert _dominant_bpm(back[0].numpy()) == pytest.approx(60.0, abs=3.0)


def test_augment_config_validates() -> None:
    with pytest.raises(ValueError, match="cutout_p"):
        AugmentConfig(cutout_p=1.5)
    with pytest.raises(ValueError, match="da2_low_bpm"):
        AugmentConfig(da2_low_bpm=100.0, da2_high_bpm=90.0)
    with pytest.raises(ValueError, match="N, C, T, H, W"):
        frequency_resample(torch.zeros(3, 8, 4, 4), 0.7)
