"""Head motion at a rate inside the heart-rate band is measured and named in the evidence."""

from __future__ import annotations

import cv2
import numpy as np
from rppg_sdk import HeartRateMonitor, MonitorOptions

FPS = 30.0


def _frames(seconds: float, motion_hz: float, pulse_hz: float | None, seed: int = 0):
    """A textured skin-coloured patch that slides periodically (a nodding head seen close up);
    optionally with a weak pulse in its colour."""
    rng = np.random.default_rng(seed)
    # Colour that varies across the patch (skin, brows, shadows): sliding it changes the mean
    # colour's hue, which POS cannot cancel as it cancels a brightness change.
    base = np.stack(
        [cv2.GaussianBlur(rng.uniform(60, 200, (160, 160)).astype(np.float32), (0, 0), 2.5)
         for _ in range(3)], axis=2)  # fmt: skip
    tint = np.array([0.7, 0.85, 1.1], np.float32)
    for k in range(int(seconds * FPS)):
        t = k / FPS
        dy = 6.0 * np.sin(2 * np.pi * motion_hz * t)
        m = np.float32([[1, 0, 0], [0, 1, dy]])
        img = cv2.warpAffine(base, m, (160, 160), borderMode=cv2.BORDER_REFLECT)
        frame = img * tint
        if pulse_hz is not None:
            frame *= 1 - 0.004 * np.sin(2 * np.pi * pulse_hz * t) * np.array([0.6, 1.0, 0.4])
        frame += rng.normal(0, 1.0, frame.shape)
        yield np.clip(frame, 0, 255).astype(np.uint8), t


def _readings(motion_hz: float, pulse_hz: float | None):
    with HeartRateMonitor(MonitorOptions(method="pos", skin_roi="frame")) as m:
        return [r for f, t in _frames(14.0, motion_hz, pulse_hz) if (r := m.process(f, t))
                and r.bpm is not None and r.window_s >= 9.5]  # fmt: skip


def test_a_reading_at_the_nodding_rate_names_the_motion_and_is_not_trusted() -> None:
    readings = _readings(motion_hz=1.3, pulse_hz=None)
    assert readings
    at_motion = [r for r in readings if abs(r.bpm - 78.0) < 3.0]
    assert at_motion, [round(r.bpm) for r in readings]  # the premise: the motion is read
    assert all(r.evidence is not None and r.evidence.motion_share > 0.5 for r in at_motion)
    assert all(r.confidence < 0.6 for r in at_motion), [round(r.confidence, 2) for r in at_motion]


def test_a_pulse_away_from_the_motion_rate_has_little_motion_share() -> None:
    readings = _readings(motion_hz=0.4, pulse_hz=1.5)
    assert readings
    assert all(abs(r.bpm - 90.0) < 3.0 for r in readings), [round(r.bpm) for r in readings]
    assert all(r.evidence is not None and r.evidence.motion_share < 0.3 for r in readings)
