"""``HeartRateMonitor``: camera frames in, heart-rate readings out; a facade that wires::

    frame, timestamp_s  -> frames (validate_frame, StreamClock)
      -> roi (FaceRoi: tracked face | FrameRoi: whole frame) -> SkinObservation
      -> extractors (classical traces | model chunks on their own thread) -> PulseWindow
      -> every update interval: analysis.PulseAnalyzer -> reading.HeartRateReading

``RunningMode.VIDEO`` processes each frame on the caller's thread and returns the reading it
produced; ``LIVE_STREAM`` queues frames to a ``live.LiveWorker`` and hands readings to a callback.

>>> with HeartRateMonitor(MonitorOptions()) as monitor:       # doctest: +SKIP
...     for reading in monitor.process_video("face.mp4"):
...         print(reading.timestamp_s, reading.bpm, reading.confidence, reading.status)
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk.events import MonitorEvent  # dms
from rppg_sdk.extractors import Method, ModelExtractor
from rppg_sdk.face_box import Box, check_face_box  # dms
from rppg_sdk.frames import StreamClock
from rppg_sdk.live import LiveWorker
from rppg_sdk.options import DEFAULT_METHOD, MonitorOptions, RunningMode
from rppg_sdk.pipeline import build_pipeline, shutdown
from rppg_sdk.reading import HeartRateReading, ReadingStatus
from rppg_sdk.roi import SkinRoi
from rppg_sdk.video import VideoReader

__all__ = ["DEFAULT_METHOD", "HeartRateMonitor", "HeartRateReading", "Method"]
__all__ += ["MonitorOptions", "ReadingStatus", "RunningMode", "SkinRoi"]

_log = logging.getLogger(__name__)


class HeartRateMonitor:
    """Heart rate from a stream of camera frames (see the module docs).

    ``HeartRateMonitor(MonitorOptions(...))`` or ``HeartRateMonitor(**fields)``. One thread at a
    time may feed frames (a concurrent call raises ``RuntimeError``). A ``LIVE_STREAM`` callback
    runs on the worker and may call :meth:`reset` and :meth:`close`; :meth:`flush` called there
    returns at once (the worker cannot wait for itself).
    """

    def __init__(self, options: MonitorOptions | None = None, **kwargs: Any) -> None:
        if options is not None and kwargs:
            raise TypeError("HeartRateMonitor: pass a MonitorOptions or keyword options, not both")
        o = MonitorOptions(**kwargs) if options is None else options
        if not isinstance(o, MonitorOptions):
            raise TypeError(f"options: expected MonitorOptions, got {type(o).__name__}")
        self.options, self._closed = o, True
        self._pipe, owned = build_pipeline(o)
        self._worker = LiveWorker("rppg-monitor-frames") if o.live else None
        self._clock = StreamClock(o.fps)
        self._finalizer = weakref.finalize(self, shutdown, self._worker, self._pipe, owned)
        self._closed = False
        self.video_reader: VideoReader | None = None

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

    # --- nir: alternating illuminator -------------------------------------------------------
    @property
    def dark_frames_dropped(self) -> int:
        """Illuminator-off frames left out before the skin was measured
        (``MonitorOptions.drop_dark_frames``; :mod:`rppg_sdk.illuminator`), over the monitor's
        life."""
        return self._pipe.dark_frames.dropped

    def process(
        self,
        frame: npt.NDArray[np.uint8],
        timestamp_s: float | None = None,
        face_box_xywh: Sequence[float] | None = None,
    ) -> HeartRateReading | None:
        """``RunningMode.VIDEO``: process one frame (none is ever dropped).

        Parameters
        ----------
        frame
            BGR uint8 ``(H, W, 3)`` or one channel ``(H, W)`` / ``(H, W, 1)``, uint8 or
            uint16 (10-16-bit near-infrared sensors); three equal channels (grey video) are
            measured as one.
        timestamp_s
            Capture time in seconds, strictly increasing; ``None``: ``index / options.fps``.
        face_box_xywh
            Driver monitoring: the face's box ``(x, y, w, h)`` in frame pixels from the
            caller's own tracker (brow to chin, as a detector gives it; clipped to the frame).
            No detection runs for this frame. ``None``: the SDK's tracker finds the face, or,
            with ``face_source="caller"``, this frame has no face (:mod:`rppg_sdk.face_box`).

        Returns
        -------
        HeartRateReading or None
            The reading this frame produced (one per update interval), else ``None``: only
            *new* readings, never one returned before.

        Raises
        ------
        TypeError
            A frame or timestamp of the wrong type.
        ValueError
            Wrong shape or size; a timestamp not after the previous one, or not in seconds
            (:meth:`reset` starts a new stream); a ``LIVE_STREAM`` monitor; a face box that is
            empty, not finite or outside the frame, or given with ``skin_roi="frame"``.
        RuntimeError
            Closed, or fed from two threads at once.
        """
        self._check_mode(RunningMode.VIDEO, "process")
        with self._clock.feeding("process"):
            box = self._face_box(face_box_xywh, frame)
            img, ts = self._clock.admit(frame, timestamp_s)
            return self._pipe.handle(img, ts, self._pipe.generation, box)

    def process_async(
        self,
        frame: npt.NDArray[np.uint8],
        timestamp_s: float,
        face_box_xywh: Sequence[float] | None = None,
    ) -> None:
        """``RunningMode.LIVE_STREAM``: queue a copy of one frame and return at once.

        Readings go to ``options.callback`` on the worker thread. Frames are dropped while the
        worker is behind (:attr:`dropped_frames`).

        Raises
        ------
        TypeError, ValueError, RuntimeError
            As :meth:`process` (``timestamp_s`` is required; ``face_box_xywh`` likewise, checked
            here on the caller's thread); ``RuntimeError`` also re-raises (chained) an error a
            queued frame met on the worker.
        """
        self._check_mode(RunningMode.LIVE_STREAM, "process_async")
        if timestamp_s is None:
            raise ValueError("timestamp_s: a live stream needs each frame's capture time (s)")
        with self._clock.feeding("process_async"):
            self._raise_worker_error()
            box = self._face_box(face_box_xywh, frame)
            img, ts = self._clock.admit(frame, timestamp_s)
            assert self._worker is not None
            pipe, copy, gen = self._pipe, np.array(img, copy=True), self._pipe.generation

            def job() -> None:  # holds the pipeline, never the monitor
                pipe.handle(copy, ts, gen, box)

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
        """``RunningMode.VIDEO``: :meth:`reset`, then yield every reading of a video file.

        Parameters
        ----------
        path
            A file OpenCV decodes (on its own thread); timestamps come from its frame rate.
        max_frames
            Stop after this many frames.
        on_frame
            Called with each frame's index (progress bars).

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Not a decodable video, or a ``LIVE_STREAM`` monitor.
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

    # ---- dms: events and the caller's face boxes ---------------------------------------------
    def drain_events(self) -> list[MonitorEvent]:
        """Every event queued since the last drain, oldest first (:mod:`rppg_sdk.events`).

        The queue holds ``options.events.queue_size`` events; older ones are dropped when the
        caller does not drain (:attr:`dropped_events`)."""
        return self._pipe.events.drain()

    def events(self, timeout_s: float | None = 0.0) -> Iterator[MonitorEvent]:
        """Iterate over queued events, oldest first, removing them; when none is left wait up to
        ``timeout_s`` for more (0: stop at once; ``None``: until :meth:`close`). For a
        ``LIVE_STREAM`` consumer thread: ``for event in monitor.events(timeout_s=None)``."""
        return self._pipe.events.iterate(timeout_s)

    @property
    def dropped_events(self) -> int:
        """Events dropped from the full queue because nobody drained it."""
        return self._pipe.events.dropped

    def _face_box(self, box: object, frame: object) -> Box | None:
        if box is None:
            return None
        if self.options.skin_roi is SkinRoi.FRAME:
            raise ValueError(
                "face_box_xywh: skin_roi='frame' takes every whole frame as skin; a face box "
                "needs skin_roi='face' (the default)"
            )
        shape = getattr(frame, "shape", None)
        if shape is None or len(shape) < 2:
            return None  # the frame check names the problem
        return check_face_box(box, shape)

    def flush(self) -> HeartRateReading | None:
        """Wait until every frame given so far (and its model chunks) is processed; return the
        newest reading. At once from the live callback. ``RuntimeError`` (chained) when a frame
        failed on the worker."""
        self._check_open()
        if self._worker is not None:
            if self._worker.on_worker_thread:
                return self.latest_reading
            self._worker.wait()
            self._raise_worker_error()
        if isinstance(self._pipe.ext, ModelExtractor):
            self._pipe.ext.wait()
        return self.latest_reading

    def reset(self) -> None:
        """Start a new stream: forget frames, timestamps, the face and the tracked rate."""
        self._check_open()
        self._pipe.generation += 1  # frames still queued belong to the old stream
        if self._worker is not None:
            self._worker.wait()  # at once on the worker itself: the old frames are no-ops
        self._pipe.reset_stream()
        self._clock.reset()

    def close(self) -> None:
        """Stop the worker, free the face tracker and the backend it made (idempotent)."""
        self._closed = True
        self._pipe.events.close()  # dms: wake a waiting events() iterator
        self._finalizer()

    def __enter__(self) -> HeartRateMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_mode(self, mode: RunningMode, name: str) -> None:
        self._check_open()
        if self.options.running_mode is not mode:
            right = (
                "process_async(frame, timestamp_s)"
                if mode is RunningMode.VIDEO
                else "process(frame, timestamp_s) or process_video(path)"
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
