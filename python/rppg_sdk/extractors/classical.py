"""Classical rPPG: skin-colour traces -> pulse waveform through the C++ core.

Only the per-frame means (a weighted average over skin pixels, the surround's, the face's
position) happen here; everything after them (the trace buffer, resampling, step and light
removal, POS / CHROM / GREEN / MONO) is the core's ``rppg::PulseWindowBuilder``, the same code
``rppg::PulseMonitor`` runs for C++ callers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk import _core, dsp
from rppg_sdk.extractors.base import Method, PulseWindow

if TYPE_CHECKING:
    from rppg_sdk.roi import SkinObservation

__all__ = ["ClassicalExtractor", "face_weights", "pulse_from_traces", "skin_means"]

_log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]

# Highest camera rate the trace buffer is sized for; faster cameras get a shorter window.
MAX_CAMERA_FPS = 120.0
#: The trace buffer keeps at least this long a window (plus 2 s): pulse-rate variability asks
#: for 60 s pulse windows whatever the monitor's own window is.
MIN_BUFFER_WINDOW_S = 64.0
# Fewer weighted pixels than this is no mask (a face mesh that found almost no skin).
_MIN_MASK_WEIGHT = 16.0

# A mean colour at or below this (out of 255) has no skin in it to measure: black padding or an
# unlit face. POS and CHROM divide by the mean, so such frames are floored rather than trusted.
_MIN_MEAN = 1.0


def face_weights(crop_size: int, box_scale: float) -> Float32Array:
    """Pixel weights for a crop without landmarks: an ellipse over the detected face.

    The crop shows the stable box, enlarged ``box_scale`` times about the detection, so the face
    itself fills the central ``1 / box_scale`` of it; the ring around it is hair and background,
    which carry no pulse and add motion and lighting noise.
    """
    if crop_size < 2:
        raise ValueError(f"crop_size: expected >= 2, got {crop_size}")
    c = (crop_size - 1) / 2.0
    yy, xx = np.mgrid[0:crop_size, 0:crop_size].astype(np.float64)
    # Slightly narrower than the detection box: its corners are background.
    rx = 0.42 * crop_size / box_scale
    ry = 0.5 * crop_size / box_scale
    inside = ((xx - c) / rx) ** 2 + ((yy - c) / ry) ** 2 <= 1.0
    return np.asarray(inside, dtype=np.float32)


def skin_means(crop: npt.NDArray[np.uint8], weights: Float32Array) -> FloatArray:
    """Weighted mean of each channel of ``crop`` ``(S, S, C)`` over ``weights`` ``(S, S)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(C,)`` float64, in the crop's channel order (BGR or one channel).
    """
    if crop.ndim != 3 or crop.shape[:2] != weights.shape:
        raise ValueError(
            f"crop, weights: expected (S, S, C) and (S, S), got {crop.shape} and {weights.shape}"
        )
    total = float(weights.sum(dtype=np.float64))
    if total <= 0.0:
        raise ValueError("weights: expected some positive weight, got none")
    # Per channel, elementwise: a BLAS matrix-vector product here costs 50x more once
    # OpenBLAS's threads contend with the detector's (0.4 ms instead of 8 us per frame).
    wf = weights.astype(np.float32, copy=False)
    return (
        np.array(
            [float(np.sum(wf * crop[:, :, k], dtype=np.float64)) for k in range(crop.shape[2])]
        )
        / total
    )


def pulse_from_traces(
    traces: npt.ArrayLike,
    fs_hz: float,
    method: Method | str,
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
) -> FloatArray:
    """Pulse waveform from mean-colour traces on a uniform grid.

    Parameters
    ----------
    traces
        ``(T, 3)`` in **BGR** order (the crop's) or ``(T, 1)`` for one-channel cameras.
    fs_hz
        Grid rate in Hz.
    method
        ``"pos"``, ``"chrom"``, ``"green"`` (three channels) or ``"mono"`` (one channel).
    band_hz
        Heart-rate band (CHROM filters its chrominance signals to it).

    Raises
    ------
    ValueError
        POS / CHROM / GREEN on one channel (undefined: they need colour), or ``"mono"`` asked of
        colour traces (use ``"green"``).
    """
    x = np.asarray(traces, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] not in (1, 3):
        raise ValueError(f"traces: expected (T, 3) BGR or (T, 1), got {x.shape}")
    x = np.maximum(x, _MIN_MEAN)
    try:
        m = Method(method)
    except ValueError:
        m = None
    if m is Method.MONO:
        if x.shape[1] != 1:
            raise ValueError("method 'mono' is for one-channel traces; use 'green' for colour")
        # The one channel's relative change with motion transients taken out: the core's
        # rppg::pulse_mono (reads column 1 of R, G, B rows), what the monitor's chain runs.
        lo, hi = dsp._check_band(band_hz)
        dsp._check_band_fits(dsp._check_fs(fs_hz), (lo, hi))
        mono: FloatArray = _core.pulse_mono(
            np.ascontiguousarray(np.repeat(x, 3, axis=1)), float(fs_hz), lo, hi
        )
        return mono
    if m is None or not m.is_classical:
        names = ", ".join(repr(c.value) for c in Method if c.is_classical)
        raise ValueError(f"method: expected one of {names}, got {method!r}")
    if x.shape[1] != 3:
        raise ValueError(
            f"method {method!r} needs colour (3-channel) traces, got one channel: POS and CHROM "
            "are undefined without colour differences; use 'mono' for near-infrared cameras"
        )
    # Crops are BGR (OpenCV); the core wants R, G, B columns.
    return dsp.extract_pulse(x[:, ::-1], fs_hz, dsp.PulseMethod(m.value), band_hz=band_hz)


def _parabola_peak(values: npt.NDArray[Any], i: int) -> float:
    """Sub-sample offset (-0.5..0.5) of a peak at ``i`` from a parabola through its neighbours."""
    if i <= 0 or i >= values.shape[0] - 1:
        return 0.0
    a, b, c = float(values[i - 1]), float(values[i]), float(values[i + 1])
    den = a - 2.0 * b + c
    return 0.0 if den >= 0.0 else max(-0.5, min(0.5, 0.5 * (a - c) / den))


def analysis_rate(times_s: FloatArray, band_hz: tuple[float, float], fps: float) -> float:
    """The camera's own median rate (resampling to it changes the samples least), at least 2.5x
    the band's top so the band stays below Nyquist."""
    dt = float(np.median(np.diff(times_s)))
    fs = 1.0 / dt if dt > 0 else fps
    return float(min(MAX_CAMERA_FPS, max(fs, 2.5 * band_hz[1])))


class ClassicalExtractor:
    """POS / CHROM / GREEN / MONO over the mean skin colour of each crop.

    Owns the trace buffer (one row per frame: the mean of each channel over the skin, then 1.0
    where the face box was re-aligned on that frame), the default skin weights (an ellipse over
    the face) and the one-channel fallback: POS, CHROM and GREEN on one-channel crops run
    ``"mono"``; ``"mono"`` on colour crops runs ``"green"`` (both logged).

    Parameters
    ----------
    method
        A classical :class:`Method`.
    band_hz
        Heart-rate band.
    window_s
        The monitor's analysis window. The trace buffer keeps ``max(window_s,
        MIN_BUFFER_WINDOW_S) + 2`` seconds at up to ``MAX_CAMERA_FPS`` (allocated once: pulse-rate
        variability asks for 60 s windows); :meth:`pulse_window` accepts windows up to that.
    box_scale
        The face tracker's box enlargement (places the default ellipse).
    fps
        Rate assumed when sample times give none.
    remove_reference
        Regress the surround's light (an observation's ``reference_weights``) out of the skin
        traces before the method (:mod:`rppg_sdk.illumination`). Off: the surround is only
        measured, for the confidence's ``reference_share``.
    """

    def __init__(
        self,
        method: Method,
        band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
        window_s: float = 10.0,
        box_scale: float = 1.5,
        fps: float = 30.0,
        remove_reference: bool = False,
    ) -> None:
        self.method = Method(method)
        if not self.method.is_classical:
            raise ValueError(f"method: expected a classical method, got {self.method.value!r}")
        self.band_hz = band_hz
        self.box_scale = float(box_scale)
        self.fps = float(fps)
        self.max_window_s = max(float(window_s), MIN_BUFFER_WINDOW_S)
        self.remove_reference = bool(remove_reference)
        self._traces: Any = None  # the core's PulseWindowBuilder
        self._channels = 0
        self._weights: Float32Array | None = None
        self._effective: Method | None = None
        self._anchor: Float32Array | None = None
        # Privacy: the template is a picture of the face; it is renewed every half window so
        # no picture older than the analysis window is held (the position stays continuous:
        # the offset measured at the renewal is carried).
        self._anchor_s = 0.0
        self._anchor_offset = (0.0, 0.0)
        self._renew_s = 0.5 * float(window_s)

    @property
    def method_name(self) -> str:
        return (self._effective or self.method).value

    def push(self, obs: SkinObservation, timestamp_s: float) -> None:
        crop = obs.crop
        channels = int(crop.shape[2])
        if self._traces is None or channels != self._channels:
            self._start(channels)
        weights = obs.skin_weights
        if weights is None or float(weights.sum()) < _MIN_MASK_WEIGHT:
            if self._weights is None or self._weights.shape[0] != crop.shape[0]:
                self._weights = face_weights(crop.shape[0], self.box_scale)
            weights = self._weights
        means = skin_means(crop, weights)
        ref = obs.reference_weights
        reference = None
        if ref is not None and ref.shape == crop.shape[:2] and float(ref.sum()) >= _MIN_MASK_WEIGHT:
            reference = skin_means(crop, ref)
        x, y = self._position(crop, obs.moved, timestamp_s)
        self._traces.push(timestamp_s, means, reference, x, y, bool(obs.moved))

    def push_means(
        self,
        timestamp_s: float,
        means: npt.ArrayLike,
        reference: npt.ArrayLike | None = None,
        position_xy: tuple[float, float] = (0.0, 0.0),
        moved: bool = False,
    ) -> None:
        """Add one frame's measurements directly (a caller with its own ROI, or a replay).

        Parameters
        ----------
        timestamp_s
            Capture time; strictly increasing between resets.
        means
            The skin's mean per channel ``(C,)`` in crop order (BGR, or one channel).
        reference
            The surround's means ``(C,)``, or ``None``.
        position_xy
            The face's position inside the crop (head motion), pixels.
        moved
            The face box was re-aligned on this frame.
        """
        m = np.ascontiguousarray(means, dtype=np.float64).reshape(-1)
        if m.shape[0] not in (1, 3):
            raise ValueError(f"means: expected 1 or 3 channels, got {m.shape[0]}")
        if self._traces is None or m.shape[0] != self._channels:
            self._start(int(m.shape[0]))
        r = None if reference is None else np.ascontiguousarray(reference, dtype=np.float64)
        self._traces.push(
            float(timestamp_s), m, r, float(position_xy[0]), float(position_xy[1]), bool(moved)
        )

    def _position(
        self, crop: npt.NDArray[np.uint8], moved: bool, timestamp_s: float = 0.0
    ) -> tuple[float, float]:
        """Where the face is inside the crop against the crop at the box's last placement:
        the anchor's centre matched in a half-size grey crop (normalised cross-correlation,
        refined to sub-pixel by a parabola; tens of microseconds). Against a fixed anchor, not
        the previous frame, so the position does not drift. The head's own periodic motion
        (nodding, talking) colours the skin traces at its rate; knowing it lets the confidence
        say so. Returns (x, y) in crop pixels."""
        grey = crop[:, :, min(1, crop.shape[2] - 1)]
        side = max(16, crop.shape[0] // 2)
        small = np.asarray(
            cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA), dtype=np.float32
        )
        anchor = self._anchor
        if moved or anchor is None or anchor.shape != small.shape:
            self._anchor = small
            self._anchor_s = timestamp_s
            self._anchor_offset = (0.0, 0.0)
            return 0.0, 0.0
        m = max(2, side // 8)
        score = cv2.matchTemplate(small, anchor[m:-m, m:-m], cv2.TM_CCOEFF_NORMED)
        _, _, _, (ix, iy) = cv2.minMaxLoc(score)
        scale = crop.shape[0] / side
        ox, oy = self._anchor_offset
        x = ox + (ix - m + _parabola_peak(score[iy, :], ix)) * scale
        y = oy + (iy - m + _parabola_peak(score[:, ix], iy)) * scale
        if timestamp_s - self._anchor_s >= self._renew_s:
            self._anchor, self._anchor_s, self._anchor_offset = small, timestamp_s, (x, y)
        return x, y

    def _start(self, channels: int) -> None:
        m = self.method
        if channels == 1 and m in (Method.POS, Method.CHROM, Method.GREEN):
            _log.warning(
                "one-channel (near-infrared/gray) frames: %s needs colour; using 'mono' (the "
                "channel's own relative change) instead",
                m.value,
            )
            m = Method.MONO
        elif channels == 3 and m is Method.MONO:
            _log.warning("colour frames with method 'mono': using 'green'")
            m = Method.GREEN
        self._effective = m
        self._channels = channels
        self._traces = _core.PulseWindowBuilder(
            float(self.band_hz[0]), float(self.band_hz[1]), m.value, channels, True,
            self.max_window_s, self.fps, self.remove_reference,
        )  # fmt: skip
        self._anchor = None

    def pulse_window(
        self, end_s: float, window_s: float, min_window_s: float
    ) -> PulseWindow | None:
        buf = self._traces
        if buf is None or self._effective is None:
            return None
        w = buf.build(float(end_s), float(window_s), float(min_window_s))
        if w is None:
            return None
        return PulseWindow(
            times_s=w["times_s"],
            pulse=w["pulse"],
            fs_hz=float(w["fs_hz"]),
            box_moves=int(w["box_moves"]),
            method_name=self._effective.value,
            input_channels=self._channels,
            traces=w["traces"],
            reference=w["reference"],
            motion=w["motion"],
        )

    def reset(self) -> None:
        self._anchor = None
        if self._traces is not None:
            self._traces.clear()

    def close(self) -> None:
        self._traces = None
