"""Checks on what a camera hands over: frames (shape, type, grey), and their timestamps."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FRAME_DTYPES", "LevelScale", "StreamClock", "is_grey", "to_uint8", "validate_frame"]

UInt8Array = npt.NDArray[np.uint8]
Float32Array = npt.NDArray[np.float32]

#: Frame dtypes the monitor takes: 8-bit frames (one or three channels), and one-channel frames
#: of deeper sensors (10-16 bits, as near-infrared driver-monitoring cameras deliver them).
FRAME_DTYPES: tuple[str, ...] = ("uint8", "uint16")

# Bit depths a uint16 frame's values are taken to fill; the stream's depth only grows.
_BIT_DEPTHS = (8, 10, 12, 14, 16)

# Grey video decoded to three channels: compression leaves the channels within a level or two of
# each other (chroma subsampling, rounding), so "equal" allows this much and this share of pixels.
_GREY_TOLERANCE = 3
# A constant offset between the channels of a grey frame larger than this is a real tint.
_GREY_MAX_OFFSET = 8
_GREY_SHARE = 0.98
# Intervals a stream needs before its timestamps' unit is judged, and the range of a camera's
# median frame interval in seconds (1000 fps .. 1 fps).
_UNIT_CHECK_INTERVALS = 5
_MIN_INTERVAL_S = 1e-3
_MAX_INTERVAL_S = 1.0


def validate_frame(frame: Any) -> npt.NDArray[Any]:
    """Check a camera frame and return it as ``(H, W, C)`` with ``C`` 1 or 3, dtype kept.

    Accepts BGR ``(H, W, 3)`` and single-channel ``(H, W)`` / ``(H, W, 1)`` ``uint8`` arrays,
    and single-channel ``uint16`` arrays (10-16-bit sensors, e.g. 940 nm near-infrared
    driver-monitoring cameras; the values' bit depth is judged per stream, see
    :class:`LevelScale`).

    Raises
    ------
    TypeError
        Not a numpy array, a dtype other than ``uint8`` / ``uint16``, or ``uint16`` with
        three channels.
    ValueError
        Wrong number of dimensions or channels, or an empty frame.
    """
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame: expected a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8 and frame.dtype != np.uint16:
        raise TypeError(
            "frame: expected dtype uint8 (8-bit camera frame) or uint16 (one-channel 10-16-bit "
            f"sensor data), got {frame.dtype}"
        )
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3):
        raise ValueError(
            f"frame: expected shape (H, W, 3) BGR or (H, W) / (H, W, 1) gray, got {frame.shape}"
        )
    if frame.dtype == np.uint16 and frame.shape[2] != 1:
        raise TypeError(
            "frame: expected dtype uint8 for colour (H, W, 3) frames (uint16 is taken with one "
            f"channel only, (H, W) or (H, W, 1)), got uint16 with shape {frame.shape}"
        )
    if frame.shape[0] < 8 or frame.shape[1] < 8:
        raise ValueError(
            f"frame: expected at least 8x8 pixels, got {frame.shape[1]}x{frame.shape[0]}"
        )
    return frame  # type: ignore[no-any-return]


class LevelScale:
    """One stream's bit depth, and its frames in 8-bit units.

    A ``uint16`` frame carries 10, 12, 14 or 16 bits (or 8 in a wide container); which is not
    written in the array. The depth is judged from the values: the smallest of 8, 10, 12, 14
    and 16 bits that holds the brightest pixel seen so far in the stream. It only grows, so a
    dim first frame can raise it later once: :meth:`update` says when it did (a step in the
    skin trace that the caller should treat as one). Frames in 8-bit units (``value * 255 /
    (2**bits - 1)``) keep the levels the rest of the SDK reasons in (a dark face, 255 for full
    scale) while float32 keeps the 16-bit precision a weak near-infrared pulse needs.
    """

    def __init__(self) -> None:
        self.bits = 8

    @property
    def full_scale(self) -> int:
        """The largest value of the current depth, ``2**bits - 1``."""
        return (1 << self.bits) - 1

    def reset(self) -> None:
        """Start a new stream (the depth is judged again)."""
        self.bits = 8

    def update(self, frame: npt.NDArray[Any]) -> bool:
        """Take one frame's brightest value into the depth; whether the depth grew (always
        False for ``uint8`` frames)."""
        if frame.dtype == np.uint8:
            return False
        peak = int(frame.max())
        if peak <= self.full_scale:
            return False
        grown = self.bits
        for bits in _BIT_DEPTHS:
            if peak < (1 << bits):
                grown = bits
                break
        changed = grown != self.bits
        self.bits = grown
        return changed

    def units(self, image: npt.NDArray[Any]) -> Float32Array:
        """``image`` in 8-bit units as float32 (``uint8`` is only converted)."""
        if image.dtype == np.uint8:
            return image.astype(np.float32)
        return np.multiply(image, np.float32(255.0 / self.full_scale), dtype=np.float32)

    def to_uint8(self, image: npt.NDArray[Any]) -> UInt8Array:
        """``image`` rounded to 8 bits (``uint8`` is returned as it is): what face detectors
        and models take."""
        return to_uint8(image, self.full_scale)


def to_uint8(image: npt.NDArray[Any], full_scale: float = 255.0) -> UInt8Array:
    """An image as ``uint8``: ``uint8`` unchanged; deeper or float images scaled by
    ``255 / full_scale``, rounded and clipped."""
    if image.dtype == np.uint8:
        return image
    scaled = np.multiply(image, np.float32(255.0 / float(full_scale)), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


def is_grey(image: npt.NDArray[Any]) -> bool:
    """Whether an ``(H, W, C)`` image carries no colour.

    One channel is grey. Three channels are grey when, on at least 98 % of the pixels, each
    channel lies within 3 grey levels of the others after removing a constant offset per
    channel: how OpenCV decodes grey (near-infrared) video. Compression leaves the channels
    near-equal, and H.264's limited-range chroma leaves a constant tint of a few levels (a
    decoded grey frame had B - G = 3 and R - G = 2 on every pixel). A colour picture's channel
    differences vary from pixel to pixel (skin, hair, background), so no offset makes them equal.
    """
    if image.ndim != 3:
        raise ValueError(f"image: expected (H, W, C), got {image.shape}")
    if image.shape[2] == 1:
        return True
    x = image.astype(np.int16)
    diffs = x[:, :, 1:] - x[:, :, :1]  # each channel against the first
    offsets = np.median(diffs.reshape(-1, diffs.shape[2]), axis=0)
    if np.any(np.abs(offsets) > _GREY_MAX_OFFSET):
        return False
    spread = np.abs(diffs - offsets).max(axis=2)
    return bool(np.mean(spread <= _GREY_TOLERANCE) >= _GREY_SHARE)


class StreamClock:
    """The timestamps and frame size of one stream, and its one feeder.

    Parameters
    ----------
    fps
        Rate assumed for frames given without a timestamp (``index / fps``).

    Notes
    -----
    :meth:`next` checks and records a timestamp in one step under a lock, so two threads cannot
    both pass the check with out-of-order times; :meth:`feeding` rejects a second thread.
    """

    def __init__(self, fps: float) -> None:
        self.fps = float(fps)
        self._lock = threading.Lock()
        self._feeder = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start a new stream (any first timestamp and frame size are accepted)."""
        with self._lock:
            self.last_s: float | None = None
            self.frames = 0
            self.frame_shape: tuple[int, ...] | None = None
            self.frame_dtype: np.dtype[Any] | None = None
            self._intervals: list[float] = []

    @contextlib.contextmanager
    def feeding(self, name: str) -> Iterator[None]:
        """Hold the stream for one call of ``name``; ``RuntimeError`` when another thread does."""
        if not self._feeder.acquire(blocking=False):
            raise RuntimeError(
                f"{name}: another thread is feeding this monitor at the same time; feed one "
                "stream from one thread (or use one monitor per thread)"
            )
        try:
            yield
        finally:
            self._feeder.release()

    def admit(self, frame: Any, timestamp_s: float | None) -> tuple[npt.NDArray[Any], float]:
        """Check a frame (:func:`validate_frame`, same size and dtype as the stream's first) and its
        timestamp (:meth:`next`); return both as the stream takes them."""
        img = validate_frame(frame)
        if self.frame_shape is not None and img.shape != self.frame_shape:
            raise ValueError(
                f"frame: size changed from {self.frame_shape} to {img.shape} within one stream; "
                "call reset() before feeding frames of another size"
            )
        if self.frame_dtype is not None and img.dtype != self.frame_dtype:
            raise TypeError(
                f"frame: dtype changed from {self.frame_dtype} to {img.dtype} within one stream; "
                "call reset() before feeding frames of another bit depth"
            )
        ts = self.next(timestamp_s)
        self.frame_shape = img.shape
        self.frame_dtype = img.dtype
        return img, ts

    def next(self, timestamp_s: float | None) -> float:
        """Check the next frame's timestamp, record it and return it in seconds.

        Raises
        ------
        TypeError
            A timestamp that is not a number.
        ValueError
            Not finite, not after the previous one, or (after 5 frame intervals) a median
            interval outside 1 ms .. 1 s: timestamps in milliseconds or nanoseconds by mistake.
        """
        if timestamp_s is not None and (
            isinstance(timestamp_s, bool)
            or not isinstance(timestamp_s, int | float | np.integer | np.floating)
        ):
            raise TypeError(
                "timestamp_s: expected seconds as a number or None, got "
                f"{type(timestamp_s).__name__}"
            )
        with self._lock:
            last = self.last_s
            if timestamp_s is None:
                ts = self.frames / self.fps
                if last is not None and ts <= last:
                    ts = last + 1.0 / self.fps
            else:
                ts = float(timestamp_s)
                if not math.isfinite(ts):
                    raise ValueError(f"timestamp_s: expected a finite number, got {timestamp_s}")
                if last is not None and ts <= last:
                    what = "repeated" if ts == last else "earlier than the previous one"
                    raise ValueError(
                        f"timestamp_s: expected times that increase, got {ts} after {last} "
                        f"({what}); call reset() to start a new stream"
                    )
            if last is not None and len(self._intervals) < _UNIT_CHECK_INTERVALS:
                intervals = [*self._intervals, ts - last]
                if len(intervals) == _UNIT_CHECK_INTERVALS:
                    _check_unit(float(np.median(intervals)))
                self._intervals = intervals
            self.last_s = ts
            self.frames += 1
            return ts


def _check_unit(median_interval_s: float) -> None:
    if _MIN_INTERVAL_S <= median_interval_s <= _MAX_INTERVAL_S:
        return
    if median_interval_s < _MIN_INTERVAL_S:
        guess = "another unit (minutes? frame indices scaled?)"
    elif median_interval_s <= 1e3:
        guess = "milliseconds"
    elif median_interval_s <= 1e6:
        guess = "microseconds"
    else:
        guess = "nanoseconds"
    raise ValueError(
        f"timestamp_s: frames arrive {median_interval_s:.6g} s apart (median of the first "
        f"{_UNIT_CHECK_INTERVALS} intervals), outside a camera's 1 ms .. 1 s; timestamps must "
        f"be in seconds: are they in {guess}? Call reset() and pass seconds"
    )
