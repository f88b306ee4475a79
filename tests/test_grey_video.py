"""Grey (near-infrared) video stored as three channels goes down the one-channel path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.frames import is_grey


def test_grey_with_a_constant_channel_offset_is_grey() -> None:
    """H.264's limited-range chroma decodes grey as B = G + 3, R = G + 2, clipped at 0/255."""
    rng = np.random.default_rng(0)
    g = rng.integers(0, 256, (72, 72)).astype(np.int16)
    bgr = np.clip(np.stack([g + 3, g, g + 2], axis=2), 0, 255).astype(np.uint8)
    assert is_grey(bgr)


def test_colour_with_similar_channels_is_not_grey() -> None:
    rng = np.random.default_rng(1)
    g = rng.integers(40, 200, (72, 72)).astype(np.int16)
    # A skin-like picture: red and blue follow green with pixel-dependent differences.
    bgr = np.stack(
        [g - 20 + rng.integers(-8, 9, g.shape), g, g + 30 + rng.integers(-8, 9, g.shape)], 2
    )
    assert not is_grey(np.clip(bgr, 0, 255).astype(np.uint8))
    # A strong uniform tint is a colour camera, not grey.
    assert not is_grey(np.clip(np.stack([g, g, g + 40], axis=2), 0, 255).astype(np.uint8))


def test_h264_grey_near_infrared_file_reads_as_one_channel(tmp_path: Path) -> None:
    require_module("av", extra="demo")
    from rppg_sdk.synthetic import SyntheticClipSpec, clip_truth, render_to_file

    spec = SyntheticClipSpec(
        duration_s=9.0, fps=30.0, frame_size=(320, 240), heart_rate_bpm=66.0,
        near_infrared=True, grey_channels=3, codec="h264", bitrate_kbps=3000,
        pulse_amplitude=0.02, seed=3,
    )  # fmt: skip
    path = render_to_file(spec, tmp_path / "nir.mp4")
    with HeartRateMonitor(MonitorOptions(method="pos", min_window_s=6.0)) as m:
        readings = [r for r in m.process_video(path) if r.bpm is not None]
    assert readings
    assert all(r.method == "mono" and r.input_channels == 1 for r in readings)
    truth = clip_truth(spec).mean_bpm(0.0, spec.duration_s)
    assert abs(readings[-1].bpm - truth) < 5.0, (readings[-1].bpm, truth)


@pytest.mark.parametrize("channels", [1, 3])
def test_grey_arrays_pushed_by_hand_report_one_channel(channels: int) -> None:
    rng = np.random.default_rng(2)
    with HeartRateMonitor(MonitorOptions(skin_roi="frame", min_window_s=4.0)) as m:
        out = None
        for k in range(150):
            v = 120 + 2 * np.sin(2 * np.pi * 1.2 * k / 30) + rng.normal(0, 0.5, (40, 40))
            frame = np.clip(v, 0, 255).astype(np.uint8)
            frame = frame if channels == 1 else np.repeat(frame[:, :, None], 3, axis=2)
            out = m.process(frame, k / 30) or out
    assert out is not None and out.input_channels == 1 and out.method == "mono"
    assert abs(out.bpm - 72.0) < 2.0
