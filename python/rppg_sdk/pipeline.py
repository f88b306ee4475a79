"""``FramePipeline``: what the monitor does with one frame of a stream.

skin source -> pulse extractor -> (every update interval) analysis -> published reading, on the
caller's thread (``RunningMode.VIDEO``) or the live worker (``LIVE_STREAM``).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from rppg_sdk.analysis import PulseAnalyzer
from rppg_sdk.backends import Backend, BackendName, load_backend
from rppg_sdk.events import EventStream  # dms
from rppg_sdk.extractors import Method, PulseExtractor, make_extractor
from rppg_sdk.face_box import Box, BoxedFaceRoi, FaceSource  # dms
from rppg_sdk.frames import LevelScale
from rppg_sdk.illuminator import DarkFrameFilter
from rppg_sdk.live import LiveWorker
from rppg_sdk.options import MonitorOptions, is_backend
from rppg_sdk.reading import HeartRateReading, ReadingStatus, ResetReason
from rppg_sdk.roi import FaceRoi, FrameRoi, SkinObservation, SkinRoi, SkinSource
from rppg_sdk.vitals import annotate_vitals  # issue 12: PRV and breathing

__all__ = ["FramePipeline", "build_pipeline", "shutdown"]


def build_pipeline(o: MonitorOptions) -> tuple[FramePipeline, Backend | None]:
    """The pipeline ``o`` describes, and the backend it opened (``None``: none, or the caller's).

    Whatever was opened is closed again when a later part fails (a face tracker that cannot
    start must not leak the backend).
    """
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
                backend = owned = load_backend(o.model, name, live=o.live, threads=o.model_threads)
            crop = int(backend.spec.height)  # the model's input size
        if o.skin_roi is SkinRoi.FRAME:
            roi = FrameRoi(crop)
        else:
            # dms: the caller's face boxes, with the SDK's tracker for frames without one
            # (face_source="auto") or none at all ("caller": no detector is loaded).
            face_options = replace(o.face, crop_size=crop)
            tracker = (
                None
                if o.face_source is FaceSource.CALLER
                # The surround is always measured (the confidence's light evidence); whether it
                # is also regressed out is the extractor's illumination_reference.
                else FaceRoi(face_options, SkinRoi(o.skin_roi), reference=True)
            )
            roi = BoxedFaceRoi(face_options, tracker)
        ext = make_extractor(
            o.method, backend=backend, band_hz=o.band_hz, window_s=o.window_s, fps=o.fps,
            box_scale=o.face.box_scale, chunk_frames=o.model_chunk_frames,
            overlap_frames=o.model_overlap_frames, live=o.live,
            remove_reference=o.illumination_reference,
        )  # fmt: skip
    except BaseException:
        if roi is not None:
            roi.close()
        if owned is not None:
            owned.close()
        raise
    return FramePipeline(o, roi, ext), owned


class FramePipeline:
    """One stream's frame work: skin -> extractor -> analysis -> published reading. Runs on the
    caller's thread (VIDEO) or the live worker; it never holds the monitor, so a live monitor
    dropped without ``close()`` is still collected."""

    def __init__(self, o: MonitorOptions, roi: SkinSource, ext: PulseExtractor) -> None:
        self.o, self.roi, self.ext = o, roi, ext
        self.analyzer = PulseAnalyzer(
            o.band_hz, o.window_s, o.tracker, o.confidence, o.low_quality_confidence, o.waveform_s
        )
        self.lock = threading.Lock()
        self.events = EventStream(o.events, o.on_event)  # dms: events of every reading
        # nir: dark frames of an alternating illuminator; 16-bit frames for 8-bit models
        self.dark_frames = DarkFrameFilter(o.drop_dark_frames)  # type: ignore[arg-type]
        self.levels = LevelScale()
        self.generation = 0
        self.latest: HeartRateReading | None = None
        self.reset_stream()

    def reset_stream(self) -> None:
        self.generation += 1  # queued frames of the old stream become no-ops
        self.next_update_s: float | None = None
        self.had_face = False
        # dms: short face losses are bridged, long ones restart the history
        self.last_face_s: float | None = None
        self.face_lost = False
        self.gaps: deque[tuple[float, float]] = deque(maxlen=64)
        self.reset_reason = ResetReason.STREAM_START
        self.skin_level: float | None = None
        self.events.reset()
        self.dark_frames.reset()  # nir
        self.levels.reset()  # nir
        self.roi.reset()
        self.ext.reset()
        self.analyzer.reset()
        with self.lock:
            self.latest = None

    def handle(
        self, img: npt.NDArray[np.uint8], ts: float, gen: int, box: Box | None = None
    ) -> HeartRateReading | None:
        """Skin, extractor and (when due) a reading for one frame (``box``: the caller's face
        box, checked; ``None``: the SDK's own face source)."""
        if gen != self.generation:
            return None
        o = self.o
        # --- nir: an alternating illuminator's dark frames never reach the skin (the kept
        # frames keep their own timestamps); models take 8-bit frames.
        light = self.dark_frames.update(img)
        if self.dark_frames.started:  # what came before the alternation was seen holds dark
            self.ext.reset()  # frames too (checked first: the frame that shows it may be dark)
        if not light.keep:
            return None
        if img.dtype != np.uint8 and o.method is Method.MODEL:
            self.levels.update(img)
            img = self.levels.to_uint8(img)
        # --- end nir
        if self.next_update_s is None:
            self.next_update_s = ts + o.update_interval_s
        # dms: the caller's box when given; short face losses bridged, long ones reset
        obs = self.roi.update(img) if box is None else cast(BoxedFaceRoi, self.roi).update(img, box)
        self._track_face(obs is not None, ts)
        if obs is not None:
            self.ext.push(obs, ts)
        if ts + 1e-9 < self.next_update_s:
            return None
        self.next_update_s += o.update_interval_s * max(
            1, math.floor((ts - self.next_update_s) / o.update_interval_s) + 1
        )
        method, channels = self.ext.method_name, self.roi.input_channels or int(img.shape[2])
        if obs is None:
            reading = HeartRateReading(
                ts, ReadingStatus.NO_FACE, method=method, input_channels=channels
            )
        else:
            window = self.ext.pulse_window(ts, o.window_s, o.min_window_s)
            face_fraction = 1.0 - self._bridged_s(ts) / o.window_s
            reading = self.analyzer.analyze(
                window, ts, obs.box_xywh, method, channels, face_fraction
            )
            reading = annotate_vitals(reading, self.ext, ts, o)  # issue 12: PRV, breathing
        reading = self._stream_state(reading, obs, ts)  # dms
        with self.lock:
            if gen != self.generation:
                return None
            self.latest = reading
        if o.callback is not None:
            o.callback(reading)
        self.events.feed(reading, self.skin_level)  # dms: events to on_event and the queue
        return reading

    # ---- dms: face losses and what the reading says about them --------------------------------
    def _track_face(self, present: bool, ts: float) -> None:
        """Bridge a face loss up to ``face_loss_bridge_s`` (history and tracked rate kept; the
        extractor simply gets no samples for the gap); past it, start the history anew."""
        if present:
            if self.face_lost and self.last_face_s is not None:
                self.gaps.append((self.last_face_s, ts))
            self.had_face, self.face_lost, self.last_face_s = True, False, ts
            return
        if not self.had_face or self.last_face_s is None:
            return
        self.face_lost = True
        if ts - self.last_face_s > self.o.face_loss_bridge_s:
            # The face left for too long: its history does not continue into the next one.
            self.had_face = self.face_lost = False
            self.ext.reset()
            self.analyzer.reset()
            self.gaps.clear()
            self.reset_reason = ResetReason.FACE_LOST

    def _stream_state(
        self, reading: HeartRateReading, obs: SkinObservation | None, ts: float
    ) -> HeartRateReading:
        """The reading with why its history began and the face loss it bridged; the skin's
        brightness for the events."""
        self.skin_level = None if obs is None else skin_level(obs.crop)
        bridged = self._bridged_s(ts)
        return replace(reading, reset_reason=self.reset_reason, bridged_gap_s=bridged)

    def _bridged_s(self, ts: float) -> float:
        """Seconds of bridged face loss inside the analysis window ending at ``ts``."""
        start = ts - self.o.window_s
        spans = list(self.gaps)
        if self.face_lost and self.last_face_s is not None:
            spans.append((self.last_face_s, ts))
        return float(sum(max(0.0, min(b, ts) - max(a, start)) for a, b in spans))

    def close(self) -> None:
        self.ext.close()
        self.roi.close()


def skin_level(crop: npt.NDArray[Any]) -> float:
    """Mean brightness of a face crop's central half as a share of full scale (crops are in
    8-bit units, float32 ones included): what the events call low light (dms)."""
    s = crop.shape[0]
    q = s // 4
    return float(np.mean(crop[q : s - q, q : s - q], dtype=np.float64)) / 255.0


def shutdown(worker: LiveWorker | None, pipe: FramePipeline, backend: Backend | None) -> None:
    """Stop the worker, then close the pipeline and the backend (the monitor's finaliser)."""

    def release() -> None:
        pipe.close()
        if backend is not None:
            backend.close()

    if worker is None:
        release()
    else:
        worker.stop(then=release)  # on the worker's own thread: after its current job
