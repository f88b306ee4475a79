"""The blood-volume pulse: a beat-by-beat model waveform, or a recorded one, and its true rate.

:func:`physiological_ppg` builds a beat-by-beat waveform: the heart rate wanders slowly (Mayer
waves, ~0.1 Hz, and slower drift) and with breathing (respiratory sinus arrhythmia,
0.2-0.33 Hz); its integral places the beats, and each beat is a sum of two Gaussians (the
systolic peak and the later, broader dicrotic wave). A recorded PPG can drive the skin instead;
its true rate then comes from its own beats (:func:`bpm_from_waveform`).
"""

from __future__ import annotations

import numbers

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
