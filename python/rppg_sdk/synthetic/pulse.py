"""The blood-volume pulse: a beat-by-beat model waveform, or a recorded one, and its true rate.

:func:`physiological_ppg` builds a beat-by-beat waveform: the heart rate wanders slowly (Mayer
waves, ~0.1 Hz, and slower drift) and with breathing (respiratory sinus arrhythmia,
0.2-0.33 Hz); its integral places the beats, and each beat is a sum of two Gaussians (the
systolic peak and the later, broader dicrotic wave). A recorded PPG can drive the skin instead;
its true rate then comes from its own beats (:func:`bpm_from_waveform`).

For pulse-rate variability and breathing, :func:`beat_sequence` draws beat times with a known
respiratory sinus arrhythmia and beat-to-beat jitter, and :func:`ppg_from_beats` renders a pulse
whose systolic peaks sit exactly there, with breathing's amplitude and baseline modulation;
:class:`PulseTruth` carries the beats, their RMSSD / SDNN / pNN50 and the breathing rate. The
pulse drives a clip through ``SyntheticClipSpec(ppg_waveform=...)``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rppg_sdk.synthetic._checks import _check_int, _check_real

FloatArray = npt.NDArray[np.float64]

_MAX_FS_HZ = 1000.0 * 100

# Two-Gaussian beat shape, positions and widths in fractions of the beat interval. Least-squares
# fit (rounded) to a contact PPG at ~76 bpm: a narrow systolic peak ~0.14 s into the beat and a
# broad, later reflected (dicrotic) wave that together give the fast upstroke and the long
# diastolic decline of a real pulse.
_SYSTOLIC_MU, _SYSTOLIC_SIGMA = 0.18, 0.08
_DICROTIC_MU, _DICROTIC_SIGMA, _DICROTIC_AMPLITUDE = 0.43, 0.22, 1.2


def _random_sinusoids(
    t_s: FloatArray, rng: np.random.Generator, band_hz: tuple[float, float], count: int
) -> FloatArray:
    """Sum of ``count`` sinusoids at random frequencies in ``band_hz``, unit variance.

    A sum of sinusoids (not filtered noise) keeps its variance whatever the clip length, so
    short and long clips wander alike.
    """
    freqs = rng.uniform(*band_hz, size=count)
    phases = rng.uniform(0.0, 2 * np.pi, size=count)
    weights = rng.uniform(0.5, 1.0, size=count)
    weights *= np.sqrt(2.0 / np.sum(weights**2))  # sum of w^2/2 = 1
    waves = np.sin(2 * np.pi * freqs[:, None] * t_s[None, :] + phases[:, None])
    return np.asarray(weights @ waves, dtype=np.float64)


def physiological_ppg(
    n: int,
    fs_hz: float,
    heart_rate_bpm: float,
    variability: float,
    rng: np.random.Generator | int,
) -> tuple[FloatArray, FloatArray]:
    """A beat-by-beat blood-volume pulse with realistic heart-rate variability.

    The relative heart rate is ``1 + slow(t) + rsa(t)``: ``slow`` (60 % of the variance) holds
    Mayer waves and slower drift (0.01-0.12 Hz), ``rsa`` (40 %) is respiratory sinus
    arrhythmia at a breathing rate drawn from 0.2-0.33 Hz. The rate is scaled so its mean
    over the ``n`` samples is exactly ``heart_rate_bpm``. Its integral is the cardiac phase;
    each beat is a systolic Gaussian plus a broader dicrotic one (positions scale with the
    beat interval), with a few percent of beat-to-beat amplitude jitter and a small
    respiratory baseline and amplitude modulation, as contact PPG shows.

    Parameters
    ----------
    n
        Number of samples (>= 1).
    fs_hz
        Sample rate in Hz.
    heart_rate_bpm
        Mean heart rate, 20-250 bpm.
    variability
        Relative standard deviation of the heart rate, 0-0.2.
    rng
        A numpy ``Generator`` (or an int seed for one).

    Returns
    -------
    ppg, bpm
        ``(n,)`` pulse with zero mean and unit variance (for ``n >= 2``; rising = more blood),
        and ``(n,)`` instantaneous heart rate in bpm.
    """
    n = _check_int("n", n, 1, 2**31 - 1)
    fs = _check_real("fs_hz", fs_hz, 0.0, _MAX_FS_HZ)
    if fs <= 0:
        raise ValueError(f"fs_hz: expected > 0, got {fs_hz!r}")
    hr0 = _check_real("heart_rate_bpm", heart_rate_bpm, 20.0, 250.0)
    var = _check_real("variability", variability, 0.0, 0.2)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        rng = np.random.default_rng(int(rng))
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy Generator or int, got {type(rng).__name__}")

    t_s = np.arange(n, dtype=np.float64) / fs
    slow = _random_sinusoids(t_s, rng, (0.01, 0.12), 4)
    resp_hz = rng.uniform(0.2, 0.33)
    # Breathing is not a metronome: its rate wanders +-10 % over tens of seconds.
    resp_rate = resp_hz * (1.0 + 0.1 * _random_sinusoids(t_s, rng, (0.005, 0.03), 2) / 1.5)
    resp_phase = 2 * np.pi * np.cumsum(resp_rate) / fs + rng.uniform(0, 2 * np.pi)
    # Inspiration speeds the heart: rsa peaks with the breathing phase.
    rsa = np.sqrt(2.0) * np.sin(resp_phase)
    relative = var * (np.sqrt(0.6) * slow + np.sqrt(0.4) * rsa)
    hr = hr0 * np.maximum(1.0 + relative, 0.3)
    hr *= hr0 / np.mean(hr)

    # Cardiac phase in beats; the phase at sample k integrates the rate up to k (midpoint rule).
    phase = rng.uniform(0.0, 1.0) + (np.cumsum(hr) - 0.5 * hr) / (60.0 * fs)
    beat = np.floor(phase).astype(np.int64)
    frac = phase - beat
    n_beats = int(beat[-1]) + 3
    amplitude = 1.0 + 0.04 * rng.standard_normal(n_beats + 1)
    dicrotic = _DICROTIC_AMPLITUDE * (1.0 + 0.1 * rng.standard_normal(n_beats + 1))
    wave = np.zeros(n)
    for offset in (-1, 0, 1):  # neighbouring beats' tails overlap this one
        k = np.clip(beat - offset + 1, 0, n_beats)
        x = frac + offset
        wave += amplitude[k] * (
            np.exp(-0.5 * ((x - _SYSTOLIC_MU) / _SYSTOLIC_SIGMA) ** 2)
            + dicrotic[k] * np.exp(-0.5 * ((x - _DICROTIC_MU) / _DICROTIC_SIGMA) ** 2)
        )
    # Breathing also shifts venous volume (baseline) and stroke volume (amplitude).
    wave = wave * (1.0 + 0.05 * np.sin(resp_phase)) + 0.06 * np.sin(resp_phase + 1.0)
    return _unit_variance(wave), hr


def _unit_variance(x: FloatArray) -> FloatArray:
    x = x - np.mean(x)
    std = float(np.std(x))
    return x / std if std > 0 else x


def _detrended(x: FloatArray) -> FloatArray:
    if x.size < 3:
        return x - np.mean(x)
    t = np.arange(x.size, dtype=np.float64)
    slope, intercept = np.polyfit(t, x, 1)
    return np.asarray(x - (slope * t + intercept), dtype=np.float64)


def bpm_from_waveform(ppg: FloatArray, fs_hz: float, fallback_bpm: float) -> FloatArray:
    """Instantaneous heart rate from the beats of a real PPG, with numpy only.

    The dominant in-band frequency ``f0`` sets a band-pass (FFT mask, 0.6-1.6 ``f0``) that
    leaves one smooth maximum per beat (the dicrotic wave and the harmonics go); of maxima
    closer than 0.6 beat the highest is kept; each is refined to sub-sample time by a parabola,
    and ``60 / interval`` is interpolated at every sample (held constant beyond the first and
    last beats). Falls back to ``fallback_bpm`` when the clip holds fewer than two beats.
    """
    n = ppg.size
    if n < 8:
        return np.full(n, fallback_bpm)
    nfft = 1 << max(12, int(np.ceil(np.log2(4 * n))))
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    power = np.abs(np.fft.rfft(ppg * np.hanning(n), nfft)) ** 2
    band = (freqs >= 40 / 60) & (freqs <= min(220 / 60, 0.5 * fs_hz))
    if not np.any(band):
        return np.full(n, fallback_bpm)
    f0 = float(freqs[band][np.argmax(power[band])])
    spectrum = np.fft.rfft(ppg - ppg.mean(), nfft)
    f = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    spectrum[(f < 0.6 * f0) | (f > 1.6 * f0)] = 0
    smooth = np.fft.irfft(spectrum, nfft)[:n]
    is_max = (smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] >= smooth[2:]) & (smooth[1:-1] > 0)
    candidates = np.flatnonzero(is_max) + 1
    min_gap = 0.6 * fs_hz / f0
    kept: list[int] = []
    for idx in candidates:  # in time order: of two maxima closer than min_gap keep the higher
        if kept and idx - kept[-1] < min_gap:
            if smooth[idx] > smooth[kept[-1]]:
                kept[-1] = int(idx)
        else:
            kept.append(int(idx))
    peaks = np.array(kept, dtype=np.int64)
    if peaks.size < 2:
        return np.full(n, 60.0 * f0 if f0 > 0 else fallback_bpm)
    y0, y1, y2 = smooth[peaks - 1], smooth[peaks], smooth[peaks + 1]
    denom = y0 - 2 * y1 + y2
    shift = np.where(denom < 0, 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1.0), 0.0)
    times_s = (peaks + np.clip(shift, -0.5, 0.5)) / fs_hz
    intervals_s = np.diff(times_s)
    t_s = np.arange(n) / fs_hz
    return np.interp(t_s, 0.5 * (times_s[1:] + times_s[:-1]), 60.0 / intervals_s)


# ----------------------------------------------------------------------------- known beats


@dataclass(frozen=True)
class PulseTruth:
    """The truth of a pulse rendered from known beats (:func:`ppg_from_beats`).

    Attributes
    ----------
    beat_times_s
        Systolic peak times, seconds from the first sample.
    rmssd_ms, sdnn_ms, pnn50_percent
        Of the intervals between those beats (SDNN with ``ddof=1``).
    breathing_rate_per_min
        Breaths per minute of the respiratory modulations.
    """

    beat_times_s: FloatArray
    rmssd_ms: float
    sdnn_ms: float
    pnn50_percent: float
    breathing_rate_per_min: float

    @property
    def intervals_s(self) -> FloatArray:
        """Intervals between successive beats."""
        return np.diff(self.beat_times_s)

    @property
    def mean_bpm(self) -> float:
        """Mean pulse rate from the intervals."""
        return float(60.0 / np.mean(self.intervals_s))

    def window(self, start_s: float, end_s: float) -> PulseTruth:
        """The same truth for the beats within ``[start_s, end_s]``."""
        t = self.beat_times_s
        return _truth(t[(t >= start_s) & (t <= end_s)], self.breathing_rate_per_min)


def _truth(beat_times_s: FloatArray, breathing_rate_per_min: float) -> PulseTruth:
    iv = np.diff(beat_times_s)
    sd = np.diff(iv)
    return PulseTruth(
        beat_times_s=beat_times_s,
        rmssd_ms=float(1e3 * np.sqrt(np.mean(sd**2))) if sd.size else 0.0,
        sdnn_ms=float(1e3 * np.std(iv, ddof=1)) if iv.size >= 2 else 0.0,
        pnn50_percent=float(100.0 * np.mean(np.abs(sd) > 0.05)) if sd.size else 0.0,
        breathing_rate_per_min=float(breathing_rate_per_min),
    )


def beat_sequence(
    duration_s: float,
    heart_rate_bpm: float,
    breathing_rate_per_min: float,
    rsa_ms: float,
    jitter_ms: float,
    rng: np.random.Generator | int,
) -> FloatArray:
    """Beat times with respiratory sinus arrhythmia and beat-to-beat jitter.

    Each interval is ``60 / heart_rate_bpm`` plus ``rsa_ms`` times the sine of the breathing
    phase at the beat (inspiration shortens the interval) plus Gaussian jitter of ``jitter_ms``
    standard deviation; intervals are kept within 0.3-2 s.

    Parameters
    ----------
    duration_s
        Beats are drawn from a random start in the first beat up to this time, 1-86400 s.
    heart_rate_bpm
        Mean pulse rate, 30-200 bpm.
    breathing_rate_per_min
        Breathing rate, 3-60 breaths per minute.
    rsa_ms
        Amplitude of the respiratory interval swing, 0-300 ms.
    jitter_ms
        Standard deviation of the beat-to-beat jitter, 0-200 ms.
    rng
        A numpy ``Generator`` (or an int seed for one).
    """
    dur = _check_real("duration_s", duration_s, 1.0, 86400.0)
    hr = _check_real("heart_rate_bpm", heart_rate_bpm, 30.0, 200.0)
    br = _check_real("breathing_rate_per_min", breathing_rate_per_min, 3.0, 60.0)
    rsa = _check_real("rsa_ms", rsa_ms, 0.0, 300.0) / 1e3
    jit = _check_real("jitter_ms", jitter_ms, 0.0, 200.0) / 1e3
    gen = _generator(rng)
    mean_s = 60.0 / hr
    phase0 = gen.uniform(0.0, 2 * np.pi)
    times = [gen.uniform(0.0, mean_s)]
    while times[-1] < dur:
        now = times[-1]
        phase = 2 * np.pi * br / 60.0 * now + phase0
        step = mean_s - rsa * np.sin(phase) + jit * gen.standard_normal()
        times.append(now + float(np.clip(step, 0.3, 2.0)))
    return np.asarray(times[:-1], dtype=np.float64)


def ppg_from_beats(
    beat_times_s: npt.ArrayLike,
    n: int,
    fs_hz: float,
    breathing_rate_per_min: float,
    amplitude_modulation: float = 0.1,
    baseline_modulation: float = 0.1,
    rng: np.random.Generator | int = 0,
) -> tuple[FloatArray, PulseTruth]:
    """A pulse whose systolic peaks sit at ``beat_times_s``, modulated by breathing.

    Each beat is the two-Gaussian beat of :func:`physiological_ppg` (a systolic peak at the
    beat time and the broader dicrotic wave after it, widths scaled by the beat's own
    interval); breathing scales each beat's amplitude by ``1 + amplitude_modulation *
    sin(phase)`` (RIAV) and adds ``baseline_modulation * sin(phase + 1)`` of the beat amplitude
    to the baseline (RIIV); the intervals carry whatever respiratory sinus arrhythmia the beat
    times hold (RIFV, :func:`beat_sequence`).

    Parameters
    ----------
    beat_times_s
        Strictly increasing systolic peak times in seconds, at least 3.
    n
        Samples to render, at ``k / fs_hz`` seconds.
    fs_hz
        Sample rate in Hz.
    breathing_rate_per_min
        Breaths per minute of the amplitude and baseline modulations (3-60).
    amplitude_modulation, baseline_modulation
        Relative depth of each, 0-1.
    rng
        A numpy ``Generator`` (or an int seed): the breathing phase and a few percent of
        beat-to-beat amplitude jitter.

    Returns
    -------
    ppg, truth
        ``(n,)`` pulse with zero mean and unit variance, and its :class:`PulseTruth` (the
        beats within the rendered samples).
    """
    t_beats = np.asarray(beat_times_s, dtype=np.float64)
    if t_beats.ndim != 1 or t_beats.size < 3:
        raise ValueError(
            f"beat_times_s: expected at least 3 times in a 1-D array, got {t_beats.shape}"
        )
    if not np.all(np.isfinite(t_beats)) or not np.all(np.diff(t_beats) > 0):
        raise ValueError("beat_times_s: expected finite, strictly increasing times")
    n = _check_int("n", n, 1, 2**31 - 1)
    fs = _check_real("fs_hz", fs_hz, 0.0, _MAX_FS_HZ)
    if fs <= 0:
        raise ValueError(f"fs_hz: expected > 0, got {fs_hz!r}")
    br = _check_real("breathing_rate_per_min", breathing_rate_per_min, 3.0, 60.0)
    am = _check_real("amplitude_modulation", amplitude_modulation, 0.0, 1.0)
    bm = _check_real("baseline_modulation", baseline_modulation, 0.0, 1.0)
    gen = _generator(rng)
    t_s = np.arange(n, dtype=np.float64) / fs
    phase0 = gen.uniform(0.0, 2 * np.pi)
    resp = 2 * np.pi * br / 60.0
    intervals = np.diff(t_beats)
    periods = np.concatenate([intervals, intervals[-1:]])
    jitter = 1.0 + 0.03 * gen.standard_normal(t_beats.size)
    gain = jitter * (1.0 + am * np.sin(resp * t_beats + phase0))
    dicrotic_delay = _DICROTIC_MU - _SYSTOLIC_MU
    wave = np.zeros(n)
    for tb, period, g in zip(t_beats, periods, gain, strict=True):
        lo = np.searchsorted(t_s, tb - 3 * _SYSTOLIC_SIGMA * period)
        hi = np.searchsorted(t_s, tb + (dicrotic_delay + 3 * _DICROTIC_SIGMA) * period)
        x = (t_s[lo:hi] - tb) / period
        wave[lo:hi] += g * (
            np.exp(-0.5 * (x / _SYSTOLIC_SIGMA) ** 2)
            + _DICROTIC_AMPLITUDE * np.exp(-0.5 * ((x - dicrotic_delay) / _DICROTIC_SIGMA) ** 2)
        )
    beat_size = float(np.max(wave)) if n else 1.0
    wave = wave + bm * beat_size * np.sin(resp * t_s + phase0 + 1.0)
    inside = (t_beats >= 0.0) & (t_beats <= (n - 1) / fs)  # the beats the samples hold
    return _unit_variance(wave), _truth(t_beats[inside], br)


def _generator(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy Generator or int, got {type(rng).__name__}")
    return rng
