"""Learned pulse models: chunk scheduling, input normalisation and stitching of chunk outputs.

A model sees a chunk of ``T`` face crops at its training frame rate and returns ``T`` pulse
samples. Running it on the whole window at every update would infer each frame ten times (10 s
window, 1 s updates): instead, chunks of ``chunk_frames`` overlap by ``overlap_frames``, so each
frame is inferred ``chunk / (chunk - overlap)`` times (1.33 at the defaults). The overlapped
samples are context only: they fix the sign and place of the new chunk against the old one (a
model trained with a spectral loss may return the pulse upside down from chunk to chunk) and are
not written twice.

Beside the model, a classical extractor reads the same skin (POS; ``"mono"`` on one channel). Its
pulse, surround and head motion, on the model's grid, are the evidence for the model's confidence:
a network can turn a lamp's rhythm or plain noise into a clean pulse, and only something outside
the network can say so (:class:`~rppg_sdk.confidence.ConfidenceInputs`).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp
from rppg_sdk.backends.base import NORMALIZATIONS, Backend
from rppg_sdk.extractors.base import Method, PulseWindow
from rppg_sdk.extractors.classical import ClassicalExtractor
from rppg_sdk.live import LiveWorker

if TYPE_CHECKING:
    from rppg_sdk.roi import SkinObservation

__all__ = [
    "NORMALIZATIONS",
    "ChunkJob",
    "ChunkStitcher",
    "ModelChunker",
    "ModelExtractor",
    "normalize_chunk",
    "normalize_frames",
]

_log = logging.getLogger(__name__)

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
        raise ValueError(f"clip: expected a (C, T, H, W) array, got {getattr(x, 'shape', type(x))}")
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
        self._buf = dsp.TimeSeriesBuffer(int(capacity), 1)
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
                    prev_v = np.asarray(prev, dtype=np.float64).reshape(-1)
                    cur = np.interp(prev_t, t, w)
                    if float(np.dot(prev_v - prev_v.mean(), cur - cur.mean())) < 0.0:
                        w = -w
                keep = t > last
                t, w = t[keep], w[keep]
            for ti, wi in zip(t, w, strict=True):
                self._buf.push(np.array([wi]), float(ti))
            return int(t.shape[0])

    def window(self, start_s: float) -> tuple[FloatArray, FloatArray]:
        """Stitched samples at or after ``start_s``: ``(times_s, values)``."""
        with self._lock:
            if self._buf.size == 0:
                return np.zeros(0), np.zeros(0)
            v, t = self._buf.window(self._buf.size)
        t = np.asarray(t, dtype=np.float64)
        keep = t >= start_s
        return t[keep], np.asarray(v, dtype=np.float64).reshape(-1)[keep]

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


class ModelExtractor:
    """A learned model: crops -> overlapping chunks -> backend -> stitched pulse.

    Owns the chunker, the stitcher and the inference thread. Every :meth:`reset` starts a new
    generation: a chunk already inside ``backend.infer`` at a reset (the face was lost, a new
    stream began) is discarded when it returns rather than stitched into the new stream.

    Parameters
    ----------
    backend
        The model runtime (not closed here: its owner closes it).
    chunk_frames, overlap_frames
        Chunk length and overlap in model frames.
    window_s
        Longest analysis window asked for (sizes the stitched buffer).
    fps
        Expected camera rate (sizes the crop buffer).
    live
        Live streams: chunks are dropped when inference is behind, and :meth:`pulse_window`
        does not wait for chunks in flight. Otherwise every chunk is inferred and
        :meth:`pulse_window` first waits for all chunks submitted so far.
    band_hz, box_scale
        Heart-rate band and the face tracker's box enlargement, for the classical evidence.
    remove_reference
        The classical evidence's skin traces have the surround's light regressed out
        (``MonitorOptions.illumination_reference``).
    """

    def __init__(
        self,
        backend: Backend,
        chunk_frames: int = 128,
        overlap_frames: int = 32,
        window_s: float = 10.0,
        fps: float = 30.0,
        live: bool = False,
        band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
        box_scale: float = 1.5,
        remove_reference: bool = False,
    ) -> None:
        self.backend = backend
        self.chunk_frames = int(chunk_frames)
        self.overlap_frames = int(overlap_frames)
        self.fps = float(fps)
        self.live = bool(live)
        self.fs_hz = float(backend.spec.fps_hz)
        self._stitcher = ChunkStitcher(int(math.ceil((window_s + 30.0) * self.fs_hz)))
        self._chunker: ModelChunker | None = None
        self._channels = 0
        self._chunk_channels = 0
        self._generation = 0
        self._lock = threading.Lock()
        self._worker = LiveWorker("rppg-model-infer")
        self._closed = False
        # The confidence's evidence: the same skin read classically (microseconds per frame);
        # made at the first frame, when the channel count says POS or mono.
        self._band_hz, self._window_s, self._box_scale = band_hz, float(window_s), box_scale
        self._evidence: ClassicalExtractor | None = None
        self._remove_reference = bool(remove_reference)

    @property
    def method_name(self) -> str:
        # The model's own name ("physnet", "autohr"): each has its own fitted confidence.
        return str(self.backend.spec.name) or Method.MODEL.value

    @property
    def dropped_chunks(self) -> int:
        """Chunks not inferred because inference was behind (live only)."""
        return self._worker.dropped

    def push(self, obs: SkinObservation, timestamp_s: float) -> None:
        crop = obs.crop
        method = Method.MONO if crop.shape[2] == 1 else Method.POS
        if self._evidence is None or self._evidence.method is not method:
            if self._evidence is not None:
                self._evidence.close()
            self._evidence = ClassicalExtractor(
                method, self._band_hz, self._window_s, self._box_scale, self.fps,
                remove_reference=self._remove_reference,
            )  # fmt: skip
        self._evidence.push(obs, timestamp_s)
        want = int(self.backend.spec.channels)
        if crop.shape[2] == 1 and want == 3:
            crop = np.repeat(crop, 3, axis=2)  # grey video into a colour model: the one channel
        channels = int(crop.shape[2])
        if self._chunker is None or channels != self._chunk_channels:
            self._chunker = ModelChunker(
                self.backend,
                self.chunk_frames,
                self.overlap_frames,
                (crop.shape[0], crop.shape[1], channels),
                camera_fps_hint=self.fps,
            )
            self._chunk_channels = channels
        self._channels = int(obs.crop.shape[2])
        if self._chunker.push(crop, timestamp_s):
            self._submit(timestamp_s)

    def _submit(self, end_s: float) -> None:
        gen = self._generation
        chunker, stitcher, backend = self._chunker, self._stitcher, self.backend
        assert chunker is not None
        # Files cut the chunk here: the crop buffer holds about one chunk, and the worker may
        # fall more than that behind (no frame of a file may be lost). Live streams cut it on
        # the worker, off the camera's thread (milliseconds); a worker that far behind drops.
        ready = None if self.live else chunker.make_job(end_s)
        if not self.live and ready is None:
            return

        def run() -> None:
            if gen != self._generation:
                return
            job = ready if ready is not None else chunker.make_job(end_s)
            if job is None or gen != self._generation:
                return
            wave = backend.infer(job.chunk)
            with self._lock:  # reset() bumps the generation under the same lock
                if gen == self._generation:
                    stitcher.add(job.times_s, wave[0])

        if not self._worker.submit(run, drop_when_busy=self.live) and self.live:
            n = self._worker.dropped
            if n == 1 or n % 100 == 0:
                _log.warning(
                    "live stream: model inference is behind real time; %d chunks dropped so far "
                    "(a faster backend or fewer overlapping frames would keep up)",
                    n,
                )

    def wait(self) -> None:
        """Wait for every chunk submitted so far; raise what inference raised."""
        self._worker.wait()
        err = self._worker.take_error()
        if err is not None:
            raise RuntimeError(f"model inference failed: {err}") from err

    def pulse_window(
        self, end_s: float, window_s: float, min_window_s: float
    ) -> PulseWindow | None:
        if self.live:
            err = self._worker.take_error()
            if err is not None:
                raise RuntimeError(f"model inference failed: {err}") from err
        else:
            self.wait()
        # The stitched pulse ends where the newest inferred chunk ends (up to one chunk hop
        # before ``end_s``): the window is the newest ``window_s`` of it.
        times, values = self._stitcher.window(-math.inf)
        keep = times <= end_s + 1e-9
        times, values = times[keep], values[keep]
        if times.size:
            keep = times >= times[-1] - window_s
            times, values = times[keep], values[keep]
        if times.size < 2 or times[-1] - times[0] + 1e-6 < min_window_s:
            return None
        uni = dsp.resample_uniform(times, values, self.fs_hz)
        grid = np.asarray(uni.timestamps_s, dtype=np.float64)
        classical, traces, reference, motion, moves = self._classical_evidence(grid)
        return PulseWindow(
            times_s=times,
            pulse=np.asarray(uni.values, dtype=np.float64).reshape(-1),
            fs_hz=self.fs_hz,
            box_moves=moves,
            method_name=self.method_name,
            input_channels=self._channels or int(self.backend.spec.channels),
            traces=traces,
            reference=reference,
            motion=motion,
            classical=classical,
        )

    def _classical_evidence(
        self, grid_s: FloatArray
    ) -> tuple[FloatArray | None, FloatArray | None, FloatArray | None, FloatArray | None, int]:
        """The classical pulse, skin colour traces, surround and head motion over the model
        window, interpolated onto its grid ``grid_s``, and the box re-alignments inside it
        (``None`` where the classical side has too little data)."""
        span = float(grid_s[-1] - grid_s[0])
        if self._evidence is None:
            return None, None, None, None, 0
        try:
            w = self._evidence.pulse_window(float(grid_s[-1]), span + 1.0, 0.5 * span)
        except ValueError:  # too short for its spectra: no evidence, not an error
            return None, None, None, None, 0
        if w is None or w.pulse.shape[0] < 2:
            return None, None, None, None, 0
        t = w.times_s[0] + np.arange(w.pulse.shape[0]) / w.fs_hz

        def on_grid(x: FloatArray | None) -> FloatArray | None:
            if x is None:
                return None
            a = np.asarray(x, dtype=np.float64).reshape(t.shape[0], -1)
            cols = [np.interp(grid_s, t, a[:, k]) for k in range(a.shape[1])]
            return np.ascontiguousarray(np.stack(cols, axis=1))

        pulse = on_grid(w.pulse)
        return (
            None if pulse is None else pulse[:, 0].copy(),
            on_grid(w.traces),
            on_grid(w.reference),
            on_grid(w.motion),
            int(w.box_moves),
        )

    def reset(self) -> None:
        if self._evidence is not None:
            self._evidence.reset()
        with self._lock:
            self._generation += 1  # chunks queued or in flight now belong to no stream
            self._stitcher.clear()
            if self._chunker is not None:
                self._chunker.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with self._lock:
                self._generation += 1
            self._worker.stop()
            if self._evidence is not None:
                self._evidence.close()
