"""``MonitorOptions``: how a :class:`~rppg_sdk.monitor.HeartRateMonitor` works, checked once
here; and its :class:`RunningMode`."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rppg_sdk import dsp
from rppg_sdk.backends import Backend, BackendName
from rppg_sdk.confidence import ConfidenceModel
from rppg_sdk.events import EventOptions, MonitorEvent  # driver monitoring (dms)
from rppg_sdk.extractors import Method
from rppg_sdk.face import FaceTrackerOptions
from rppg_sdk.face_box import FaceSource  # driver monitoring (dms)
from rppg_sdk.illuminator import check_mode as check_dark_mode
from rppg_sdk.reading import HeartRateReading
from rppg_sdk.roi import SkinRoi
from rppg_sdk.tracking import TrackerOptions

__all__ = ["DEFAULT_METHOD", "MonitorOptions", "RunningMode", "min_window_floor_s"]

#: The classical method used when none is named: most accurate on the real face clip and the
#: semi-synthetic conditions (README, "Methods compared").
DEFAULT_METHOD = Method.POS

# The sliding window POS and CHROM use (the core's default).
_POS_WINDOW_S = float(inspect.signature(dsp.extract_pulse).parameters["window_s"].default)


class RunningMode(str, Enum):
    """How frames reach the monitor (as MediaPipe Tasks' running modes)."""

    VIDEO = "video"
    """Frames of a file or any stream processed in the caller's thread:
    :meth:`~rppg_sdk.monitor.HeartRateMonitor.process` returns the reading each frame produced,
    and no frame is ever dropped."""
    LIVE_STREAM = "live_stream"
    """A camera: :meth:`~rppg_sdk.monitor.HeartRateMonitor.process_async` queues the frame and
    returns at once; a worker thread does the rest and hands readings to
    ``MonitorOptions.callback``. Frames are dropped while the worker is behind."""


def min_window_floor_s(band_hz: tuple[float, float]) -> float:
    """The shortest ``min_window_s`` the pulse methods and the spectral estimate can use: two
    periods of the band's low edge, and no less than the POS / CHROM sliding window."""
    return max(2.0 / band_hz[0], _POS_WINDOW_S)


def _default_face() -> FaceTrackerOptions:
    # Every 10th frame (3 Hz at 30 fps) keeps face tracking inside the real-time budget; the
    # stable box does not follow small motions anyway.
    return FaceTrackerOptions(detect_every_n_frames=10)


def is_backend(x: object) -> bool:
    """Whether ``x`` is a ready backend (duck-typed: ``infer``, ``spec``, ``close``)."""
    return hasattr(x, "infer") and hasattr(x, "spec") and hasattr(x, "close")


@dataclass(frozen=True)
class MonitorOptions:
    """How a :class:`~rppg_sdk.monitor.HeartRateMonitor` works.

    Parameters
    ----------
    method
        ``"pos"`` (default), ``"chrom"``, ``"green"``, ``"mono"`` (one-channel cameras),
        ``"model"`` (then ``model`` names the model), or a bundled model's name (``"physnet"``,
        ``"autohr"``: short for ``method="model", model=<name>``). POS / CHROM / GREEN on
        one-channel or grey frames fall back to ``"mono"`` (logged; ``HeartRateReading.method``
        says so).
    model
        For ``method="model"``: an ``.onnx`` (or TensorRT ``.engine``) path, or a bundled model
        name (``"physnet"``, ``"autohr"``).
    backend
        ``"auto"``, ``"onnxruntime"``, ``"tensorrt"`` or a ready :class:`~rppg_sdk.backends.Backend`
        (which the monitor then uses but does not close).
    running_mode
        ``RunningMode.VIDEO`` (default: :meth:`process`, every frame processed) or
        ``RunningMode.LIVE_STREAM`` (:meth:`process_async`, readings to ``callback``).
    window_s
        Analysis window in seconds.
    update_interval_s
        A reading every this many seconds of stream time.
    min_window_s
        Skin data needed before the first heart rate (shorter windows resolve less); at least
        two periods of the band's low edge (2.9 s for the default band).
    band_hz
        Heart-rate band in Hz (0.7-4.0: 42-240 bpm).
    face
        Face-tracker options; the default detects on every 10th frame (3 Hz at 30 fps, within
        the real-time budget). For models the crop size is set to the model's input size; the
        face mesh runs only for ``skin_roi="landmarks"``.
    fps
        Frame rate assumed when ``process`` gets no timestamps (``timestamp = index / fps``).
    callback
        Called with every new reading: required in ``LIVE_STREAM`` (on the worker thread), and
        optional in ``VIDEO`` (on the caller's thread).
    low_quality_confidence
        Readings below this confidence get status ``LOW_QUALITY``.
    waveform_s
        Length of the pulse waveform attached to each reading.
    model_chunk_frames, model_overlap_frames
        Model chunks and their overlap, in model frames (each frame is inferred
        ``chunk / (chunk - overlap)`` times).
    model_threads
        ONNX Runtime intra-op threads (``None``: all cores, one left free in live streams).
    tracker
        Temporal tracking across windows.
    confidence
        Evidence -> confidence mapping; ``None`` (default): the mapping fitted for the method in
        use (:func:`rppg_sdk.confidence.calibrated_model`, chosen once the stream shows whether
        the method runs as itself or as ``"mono"``).
    skin_roi
        Where the skin is: ``"face"`` (default, an ellipse over the tracked face),
        ``"landmarks"`` (the face mesh's forehead and cheeks; classical methods) or ``"frame"``
        (every whole frame is skin: no face detection); see :class:`~rppg_sdk.roi.SkinRoi`.
    illumination_reference
        Classical methods on a tracked face: regress the light seen by the non-skin surround
        of the face (background, hair) out of the skin traces (:mod:`rppg_sdk.illumination`).
        Off by default: it removes in-band tinted flicker on the semi-synthetic suite, but on
        the real face video the surround and even the frame's corners carry the pulse rate
        (head motion with each beat, the camera's processing), and the regression then removes
        a true pulse. The surround is measured either way on a tracked face: the confidence
        weighs a rate it shows as strongly as the skin does, with the head still, as light
        (``reading.evidence.reference_share``).
    drop_dark_frames
        Frames of an alternating illuminator (940 nm driver-monitoring cameras light every
        other frame): ``"auto"`` (default) drops the dark ones once the stream's brightness is
        seen to alternate, ``True`` takes the stream to alternate from the start, ``False``
        keeps every frame (:mod:`rppg_sdk.illuminator`). Kept frames keep their timestamps.
    face_source
        Driver monitoring: where the face is on a frame the caller gives no ``face_box_xywh``
        for: ``"auto"`` (default, the SDK's face tracker) or ``"caller"`` (no box: no face on
        that frame; no detector is loaded). See :mod:`rppg_sdk.face_box`.
    face_loss_bridge_s
        A face lost for at most this long (a hand, a head turn) keeps the pulse history and the
        tracked rate: no new warm-up when it returns. Longer losses start anew
        (``reading.reset_reason``).
    events
        Event thresholds and queue size (:class:`~rppg_sdk.events.EventOptions`).
    on_event
        Called with every :class:`~rppg_sdk.events.MonitorEvent` on the thread that made the
        reading (the caller's in ``VIDEO``, the worker's in ``LIVE_STREAM``); the events also
        queue for :meth:`~rppg_sdk.monitor.HeartRateMonitor.drain_events`.
    vitals
        Pulse-rate variability and breathing rate on the readings (``reading.prv``,
        ``reading.breathing_rate_bpm``; :mod:`rppg_sdk.vitals`). Each reading then analyses
        the newest ``prv_window_s`` of pulse once more.
    prv_window_s
        Pulse analysed for PRV and breathing, in seconds (at most the extractor's history:
        64 s for classical methods, ``window_s + 30`` s for models).
    min_prv_s, min_breathing_s
        Pulse needed before PRV (30 s) or a breathing rate (20 s) is given.
    vitals_min_confidence
        PRV and breathing rates whose confidence is below this are given as ``None``.
    """

    method: Method | str = DEFAULT_METHOD
    model: str | Path | None = None
    backend: BackendName | Backend = "auto"
    running_mode: RunningMode | str = RunningMode.VIDEO
    window_s: float = 10.0
    update_interval_s: float = 1.0
    min_window_s: float = 5.0
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ
    face: FaceTrackerOptions = field(default_factory=_default_face)
    fps: float = 30.0
    callback: Callable[[HeartRateReading], None] | None = None
    low_quality_confidence: float = 0.3
    waveform_s: float = 6.0
    model_chunk_frames: int = 128
    model_overlap_frames: int = 32
    model_threads: int | None = None
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    confidence: ConfidenceModel | None = None
    skin_roi: SkinRoi | str = SkinRoi.FACE
    illumination_reference: bool = False
    drop_dark_frames: bool | str = "auto"  # nir: alternating illuminator
    # ---- driver monitoring (dms): the caller's face boxes, face-loss bridge, events ----
    face_source: FaceSource | str = FaceSource.AUTO
    face_loss_bridge_s: float = 2.0
    events: EventOptions = field(default_factory=EventOptions)
    on_event: Callable[[MonitorEvent], None] | None = None
    # ---- issue 12: pulse-rate variability and breathing rate (rppg_sdk.vitals) ----
    vitals: bool = True
    prv_window_s: float = 60.0
    min_prv_s: float = 30.0
    min_breathing_s: float = 20.0
    vitals_min_confidence: float = 0.3

    def __post_init__(self) -> None:
        # nir: alternating illuminator
        object.__setattr__(self, "drop_dark_frames", check_dark_mode(self.drop_dark_frames))
        object.__setattr__(self, "skin_roi", _enum(SkinRoi, "skin_roi", self.skin_roi))
        self._check_driver_monitoring()  # dms
        object.__setattr__(
            self, "running_mode", _enum(RunningMode, "running_mode", self.running_mode)
        )
        self._check_method()
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
        floor = min_window_floor_s(self.band_hz)
        if self.min_window_s + 1e-9 < floor:
            raise ValueError(
                f"min_window_s: expected at least {floor:.2f} s (two periods of the band's low "
                f"edge, {lo} Hz, for the spectral estimate; POS and CHROM slide a "
                f"{_POS_WINDOW_S} s window), got {self.min_window_s}"
            )
        if not isinstance(self.face, FaceTrackerOptions):
            raise TypeError(f"face: expected FaceTrackerOptions, got {type(self.face).__name__}")
        if not 0.0 <= self.low_quality_confidence <= 1.0:
            raise ValueError(
                f"low_quality_confidence: expected 0..1, got {self.low_quality_confidence}"
            )
        if self.callback is not None and not callable(self.callback):
            raise TypeError(f"callback: expected a callable, got {type(self.callback).__name__}")
        if self.running_mode is RunningMode.LIVE_STREAM and self.callback is None:
            raise ValueError(
                "callback: running_mode=LIVE_STREAM hands readings to a callback; pass "
                "callback=<function of a HeartRateReading>"
            )
        t = self.model_threads
        if t is not None and (not isinstance(t, int) or isinstance(t, bool) or t < 1):
            raise ValueError(f"model_threads: expected an int >= 1 or None, got {t!r}")
        if not isinstance(self.backend, str) and not is_backend(self.backend):
            raise TypeError(
                f"backend: expected 'auto', 'onnxruntime', 'tensorrt' or a Backend, got "
                f"{type(self.backend).__name__}"
            )
        self._check_vitals()  # issue 12

    def _check_vitals(self) -> None:
        """Issue 12: the PRV and breathing options."""
        if not isinstance(self.vitals, bool):
            raise TypeError(f"vitals: expected a bool, got {type(self.vitals).__name__}")
        for name, low in (("prv_window_s", 10.0), ("min_prv_s", 5.0), ("min_breathing_s", 10.0)):
            v = getattr(self, name)
            if (
                not isinstance(v, int | float)
                or isinstance(v, bool)
                or not math.isfinite(v)
                or not low <= v <= 600.0
            ):
                raise ValueError(f"{name}: expected {low:g}-600 seconds, got {v!r}")
        for name in ("min_prv_s", "min_breathing_s"):
            if getattr(self, name) > self.prv_window_s:
                raise ValueError(
                    f"{name}: expected <= prv_window_s ({self.prv_window_s}), got "
                    f"{getattr(self, name)}"
                )
        c = self.vitals_min_confidence
        if not isinstance(c, int | float) or isinstance(c, bool) or not 0.0 <= c <= 1.0:
            raise ValueError(f"vitals_min_confidence: expected 0..1, got {c!r}")

    def _check_method(self) -> None:
        from rppg_sdk.models import available_models  # noqa: PLC0415

        if isinstance(self.method, str) and not isinstance(self.method, Method):
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
            known = [m.value for m in Method] + available_models()
            names = ", ".join(repr(n) for n in known)
            raise ValueError(f"method: expected one of {names}, got {self.method!r}") from None
        if self.method is Method.MODEL and self.model is None and not is_backend(self.backend):
            raise ValueError("model: method='model' needs a model path or bundled model name")

    def _check_driver_monitoring(self) -> None:
        # dms: the caller's face boxes, face-loss bridge, events
        object.__setattr__(self, "face_source", _enum(FaceSource, "face_source", self.face_source))
        b = self.face_loss_bridge_s
        if not isinstance(b, int | float) or isinstance(b, bool) or not math.isfinite(b) or b < 0:
            raise ValueError(f"face_loss_bridge_s: expected a number of seconds >= 0, got {b!r}")
        if not isinstance(self.events, EventOptions):
            raise TypeError(f"events: expected EventOptions, got {type(self.events).__name__}")
        if self.on_event is not None and not callable(self.on_event):
            raise TypeError(f"on_event: expected a callable, got {type(self.on_event).__name__}")
        if self.face_source is FaceSource.CALLER and self.skin_roi is SkinRoi.FRAME:
            raise ValueError(
                "face_source: 'caller' takes the caller's face boxes, but skin_roi='frame' takes "
                "every whole frame as skin; use one or the other"
            )

    @property
    def live(self) -> bool:
        """Whether this is a live stream (``running_mode`` is ``LIVE_STREAM``)."""
        return self.running_mode is RunningMode.LIVE_STREAM


def _enum(cls: Any, name: str, value: object) -> Any:
    try:
        return cls(value)
    except ValueError:
        names = ", ".join(repr(r.value) for r in cls)
        raise ValueError(f"{name}: expected one of {names}, got {value!r}") from None
