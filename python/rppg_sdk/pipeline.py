"""``FramePipeline``: what the monitor does with one frame of a stream.

skin source -> pulse extractor -> (every update interval) analysis -> published reading, on the
caller's thread (``RunningMode.VIDEO``) or the live worker (``LIVE_STREAM``).
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from typing import cast

import numpy as np
import numpy.typing as npt

from rppg_sdk.analysis import PulseAnalyzer
from rppg_sdk.backends import Backend, BackendName, load_backend
from rppg_sdk.extractors import Method, PulseExtractor, make_extractor
from rppg_sdk.frames import LevelScale
from rppg_sdk.illuminator import DarkFrameFilter
from rppg_sdk.live import LiveWorker
from rppg_sdk.options import MonitorOptions, is_backend
from rppg_sdk.reading import HeartRateReading, ReadingStatus
from rppg_sdk.roi import FaceRoi, FrameRoi, SkinRoi, SkinSource

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
            roi = FaceRoi(
                replace(o.face, crop_size=crop),
                SkinRoi(o.skin_roi),
                reference=o.illumination_reference,
            )
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
        self.dark_frames.reset()  # nir
        self.levels.reset()  # nir
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
        # --- nir: an alternating illuminator's dark frames never reach the skin (the kept
        # frames keep their own timestamps); models take 8-bit frames.
        if not self.dark_frames.update(img).keep:
            return None
        if self.dark_frames.started:  # what came before the alternation was seen holds dark
            self.ext.reset()  # frames too
        if img.dtype != np.uint8 and o.method is Method.MODEL:
            self.levels.update(img)
            img = self.levels.to_uint8(img)
        # --- end nir
        if self.next_update_s is None:
            self.next_update_s = ts + o.update_interval_s
        obs = self.roi.update(img)
        if obs is not None:
            self.had_face = True
            self.ext.push(obs, ts)
        elif self.had_face:  # the face left: its history does not continue into the next one
            self.had_face = False
            self.ext.reset()
            self.analyzer.reset()
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
            reading = self.analyzer.analyze(window, ts, obs.box_xywh, method, channels)
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
