"""The time-series buffer the extractors keep their samples in.

``rppg_sdk.dsp.TimeSeriesBuffer`` (C++) when this build has it; until then the same API over
the frame ring buffer, rows stored as ``(1, 1, C)`` float32 frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp

__all__ = ["series_buffer"]

FloatArray = npt.NDArray[np.float64]


class _FrameRingSeries:
    def __init__(self, capacity: int, channels: int) -> None:
        self.channels = int(channels)
        self._buf = dsp.FrameRingBuffer(int(capacity), (1, 1, self.channels), np.float32)

    @property
    def capacity(self) -> int:
        return int(self._buf.capacity)

    @property
    def size(self) -> int:
        return int(self._buf.size)

    def __len__(self) -> int:
        return self.size

    @property
    def last_timestamp_s(self) -> float | None:
        return self._buf.last_timestamp_s

    def push(self, values: npt.ArrayLike, timestamp_s: float) -> None:
        row = np.asarray(values, dtype=np.float32).reshape(1, 1, self.channels)
        self._buf.push(row, float(timestamp_s))

    def window(self, n: int | None = None) -> tuple[FloatArray, FloatArray]:
        size = self._buf.size
        k = size if n is None else min(int(n), size)
        if k == 0:
            return np.zeros((0, self.channels)), np.zeros(0)
        v, t = self._buf.window(k)
        return v.reshape(k, self.channels).astype(np.float64), np.asarray(t, dtype=np.float64)

    def since(self, start_s: float) -> tuple[FloatArray, FloatArray]:
        v, t = self.window()
        keep = t >= start_s
        return v[keep], t[keep]

    def clear(self) -> None:
        self._buf.clear()


def series_buffer(capacity: int, channels: int) -> Any:
    """A ``TimeSeriesBuffer(capacity, channels)``."""
    cls = getattr(dsp, "TimeSeriesBuffer", None)
    if cls is None:
        return _FrameRingSeries(capacity, channels)
    return cls(int(capacity), int(channels))
