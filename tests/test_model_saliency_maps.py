"""`rppg-sdk measure --saliency DIR`: pulse maps a user can look at, showing where the reported
rhythm is."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from rppg_sdk.cli import main
from rppg_sdk.saliency import pulse_map
from rppg_sdk.synthetic import SyntheticClipSpec, render_to_file


def test_pulse_map_lights_up_where_the_pulse_is() -> None:
    rng = np.random.default_rng(0)
    fs, bpm, n = 30.0, 90.0, 300
    t = np.arange(n) / fs
    crops = np.full((n, 16, 16, 3), 120.0) + rng.normal(0, 0.6, (n, 16, 16, 3))
    wave = np.sin(2 * np.pi * bpm / 60 * t)[:, None, None]
    crops[:, :, :8, 1] *= 1 + 0.01 * wave  # left half pulses (green), right half is noise
    m = pulse_map(np.clip(crops, 0, 255).astype(np.uint8), fs, bpm)
    assert m.shape == (16, 16)
    assert m[:, :8].mean() > 0.5 > 0.2 > m[:, 8:].mean()
    with pytest.raises(ValueError, match="crops"):
        pulse_map(np.zeros((4, 8, 8, 3), np.uint8), fs, bpm)


def test_measure_writes_pulse_maps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = SyntheticClipSpec(
        duration_s=12.0,
        fps=30.0,
        frame_size=(320, 240),
        heart_rate_bpm=80.0,
        codec="h264",
        seed=2,
    )
    video = render_to_file(spec, tmp_path / "clip.mp4")
    out = tmp_path / "maps"
    rc = main(["measure", str(video), "--method", "pos", "--saliency", str(out), "--no-progress"])
    assert rc == 0
    files = sorted(out.glob("pulse_map_*.png"))
    assert files and f"{len(files)} pulse maps written" in capsys.readouterr().out
    img = cv2.imread(str(files[-1]))
    assert img is not None and img.shape[1] == 2 * img.shape[0]  # face | overlay
