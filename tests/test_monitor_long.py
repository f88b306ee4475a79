"""A long run: 20 minutes of 30 fps frames through one monitor, memory stays flat."""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
from rppg_sdk.monitor import HeartRateMonitor, MonitorOptions, ReadingStatus
from skimage import data

FPS = 30.0
MINUTES = 20


def _rss_bytes() -> int:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@pytest.mark.slow  # a soak (36,000 frames): opt-in with `-m slow`, as README says
def test_twenty_minutes_with_flat_memory() -> None:
    face = cv2.cvtColor(cv2.resize(data.astronaut(), (160, 120)), cv2.COLOR_RGB2BGR)
    rng = np.random.default_rng(0)
    # A small set of noisy frames, cycled: the monitor's cost does not depend on content.
    frames = [
        np.clip(face + rng.normal(0, 2, face.shape), 0, 255).astype(np.uint8) for _ in range(61)
    ]
    n = int(MINUTES * 60 * FPS)
    statuses: dict[ReadingStatus, int] = {}
    t0 = time.perf_counter()
    with HeartRateMonitor(MonitorOptions()) as m:
        tracemalloc.start()
        py_mid = rss_mid = 0
        for i in range(n):
            r = m.process(frames[i % len(frames)], i / FPS)
            if i == n // 4:  # after every buffer filled and every cache warmed
                gc.collect()
                py_mid, rss_mid = tracemalloc.get_traced_memory()[0], _rss_bytes()
            if r is not None and i % 30 == 0:
                statuses[r.status] = statuses.get(r.status, 0) + 1
        gc.collect()
        py_end, rss_end = tracemalloc.get_traced_memory()[0], _rss_bytes()
        tracemalloc.stop()
    took = time.perf_counter() - t0
    print(
        f"{n} frames ({MINUTES} min at 30 fps, 160x120) in {took:.1f} s; Python heap "
        f"{py_mid / 1e6:.2f} -> {py_end / 1e6:.2f} MB, RSS {rss_mid / 1e6:.1f} -> "
        f"{rss_end / 1e6:.1f} MB; statuses {statuses}"
    )
    assert sum(statuses.values()) > 1000  # readings kept coming the whole time
    # Flat: the last three quarters of the run may not grow the Python heap by more than 1 MB
    # (a leak of one small object per frame would be ~2.7 MB) or the process by more than 20 MB.
    assert py_end - py_mid < 1_000_000
    if rss_mid:
        assert rss_end - rss_mid < 20_000_000
