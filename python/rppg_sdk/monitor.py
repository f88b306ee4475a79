"""``HeartRateMonitor``: camera frames in, heart-rate readings out.

A thin facade over the modules that do the work::

    frame, timestamp_s   (frames.validate_frame, frames.StreamClock)
      -> skin source (roi: FaceRoi tracks the face, FrameRoi takes the whole frame) -> crop
      -> pulse extractor (extractors: classical traces, or model chunks on their own thread)
      -> every update interval: PulseAnalyzer (analysis) -> HeartRateReading (reading)

Running modes (options.RunningMode): ``VIDEO`` processes each frame in the caller's thread and
returns the reading it produced; ``LIVE_STREAM`` queues frames to a worker (live.LiveWorker) and
hands readings to a callback.

Example
-------
>>> from rppg_sdk import HeartRateMonitor, MonitorOptions
>>> with HeartRateMonitor(MonitorOptions()) as monitor:       # doctest: +SKIP
...     for reading in monitor.process_video("face.mp4"):
...         print(reading.timestamp_s, reading.bpm, reading.confidence, reading.status)
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from rppg_sdk.analysis import PulseAnalyzer
from rppg_sdk.backends import Backend, BackendName, load_backend
from rppg_sdk.extractors import Method, ModelExtractor, PulseExtractor, make_extractor
from rppg_sdk.frames import StreamClock, validate_frame
from rppg_sdk.live import LiveWorker
from rppg_sdk.options import DEFAULT_METHOD, MonitorOptions, RunningMode, is_backend
from rppg_sdk.reading import HeartRateReading, ReadingStatus
from rppg_sdk.roi import FaceRoi, FrameRoi, SkinRoi, SkinSource
from rppg_sdk.video import VideoReader

__all__ = [
    "DEFAULT_METHOD",
    "HeartRateMonitor",
    "HeartRateReading",
    "Method",
    "MonitorOptions",
    "ReadingStatus",
    "RunningMode",
    "SkinRoi",
]

_log = logging.getLogger(__name__)


class _Pipeline:
    """One stream's frame work: skin -> extractor -> analysis -> published reading.

    Runs on the caller's thread (VIDEO) or the live worker (LIVE_STREAM). It holds no reference
    to the monitor, so a live monitor dropped without ``close()`` can still be collected.
    """

    def __init__(self, o: MonitorOptions, roi: SkinSource, ext: PulseExtractor) -> None:
        self.o, self.roi, self.ext = o, roi, ext
        self.analyzer = PulseAnalyzer(
            o.band_hz, o.window_s, o.tracker, o.confidence, o.low_quality_confidence, o.waveform_s
        )
        self.lock = threading.Lock()
        self.generation = 0
        self.latest: HeartRateReading | None = None
        self.reset_stream()

    def reset_stream(self) -> None:
        self.generation += 1  # queued frames of the old stream become no-ops
        self.next_update_s: float | None = None
        self.face_since_s: float | None = None
        self.roi.reset()
        self.ext.reset()
        self.analyzer.reset()
        with self.lock:
            self.latest = None

    def handle(self, img: npt.NDArray[np.uint8], ts: float, gen: int) -> HeartRateReading | None:
        """Skin, extractor and (when due) a reading for one frame."""
        if gen != self.generation:
            return None
        o = self.o
        if self.next_update_s is None:
            self.next_update_s = ts + o.update_interval_s
        obs = self.roi.update(img)
        if obs is None:
            if self.face_since_s is not None:  # the face left: its history ends here
                self.face_since_s = None
                self.ext.reset()
                self.analyzer.reset()
        else:
            self.face_since_s = self.face_since_s if self.face_since_s is not None else ts
            self.ext.push(obs, ts)
        if ts + 1e-9 < self.next_update_s:
            return None
        self.next_update_s += o.update_interval_s * max(
            1, math.floor((ts - self.next_update_s) / o.update_interval_s) + 1
        )
        channels = self.roi.input_channels or int(img.shape[2])
        if obs is None:
            reading = HeartRateReading(
                ts, ReadingStatus.NO_FACE, method=self.ext.method_name, input_channels=channels
            )
        else:
            window = self.ext.pulse_window(ts, o.window_s, o.min_window_s)
            reading = self.analyzer.analyze(
                window, ts, obs.box_xywh, self.ext.method_name, channels
            )
        with self.lock:
            if gen != self.generation:
                return None
            self.latest = reading
        if o.callback is not None:
            o.callback(reading)
        return reading

    def close(self) -> None:
        self.ext.close()
        self.roi.close()


def _shutdown(worker: LiveWorker | None, pipe: _Pipeline, backend: Backend | None) -> None:
    def release() -> None:
        pipe.close()
        if backend is not None:
            backend.close()

    if worker is None:
        release()
    else:
        worker.stop(then=release)  # on the worker's own thread: after its current job


class HeartRateMonitor:
    """Heart rate from a stream of camera frames (see the module docs).

    Parameters
    ----------
    options
        See :class:`MonitorOptions`; or pass its fields as keyword arguments.

    Notes
    -----
    One thread at a time may feed frames: a second concurrent :meth:`process` /
    :meth:`process_async` raises ``RuntimeError``. In ``LIVE_STREAM`` the callback runs on the
    worker thread and may call :meth:`reset` and :meth:`close`; :meth:`flush` called there
    returns at once (the worker cannot wait for itself).
    """

    def __init__(self, options: MonitorOptions | None = None, **kwargs: Any) -> None:
        if options is not None and kwargs:
            raise TypeError("HeartRateMonitor: pass a MonitorOptions or keyword options, not both")
        o = MonitorOptions(**kwargs) if options is None else options
        if not isinstance(o, MonitorOptions):
            raise TypeError(f"options: expected MonitorOptions, got {type(o).__name__}")
        self.options = o
        self._closed = True
        backend: Backend | None = None
        owned: Backend | None = None
        roi: SkinSource | None = None
        try:
            crop = o.face.crop_size
            if o.method is Method.MODEL:
                if is_backend(o.backend):
                    backend = cast(Backend, o.backend)
                else:
                    assert o.model is not None
                    name = cast(BackendName, o.backend)
                    backend = owned = load_backend(
                        o.model, name, live=o.live, threads=o.model_threads
                    )
                crop = int(backend.spec.height)
            if o.skin_roi is SkinRoi.FRAME:
                roi = FrameRoi(crop)
            else:
                roi = FaceRoi(replace(o.face, crop_size=crop), SkinRoi(o.skin_roi))
            ext = make_extractor(
                o.method, backend=backend, band_hz=o.band_hz, window_s=o.window_s, fps=o.fps,
                box_scale=o.face.box_scale, chunk_frames=o.model_chunk_frames,
                overlap_frames=o.model_overlap_frames, live=o.live,
            )  # fmt: skip
        except BaseException:
            if roi is not None:
                roi.close()
            if owned is not None:
                owned.close()
            raise
        self._pipe = _Pipeline(o, roi, ext)
        self._worker = LiveWorker("rppg-monitor-frames") if o.live else None
        self._clock = StreamClock(o.fps)
        self._frame_shape: tuple[int, ...] | None = None
        self._call_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _shutdown, self._worker, self._pipe, owned)
        self._closed = False
        self.video_reader: VideoReader | None = None

    # ------------------------------------------------------------------ properties

    @property
    def method(self) -> str:
        """The pulse method in use (``"mono"`` once one-channel or grey frames arrived)."""
        return self._pipe.ext.method_name

    @property
    def latest_reading(self) -> HeartRateReading | None:
        """The newest reading of this stream (``None`` before the first)."""
        with self._pipe.lock:
            return self._pipe.latest

    @property
    def detector(self) -> str:
        """The face detector in use (``"mediapipe"``, ``"haar"``; ``"none"`` for whole frames)."""
        return self._pipe.roi.detector_name

    @property
    def dropped_frames(self) -> int:
        """Frames a live stream dropped because the worker was behind (0 in ``VIDEO``)."""
        return 0 if self._worker is None else self._worker.dropped

    # ------------------------------------------------------------------ frames in

    def process(
        self, frame: npt.NDArray[np.uint8], timestamp_s: float | None = None
    ) -> HeartRateReading | None:
        """``VIDEO`` mode: process one frame; return the reading it produced, if any.

        Parameters
        ----------
        frame
            BGR uint8 ``(H, W, 3)`` (OpenCV's order) or single-channel ``(H, W)`` /
            ``(H, W, 1)``; three equal channels (grey video) are measured as one.
        timestamp_s
            Capture time in seconds, strictly increasing; ``None``: ``index / options.fps``.

        Returns
        -------
        HeartRateReading or None
            The reading this frame completed (one per update interval), else ``None``.

        Raises
        ------
        TypeError
            Not a uint8 numpy array, or a timestamp that is not a number.
        ValueError
            Wrong shape or size, a timestamp not after the previous one or not in seconds
            (:meth:`reset` starts a new stream), or a monitor in ``LIVE_STREAM`` mode.
        RuntimeError
            Closed, or another thread is inside ``process`` at the same time.
        """
        self._check_mode(RunningMode.VIDEO, "process")
        with self._exclusive("process"):
            img, ts = self._accept(frame, timestamp_s)
            return self._pipe.handle(img, ts, self._pipe.generation)

    def process_async(self, frame: npt.NDArray[np.uint8], timestamp_s: float) -> None:
        """``LIVE_STREAM`` mode: queue one camera frame; readings go to ``options.callback``.

        Returns at once. The frame is copied (cameras reuse their buffers) and dropped when the
        worker is behind (:attr:`dropped_frames`). Raises as :meth:`process`, and re-raises
        (chained) an error a queued frame met on the worker.
        """
        self._check_mode(RunningMode.LIVE_STREAM, "process_async")
        if timestamp_s is None:
            raise ValueError("timestamp_s: a live stream needs each frame's capture time (s)")
        with self._exclusive("process_async"):
            self._raise_worker_error()
            img, ts = self._accept(frame, timestamp_s)
            assert self._worker is not None
            pipe, copy, gen = self._pipe, np.array(img, copy=True), self._pipe.generation

            def job() -> None:  # holds the pipeline, never the monitor
                pipe.handle(copy, ts, gen)

            if not self._worker.submit(job, drop_when_busy=True):
                n = self._worker.dropped
                if n == 1 or n % 100 == 0:
                    _log.warning("live stream: the worker is behind; %d frames dropped", n)

    def process_video(
        self,
        path: str | Path,
        *,
        max_frames: int | None = None,
        on_frame: Callable[[int], None] | None = None,
    ) -> Iterator[HeartRateReading]:
        """``VIDEO`` mode: measure a file, yielding every reading; no frame is dropped.

        Decoding runs on its own thread. Timestamps come from the file's frame rate. The monitor
        is :meth:`reset` first. ``on_frame`` is called with each frame's index (progress bars).

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Not a decodable video, or a monitor in ``LIVE_STREAM`` mode.
        """
        self._check_mode(RunningMode.VIDEO, "process_video")
        self.reset()
        with VideoReader(path, fallback_fps_hz=self.options.fps, max_frames=max_frames) as rd:
            self.video_reader = rd
            for i, (frame, ts) in enumerate(rd):
                reading = self.process(frame, ts)
                if on_frame is not None:
                    on_frame(i)
                if reading is not None:
                    yield reading

    # ------------------------------------------------------------------ control

    def flush(self) -> HeartRateReading | None:
        """Wait until every frame given so far is processed; return the newest reading.

        Returns at once when called from the live callback (the worker cannot wait for itself).
        Raises ``RuntimeError`` (chained) when a frame failed on the worker.
        """
        self._check_open()
        if self._worker is not None:
            if self._worker.on_worker_thread:
                return self.latest_reading
            self._worker.wait()
            self._raise_worker_error()
        if isinstance(self._pipe.ext, ModelExtractor):
            self._pipe.ext.wait()  # the chunks those frames made, inferred and stitched
        return self.latest_reading

    def reset(self) -> None:
        """Start a new stream: forget frames, timestamps, the face and the tracked rate."""
        self._check_open()
        self._pipe.generation += 1  # frames still queued belong to the old stream
        if self._worker is not None:
            self._worker.wait()  # at once on the worker itself: the old frames are no-ops
        self._pipe.reset_stream()
        self._clock.reset()
        self._frame_shape = None

    def close(self) -> None:
        """Stop the worker, free the face tracker and the backend it made (idempotent)."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> HeartRateMonitor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers

    def _accept(self, frame: Any, timestamp_s: float | None) -> tuple[npt.NDArray[np.uint8], float]:
        img = validate_frame(frame)
        if self._frame_shape is not None and img.shape != self._frame_shape:
            raise ValueError(
                f"frame: size changed from {self._frame_shape} to {img.shape} within one stream; "
                "call reset() before feeding frames of another size"
            )
        ts = self._clock.next(timestamp_s)
        self._frame_shape = img.shape
        return img, ts

    def _exclusive(self, name: str) -> _Held:
        if not self._call_lock.acquire(blocking=False):
            raise RuntimeError(
                f"{name}: another thread is feeding this monitor at the same time; feed one "
                "stream from one thread (or use one monitor per thread)"
            )
        return _Held(self._call_lock)

    def _check_mode(self, mode: RunningMode, name: str) -> None:
        self._check_open()
        if self.options.running_mode is not mode:
            right = (
                "process_async(frame, timestamp_s)"
                if mode is RunningMode.VIDEO
                else ("process(frame, timestamp_s) or process_video(path)")
            )
            raise ValueError(
                f"{name}: this monitor runs in {self.options.running_mode!s} mode; use {right} "
                f"(or MonitorOptions(running_mode={mode!s}) for {name})"
            )

    def _raise_worker_error(self) -> None:
        err = None if self._worker is None else self._worker.take_error()
        if err is not None:
            raise RuntimeError(f"heart-rate worker failed: {err}") from err

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("HeartRateMonitor is closed")


class _Held:
    """Releases an already acquired lock on exit (``with``)."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
