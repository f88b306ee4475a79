"""Learned pulse models: chunk scheduling, input normalisation and stitching of chunk outputs.

A model sees a chunk of ``T`` face crops at its training frame rate and returns ``T`` pulse
samples. Running it on the whole window at every update would infer each frame ten times (10 s
window, 1 s updates): instead, chunks of ``chunk_frames`` overlap by ``overlap_frames``, so each
frame is inferred ``chunk / (chunk - overlap)`` times (1.33 at the defaults). The overlapped
samples are context only: they fix the sign and place of the new chunk against the old one (a
model trained with a spectral loss may return the pulse upside down from chunk to chunk) and are
not written twice.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp
from rppg_sdk.backends.base import NORMALIZATIONS, Backend

__all__ = [
    "NORMALIZATIONS",
    "ChunkJob",
    "ChunkStitcher",
    "ModelChunker",
    "normalize_chunk",
    "normalize_frames",
]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]


def normalize_frames(x: npt.NDArray[np.generic], method: str = "temporal") -> Float32Array:
    """Normalise one clip ``(C, T, H, W)`` for a model: the one implementation, used by the
    runtime (:func:`normalize_chunk`) and by training (``training.data.clips.normalize_clip``),
    so a model always sees at run time exactly what it was trained on.

    ``"temporal"``
        Each pixel's relative change about its own mean over the clip, ``x / (mean_t(x) + 1) -
        1`` (+1 grey level keeps black padding from dividing by zero), divided by the clip's
        sample standard deviation of that (``+ 1e-4``). The pulse is a relative change of the
        skin's colour (0.3-1 %): this puts it on a scale a network sees and removes the face's
        appearance, which carries no pulse.
    ``"standard"``
        Per-channel z-score over the clip (sample std ``+ 1e-3``; keeps the appearance).
    ``"none"``
        ``x / 255``.
    """
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(
            f"clip: expected a (C, T, H, W) array, got {getattr(x, 'shape', type(x))}"
        )
    xf: Float32Array = np.asarray(x, dtype=np.float32)
    if method == "none":
        out = xf / np.float32(255.0)
    elif method == "standard":
        mean = xf.mean(axis=(1, 2, 3), keepdims=True)
        std = xf.std(axis=(1, 2, 3), keepdims=True, ddof=1)
        out = (xf - mean) / (std + np.float32(1e-3))
    elif method == "temporal":
        mean = xf.mean(axis=1, keepdims=True) + np.float32(1.0)
        rel = xf / mean - np.float32(1.0)
        std = rel.std(ddof=1) if rel.size > 1 else np.float32(0.0)
        out = rel / (np.float32(std) + np.float32(1e-4))
    else:
        raise ValueError(f"method: expected one of {NORMALIZATIONS}, got {method!r}")
    result: Float32Array = out.astype(np.float32, copy=False)
    return result


def normalize_chunk(frames: npt.NDArray[np.generic], method: str = "temporal") -> Float32Array:
    """Normalise face crops ``(T, H, W, C)`` into a model input ``(1, C, T, H, W)`` float32
    (see :func:`normalize_frames`)."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4:
        raise ValueError(
            f"frames: expected a (T, H, W, C) array, got {getattr(frames, 'shape', type(frames))}"
        )
    x = np.ascontiguousarray(frames.transpose(3, 0, 1, 2), dtype=np.float32)  # (C, T, H, W)
    return normalize_frames(x, method)[None]


@dataclass(frozen=True)
class ChunkJob:
    """One chunk ready for inference: model input and the times of its samples."""

    times_s: FloatArray
    chunk: Float32Array


class ChunkStitcher:
    """Joins overlapping chunk outputs into one pulse waveform, kept in a C++ ring buffer.

    Parameters
    ----------
    capacity
        Samples kept (the analysis window at the model's rate, plus margin).
    """

    def __init__(self, capacity: int) -> None:
        self._buf = dsp.FrameRingBuffer(int(capacity), (1, 1, 1), np.float32)
        self._lock = threading.Lock()

    def add(self, times_s: FloatArray, wave: npt.ArrayLike) -> int:
        """Add one chunk's output; returns the number of new samples stored."""
        w = np.asarray(wave, dtype=np.float64).reshape(-1)
        t = np.asarray(times_s, dtype=np.float64).reshape(-1)
        if w.shape != t.shape:
            raise ValueError(
                f"wave: expected {t.shape[0]} samples to match times_s, got {w.shape[0]}"
            )
        sd = float(np.std(w))
        # Each chunk on a common scale: models give an arbitrary scale per chunk.
        w = (w - float(np.mean(w))) / (sd if sd > 0 else 1.0)
        with self._lock:
            last = self._buf.last_timestamp_s
            if last is not None:
                old_n = int(np.count_nonzero(t <= last))
                if old_n >= 4 and self._buf.size >= old_n:
                    prev, prev_t = self._buf.window(min(self._buf.size, old_n))
                    prev_v = prev.reshape(-1).astype(np.float64)
                    cur = np.interp(prev_t, t, w)
                    if float(np.dot(prev_v - prev_v.mean(), cur - cur.mean())) < 0.0:
                        w = -w
                keep = t > last
                t, w = t[keep], w[keep]
            for ti, wi in zip(t, w, strict=True):
                self._buf.push(np.array([[[wi]]], dtype=np.float32), float(ti))
            return int(t.shape[0])

    def window(self, start_s: float) -> tuple[FloatArray, FloatArray]:
        """Stitched samples at or after ``start_s``: ``(times_s, values)``."""
        with self._lock:
            if self._buf.size == 0:
                return np.zeros(0), np.zeros(0)
            v, t = self._buf.window(self._buf.size)
        keep = t >= start_s
        return t[keep], v.reshape(-1).astype(np.float64)[keep]

    def clear(self) -> None:
        with self._lock:
            self._buf.clear()


class ModelChunker:
    """Collects face crops and cuts them into overlapping, resampled, normalised model chunks.

    Parameters
    ----------
    backend
        The model runtime; only its ``spec`` is read here.
    chunk_frames, overlap_frames
        Chunk length ``T`` and overlap, in model frames (rounded to the model's multiple).
    crop_shape
        ``(S, S, C)`` of the face crops that will be pushed.
    camera_fps_hint
        Expected camera rate, to size the crop buffer.
    """

    def __init__(
        self,
        backend: Backend,
        chunk_frames: int,
        overlap_frames: int,
        crop_shape: tuple[int, int, int],
        camera_fps_hint: float = 30.0,
    ) -> None:
        spec = backend.spec
        m = max(1, int(spec.frames_multiple_of))
        length = max(m, int(round(chunk_frames / m)) * m)
        length = min(max(length, spec.min_frames), spec.max_frames)
        if length % m:
            raise ValueError(
                f"model_chunk_frames: no chunk length near {chunk_frames} suits the model "
                f"(T in [{spec.min_frames}, {spec.max_frames}], multiple of {m})"
            )
        if not 0 <= overlap_frames < length:
            raise ValueError(
                f"model_overlap_frames: expected 0 <= overlap < chunk ({length}), "
                f"got {overlap_frames}"
            )
        if crop_shape[2] != spec.channels:
            raise ValueError(
                f"frames: the model {spec.name!r} expects {spec.channels} channel(s), the camera "
                f"gives {crop_shape[2]}; use a {crop_shape[2]}-channel model or a classical method"
            )
        self.spec = spec
        self.chunk_frames = length
        self.overlap_frames = int(overlap_frames)
        self.fs_hz = float(spec.fps_hz)
        ratio = max(1.0, float(camera_fps_hint) / self.fs_hz)
        capacity = int(math.ceil(length * ratio * 1.5)) + 8
        self._crops = dsp.FrameRingBuffer(capacity, crop_shape, np.uint8)
        self._next_end_s: float | None = None
        self._first_s: float | None = None

    def reset(self) -> None:
        self._crops.clear()
        self._next_end_s = None
        self._first_s = None

    def push(self, crop: npt.NDArray[np.uint8], timestamp_s: float) -> bool:
        """Store one crop; return whether a chunk is due (then call :meth:`make_job`)."""
        self._crops.push(crop, timestamp_s)
        if self._first_s is None:
            self._first_s = timestamp_s
            self._next_end_s = timestamp_s + (self.chunk_frames - 1) / self.fs_hz
        assert self._next_end_s is not None
        if timestamp_s + 1e-9 < self._next_end_s:
            return False
        self._next_end_s = timestamp_s + (self.chunk_frames - self.overlap_frames) / self.fs_hz
        return True

    def make_job(self, end_s: float) -> ChunkJob | None:
        """The chunk ending at the crop taken at ``end_s``, resampled and normalised.

        May run on another thread than :meth:`push` (the crop buffer is thread-safe); returns
        ``None`` when the crops were cleared meanwhile or a gap left too few of them.
        """
        try:
            frames, times = self._crops.window(self._crops.size)
        except ValueError:  # cleared by the pushing thread between size and window
            return None
        keep = times <= end_s + 1e-9
        frames, times = frames[keep], times[keep]
        if times.size < 2:
            return None
        span_start = times[-1] - (self.chunk_frames - 1) / self.fs_hz - 1.5 / self.fs_hz
        first = max(0, int(np.searchsorted(times, span_start)) - 1)
        frames, times = frames[first:], times[first:]
        if frames.shape[0] < 2:
            return None
        n, h, w, c = frames.shape
        uni = dsp.resample_uniform(times, frames.reshape(n, -1).astype(np.float64), self.fs_hz)
        if uni.values.shape[0] < self.chunk_frames:
            return None  # a gap ate the chunk: wait for the next
        vals = uni.values[-self.chunk_frames :].reshape(self.chunk_frames, h, w, c)
        t = uni.timestamps_s[-self.chunk_frames :]
        s = self.spec
        if (h, w) != (s.height, s.width):
            vals = np.stack(
                [
                    cv2.resize(f, (s.width, s.height), interpolation=cv2.INTER_AREA)
                    for f in vals.astype(np.float32)
                ]
            ).reshape(self.chunk_frames, s.height, s.width, c)
        if c == 3 and s.channel_order == "RGB":
            vals = vals[..., ::-1]
        return ChunkJob(times_s=t, chunk=normalize_chunk(vals, s.normalization))
