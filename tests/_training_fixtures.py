"""Tiny face videos with a known pulse, shared by the training tests (not a test module)."""

from __future__ import annotations

import numpy as np

from training.data.preprocess import FaceVideo

FPS = 15.0  # low rate, short clips: fast, and still room for 40-250 bpm


def pulsing_video(i: int, bpm: float, n: int = 100, size: int = 16) -> FaceVideo:
    """A 'face' whose skin disc pulses along the blood-volume direction, in BGR."""
    rng = np.random.default_rng(i)
    t = np.arange(n) / FPS
    ppg = np.sin(2 * np.pi * bpm / 60 * t) + 0.3 * np.sin(4 * np.pi * bpm / 60 * t + 1.0)
    base = rng.uniform(90, 170, size=(1, size, size, 3))
    yy, xx = np.mgrid[:size, :size]
    skin = (((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size / 3) ** 2)[None, :, :, None]
    bgr = np.array([0.53, 0.77, 0.33])
    frames = base * (1 + 0.01 * skin * ppg[:, None, None, None] * bgr)
    frames = frames + rng.normal(0, 0.4, frames.shape)
    return FaceVideo(
        np.clip(frames, 0, 255).astype(np.uint8),
        t,
        ppg,
        np.full(n, bpm),
        FPS,
        f"s{i}",
        f"v{i}",
        "fixture",
        np.ones(n, bool),
    )


def unlabelled(video: FaceVideo) -> FaceVideo:
    """The same video without its PPG and heart rate."""
    v = video
    return FaceVideo(
        v.frames,
        v.timestamps_s,
        np.zeros(0),
        np.zeros(0),
        v.fps_hz,
        v.subject_id,
        v.video_id,
        "x",
        v.face_found,
    )


VIDEOS = [pulsing_video(i, 55.0 + 11.0 * i) for i in range(10)]

#: Options of ``python -m training.train`` for a tiny, fast run on these videos.
TINY_ARGS = [
    "--model",
    "physnet",
    "--model-kwargs",
    "{width: 0.125}",
    "--clip-frames",
    "32",
    "--fps",
    "15",
    "--size",
    "16",
    "--batch-size",
    "4",
    "--samples-per-epoch",
    "16",
    "--lr",
    "3e-3",
    "--epochs",
    "3",
    "--no-progress",
    "--deterministic",
    "--seed",
    "1",
]
