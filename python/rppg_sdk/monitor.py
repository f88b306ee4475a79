"""``HeartRateMonitor``: camera frames in, heart-rate readings out, in real time.

Orchestration only; the maths lives in the C++ core (:mod:`rppg_sdk.dsp`) and in the small
modules this one wires together::

    frame, timestamp_s
      -> FaceTracker (rppg_sdk.face)            stable enlarged box, crop
      -> classical: mean colour over the face   -> C++ ring buffer of traces
                    ellipse of the crop (SkinRoi)
         model:     crop                        -> C++ ring buffer of crops -> chunks -> backend
      -> every update interval, the newest window:
         resample_uniform -> extract_pulse / stitched model pulse   (C++)
         -> HeartRateTracker (rppg_sdk.tracking)  estimate_heart_rate, signal_quality (C++)
         -> ConfidenceModel (rppg_sdk.confidence) -> HeartRateReading

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
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp
from rppg_sdk.backends import Backend, BackendName, load_backend
from rppg_sdk.confidence import ConfidenceInputs, ConfidenceModel
from rppg_sdk.face import FaceObservation, FaceTracker, FaceTrackerOptions, validate_frame
from rppg_sdk.methods import Method, face_weights, pulse_from_traces, skin_means
from rppg_sdk.methods.model import ChunkStitcher, ModelChunker
from rppg_sdk.tracking import HeartRateTracker, TrackerOptions
from rppg_sdk.video import VideoReader

__all__ = [
    "HeartRateMonitor",
    "HeartRateReading",
    "MonitorOptions",
    "ReadingStatus",
    "SkinRoi",
]

_log = logging.getLogger(__name__)

Float32Array = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.float64]

# Highest camera rate the trace buffer is sized for; faster cameras get a shorter window.
_MAX_CAMERA_FPS = 120.0
# Jobs a live worker may hold before new ones are dropped (about 1.5 s of frames; chunks): a
# machine slower than real time loses frames (gaps, resampled) rather than memory and latency.
_MAX_PENDING_JOBS = 45

#: The classical method used when none is named: most accurate on the real face clip and the
#: semi-synthetic conditions (README, "Methods compared").
DEFAULT_METHOD = Method.POS


class ReadingStatus(str, Enum):
    """What a reading can be trusted for."""

    WARMING_UP = "warming_up"
    """Less than ``min_window_s`` of face data since the start or since the face came back."""
    OK = "ok"
    """A heart rate with confidence at or above ``low_quality_confidence``."""
    LOW_QUALITY = "low_quality"
    """A heart rate with low confidence: no clear pulse in the window (motion, no skin...)."""
    NO_FACE = "no_face"
    """No face on the newest frame."""


@dataclass(frozen=True)
class HeartRateReading:
    """One heart-rate reading, issued every update interval.

    Attributes
    ----------
    timestamp_s
        Time of the newest frame the reading covers.
    status
        See :class:`ReadingStatus`.
    bpm
        Heart rate in beats per minute (tracked and smoothed); ``None`` while warming up or
        without a face.
    confidence
        0..1; below 0.3 means "no reliable pulse". See :mod:`rppg_sdk.confidence` for what a
        value means in expected error.
    snr_db
        Spectral SNR of the pulse at ``bpm``.
    irrelevant_power_ratio
        Share of the pulse's power outside the heart-rate band.
    face_box_xywh
        The stable face box ``(x, y, w, h)`` in frame pixels, ``None`` without a face.
    waveform
        The recent pulse (band-passed, float32, newest sample last; ``waveform_fs_hz``).
    waveform_fs_hz
        Sample rate of ``waveform``.
    raw_bpm
        This window's whole-band spectral peak before tracking (diagnostics).
    method
        The pulse method actually used (``"mono"`` on one-channel cameras).
    window_s
        Seconds of data the reading is based on.
    window_end_s
        Time of the newest sample in that data: ``timestamp_s`` for classical methods; for
        models up to one chunk hop earlier (the newest frames are still being inferred).
    """

    timestamp_s: float
    status: ReadingStatus
    bpm: float | None = None
    confidence: float = 0.0
    snr_db: float | None = None
    irrelevant_power_ratio: float | None = None
    face_box_xywh: tuple[int, int, int, int] | None = None
    waveform: Float32Array = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)
    waveform_fs_hz: float = 0.0
    raw_bpm: float | None = None
    method: str = ""
    window_s: float = 0.0
    window_end_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain types for CSV / JSON (no waveform)."""
        return {
            "timestamp_s": round(self.timestamp_s, 4),
            "status": self.status.value,
            "bpm": None if self.bpm is None else round(self.bpm, 2),
            "confidence": round(self.confidence, 3),
            "snr_db": None if self.snr_db is None else round(self.snr_db, 2),
            "irrelevant_power_ratio": (
                None
                if self.irrelevant_power_ratio is None
                else round(self.irrelevant_power_ratio, 3)
            ),
            "raw_bpm": None if self.raw_bpm is None else round(self.raw_bpm, 2),
            "face_box_xywh": None if self.face_box_xywh is None else list(self.face_box_xywh),
            "method": self.method,
            "window_s": round(self.window_s, 2),
            "window_end_s": round(self.window_end_s, 4),
        }


class SkinRoi(str, Enum):
    """Which pixels of the face crop the classical methods average into one colour per frame."""

    FACE = "face"
    """An ellipse over the face inside the stable box (default; no face mesh runs).

    The face moves inside the stable box (the box moves only when the face leaves it), and the
    pixels crossing the ellipse's edge (hair, background) are a small share of its area. On
    synthetic nodding of 8-12 px at 320x240 this keeps POS within about 1 bpm, where the
    landmark mask errs by 5 bpm (``LANDMARKS``), and it is as accurate on still and real faces.
    """
    LANDMARKS = "landmarks"
    """The face tracker's forehead-and-cheek mask from face-mesh landmarks (mediapipe only;
    ``FACE`` without it). Purer skin, but the mesh runs only every few detections, so the mask
    lags a moving face, and being small, the hair and brows that move across its edges are a
    large share of it: a motion artefact at the nodding rate and its harmonics."""


def _default_face() -> FaceTrackerOptions:
    # Every 10th frame (3 Hz at 30 fps) keeps face tracking inside the real-time budget; the
    # stable box does not follow small motions anyway.
    return FaceTrackerOptions(detect_every_n_frames=10)


@dataclass(frozen=True)
class MonitorOptions:
    """How a :class:`HeartRateMonitor` works.

    Parameters
    ----------
    method
        ``"pos"`` (default), ``"chrom"``, ``"green"``, ``"mono"`` (one-channel cameras),
        ``"model"`` (then ``model`` names the model), or a bundled model's name (``"physnet"``,
        ``"autohr"``: short for ``method="model", model=<name>``). POS / CHROM / GREEN on
        one-channel frames fall back to ``"mono"`` (logged; ``HeartRateReading.method`` says so).
    model
        For ``method="model"``: an ``.onnx`` (or TensorRT ``.engine``) path, or a bundled model
        name (``"physnet"``, ``"autohr"``).
    backend
        ``"auto"``, ``"onnxruntime"``, ``"tensorrt"`` or a ready :class:`~rppg_sdk.backends.Backend`
        (which the monitor then uses but does not close).
    window_s
        Analysis window in seconds.
    update_interval_s
        A reading every this many seconds of stream time.
    min_window_s
        Face data needed before the first heart rate (shorter windows resolve less).
    band_hz
        Heart-rate band in Hz (0.7-4.0: 42-240 bpm).
    face
        Face-tracker options; the default detects on every 10th frame (3 Hz at 30 fps, within
        the real-time budget). For models the crop size is set to the model's input size; for
        models and ``skin_roi="face"`` no face mesh runs (``skin_regions`` is turned off).
    fps
        Frame rate assumed when ``process`` gets no timestamps (``timestamp = index / fps``).
    live
        Live mode: analysis and model inference run on a worker thread, ``process`` only tracks
        the face and queues work, and returns the newest finished reading.
    callback
        Called with every new reading (on the worker thread in live mode).
    low_quality_confidence
        Readings below this confidence get status ``LOW_QUALITY``.
    waveform_s
        Length of the pulse waveform attached to each reading.
    model_chunk_frames, model_overlap_frames
        Model chunks and their overlap, in model frames (each frame is inferred
        ``chunk / (chunk - overlap)`` times).
    model_threads
        ONNX Runtime threads (``None``: all cores, one left free in live mode).
    tracker
        Temporal tracking across windows.
    confidence
        Evidence -> confidence mapping.
    skin_roi
        Classical methods: the pixels averaged per frame, ``"face"`` (default, an ellipse over
        the face) or ``"landmarks"`` (the face mesh's forehead and cheeks); see
        :class:`SkinRoi`.
    """

    method: Method | str = DEFAULT_METHOD
    model: str | Path | None = None
    backend: BackendName | Backend = "auto"
    window_s: float = 10.0
    update_interval_s: float = 1.0
    min_window_s: float = 5.0
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ
    face: FaceTrackerOptions = field(default_factory=_default_face)
    fps: float = 30.0
    live: bool = False
    callback: Callable[[HeartRateReading], None] | None = None
    low_quality_confidence: float = 0.3
    waveform_s: float = 6.0
    model_chunk_frames: int = 128
    model_overlap_frames: int = 32
    model_threads: int | None = None
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    confidence: ConfidenceModel = field(default_factory=ConfidenceModel)
    skin_roi: SkinRoi | str = SkinRoi.FACE

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "skin_roi", SkinRoi(self.skin_roi))
        except ValueError:
            names = ", ".join(repr(r.value) for r in SkinRoi)
            raise ValueError(f"skin_roi: expected one of {names}, got {self.skin_roi!r}") from None
        if isinstance(self.method, str) and not isinstance(self.method, Method):
            from rppg_sdk.models import available_models  # noqa: PLC0415

            key = self.method.strip().lower()
            if key in available_models():
                if self.model is not None and str(self.model).lower() != key:
                    raise ValueError(
                        f"model: method={self.method!r} names a bundled model, but model="
                        f"{self.model!r} names another"
                    )
                object.__setattr__(self, "model", key)
                object.__setattr__(self, "method", Method.MODEL)
        try:
            object.__setattr__(self, "method", Method(self.method))
        except ValueError:
            from rppg_sdk.models import available_models  # noqa: PLC0415

            known = [m.value for m in Method] + available_models()
            names = ", ".join(repr(n) for n in known)
            raise ValueError(f"method: expected one of {names}, got {self.method!r}") from None
        if self.method is Method.MODEL and self.model is None and not _is_backend(self.backend):
            raise ValueError("model: method='model' needs a model path or bundled model name")
        for name in ("window_s", "update_interval_s", "min_window_s", "fps", "waveform_s"):
            v = getattr(self, name)
            if (
                not isinstance(v, int | float)
                or isinstance(v, bool)
                or not math.isfinite(v)
                or v <= 0
            ):
                raise ValueError(f"{name}: expected a positive number, got {v!r}")
        if self.min_window_s > self.window_s:
            raise ValueError(
                f"min_window_s: expected <= window_s ({self.window_s}), got {self.min_window_s}"
            )
        lo, hi = self.band_hz
        if not 0 < lo < hi:
            raise ValueError(f"band_hz: expected 0 < low < high, got {self.band_hz}")
        if self.window_s * lo < 2.0:
            raise ValueError(
                f"window_s: {self.window_s} s holds fewer than two periods of the band's low "
                f"edge ({lo} Hz)"
            )
        if not isinstance(self.face, FaceTrackerOptions):
            raise TypeError(f"face: expected FaceTrackerOptions, got {type(self.face).__name__}")
        if not 0.0 <= self.low_quality_confidence <= 1.0:
            raise ValueError(
                f"low_quality_confidence: expected 0..1, got {self.low_quality_confidence}"
            )
        if self.callback is not None and not callable(self.callback):
            raise TypeError(f"callback: expected a callable, got {type(self.callback).__name__}")
        if not isinstance(self.backend, str) and not _is_backend(self.backend):
            raise TypeError(
                f"backend: expected 'auto', 'onnxruntime', 'tensorrt' or a Backend, got "
                f"{type(self.backend).__name__}"
            )


def _is_backend(x: object) -> bool:
    return hasattr(x, "infer") and hasattr(x, "spec") and hasattr(x, "close")


class _Worker:
    """One background thread running queued jobs in order."""

    def __init__(self, name: str) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                job()
            except BaseException as exc:  # noqa: BLE001  (re-raised on the caller's thread)
                _log.exception("rppg monitor worker job failed")
                if self.error is None:
                    self.error = exc
            finally:
                self._queue.task_done()

    def submit(self, job: Callable[[], None], *, drop_when_busy: bool) -> bool:
        if drop_when_busy and self._queue.qsize() >= _MAX_PENDING_JOBS:
            return False
        self._queue.put(job)
        return True

    def wait(self) -> None:
        self._queue.join()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10.0)


class HeartRateMonitor:
    """Heart rate from a stream of camera frames (see the module docs).

    Parameters
    ----------
    options
        See :class:`MonitorOptions`.

    Notes
    -----
    Call :meth:`process` from one thread. In live mode readings are computed on a worker
    thread; ``process`` returns the newest one finished.
    """

    # Per-stream state, (re)set by _stream_reset.
    _generation: int
    _frame_shape: tuple[int, ...] | None
    _first_ts: float | None
    _last_ts: float | None
    _next_update_ts: float | None
    _n_frames: int
    _traces: dsp.FrameRingBuffer | None
    _chunker: ModelChunker | None
    _stitcher: ChunkStitcher | None
    _method: str | None
    _weights: Float32Array | None
    _face_since_ts: float | None
    _latest: HeartRateReading | None
    _had_rate: bool

    def __init__(self, options: MonitorOptions | None = None, **kwargs: Any) -> None:
        """``HeartRateMonitor(MonitorOptions(...))`` or ``HeartRateMonitor(method="physnet", ...)``
        (keyword arguments are :class:`MonitorOptions` fields)."""
        if options is not None and kwargs:
            raise TypeError("HeartRateMonitor: pass a MonitorOptions or keyword options, not both")
        opts = MonitorOptions(**kwargs) if options is None else options
        if not isinstance(opts, MonitorOptions):
            raise TypeError(f"options: expected MonitorOptions, got {type(opts).__name__}")
        self.options = opts
        self._closed = True
        self._backend: Backend | None = None
        self._owns_backend = False
        face_opts = opts.face
        if opts.method is Method.MODEL:
            if _is_backend(opts.backend):
                self._backend = opts.backend  # type: ignore[assignment]
            else:
                assert opts.model is not None
                backend_name: BackendName = opts.backend  # type: ignore[assignment]
                self._backend = load_backend(opts.model, backend_name, live=opts.live)
                self._owns_backend = True
            spec = self._backend.spec  # type: ignore[union-attr]
            # The model's own crop size; landmarks are not used by models.
            face_opts = replace(face_opts, crop_size=int(spec.height), skin_regions=False)
        elif opts.skin_roi is SkinRoi.FACE:
            # The ellipse needs no landmarks: no face mesh to run.
            face_opts = replace(face_opts, skin_regions=False)
        self._face = FaceTracker(face_opts)
        self._spectral = dsp.SpectralOptions(band_hz=opts.band_hz)
        self._confidence = opts.confidence
        self._tracker = HeartRateTracker(opts.tracker)
        # Live mode: frames are handled on this worker (process() only queues them).
        self._worker: _Worker | None = _Worker("rppg-monitor-frames") if opts.live else None
        # Models: chunks are inferred on their own thread, beside face tracking.
        self._infer: _Worker | None = (
            _Worker("rppg-monitor-infer") if opts.method is Method.MODEL else None
        )
        self._lock = threading.Lock()
        self._closed = False
        self._dropped_jobs = 0
        self._new_readings: list[HeartRateReading] = []
        # Readings are collected for process_video only; process() callers read the latest.
        self._collect = False
        self.video_reader: VideoReader | None = None
        self._stream_reset()

    # ------------------------------------------------------------------ public API

    @property
    def method(self) -> str:
        """The pulse method in use (``"mono"`` once one-channel frames arrived for POS/CHROM)."""
        return self._method or Method(self.options.method).value

    @property
    def latest_reading(self) -> HeartRateReading | None:
        """The newest reading (``None`` before the first)."""
        with self._lock:
            return self._latest

    @property
    def detector(self) -> str:
        """The face detector in use (``"mediapipe"`` or ``"haar"``)."""
        return self._face.detector_name

    def process(
        self, frame: npt.NDArray[np.uint8], timestamp_s: float | None = None
    ) -> HeartRateReading | None:
        """Add one camera frame; return the newest reading.

        Parameters
        ----------
        frame
            BGR uint8 ``(H, W, 3)`` (OpenCV's order) or single-channel ``(H, W)`` /
            ``(H, W, 1)`` (near-infrared cameras).
        timestamp_s
            Capture time in seconds, strictly increasing; ``None``: ``index / options.fps``.

        Returns
        -------
        HeartRateReading or None
            The newest reading; ``None`` until the first heart rate (the first ``min_window_s``
            of face data) and before the first update after a start or :meth:`reset`.

        Raises
        ------
        TypeError
            Not a uint8 numpy array, or a timestamp that is not a number.
        ValueError
            Wrong shape, an empty frame, a frame size that differs from the first frame's, or a
            timestamp that is not finite or not after the previous one (:meth:`reset` starts a
            new stream).
        """
        self._check_open()
        img = validate_frame(frame)
        ts = self._timestamp(timestamp_s)
        if self._frame_shape is None:
            self._start_stream(img.shape)
        elif img.shape != self._frame_shape:
            raise ValueError(
                f"frame: size changed from {self._frame_shape} to {img.shape} within one stream; "
                "call reset() before feeding frames of another size"
            )
        self._last_ts = ts
        self._n_frames += 1
        if self.options.live:
            # Live: the caller's thread only checks and queues the frame (a copy: cameras reuse
            # their buffers); face tracking, analysis and inference run on the worker.
            assert self._worker is not None
            gen = self._generation
            copy = np.array(img, copy=True)
            if not self._worker.submit(
                lambda: self._handle_frame(copy, ts, gen), drop_when_busy=True
            ):
                self._note_dropped()
        else:
            self._handle_frame(img, ts, self._generation)
        return self._visible_latest()

    def _handle_frame(self, img: npt.NDArray[np.uint8], ts: float, gen: int) -> None:
        """Face tracking, traces and (when due) a reading for one frame."""
        if gen != self._generation:
            return
        if self._first_ts is None:
            self._first_ts = ts
            self._next_update_ts = ts + self.options.update_interval_s
        obs = self._face.update(img)
        self._ingest(obs, ts)
        assert self._next_update_ts is not None
        if ts + 1e-9 >= self._next_update_ts:
            self._next_update_ts += self.options.update_interval_s * max(
                1, math.floor((ts - self._next_update_ts) / self.options.update_interval_s) + 1
            )
            self._schedule_reading(obs, ts)

    def process_video(
        self,
        path: str | Path,
        *,
        max_frames: int | None = None,
        on_frame: Callable[[int], None] | None = None,
    ) -> Iterator[HeartRateReading]:
        """Measure a video file: yield a reading for every update interval.

        Decoding runs on its own thread, overlapping the face tracking and analysis here.
        Timestamps come from the file's frame rate. The monitor is :meth:`reset` first.

        Parameters
        ----------
        path
            Video file OpenCV can decode.
        max_frames
            Stop after this many frames.
        on_frame
            Called with the frame index after each frame (progress bars).

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Not a decodable video.
        """
        self._check_open()
        self.reset()
        self._collect = True
        try:
            with VideoReader(
                path, fallback_fps_hz=self.options.fps, max_frames=max_frames
            ) as reader:
                self.video_reader = reader
                for i, (frame, ts) in enumerate(reader):
                    self.process(frame, ts)
                    if on_frame is not None:
                        on_frame(i)
                    yield from self._drain_new()
            self._wait_all()
            self._raise_worker_error()
            yield from self._drain_new()
        finally:
            self._collect = False
            self._new_readings = []

    def flush(self) -> HeartRateReading | None:
        """Wait for queued work (live mode, model chunks) to finish; return the newest reading.

        Raises
        ------
        RuntimeError
            A job on the worker thread failed (the original error is chained).
        """
        self._check_open()
        self._wait_all()
        return self._visible_latest()

    def reset(self) -> None:
        """Start a new stream: forget frames, timestamps, the face and the tracked rate."""
        self._check_open()
        self._generation += 1  # queued jobs of the old stream become no-ops
        self._wait_all()
        self._raise_worker_error()
        self._face.reset()
        self._stream_reset()

    def close(self) -> None:
        """Stop the worker and free the face tracker and the backend it made (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for w in (self._worker, self._infer):
            if w is not None:
                w.stop()
        self._face.close()
        if self._backend is not None and self._owns_backend:
            self._backend.close()

    def __enter__(self) -> HeartRateMonitor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001  (never raise from a finaliser)
            pass

    # ------------------------------------------------------------------ stream state

    def _stream_reset(self) -> None:
        self._generation = getattr(self, "_generation", 0) + 1
        self._frame_shape = None
        self._first_ts = None
        self._last_ts = None
        self._next_update_ts = None
        self._n_frames = 0
        self._traces = None
        self._chunker = None
        self._stitcher = None
        self._method = None
        self._weights = None
        self._face_since_ts = None
        self._tracker.reset()
        with self._lock:
            self._latest = None
            self._had_rate = False
            self._new_readings = []

    def _start_stream(self, shape: tuple[int, ...]) -> None:
        self._frame_shape = shape
        channels = shape[2]
        m = Method(self.options.method)
        if m is Method.MODEL:
            self._method = "model"
            assert self._backend is not None
            crop = self._face.options.crop_size
            self._chunker = ModelChunker(
                self._backend,
                self.options.model_chunk_frames,
                self.options.model_overlap_frames,
                (crop, crop, channels),
                camera_fps_hint=self.options.fps,
            )
            fs = float(self._backend.spec.fps_hz)
            self._stitcher = ChunkStitcher(int(math.ceil((self.options.window_s + 30.0) * fs)))
            return
        if channels == 1 and m in (Method.POS, Method.CHROM, Method.GREEN):
            _log.warning(
                "one-channel (near-infrared/gray) frames: %s needs colour; using 'mono' (the "
                "channel's own relative change) instead",
                m.value,
            )
            self._method = "mono"
        elif channels == 3 and m is Method.MONO:
            _log.warning("colour frames with method 'mono': using 'green'")
            self._method = "green"
        else:
            self._method = m.value
        capacity = int(math.ceil((self.options.window_s + 2.0) * _MAX_CAMERA_FPS))
        # One row per frame: the mean of each channel over the skin, then 1.0 where the face
        # box was re-aligned on that frame (a step in the colour traces; used for confidence).
        self._traces = dsp.FrameRingBuffer(capacity, (1, 1, channels + 1), np.float32)

    def _timestamp(self, timestamp_s: float | None) -> float:
        if timestamp_s is None:
            ts = self._n_frames / self.options.fps
            if self._last_ts is not None and ts <= self._last_ts:
                ts = self._last_ts + 1.0 / self.options.fps
            return ts
        if isinstance(timestamp_s, bool) or not isinstance(
            timestamp_s, int | float | np.integer | np.floating
        ):
            raise TypeError(
                "timestamp_s: expected seconds as a number or None, got "
                f"{type(timestamp_s).__name__}"
            )
        ts = float(timestamp_s)
        if not math.isfinite(ts):
            raise ValueError(f"timestamp_s: expected a finite number, got {timestamp_s}")
        if self._last_ts is not None and ts <= self._last_ts:
            what = "repeated" if ts == self._last_ts else "earlier than the previous one"
            raise ValueError(
                f"timestamp_s: expected times that increase, got {ts} after {self._last_ts} "
                f"({what}); call reset() to start a new stream"
            )
        return ts

    def _ingest(self, obs: FaceObservation | None, ts: float) -> None:
        if obs is None:
            if self._face_since_ts is not None:
                # The face left: its colour history does not continue into the next face.
                self._face_since_ts = None
                self._clear_signal()
            return
        if self._face_since_ts is None:
            self._face_since_ts = ts
        if self._chunker is not None:
            if self._chunker.push(obs.crop, ts):
                self._submit_chunk(ts)
            return
        assert self._traces is not None
        weights = obs.skin_mask if self.options.skin_roi is SkinRoi.LANDMARKS else None
        if weights is None or float(weights.sum()) < 16.0:
            if self._weights is None or self._weights.shape[0] != obs.crop.shape[0]:
                self._weights = face_weights(obs.crop.shape[0], self._face.options.box_scale)
            weights = self._weights
        row = np.empty((1, 1, obs.crop.shape[2] + 1), np.float32)
        row[0, 0, :-1] = skin_means(obs.crop, weights)
        row[0, 0, -1] = 1.0 if obs.moved else 0.0
        self._traces.push(row, ts)

    def _clear_signal(self) -> None:
        # Buffers filled on this thread are cleared here; the stitched pulse and the tracker
        # belong to the worker (when there is one) and are cleared there, after the jobs queued
        # before (which the generation bump turns into no-ops). Live, everything already runs
        # on the worker, in order, and the frames queued behind this one must survive.
        if not self.options.live:
            self._generation += 1
        if self._traces is not None:
            self._traces.clear()
        if self._chunker is not None:
            self._chunker.reset()
        if self._infer is not None and not self.options.live:
            self._infer.submit(self._clear_worker_state, drop_when_busy=False)
        else:
            self._clear_worker_state()

    def _clear_worker_state(self) -> None:
        if self._stitcher is not None:
            self._stitcher.clear()
        self._tracker.reset()

    # ------------------------------------------------------------------ model chunks

    def _submit_chunk(self, end_s: float) -> None:
        assert self._infer is not None and self._backend is not None
        gen = self._generation
        backend, stitcher, chunker = self._backend, self._stitcher, self._chunker
        assert stitcher is not None and chunker is not None

        def run() -> None:
            # Cutting, resampling and normalising the chunk happens here too, off the caller's
            # thread: it costs milliseconds.
            if gen != self._generation:
                return
            job = chunker.make_job(end_s)
            if job is None or gen != self._generation:
                return
            wave = backend.infer(job.chunk)
            if gen == self._generation:
                stitcher.add(job.times_s, wave[0])

        if not self._infer.submit(run, drop_when_busy=self.options.live):
            self._note_dropped()

    def _note_dropped(self) -> None:
        self._dropped_jobs += 1
        if self._dropped_jobs == 1 or self._dropped_jobs % 100 == 0:
            _log.warning(
                "live mode: the worker is behind real time; %d jobs dropped so far (a faster "
                "backend or fewer overlapping frames would keep up)",
                self._dropped_jobs,
            )

    # ------------------------------------------------------------------ readings

    def _schedule_reading(self, obs: FaceObservation | None, ts: float) -> None:
        box = None if obs is None else obs.box_xywh
        if obs is None:
            self._publish(
                HeartRateReading(timestamp_s=ts, status=ReadingStatus.NO_FACE, method=self.method),
                self._generation,
            )
            return
        gen = self._generation
        if self.options.live:
            self._analyze(ts, box, gen)  # already on the worker
            return
        if self._infer is not None:
            self._infer.wait()  # file mode with a model: every chunk so far is stitched
            self._raise_worker_error()
        self._analyze(ts, box, gen)

    def _analyze(self, ts: float, box: tuple[int, int, int, int] | None, gen: int) -> None:
        if gen != self._generation:
            return
        if self._chunker is not None:
            times, pulse, fs, moves = self._model_pulse(ts)
        else:
            times, pulse, fs, moves = self._classical_pulse(ts)
        span = float(times[-1] - times[0]) if times.size >= 2 else 0.0
        if span + 1e-6 < self.options.min_window_s or pulse is None:
            reading = HeartRateReading(
                timestamp_s=ts,
                status=ReadingStatus.WARMING_UP,
                face_box_xywh=box,
                method=self.method,
                window_s=span,
                window_end_s=float(times[-1]) if times.size else ts,
            )
            self._publish(reading, gen)
            return
        est = self._tracker.update(pulse, fs, self._spectral)
        conf = self._confidence(
            ConfidenceInputs(
                snr_db=est.snr_db,
                irrelevant_power_ratio=est.irrelevant_power_ratio,
                face_fraction=1.0,
                box_moves=moves,
                window_fraction=span / self.options.window_s,
                edge_distance_bpm=min(
                    est.bpm - 60.0 * self.options.band_hz[0],
                    60.0 * self.options.band_hz[1] - est.bpm,
                ),
            )
        )
        wave = dsp.bandpass(pulse, fs, self.options.band_hz)
        n_wave = int(round(self.options.waveform_s * fs))
        status = (
            ReadingStatus.OK
            if conf >= self.options.low_quality_confidence
            else (ReadingStatus.LOW_QUALITY)
        )
        reading = HeartRateReading(
            timestamp_s=ts,
            status=status,
            bpm=est.bpm,
            confidence=conf,
            snr_db=est.snr_db,
            irrelevant_power_ratio=est.irrelevant_power_ratio,
            face_box_xywh=box,
            waveform=wave[-n_wave:].astype(np.float32),
            waveform_fs_hz=fs,
            raw_bpm=est.raw_bpm,
            method=self.method,
            window_s=span,
            window_end_s=float(times[-1]),
        )
        self._publish(reading, gen)

    def _classical_pulse(self, ts: float) -> tuple[FloatArray, FloatArray | None, float, int]:
        assert self._traces is not None and self._method is not None
        n = self._traces.size
        try:
            rows, times = self._traces.window(n) if n >= 2 else (None, None)
        except ValueError:  # cleared by the caller's thread meanwhile (live mode)
            rows, times = None, None
        if rows is None or times is None:
            return np.zeros(0), None, 0.0, 0
        keep = (times <= ts + 1e-9) & (times >= ts - self.options.window_s)
        rows, times = rows.reshape(n, -1)[keep].astype(np.float64), times[keep]
        if times.size < 2 or times[-1] - times[0] + 1e-6 < self.options.min_window_s:
            return times, None, 0.0, 0
        moves = int(np.count_nonzero(rows[1:, -1]))  # the first frame's placement is no step
        fs = self._analysis_rate(times)
        uni = dsp.resample_uniform(times, rows[:, :-1], fs)
        pulse = pulse_from_traces(uni.values, fs, self._method, self.options.band_hz)
        return times, pulse, fs, moves

    def _model_pulse(self, ts: float) -> tuple[FloatArray, FloatArray | None, float, int]:
        assert self._stitcher is not None and self._backend is not None
        # The stitched pulse ends where the newest inferred chunk ends (up to one chunk hop
        # before ``ts``): the window is the newest ``window_s`` of it.
        times, values = self._stitcher.window(-math.inf)
        keep = times <= ts + 1e-9
        times, values = times[keep], values[keep]
        if times.size:
            keep = times >= times[-1] - self.options.window_s
            times, values = times[keep], values[keep]
        if times.size < 2 or times[-1] - times[0] + 1e-6 < self.options.min_window_s:
            return times, None, 0.0, 0
        fs = float(self._backend.spec.fps_hz)
        uni = dsp.resample_uniform(times, values, fs)
        return times, np.asarray(uni.values, dtype=np.float64), fs, 0

    def _analysis_rate(self, times: FloatArray) -> float:
        # The camera's own median rate: resampling to it changes the samples least. At least
        # 2.5x the band's top so the band stays below Nyquist.
        dt = float(np.median(np.diff(times)))
        fs = 1.0 / dt if dt > 0 else self.options.fps
        return float(min(_MAX_CAMERA_FPS, max(fs, 2.5 * self.options.band_hz[1])))

    def _publish(self, reading: HeartRateReading, gen: int) -> None:
        with self._lock:
            if gen != self._generation:
                return
            self._latest = reading
            if reading.bpm is not None:
                self._had_rate = True
            if self._collect:
                self._new_readings.append(reading)
        if self.options.callback is not None:
            self.options.callback(reading)

    def _visible_latest(self) -> HeartRateReading | None:
        self._raise_worker_error()
        with self._lock:
            latest, had_rate = self._latest, self._had_rate
        if latest is None:
            return None
        if latest.status is ReadingStatus.WARMING_UP and not had_rate:
            return None  # the stream's first warm-up: nothing to show yet
        return latest

    def _drain_new(self) -> Iterator[HeartRateReading]:
        with self._lock:
            new, self._new_readings = self._new_readings, []
        yield from new

    def _wait_all(self) -> None:
        # Frames first (they may queue chunks), then the chunks.
        for w in (self._worker, self._infer):
            if w is not None:
                w.wait()

    def _raise_worker_error(self) -> None:
        for w in (self._worker, self._infer):
            if w is not None and w.error is not None:
                err, w.error = w.error, None
                raise RuntimeError(f"heart-rate worker failed: {err}") from err

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("HeartRateMonitor is closed")
