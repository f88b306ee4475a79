"""Reading video files: frames with timestamps, decoded on a background thread.

Decoding (FFmpeg inside OpenCV, which releases the GIL) overlaps with processing: the reader
thread stays up to ``queue_frames`` frames ahead of the consumer, so measuring a file takes
about as long as decoding it when processing is faster than decoding.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["VideoInfo", "VideoReader", "probe_video"]

_END = object()


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says about itself.

    Attributes
    ----------
    path
        The file.
    fps_hz
        Container frame rate (``fallback_fps_hz`` when the container has none).
    frame_count
        Frames the container claims (may be 0 or approximate for some formats).
    width, height
        Frame size in pixels.
    """

    path: Path
    fps_hz: float
    frame_count: int
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps_hz if self.fps_hz > 0 else 0.0


def _open(path: str | Path) -> tuple[cv2.VideoCapture, Path]:
    if not isinstance(path, str | Path):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"video: {p} does not exist")
    if not p.is_file():
        raise ValueError(f"video: expected a file, {p} is a directory or special file")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise ValueError(f"video: OpenCV could not open {p} (not a video, or an unsupported codec)")
    return cap, p


def probe_video(path: str | Path, fallback_fps_hz: float = 30.0) -> VideoInfo:
    """Open ``path``, read its properties and close it.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a video OpenCV can open.
    """
    cap, p = _open(path)
    try:
        return _info(cap, p, fallback_fps_hz)
    finally:
        cap.release()


def _info(cap: cv2.VideoCapture, p: Path, fallback_fps_hz: float) -> VideoInfo:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or not 1.0 <= fps <= 1000.0:
        fps = float(fallback_fps_hz)
    return VideoInfo(
        path=p,
        fps_hz=fps,
        frame_count=max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)),
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
    )


class VideoReader:
    """Iterate ``(frame, timestamp_s)`` over a video file; decoding runs on its own thread.

    Timestamps are ``index / fps_hz`` from the container rate: per-frame positions reported by
    containers are often missing or rounded to milliseconds.

    Parameters
    ----------
    path
        Video file.
    fallback_fps_hz
        Rate used when the container gives none.
    queue_frames
        How far the decoder may run ahead (bounds memory).
    max_frames
        Stop after this many frames (``None``: the whole file).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a video OpenCV can decode (raised when the first frame cannot be read).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fallback_fps_hz: float = 30.0,
        queue_frames: int = 16,
        max_frames: int | None = None,
    ) -> None:
        self._cap, p = _open(path)
        self.info = _info(self._cap, p, fallback_fps_hz)
        self._max = max_frames
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, queue_frames))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.decode_seconds = 0.0
        """Time the reader thread spent decoding (for throughput reports)."""
        self.frames_read = 0

    def __iter__(self) -> Iterator[tuple[npt.NDArray[np.uint8], float]]:
        if self._thread is not None:
            raise RuntimeError("VideoReader: iterate only once")
        self._thread = threading.Thread(target=self._run, name="rppg-video-decode", daemon=True)
        self._thread.start()
        index = 0
        while True:
            item = self._queue.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            frame = item
            assert isinstance(frame, np.ndarray)
            yield frame, index / self.info.fps_hz
            index += 1
        if index == 0:
            raise ValueError(f"video: no frame of {self.info.path} could be decoded")

    def _run(self) -> None:
        import time  # noqa: PLC0415

        try:
            n = 0
            while not self._stop.is_set() and (self._max is None or n < self._max):
                t0 = time.perf_counter()
                ok, frame = self._cap.read()
                self.decode_seconds += time.perf_counter() - t0
                if not ok or frame is None:
                    break
                n += 1
                self.frames_read = n
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except Exception as exc:  # noqa: BLE001  (handed to the consumer)
            self._put_final(exc)
            return
        self._put_final(_END)

    def _put_final(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Stop decoding and release the file (idempotent).

        The decode thread is joined first: releasing the capture under a ``read()`` in progress
        frees FFmpeg's state beneath it. The thread sees the stop flag between frames.
        """
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
