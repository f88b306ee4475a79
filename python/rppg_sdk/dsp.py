"""Signal processing for rPPG, backed by the C++ core (``rppg_sdk._core``).

Everything here takes and returns numpy arrays with units in the names: times in seconds
(``timestamps_s``), rates in hertz (``fs_hz``), heart rates in beats per minute (``bpm``).
Inputs are validated here, before any C++ runs, and bad input raises ``ValueError`` or
``TypeError`` naming what was expected and what arrived.

The chain a heart-rate reading goes through::

    camera timestamps + colour traces
      -> resample_uniform      (cameras drop and jitter frames)
      -> extract_pulse         (GREEN / CHROM / POS: colour traces -> one pulse waveform)
      -> detrend, bandpass     (smoothness-priors detrend, FFT band-pass)
      -> estimate_heart_rate   (zero-padded periodogram or Welch, peak refined far below the
                                bin spacing, harmonic guard, SNR and irrelevant power ratio)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rppg_sdk import _core

__all__ = [
    "DEFAULT_BAND_HZ",
    "FrameRingBuffer",
    "HarmonicCorrection",
    "HeartRateEstimate",
    "PulseMethod",
    "SignalQuality",
    "SpectralOptions",
    "Spectrum",
    "TimeSeriesBuffer",
    "UniformSignal",
    "bandpass",
    "detrend",
    "estimate_heart_rate",
    "extract_pulse",
    "power_spectrum",
    "resample_uniform",
    "signal_quality",
]

#: Default heart-rate band in Hz: 0.7-4.0 Hz is 42-240 bpm. The papers use 40-250 bpm.
DEFAULT_BAND_HZ: tuple[float, float] = (0.7, 4.0)

# Largest magnitude accepted in a signal. Squares of larger values overflow float64 power sums.
_MAX_ABS_VALUE = 1e150
# Longest signal accepted (samples): 24 h at 30 Hz; longer is almost certainly a unit mistake.
_MAX_SAMPLES = 24 * 3600 * 30
_MAX_NFFT = 1 << 22
_MIN_DETREND_LAMBDA = 1e-6

FloatArray = npt.NDArray[np.float64]


class PulseMethod(str, Enum):
    """Classical ways to turn RGB skin-colour traces into one pulse waveform."""

    GREEN = "green"
    """The green channel alone (Verkruysse et al. 2008): simplest, weakest against motion."""
    CHROM = "chrom"
    """Chrominance projection (de Haan & Jeanne 2013): cancels specular reflection."""
    POS = "pos"
    """Plane orthogonal to skin (Wang et al. 2017): 1.6 s windows with overlap-add."""


class HarmonicCorrection(str, Enum):
    """What the harmonic guard did to the raw spectral peak."""

    NONE = "none"
    HALVED = "halved"
    """The peak was the second harmonic; the fundamental at half its frequency is reported."""
    DOUBLED = "doubled"
    """The peak was a sub-harmonic (a missed fundamental); twice its frequency is reported."""


@dataclass(frozen=True)
class SpectralOptions:
    """How a power spectrum is computed and its heart-rate peak picked.

    Parameters
    ----------
    band_hz
        Heart-rate band ``(low, high)`` in Hz; the peak is searched inside it and power outside
        it counts as irrelevant.
    nfft
        FFT length after zero-padding, rounded up to the next length whose prime factors are
        only 2, 3 and 5 (a large prime factor makes an FFT quadratic). ``None`` picks the next
        power of two at or above ``max(2 * n, 512)`` (``n`` the signal or Welch segment
        length). The peak is refined on the continuous spectrum afterwards, so the reported
        heart rate is not quantised to the bin spacing either way.
    window
        ``"hann"`` (default) or ``"boxcar"`` (no window).
    method
        ``"periodogram"`` (one FFT of the whole signal) or ``"welch"`` (averaged segments).
    welch_segment_s
        Segment length for Welch, in seconds; segments overlap by half.
    detrend_lambda
        Smoothness-priors regularisation (Tarvainen et al. 2002) applied before the spectrum,
        in samples. ``"auto"`` (default) picks the lambda whose cut-off is half the band's low
        edge at the signal's rate, so the band is not attenuated whatever ``fs_hz`` is (a fixed
        lambda of 100 cuts at ~0.5 Hz at 30 Hz but at ~1 Hz at 60 Hz, which can hide a slow
        pulse's fundamental). ``None`` only removes the mean.
    half_harmonic_ratio
        Harmonic guard: when the spectrum near half the peak frequency (still inside the band)
        holds more than this share of the peak's power, the lower frequency is reported.
    missed_fundamental_ratio
        The opposite check: when the spectrum at twice the peak frequency holds more than this
        share of the peak's power while three times the peak frequency (a harmonic of the low
        peak, not of the high one) holds less than a fifth of it, the higher frequency is
        reported. ``0`` or less disables the check.
    snr_halfwidth_bpm
        Half-width around the fundamental and its second harmonic counted as signal for the
        SNR (de Haan & Jeanne 2013 use 6 bpm).
    """

    band_hz: tuple[float, float] = DEFAULT_BAND_HZ
    nfft: int | None = None
    window: Literal["hann", "boxcar"] = "hann"
    method: Literal["periodogram", "welch"] = "periodogram"
    welch_segment_s: float = 5.0
    detrend_lambda: float | Literal["auto"] | None = "auto"
    half_harmonic_ratio: float = 0.5
    missed_fundamental_ratio: float = 0.9
    snr_halfwidth_bpm: float = 6.0

    def __post_init__(self) -> None:
        # Normalised to a tuple of floats so options are hashable (configs are cached per options).
        object.__setattr__(self, "band_hz", _check_band(self.band_hz))
        if self.nfft is not None:
            if not isinstance(self.nfft, int | np.integer) or isinstance(self.nfft, bool):
                raise TypeError(f"nfft: expected an int or None, got {type(self.nfft).__name__}")
            if not 8 <= int(self.nfft) <= _MAX_NFFT:
                raise ValueError(f"nfft: expected 8 <= nfft <= {_MAX_NFFT}, got {self.nfft}")
        if self.window not in ("hann", "boxcar"):
            raise ValueError(f"window: expected 'hann' or 'boxcar', got {self.window!r}")
        if self.method not in ("periodogram", "welch"):
            raise ValueError(f"method: expected 'periodogram' or 'welch', got {self.method!r}")
        _check_positive("welch_segment_s", self.welch_segment_s)
        if self.detrend_lambda is not None and self.detrend_lambda != "auto":
            _check_positive("detrend_lambda", self.detrend_lambda)
            if self.detrend_lambda < _MIN_DETREND_LAMBDA:
                raise ValueError(
                    f"detrend_lambda: expected >= {_MIN_DETREND_LAMBDA:g}, "
                    f"got {self.detrend_lambda:g}"
                )
        _check_finite("half_harmonic_ratio", self.half_harmonic_ratio)
        _check_finite("missed_fundamental_ratio", self.missed_fundamental_ratio)
        _check_positive("snr_halfwidth_bpm", self.snr_halfwidth_bpm)


@dataclass(frozen=True)
class Spectrum:
    """A one-sided power spectrum: ``power[k]`` at ``freqs_hz[k]`` (arbitrary units)."""

    freqs_hz: FloatArray
    power: FloatArray


@dataclass(frozen=True)
class SignalQuality:
    """Label-free quality of a pulse waveform, from its spectrum.

    Attributes
    ----------
    snr_db
        Power within ``snr_halfwidth_bpm`` of the fundamental and of its second harmonic
        against the rest of the band, in dB (de Haan & Jeanne 2013). Clean pulses score
        above about 0 dB; noise scores well below.
    irrelevant_power_ratio
        Share of the power outside the heart-rate band, 0-1 (Gideon & Stent 2021). Low is good.
    """

    snr_db: float
    irrelevant_power_ratio: float


@dataclass(frozen=True)
class HeartRateEstimate:
    """A heart rate read off a pulse waveform's spectrum.

    Attributes
    ----------
    bpm
        Heart rate in beats per minute, after the harmonic guard.
    frequency_hz
        The same in Hz.
    raw_peak_bpm
        The strongest in-band peak before the harmonic guard.
    harmonic_correction
        What the harmonic guard did.
    snr_db, irrelevant_power_ratio
        See :class:`SignalQuality`; computed around ``bpm``.
    """

    bpm: float
    frequency_hz: float
    raw_peak_bpm: float
    harmonic_correction: HarmonicCorrection
    snr_db: float
    irrelevant_power_ratio: float

    @property
    def quality(self) -> SignalQuality:
        """The signal-quality part of this estimate."""
        return SignalQuality(self.snr_db, self.irrelevant_power_ratio)


@dataclass(frozen=True)
class UniformSignal:
    """A signal on a uniform time grid: ``values[i]`` at ``timestamps_s[i]``."""

    timestamps_s: FloatArray
    values: FloatArray
    fs_hz: float = field(default=0.0)


# ----------------------------------------------------------------------------- validation


def _check_finite(name: str, value: float) -> None:
    if not isinstance(value, int | float | np.floating | np.integer) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name}: expected a finite number, got {value}")


def _check_positive(name: str, value: float) -> None:
    _check_finite(name, value)
    if float(value) <= 0.0:
        raise ValueError(f"{name}: expected a positive number, got {value}")


def _check_band(band_hz: Sequence[float]) -> tuple[float, float]:
    if not isinstance(band_hz, tuple | list) or len(band_hz) != 2:
        raise ValueError(f"band_hz: expected (low_hz, high_hz), got {band_hz!r}")
    lo, hi = band_hz
    _check_positive("band_hz[0]", lo)
    _check_positive("band_hz[1]", hi)
    if not float(lo) < float(hi):
        raise ValueError(f"band_hz: expected low < high, got ({lo}, {hi})")
    return float(lo), float(hi)


def _real_array(name: str, x: object) -> npt.NDArray[Any]:
    """``x`` as a numpy array of a real numeric dtype (any shape), else TypeError/ValueError."""
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, list | tuple):
        try:
            arr = np.asarray(x)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"{name}: expected a rectangular array, got ragged input") from exc
    else:
        raise TypeError(f"{name}: expected a numpy array, got {type(x).__name__}")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{name}: expected a real numeric dtype, got {arr.dtype}")
    return arr


def _as_signal(name: str, x: Any, *, ndim: tuple[int, ...] = (1,), min_len: int = 1) -> FloatArray:
    """Validate a real numeric array and return it as C-contiguous float64."""
    arr = _real_array(name, x)
    if arr.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name}: expected a {want} array, got shape {arr.shape}")
    if arr.shape[0] < min_len:
        raise ValueError(f"{name}: expected at least {min_len} samples, got {arr.shape[0]}")
    if arr.shape[0] > _MAX_SAMPLES:
        raise ValueError(f"{name}: expected at most {_MAX_SAMPLES} samples, got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if out.size:
        # One pass: NaN fails the comparison, inf exceeds the bound.
        peak = float(np.abs(out).max())
        if not peak <= _MAX_ABS_VALUE:
            if not math.isfinite(peak) or not np.isfinite(out).all():
                raise ValueError(f"{name}: expected finite values, got NaN or inf")
            raise ValueError(f"{name}: expected |values| <= {_MAX_ABS_VALUE:g}, got {peak:g}")
    return out


_DEFAULT_OPTIONS = SpectralOptions()


def _options(options: SpectralOptions | None) -> SpectralOptions:
    if options is None:
        return _DEFAULT_OPTIONS  # built once: constructing and validating one costs ~3 us
    if not isinstance(options, SpectralOptions):
        raise TypeError(f"options: expected SpectralOptions or None, got {type(options).__name__}")
    return options


def _samples_in(name: str, seconds: float, fs_hz: float) -> int:
    """``seconds`` at ``fs_hz`` as a whole number of samples, bounded like any signal."""
    samples = seconds * fs_hz
    if not samples <= _MAX_SAMPLES:
        raise ValueError(
            f"{name}: expected at most {_MAX_SAMPLES / fs_hz:g} s at {fs_hz:g} Hz, "
            f"got {seconds:g} s"
        )
    return int(round(samples))


def _check_fs(fs_hz: float) -> float:
    _check_positive("fs_hz", fs_hz)
    if float(fs_hz) > 1e6:
        raise ValueError(f"fs_hz: expected at most 1e6 Hz, got {fs_hz}")
    return float(fs_hz)


def _min_samples(fs_hz: float, band_hz: tuple[float, float]) -> int:
    """Samples needed for one full period of the band's low edge (and at least 8)."""
    need = fs_hz / band_hz[0]
    # A vanishing low edge asks for more samples than any signal may hold (not an overflow).
    return max(8, math.ceil(need)) if need <= _MAX_SAMPLES else _MAX_SAMPLES + 1


def _check_band_fits(fs_hz: float, band_hz: tuple[float, float]) -> None:
    if band_hz[1] >= fs_hz / 2.0:
        raise ValueError(
            f"band_hz: expected the high edge below Nyquist ({fs_hz / 2.0:g} Hz at fs_hz="
            f"{fs_hz:g}), got {band_hz[1]:g} Hz"
        )


@functools.lru_cache(maxsize=64)
def _core_config(fs_hz: float, n: int, options: SpectralOptions) -> _core.SpectralConfig:
    # Cached: a monitor asks with the same (rate, length, options) every update. The C++ side
    # only reads the config, so sharing one instance is safe.
    lo, hi = options.band_hz
    _check_band_fits(fs_hz, (lo, hi))
    cfg = _core.SpectralConfig()
    cfg.fs_hz = fs_hz
    cfg.f_lo_hz = lo
    cfg.f_hi_hz = hi
    cfg.nfft = int(options.nfft) if options.nfft is not None else 0
    cfg.hann = options.window == "hann"
    if options.method == "welch":
        seg = _samples_in("welch_segment_s", options.welch_segment_s, fs_hz)
        cfg.welch_segment = max(8, min(seg, n))
    else:
        cfg.welch_segment = 0
    if options.detrend_lambda == "auto":
        cfg.detrend_lambda = -1.0  # the C++ core derives it from fs_hz and the band
    else:
        cfg.detrend_lambda = float(options.detrend_lambda or 0.0)
    cfg.half_harmonic_ratio = float(options.half_harmonic_ratio)
    cfg.missed_fundamental_ratio = float(options.missed_fundamental_ratio)
    cfg.snr_halfwidth_hz = float(options.snr_halfwidth_bpm) / 60.0
    return cfg


# ----------------------------------------------------------------------------- functions


def resample_uniform(
    timestamps_s: npt.ArrayLike, values: npt.ArrayLike, fs_hz: float
) -> UniformSignal:
    """Resample an irregularly timed signal onto a uniform grid by linear interpolation.

    Parameters
    ----------
    timestamps_s
        Strictly increasing sample times in seconds, shape ``(T,)``, ``T >= 2``.
    values
        Samples, shape ``(T,)`` or ``(T, C)`` for ``C`` channels.
    fs_hz
        Rate of the output grid in Hz.

    Returns
    -------
    UniformSignal
        Grid ``timestamps_s[0] + k / fs_hz`` up to the last input time, with values of the
        input's shape apart from the first axis.
    """
    t = _as_signal("timestamps_s", timestamps_s, min_len=2)
    v = _as_signal("values", values, ndim=(1, 2), min_len=2)
    fs = _check_fs(fs_hz)
    if v.shape[0] != t.shape[0]:
        raise ValueError(
            f"values: expected {t.shape[0]} samples to match timestamps_s, got {v.shape[0]}"
        )
    if not np.all(np.diff(t) > 0):
        raise ValueError(
            "timestamps_s: expected strictly increasing times, got a repeat or a step back"
        )
    span = float(t[-1] - t[0])
    if span * fs > _MAX_SAMPLES:
        raise ValueError(
            f"timestamps_s: expected a span of at most {_MAX_SAMPLES / fs:g} s at {fs:g} Hz, "
            f"got {span:g} s"
        )
    one_d = v.ndim == 1
    grid_t, grid_v = _core.resample_uniform(t, v.reshape(t.shape[0], -1), fs)
    return UniformSignal(grid_t, grid_v[:, 0] if one_d else grid_v, fs)


def detrend(signal: npt.ArrayLike, lambda_: float = 100.0) -> FloatArray:
    """Remove slow trends with the smoothness-priors method (Tarvainen et al. 2002).

    Solves ``(I + lambda_**2 D2' D2) z_trend = z`` (``D2`` the second-difference operator) with
    a banded Cholesky factorisation in O(n) and returns ``z - z_trend``. It acts as a high-pass
    filter with a cut-off near ``fs / (2 pi sqrt(lambda_))``: about 0.5 Hz at 30 Hz with the
    default ``lambda_ = 100``.

    Parameters
    ----------
    signal
        Shape ``(n,)``, ``n >= 3``.
    lambda_
        Regularisation, in samples; larger keeps more low frequencies.
    """
    x = _as_signal("signal", signal, min_len=3)
    _check_positive("lambda_", lambda_)
    if lambda_ < _MIN_DETREND_LAMBDA:
        # Below this the trend is the signal itself (and 1 / lambda^2 overflows near 1e-154).
        raise ValueError(f"lambda_: expected >= {_MIN_DETREND_LAMBDA:g}, got {lambda_:g}")
    return _core.detrend(x, float(lambda_))


def bandpass(
    signal: npt.ArrayLike,
    fs_hz: float,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
    taper_hz: float = 0.1,
) -> FloatArray:
    """Zero-phase FFT band-pass: keep ``band_hz`` of the spectrum, zero the rest.

    The signal is mirror-padded to tame the circular wrap of the FFT, transformed, multiplied by
    a mask that is 1 inside the band and falls to 0 with a raised-cosine ``taper_hz`` wide outside
    each edge (0 gives a brick wall), and transformed back.

    Parameters
    ----------
    signal
        Shape ``(n,)``; long enough for one period of the band's low edge.
    fs_hz
        Sample rate in Hz.
    band_hz
        ``(low, high)`` in Hz, high below Nyquist.
    taper_hz
        Width of the raised-cosine roll-off outside each edge, in Hz (``>= 0``).
    """
    fs = _check_fs(fs_hz)
    lo, hi = _check_band(band_hz)
    _check_band_fits(fs, (lo, hi))
    _check_finite("taper_hz", taper_hz)
    if taper_hz < 0:
        raise ValueError(f"taper_hz: expected >= 0, got {taper_hz}")
    x = _as_signal("signal", signal, min_len=_min_samples(fs, (lo, hi)))
    return _core.bandpass(x, fs, lo, hi, float(taper_hz))


def power_spectrum(
    signal: npt.ArrayLike, fs_hz: float, options: SpectralOptions | None = None
) -> Spectrum:
    """One-sided power spectrum (periodogram or Welch), zero-padded to ``options.nfft``.

    The signal is mean-removed and, unless ``options.detrend_lambda`` is ``None``, detrended
    first.
    """
    opts = _options(options)
    fs = _check_fs(fs_hz)
    x = _as_signal("signal", signal, min_len=_min_samples(fs, opts.band_hz))
    freqs, power = _core.power_spectrum(x, _core_config(fs, x.shape[0], opts))
    return Spectrum(freqs, power)


def estimate_heart_rate(
    signal: npt.ArrayLike, fs_hz: float, options: SpectralOptions | None = None
) -> HeartRateEstimate:
    """Heart rate from a pulse waveform: the spectral peak inside the band, refined.

    The strongest bin of the zero-padded spectrum inside ``options.band_hz`` is refined on the
    continuous spectrum (the windowed signal's DTFT) to far below the bin spacing, then the
    harmonic guard may halve or double it (see :class:`SpectralOptions`).

    Parameters
    ----------
    signal
        Pulse waveform, shape ``(n,)``, at least one period of the band's low edge long.
    fs_hz
        Sample rate in Hz.
    options
        Spectral options; defaults to :class:`SpectralOptions()`.
    """
    opts = _options(options)
    fs = _check_fs(fs_hz)
    x = _as_signal("signal", signal, min_len=_min_samples(fs, opts.band_hz))
    r = _core.estimate_heart_rate(x, _core_config(fs, x.shape[0], opts))
    return HeartRateEstimate(
        bpm=r.frequency_hz * 60.0,
        frequency_hz=r.frequency_hz,
        raw_peak_bpm=r.raw_peak_hz * 60.0,
        harmonic_correction=HarmonicCorrection(r.correction),
        snr_db=r.snr_db,
        irrelevant_power_ratio=r.irrelevant_power_ratio,
    )


def signal_quality(
    signal: npt.ArrayLike, fs_hz: float, bpm: float, options: SpectralOptions | None = None
) -> SignalQuality:
    """SNR (dB) around a given heart rate and the irrelevant power ratio of a waveform."""
    opts = _options(options)
    fs = _check_fs(fs_hz)
    _check_positive("bpm", bpm)
    x = _as_signal("signal", signal, min_len=_min_samples(fs, opts.band_hz))
    snr_db, ipr = _core.signal_quality(x, float(bpm) / 60.0, _core_config(fs, x.shape[0], opts))
    return SignalQuality(snr_db, ipr)


def extract_pulse(
    rgb_traces: npt.ArrayLike,
    fs_hz: float,
    method: PulseMethod | str = PulseMethod.POS,
    *,
    window_s: float = 1.6,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
) -> FloatArray:
    """Pulse waveform from mean skin-colour traces with a classical method.

    Parameters
    ----------
    rgb_traces
        Shape ``(T, 3)``, columns **R, G, B** (note: OpenCV frames are BGR; reverse them), on a
        uniform grid at ``fs_hz``. Values must be positive (mean intensities).
    fs_hz
        Sample rate in Hz.
    method
        :class:`PulseMethod` or its name.
    window_s
        Sliding window for POS and CHROM (overlap-add with a step of one sample for POS, half a
        window with a Hann taper for CHROM).
    band_hz
        CHROM band-passes its chrominance signals to this band before combining them.

    Returns
    -------
    numpy.ndarray
        Shape ``(T,)``: the pulse waveform, rising with blood volume like a contact PPG
        (GREEN and POS are negated relative to their textbook forms for that reason).
    """
    try:
        m = PulseMethod(method)
    except ValueError:
        names = ", ".join(repr(p.value) for p in PulseMethod)
        raise ValueError(f"method: expected one of {names}, got {method!r}") from None
    fs = _check_fs(fs_hz)
    lo, hi = _check_band(band_hz)
    _check_band_fits(fs, (lo, hi))
    _check_positive("window_s", window_s)
    win = _samples_in("window_s", window_s, fs)
    if win < 2:
        raise ValueError(f"window_s: expected at least 2 samples at {fs:g} Hz, got {window_s} s")
    x = _as_signal(
        "rgb_traces", rgb_traces, ndim=(2,), min_len=max(win, _min_samples(fs, (lo, hi)))
    )
    if x.shape[1] != 3:
        raise ValueError(f"rgb_traces: expected shape (T, 3), got {x.shape}")
    if np.any(x <= 0):
        raise ValueError("rgb_traces: expected positive mean intensities, got a value <= 0")
    if m is PulseMethod.GREEN:
        return _core.pulse_green(x)
    if m is PulseMethod.CHROM:
        return _core.pulse_chrom(x, fs, lo, hi, win)
    return _core.pulse_pos(x, win)


# ----------------------------------------------------------------------------- ring buffer


class FrameRingBuffer:
    """Fixed-capacity buffer of the newest video frames and their timestamps (C++).

    Frames of one shape ``(H, W, C)`` and dtype (``uint8`` or ``float32``) are copied in by
    :meth:`push`; when full, the oldest is overwritten. :meth:`window` copies the newest ``n``
    out oldest-first as one contiguous array. One thread may push while another reads.

    Parameters
    ----------
    capacity
        Number of frames kept.
    frame_shape
        ``(H, W, C)`` (or ``(H, W)``, taken as ``C = 1``).
    dtype
        ``numpy.uint8`` or ``numpy.float32``.
    """

    def __init__(
        self,
        capacity: int,
        frame_shape: tuple[int, ...],
        dtype: npt.DTypeLike = np.uint8,
    ) -> None:
        if not isinstance(capacity, int | np.integer) or isinstance(capacity, bool):
            raise TypeError(f"capacity: expected an int, got {type(capacity).__name__}")
        if capacity < 1:
            raise ValueError(f"capacity: expected >= 1, got {capacity}")
        try:
            shape = tuple(frame_shape)
        except TypeError:
            raise TypeError(
                f"frame_shape: expected a tuple (H, W, C), got {type(frame_shape).__name__}"
            ) from None
        if len(shape) == 2:
            shape = (*shape, 1)
        if len(shape) != 3 or not all(isinstance(s, int | np.integer) and s > 0 for s in shape):
            raise ValueError(
                f"frame_shape: expected (H, W, C) of positive ints, got {frame_shape!r}"
            )
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype: expected uint8 or float32, got {dtype!r}") from None
        if dt not in (np.dtype(np.uint8), np.dtype(np.float32)):
            raise TypeError(f"dtype: expected uint8 or float32, got {dt}")
        nbytes = int(capacity) * math.prod(int(v) for v in shape) * dt.itemsize
        if nbytes > 8 << 30:
            raise ValueError(
                f"capacity: expected frames totalling at most 8 GiB, got {capacity} frames of "
                f"{shape} = {nbytes} bytes"
            )
        h, w, c = (int(s) for s in shape)
        self._impl = _core.FrameRingBuffer(int(capacity), h, w, c, dt.name)

    def push(self, frame: npt.NDArray[Any], timestamp_s: float) -> None:
        """Copy ``frame`` in with its timestamp.

        Parameters
        ----------
        frame
            Shape ``(H, W, C)`` (``(H, W)`` when ``C == 1``) of the buffer's dtype; any strides.
        timestamp_s
            Seconds; finite and greater than the previous frame's.

        Raises
        ------
        ValueError
            Wrong shape, a NaN/inf timestamp or one not after the previous one.
        TypeError
            Wrong dtype or not an array.
        """
        # Checked in C++ (with the GIL held) so the hot path costs one call.
        self._impl.push(frame, timestamp_s)

    def window(self, n: int) -> tuple[npt.NDArray[Any], FloatArray]:
        """The newest ``n`` frames, oldest first.

        Returns
        -------
        frames, timestamps_s
            A new contiguous ``(n, H, W, C)`` array and its ``(n,)`` float64 timestamps.

        Raises
        ------
        ValueError
            ``n`` below 1 or above :attr:`size`.
        """
        if not isinstance(n, int | np.integer) or isinstance(n, bool):
            raise TypeError(f"n: expected an int, got {type(n).__name__}")
        frames, timestamps_s = self._impl.window(int(n))
        return frames, timestamps_s

    @property
    def size(self) -> int:
        """Frames currently held."""
        return int(self._impl.size)

    @property
    def capacity(self) -> int:
        """Frames the buffer can hold."""
        return int(self._impl.capacity)

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of every frame."""
        return tuple(self._impl.frame_shape)  # type: ignore[return-value]

    @property
    def dtype(self) -> np.dtype[Any]:
        """Element type of the frames."""
        return np.dtype(self._impl.dtype)

    @property
    def last_timestamp_s(self) -> float | None:
        """Timestamp of the newest frame, or ``None`` when empty."""
        return None if self._impl.size == 0 else float(self._impl.last_timestamp_s)

    def clear(self) -> None:
        """Drop every frame (and the timestamp ordering constraint)."""
        self._impl.clear()

    def __len__(self) -> int:
        return int(self._impl.size)

    def __repr__(self) -> str:
        return (
            f"FrameRingBuffer(capacity={self.capacity}, frame_shape={self.frame_shape}, "
            f"dtype={self.dtype.name}, size={self.size})"
        )


# ----------------------------------------------------------------------------- time series


def _check_count(name: str, value: object) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name}: expected >= 1, got {value}")
    return int(value)


def _check_seconds(name: str, value: object) -> float:
    if not isinstance(value, int | float | np.floating | np.integer) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number of seconds, got {type(value).__name__}")
    return float(value)


def _as_samples(name: str, x: object) -> FloatArray:
    """``x`` as a C-contiguous float64 array; shapes and finiteness are checked by the core."""
    return np.ascontiguousarray(_real_array(name, x), dtype=np.float64)


class TimeSeriesBuffer:
    """Fixed-capacity buffer of the newest multi-channel samples and their timestamps (C++).

    Each sample is ``channels`` float64 values with a timestamp in seconds; timestamps are finite
    and strictly increasing until :meth:`clear` (the rules of :class:`FrameRingBuffer`). When
    full, the oldest sample is overwritten. One thread may push while others read; every read
    returns whole samples with their own timestamps.

    Parameters
    ----------
    capacity
        Number of samples kept.
    channels
        Values per sample (for example 3 for RGB traces).

    Raises
    ------
    TypeError
        ``capacity`` or ``channels`` is not an int.
    ValueError
        ``capacity`` or ``channels`` below 1, or a buffer over 8 GiB.
    """

    def __init__(self, capacity: int, channels: int) -> None:
        capacity = _check_count("capacity", capacity)
        channels = _check_count("channels", channels)
        nbytes = capacity * (channels + 1) * 8
        if nbytes > 8 << 30:
            raise ValueError(
                f"capacity: expected samples totalling at most 8 GiB, got {capacity} samples of "
                f"{channels} channels = {nbytes} bytes"
            )
        self._impl = _core.TimeSeriesBuffer(capacity, channels)

    def push(self, values: npt.ArrayLike, timestamp_s: float) -> None:
        """Copy one sample in with its timestamp.

        Parameters
        ----------
        values
            Shape ``(channels,)``, finite real numbers.
        timestamp_s
            Seconds; finite and greater than the previous sample's.

        Raises
        ------
        ValueError
            Wrong shape, a NaN/inf value, or a timestamp that is NaN/inf or not after the
            previous one (the buffer is then unchanged).
        TypeError
            ``values`` is not a real numeric array, or ``timestamp_s`` not a number.
        """
        _check_seconds("timestamp_s", timestamp_s)
        self._impl.push(_as_samples("values", values), timestamp_s)

    def push_many(self, values: npt.ArrayLike, timestamps_s: npt.ArrayLike) -> None:
        """Copy ``n`` samples in, as ``n`` calls of :meth:`push` would, but all or nothing.

        Parameters
        ----------
        values
            Shape ``(n, channels)``, finite real numbers.
        timestamps_s
            Shape ``(n,)``; finite, strictly increasing, and after the newest sample held.

        Raises
        ------
        ValueError
            Mismatched shapes, a NaN/inf value, or a bad timestamp; nothing is stored then.
        TypeError
            An argument is not a real numeric array.
        """
        self._impl.push_many(
            _as_samples("values", values), _as_samples("timestamps_s", timestamps_s)
        )

    def window(self, n: int | None = None) -> tuple[FloatArray, FloatArray]:
        """The newest ``n`` samples (all when ``None``), oldest first.

        Parameters
        ----------
        n
            How many; ``1 <= n <= size``. ``None`` takes every sample held (possibly none).

        Returns
        -------
        values, timestamps_s
            New arrays of shape ``(n, channels)`` and ``(n,)``, float64.

        Raises
        ------
        ValueError
            ``n`` below 1 or above :attr:`size`.
        TypeError
            ``n`` is not an int or ``None``.
        """
        if n is None:
            values, timestamps_s = self._impl.since(-math.inf)
        else:
            if not isinstance(n, int | np.integer) or isinstance(n, bool):
                raise TypeError(f"n: expected an int or None, got {type(n).__name__}")
            values, timestamps_s = self._impl.window(int(n))
        return values, timestamps_s

    def since(self, start_s: float) -> tuple[FloatArray, FloatArray]:
        """Every sample with a timestamp at or after ``start_s``, oldest first.

        Parameters
        ----------
        start_s
            Seconds; ``-inf`` takes everything, a time after the newest sample nothing.

        Returns
        -------
        values, timestamps_s
            New arrays of shape ``(k, channels)`` and ``(k,)``, float64 (``k`` may be 0).

        Raises
        ------
        ValueError
            ``start_s`` is NaN.
        TypeError
            ``start_s`` is not a number.
        """
        values, timestamps_s = self._impl.since(_check_seconds("start_s", start_s))
        return values, timestamps_s

    @property
    def size(self) -> int:
        """Samples currently held."""
        return int(self._impl.size)

    @property
    def capacity(self) -> int:
        """Samples the buffer can hold."""
        return int(self._impl.capacity)

    @property
    def channels(self) -> int:
        """Values per sample."""
        return int(self._impl.channels)

    @property
    def last_timestamp_s(self) -> float | None:
        """Timestamp of the newest sample, or ``None`` when empty."""
        last = float(self._impl.last_timestamp_s)  # one read: NaN when empty, even mid-clear()
        return None if math.isnan(last) else last

    def clear(self) -> None:
        """Drop every sample (and the timestamp ordering constraint)."""
        self._impl.clear()

    def __len__(self) -> int:
        return int(self._impl.size)

    def __repr__(self) -> str:
        return (
            f"TimeSeriesBuffer(capacity={self.capacity}, channels={self.channels}, "
            f"size={self.size})"
        )


# ----------------------------------------------------------------------- beats, PRV, breathing
# Issue 12: beat-to-beat timing and breathing from a pulse waveform (csrc/src/variability.cpp,
# csrc/src/breathing.cpp). From a camera or a fingertip the beats are pulse-wave peaks, not ECG
# R-peaks: the variability is pulse-rate variability (PRV), which approximates ECG heart-rate
# variability (HRV) at rest but also carries the beat-to-beat change of the pulse transit time.

#: Pulse-rate band the beat search is guided by: 0.7-3.5 Hz is 42-210 bpm.
PRV_BAND_HZ: tuple[float, float] = (0.7, 3.5)
#: Breathing band: 0.08-0.5 Hz is 4.8-30 breaths per minute (at rest 12-20; paced breathing at
#: 6 per minute must not sit on the band's edge).
BREATHING_BAND_HZ: tuple[float, float] = (0.08, 0.5)
# Shortest pulses accepted: PRV needs a few beats, breathing a few breaths; the confidences say
# how few is too few (they count differences and breaths).
_MIN_PRV_S = 5.0
_MIN_BREATHING_S = 10.0
# Highest frequency kept in the pulse whose peaks time the beats (its first harmonics).
_TIMING_F_HI_HZ = 5.0

__all__ += [
    "BREATHING_BAND_HZ",
    "PRV_BAND_HZ",
    "Beats",
    "BreathingRate",
    "PulseRateVariability",
    "RespiratoryModulation",
    "breathing_rate",
    "detect_beats",
    "pulse_rate_variability",
    "variability_from_beats",
]


@dataclass(frozen=True)
class Beats:
    """The beats of a pulse waveform (:func:`detect_beats`).

    Attributes
    ----------
    times_s
        Systolic peak times, seconds from the first sample, refined to sub-sample time by a
        parabola through the band-passed pulse's peak sample and its neighbours.
    amplitudes
        Each beat's height above the trough before it (band-passed pulse units).
    rate_bpm
        The mean pulse rate (spectral peak) that guided the search.
    snr_db
        Spectral SNR of the pulse at that rate.
    shape_correlation
        Median correlation of each beat's waveform with the median beat, -1..1: a clean pulse
        repeats its shape (0.9 and above), noise does not (about 0.5).
    """

    times_s: FloatArray
    amplitudes: FloatArray
    rate_bpm: float
    snr_db: float
    shape_correlation: float


@dataclass(frozen=True)
class PulseRateVariability:
    """Beat-to-beat variability of the pulse rate over a window (:func:`pulse_rate_variability`).

    PRV, not HRV: the intervals are between pulse-wave peaks, not ECG R-peaks.

    Attributes
    ----------
    rmssd_ms
        Root mean square of successive differences of accepted intervals, in ms (short-term,
        vagal variability). Differences are taken only between two accepted neighbours.
    sdnn_ms
        Standard deviation of the accepted intervals, in ms (overall variability; grows with
        the window length).
    pnn50_percent
        Share of successive differences larger than 50 ms, in percent.
    mean_interval_ms
        Mean accepted interval, in ms (60000 / it is the mean pulse rate).
    beats_detected
        Beats found in the window.
    beats_used
        Beats that bound at least one accepted interval.
    intervals_used
        Accepted intervals.
    rejected_share
        Share of the intervals rejected as ectopic, missed or extra beats (0..1): out of
        0.25-2 s, or further than ``max_deviation`` from the median of their neighbours.
    timing_noise_ms
        Per-beat timing noise, estimated from how the offset between two fiducials of each
        beat (its peak and its steepest upstroke) changes from beat to beat: constant in a
        clean pulse, moved by noise. Noise of ``s`` ms adds about ``6 s**2`` to RMSSD squared.
        0 from :func:`variability_from_beats` (no waveform).
    confidence
        0..1: timing noise small against the RMSSD (it inflates RMSSD by less than 7 ms),
        clean, repeating beat shapes, few rejected intervals, at least 20 successive
        differences. Below 0.3: do not use the numbers.
    window_s
        Seconds of pulse the numbers come from.
    """

    rmssd_ms: float
    sdnn_ms: float
    pnn50_percent: float
    mean_interval_ms: float
    beats_detected: int
    beats_used: int
    intervals_used: int
    rejected_share: float
    timing_noise_ms: float
    confidence: float
    window_s: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain, rounded numbers for CSV / JSON."""
        return {
            "rmssd_ms": round(self.rmssd_ms, 2),
            "sdnn_ms": round(self.sdnn_ms, 2),
            "pnn50_percent": round(self.pnn50_percent, 2),
            "mean_interval_ms": round(self.mean_interval_ms, 2),
            "beats_detected": self.beats_detected,
            "beats_used": self.beats_used,
            "intervals_used": self.intervals_used,
            "rejected_share": round(self.rejected_share, 3),
            "timing_noise_ms": round(self.timing_noise_ms, 2),
            "confidence": round(self.confidence, 3),
            "window_s": round(self.window_s, 2),
        }


@dataclass(frozen=True)
class RespiratoryModulation:
    """One respiratory modulation's own breathing-rate estimate.

    Attributes
    ----------
    breaths_per_min
        The modulation series' spectral peak in the breathing band; ``None`` when the series
        was too short or flat to give one.
    quality
        Share of the band's power within 0.03 Hz of that peak (0..1).
    used
        Whether it agreed with the fused rate (within 3 breaths per minute).
    """

    breaths_per_min: float | None
    quality: float
    used: bool


@dataclass(frozen=True)
class BreathingRate:
    """Breathing rate from a pulse's respiratory modulations (:func:`breathing_rate`).

    Attributes
    ----------
    breaths_per_min
        The fused rate; ``None`` when no modulation gave one.
    confidence
        0..1: the modulations agree, their spectra are peaked, the beats are clean and the
        window holds at least four breaths. Below 0.3: do not use the number.
    amplitude
        RIAV: the beats' amplitudes (stroke volume falls with inspiration).
    frequency
        RIFV: the beat intervals (respiratory sinus arrhythmia).
    baseline
        RIIV: the pulse's baseline (venous volume follows the chest pressure). Pulses from POS
        or CHROM carry little of it (their sliding windows remove slow changes).
    beats
        Beats the modulations were sampled at.
    window_s
        Seconds of pulse the rate comes from.
    """

    breaths_per_min: float | None
    confidence: float
    amplitude: RespiratoryModulation
    frequency: RespiratoryModulation
    baseline: RespiratoryModulation
    beats: int
    window_s: float


def _pulse_for_beats(
    pulse: npt.ArrayLike, fs_hz: float, band_hz: tuple[float, float], min_s: float
) -> tuple[FloatArray, float, tuple[float, float]]:
    fs = _check_fs(fs_hz)
    lo, hi = _check_band(band_hz)
    _check_band_fits(fs, (lo, hi))
    need = max(math.ceil(min_s * fs), _min_samples(fs, (lo / 2.0, hi)), 16)
    x = _as_signal("pulse", pulse, min_len=1)
    if x.shape[0] < need:
        raise ValueError(
            f"pulse: expected at least {need} samples ({need / fs:.3g} s at {fs:g} Hz), got "
            f"{x.shape[0]}"
        )
    return x, fs, (lo, hi)


def _check_deviation(max_deviation: float) -> float:
    _check_finite("max_deviation", max_deviation)
    if not 0.0 < float(max_deviation) < 1.0:
        raise ValueError(f"max_deviation: expected 0 < max_deviation < 1, got {max_deviation}")
    return float(max_deviation)


def _prv(r: _core.VariabilityResult, window_s: float) -> PulseRateVariability:
    return PulseRateVariability(
        rmssd_ms=float(r.rmssd_ms),
        sdnn_ms=float(r.sdnn_ms),
        pnn50_percent=float(r.pnn50_percent),
        mean_interval_ms=float(r.mean_interval_ms),
        beats_detected=int(r.beats_detected),
        beats_used=int(r.beats_used),
        intervals_used=int(r.intervals_used),
        rejected_share=float(r.rejected_share),
        timing_noise_ms=float(r.timing_noise_ms),
        confidence=float(r.confidence),
        window_s=float(window_s),
    )


def detect_beats(
    pulse: npt.ArrayLike, fs_hz: float, *, band_hz: tuple[float, float] = PRV_BAND_HZ
) -> Beats:
    """The beats of a pulse waveform, timed to far below the sample spacing.

    The mean pulse rate ``f0`` comes from the spectrum (:func:`estimate_heart_rate` inside
    ``band_hz``); a narrow band-pass (0.6-1.6 ``f0``) leaves one smooth maximum per beat, which
    says where each beat is; the beat's time is the peak of the wider band-passed pulse (0.5
    ``f0`` to 5 Hz, its first harmonics) near it, refined by a parabola through the peak sample
    and its neighbours.

    Parameters
    ----------
    pulse
        Pulse waveform (rising with blood volume), shape ``(n,)``, at least 5 s.
    fs_hz
        Sample rate in Hz; ``band_hz`` must lie below its Nyquist frequency.
    band_hz
        Pulse-rate band ``(low, high)`` in Hz.

    Raises
    ------
    ValueError
        Too short a pulse, NaN or inf in it, not 1-D, or ``fs_hz`` / ``band_hz`` unusable.
    TypeError
        ``pulse`` is not a real numeric array.
    """
    x, fs, (lo, hi) = _pulse_for_beats(pulse, fs_hz, band_hz, _MIN_PRV_S)
    times, amps, _, rate_hz, snr_db, corr = _core.detect_beats(
        x, fs, lo, hi, max(_TIMING_F_HI_HZ, 1.25 * hi)
    )
    return Beats(times, amps, 60.0 * float(rate_hz), float(snr_db), float(corr))


def pulse_rate_variability(
    pulse: npt.ArrayLike,
    fs_hz: float,
    *,
    band_hz: tuple[float, float] = PRV_BAND_HZ,
    max_deviation: float = 0.2,
) -> PulseRateVariability:
    """RMSSD, SDNN and pNN50 of a pulse waveform's beat intervals, with a confidence.

    Beats come from :func:`detect_beats`. Intervals outside 0.25-2 s or further than
    ``max_deviation`` from the median of their five neighbours on each side are rejected
    (ectopic beats, missed beats, noise peaks) and the share rejected is reported;
    successive differences are taken only between two accepted neighbours.

    Parameters
    ----------
    pulse
        Pulse waveform, shape ``(n,)``, at least 5 s (30 s and more for numbers worth
        reporting: the confidence counts the differences).
    fs_hz
        Sample rate in Hz.
    band_hz
        Pulse-rate band ``(low, high)`` in Hz.
    max_deviation
        Largest accepted relative deviation of an interval from its neighbours' median.

    Raises
    ------
    ValueError, TypeError
        As :func:`detect_beats`; ``max_deviation`` outside (0, 1).
    """
    dev = _check_deviation(max_deviation)
    x, fs, (lo, hi) = _pulse_for_beats(pulse, fs_hz, band_hz, _MIN_PRV_S)
    r = _core.pulse_rate_variability(x, fs, lo, hi, max(_TIMING_F_HI_HZ, 1.25 * hi), dev)
    return _prv(r, x.shape[0] / fs)


def variability_from_beats(
    beat_times_s: npt.ArrayLike, *, max_deviation: float = 0.2
) -> PulseRateVariability:
    """RMSSD, SDNN and pNN50 of beat times you already have (ECG R-peaks, a contact sensor's
    beats), with the interval cleaning of :func:`pulse_rate_variability`. The confidence here
    sees only the intervals (share rejected, number of differences), not any waveform.

    Parameters
    ----------
    beat_times_s
        Strictly increasing beat times in seconds, shape ``(n,)``, ``n >= 3``.
    """
    dev = _check_deviation(max_deviation)
    t = _as_signal("beat_times_s", beat_times_s, min_len=3)
    if not np.all(np.diff(t) > 0):
        raise ValueError(
            "beat_times_s: expected strictly increasing times, got a repeat or a step back"
        )
    r = _core.variability_from_beats(t, dev)
    return _prv(r, float(t[-1] - t[0]))


def _modulation(m: _core.ModulationEstimate) -> RespiratoryModulation:
    return RespiratoryModulation(
        breaths_per_min=60.0 * float(m.rate_hz) if m.valid else None,
        quality=float(m.quality),
        used=bool(m.used),
    )


def breathing_rate(
    pulse: npt.ArrayLike,
    fs_hz: float,
    *,
    band_hz: tuple[float, float] = PRV_BAND_HZ,
    breathing_band_hz: tuple[float, float] = BREATHING_BAND_HZ,
) -> BreathingRate:
    """Breathing rate from a pulse waveform's respiratory modulations, with a confidence.

    The beats (:func:`detect_beats`) sample three modulations: their amplitudes (RIAV), their
    intervals (RIFV, respiratory sinus arrhythmia) and the pulse's baseline (RIIV). Each series
    is interpolated to 4 Hz and gives the spectral peak in ``breathing_band_hz`` (limited to
    0.45 of the pulse rate: the beats sample the modulations and faster breathing aliases);
    the estimates that agree within 3 breaths per minute are averaged, weighted by how peaked
    their spectra are (Karlen et al. 2013's "smart fusion").

    Parameters
    ----------
    pulse
        Pulse waveform, shape ``(n,)``, at least 10 s; 20 s and more for numbers worth
        reporting (the confidence counts the breaths in the window).
    fs_hz
        Sample rate in Hz.
    band_hz
        Pulse-rate band ``(low, high)`` in Hz.
    breathing_band_hz
        Breathing band ``(low, high)`` in Hz, below ``band_hz``.

    Raises
    ------
    ValueError, TypeError
        As :func:`detect_beats`; a breathing band that is not below the pulse band.
    """
    b_lo, b_hi = _check_band(breathing_band_hz)
    lo_pulse = _check_band(band_hz)[0]
    if not b_hi < lo_pulse:
        raise ValueError(
            f"breathing_band_hz: expected below the pulse band's low edge ({lo_pulse:g} Hz), "
            f"got ({b_lo:g}, {b_hi:g})"
        )
    if b_hi >= 2.0:
        raise ValueError(f"breathing_band_hz: expected the high edge below 2 Hz, got {b_hi:g}")
    x, fs, (lo, hi) = _pulse_for_beats(pulse, fs_hz, band_hz, _MIN_BREATHING_S)
    r = _core.estimate_breathing(x, fs, lo, hi, b_lo, b_hi)
    return BreathingRate(
        breaths_per_min=60.0 * float(r.rate_hz) if r.rate_hz > 0 else None,
        confidence=float(r.confidence),
        amplitude=_modulation(r.amplitude),
        frequency=_modulation(r.frequency),
        baseline=_modulation(r.baseline),
        beats=int(r.beats),
        window_s=x.shape[0] / fs,
    )
