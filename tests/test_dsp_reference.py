"""The C++ signal core against independent numpy/scipy references written here.

Every reference below is the textbook formula, written as plainly as numpy/scipy allow, so that
a disagreement points at the core rather than at a shared helper.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
import scipy.sparse
import scipy.sparse.linalg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rppg_sdk.dsp import (
    HarmonicCorrection,
    PulseMethod,
    SpectralOptions,
    bandpass,
    detrend,
    estimate_heart_rate,
    extract_pulse,
    power_spectrum,
    resample_uniform,
    signal_quality,
)

# CI has two cores: keep property tests modest, and never fail on wall-clock.
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------- references


def ref_detrend(z: np.ndarray, lambda_: float) -> np.ndarray:
    """Smoothness priors (Tarvainen et al. 2002, eq. 6): ``z - inv(I + lambda^2 D2'D2) z``."""
    n = z.shape[0]
    d2 = scipy.sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    a = scipy.sparse.identity(n) + lambda_**2 * (d2.T @ d2)
    return z - scipy.sparse.linalg.spsolve(a.tocsc(), z)


def auto_lambda(fs_hz: float, band_lo_hz: float = 0.7) -> float:
    """The core's automatic detrend lambda (SpectralOptions.detrend_lambda="auto"): the one
    whose high-pass gain is 1/2 at half the band's low edge, 1 / (2 - 2 cos w)
    (rppg/signal.hpp, detrend_lambda_for_cutoff)."""
    return 1.0 / (2.0 - 2.0 * np.cos(2.0 * np.pi * (band_lo_hz / 2.0) / fs_hz))


def ref_peak_bpm(
    x: np.ndarray,
    fs_hz: float,
    band_hz: tuple[float, float] = (0.7, 4.0),
    detrend_lambda: float | None | str = "auto",
    nfft: int = 2**18,
) -> float:
    """Argmax in band of a Hann periodogram zero-padded to 2**18 (0.007 bpm bins at 30 Hz)."""
    if detrend_lambda == "auto":
        detrend_lambda = auto_lambda(fs_hz, band_hz[0])
    z = x - x.mean()
    if detrend_lambda is not None:
        z = ref_detrend(z, float(detrend_lambda))
    z = z - z.mean()
    freqs, power = scipy.signal.periodogram(z, fs_hz, window="hann", nfft=nfft, detrend=False)
    band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    return float(60.0 * freqs[band][np.argmax(power[band])])


def ref_pos(rgb: np.ndarray, win: int) -> np.ndarray:
    """POS, Wang et al. 2017, Algorithm 1, line by line (step 1, overlap-add)."""
    n = rgb.shape[0]
    h_out = np.zeros(n)
    projection = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    for m in range(n - win + 1):
        c = rgb[m : m + win].T  # (3, win)
        cn = c / c.mean(axis=1, keepdims=True)  # temporal normalisation
        s = projection @ cn
        h = s[0] + (s[0].std() / s[1].std()) * s[1]
        h_out[m : m + win] += h - h.mean()
    return h_out


def ref_chrom(rgb: np.ndarray, fs_hz: float, band_hz: tuple[float, float], win: int) -> np.ndarray:
    """CHROM, de Haan & Jeanne 2013, with the chrominance signals band-passed as a whole:
    colours normalised by their centred moving mean over ``win`` samples, X = 3R - 2G,
    Y = 1.5R + G - 1.5B, 3rd-order Butterworth band-pass (filtfilt), then per half-overlapping
    window S = Xf - (std Xf / std Yf) Yf, mean-removed, Hann-weighted and overlap-added."""
    base = scipy.ndimage.uniform_filter1d(rgb, win, axis=0, mode="nearest")
    cn = rgb / base
    xs = 3.0 * cn[:, 0] - 2.0 * cn[:, 1]
    ys = 1.5 * cn[:, 0] + cn[:, 1] - 1.5 * cn[:, 2]
    b, a = scipy.signal.butter(3, [band_hz[0] / (fs_hz / 2), band_hz[1] / (fs_hz / 2)], "bandpass")
    xf = scipy.signal.filtfilt(b, a, xs)
    yf = scipy.signal.filtfilt(b, a, ys)
    out = np.zeros(rgb.shape[0])
    for start in range(0, rgb.shape[0] - win + 1, win // 2):
        x, y = xf[start : start + win], yf[start : start + win]
        s = x - (x.std() / y.std()) * y
        out[start : start + win] += np.hanning(win) * (s - s.mean())
    return out


def ref_chrom_toolbox(
    rgb: np.ndarray, fs_hz: float, band_hz: tuple[float, float], win: int
) -> np.ndarray:
    """CHROM as the rPPG-toolbox runs it: per half-overlapping window, normalise by the window
    mean, Butterworth band-pass X and Y inside the window, combine, Hann-weight, overlap-add."""
    n = rgb.shape[0]
    b, a = scipy.signal.butter(3, [band_hz[0] / (fs_hz / 2), band_hz[1] / (fs_hz / 2)], "bandpass")
    out = np.zeros(n)
    for start in range(0, n - win + 1, win // 2):
        c = rgb[start : start + win]
        cn = c / c.mean(axis=0) - 1.0
        xf = scipy.signal.filtfilt(b, a, 3.0 * cn[:, 0] - 2.0 * cn[:, 1])
        yf = scipy.signal.filtfilt(b, a, 1.5 * cn[:, 0] + cn[:, 1] - 1.5 * cn[:, 2])
        out[start : start + win] += (xf - (xf.std() / yf.std()) * yf) * np.hanning(win)
    return out


def amplitude_at(x: np.ndarray, fs_hz: float, f_hz: float) -> tuple[float, float]:
    """Least-squares amplitude and phase of the sinusoid at f_hz in x."""
    t = np.arange(x.shape[0]) / fs_hz
    basis = np.column_stack([np.cos(2 * np.pi * f_hz * t), np.sin(2 * np.pi * f_hz * t)])
    (c, s), *_ = np.linalg.lstsq(basis, x, rcond=None)
    return float(np.hypot(c, s)), float(np.arctan2(-s, c))


def pulse_wave(
    t: np.ndarray,
    f_hz: float,
    phase: float = 0.0,
    harmonics: tuple[float, ...] = (1.0, 0.4, 0.15),
) -> np.ndarray:
    """A PPG-like wave: fundamental plus weaker harmonics (amplitudes ``harmonics``)."""
    return sum(
        a * np.sin(2 * np.pi * (k + 1) * f_hz * t + (k + 1) * phase)
        for k, a in enumerate(harmonics)
    )


def skin_rgb(pulse: np.ndarray, fs_hz: float, seed: int = 0, flicker: float = 0.005) -> np.ndarray:
    """Mean skin colour over time: skin tone x illumination (slow drift plus white ``flicker``),
    the pulse along the blood-volume direction (Wang et al. 2017), camera noise. Columns R, G,
    B."""
    rng = np.random.default_rng(seed)
    t = np.arange(pulse.shape[0]) / fs_hz
    skin = np.array([180.0, 120.0, 95.0])
    pbv = np.array([0.33, 0.77, 0.53])  # relative pulsatile strength per channel
    illumination = 1.0 + 0.02 * np.sin(2 * np.pi * 0.13 * t) + flicker * rng.standard_normal(t.size)
    rgb = skin * illumination[:, None] * (1.0 + 0.003 * np.outer(pulse, pbv))
    return rgb + 0.05 * rng.standard_normal(rgb.shape)


# ----------------------------------------------------------------------------- resample


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_resample_matches_np_interp_on_jittered_dropped_timestamps(channels: int | None) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(600) / 30.0 + rng.normal(0, 0.004, 600)
    t = np.sort(t)
    t = t[rng.random(600) > 0.1]  # ~10 % dropped frames
    t += 1234.5  # camera clocks do not start at 0
    shape = (t.size,) if channels is None else (t.size, channels)
    v = rng.standard_normal(shape).cumsum(axis=0)
    out = resample_uniform(t, v, 30.0)
    n_expected = int(np.floor((t[-1] - t[0]) * 30.0 + 1e-9)) + 1
    np.testing.assert_allclose(
        out.timestamps_s, t[0] + np.arange(n_expected) / 30.0, rtol=0, atol=1e-9
    )
    assert out.fs_hz == 30.0
    assert out.timestamps_s[-1] <= t[-1] + 1e-9
    assert out.values.shape == (n_expected, *shape[1:])
    ref = (
        np.interp(out.timestamps_s, t, v)
        if channels is None
        else np.column_stack([np.interp(out.timestamps_s, t, v[:, c]) for c in range(channels)])
    )
    np.testing.assert_allclose(out.values, ref, rtol=1e-10, atol=1e-10)


@PROPERTY
@given(
    gaps=st.lists(st.floats(0.001, 0.2), min_size=2, max_size=60),
    fs_hz=st.sampled_from([10.0, 25.0, 29.97, 30.0, 60.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_resample_property(gaps: list[float], fs_hz: float, seed: int) -> None:
    t = np.concatenate([[5.0], 5.0 + np.cumsum(gaps)])
    v = np.random.default_rng(seed).standard_normal((t.size, 2))
    out = resample_uniform(t, v, fs_hz)
    assert np.all(np.diff(out.timestamps_s) > 0)
    assert out.timestamps_s[0] == t[0]
    assert out.timestamps_s[-1] <= t[-1] + 1e-9
    assert t[-1] - out.timestamps_s[-1] < 1.0 / fs_hz + 1e-9
    for c in range(2):
        np.testing.assert_allclose(
            out.values[:, c], np.interp(out.timestamps_s, t, v[:, c]), atol=1e-9
        )


def test_resample_exact_grid_keeps_last_sample() -> None:
    t = np.arange(301) / 30.0
    out = resample_uniform(t, np.sin(t), 30.0)
    assert out.values.shape == (301,)
    np.testing.assert_allclose(out.values, np.sin(t), atol=1e-12)


# ----------------------------------------------------------------------------- detrend


@pytest.mark.parametrize("n", [3, 4, 5, 10, 300, 2000])
@pytest.mark.parametrize("lambda_", [0.5, 10.0, 100.0, 1000.0])
def test_detrend_matches_sparse_smoothness_priors(n: int, lambda_: float) -> None:
    rng = np.random.default_rng(n)
    t = np.arange(n) / 30.0
    z = 50.0 + 3.0 * t + 2.0 * np.sin(2 * np.pi * 0.05 * t) + np.sin(2 * np.pi * 1.3 * t)
    z += 0.2 * rng.standard_normal(n)
    ours = detrend(z, lambda_)
    ref = ref_detrend(z, lambda_)
    assert ours.shape == (n,) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-8 * np.abs(z).max())


def test_detrend_removes_lines_exactly_and_keeps_fast_components() -> None:
    n = 900
    line = 7.0 - 0.25 * np.arange(n)
    np.testing.assert_allclose(detrend(line, 100.0), 0.0, atol=1e-7)
    t = np.arange(n) / 30.0
    sine = np.sin(2 * np.pi * 2.0 * t)  # 2 Hz, far above the ~0.5 Hz cut-off at lambda 100
    amp, _ = amplitude_at(detrend(sine + line, 100.0)[100:-100], 30.0, 2.0)
    assert amp == pytest.approx(1.0, abs=0.01)


def test_detrend_accepts_lists_and_ints() -> None:
    z = [1, 5, 2, 8, 3, 9, 4]
    np.testing.assert_allclose(detrend(z, 2.0), ref_detrend(np.asarray(z, float), 2.0), atol=1e-10)


# ----------------------------------------------------------------------------- bandpass


def _fft_mask_reference(x: np.ndarray, fs_hz: float, band_hz: tuple[float, float]) -> np.ndarray:
    """Brick-wall FFT band-pass of the (circular) signal."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1.0 / fs_hz)
    spec[(f < band_hz[0]) | (f > band_hz[1])] = 0.0
    return np.fft.irfft(spec, x.size)


@pytest.mark.parametrize("fs_hz", [25.0, 30.0, 60.0])
def test_bandpass_keeps_in_band_and_removes_out_of_band(fs_hz: float) -> None:
    n = int(20 * fs_hz)
    t = np.arange(n) / fs_hz
    comps = {0.15: 3.0, 1.3: 1.0, 2.7: 0.5, 6.0: 1.0}  # Hz: amplitude; band 0.7-4
    x = 100.0 + sum(a * np.sin(2 * np.pi * f * t + f) for f, a in comps.items())
    ours = bandpass(x, fs_hz, (0.7, 4.0), taper_hz=0.1)
    ref = _fft_mask_reference(x, fs_hz, (0.7, 4.0))
    mid = slice(n // 5, -n // 5)  # away from the edges, where padding conventions differ
    for f, a in comps.items():
        gain_ours = amplitude_at(ours[mid], fs_hz, f)[0] / a
        gain_ref = amplitude_at(ref[mid], fs_hz, f)[0] / a
        expected = 1.0 if 0.7 <= f <= 4.0 else 0.0
        assert gain_ours == pytest.approx(expected, abs=0.02), f"{f} Hz"
        assert gain_ours == pytest.approx(gain_ref, abs=0.03), f"{f} Hz"
    assert np.corrcoef(ours[mid], ref[mid])[0, 1] > 0.999
    # Zero phase: an in-band sine comes out where it went in. Within a second of either edge
    # any finite filter errs (Butterworth filtfilt by ~0.35 here too); beyond that it is small.
    pure = np.sin(2 * np.pi * 1.3 * t + 0.4)
    out = bandpass(pure, fs_hz, (0.7, 4.0))
    amp, phase = amplitude_at(out, fs_hz, 1.3)
    assert amp == pytest.approx(1.0, abs=0.02)
    assert phase == pytest.approx(amplitude_at(pure, fs_hz, 1.3)[1], abs=0.02)
    edge = int(fs_hz)
    assert np.max(np.abs(out - pure)[edge:-edge]) < 0.1
    assert np.corrcoef(out, pure)[0, 1] > 0.98


def test_bandpass_taper_is_raised_cosine() -> None:
    fs_hz, n = 30.0, 6000  # 200 s: bins of 0.005 Hz, far finer than the taper
    t = np.arange(n) / fs_hz
    mid = slice(n // 4, -n // 4)
    # Half-way through the 0.2 Hz taper below 0.7 Hz the raised cosine is 0.5; a quarter: 0.854.
    for f, gain in [(0.6, 0.5), (0.65, 0.5 * (1 + np.cos(np.pi * 0.25))), (0.45, 0.0), (4.1, 0.5)]:
        out = bandpass(np.sin(2 * np.pi * f * t), fs_hz, (0.7, 4.0), taper_hz=0.2)
        assert amplitude_at(out[mid], fs_hz, f)[0] == pytest.approx(gain, abs=0.03), f
    # taper 0 is a brick wall: just outside gone, just inside kept.
    out = bandpass(
        np.sin(2 * np.pi * 0.68 * t) + np.sin(2 * np.pi * 0.72 * t), fs_hz, (0.7, 4.0), 0.0
    )
    assert amplitude_at(out[mid], fs_hz, 0.68)[0] < 0.03
    assert amplitude_at(out[mid], fs_hz, 0.72)[0] == pytest.approx(1.0, abs=0.03)


def test_bandpass_of_constant_is_zero() -> None:
    np.testing.assert_allclose(bandpass(np.full(300, 42.0), 30.0), 0.0, atol=1e-9)


# ----------------------------------------------------------------------------- spectrum


@pytest.mark.parametrize("window", ["hann", "boxcar"])
@pytest.mark.parametrize(("n", "nfft"), [(300, 1024), (300, 4096), (257, 512), (300, None)])
def test_power_spectrum_matches_scipy_periodogram(window: str, n: int, nfft: int | None) -> None:
    rng = np.random.default_rng(n)
    t = np.arange(n) / 30.0
    x = (
        5.0
        + np.sin(2 * np.pi * 1.4 * t)
        + 0.3 * np.sin(2 * np.pi * 2.8 * t)
        + 0.3 * rng.standard_normal(n)
    )
    opts = SpectralOptions(nfft=nfft, window=window, detrend_lambda=None)  # type: ignore[arg-type]
    spec = power_spectrum(x, 30.0, opts)
    nfft_used = nfft if nfft is not None else max(512, 1 << int(np.ceil(np.log2(2 * n))))
    f_ref, p_ref = scipy.signal.periodogram(
        x, 30.0, window=window, nfft=nfft_used, detrend="constant", scaling="density"
    )
    np.testing.assert_allclose(spec.freqs_hz, f_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(spec.power, p_ref, rtol=1e-7, atol=1e-12 * p_ref.max())
    assert np.argmax(spec.power) == np.argmax(p_ref)


@pytest.mark.parametrize(("fs_hz", "segment_s"), [(30.0, 5.0), (25.0, 5.0), (30.0, 4.1)])
def test_power_spectrum_matches_scipy_welch(fs_hz: float, segment_s: float) -> None:
    n = int(30 * fs_hz)
    rng = np.random.default_rng(3)
    t = np.arange(n) / fs_hz
    x = np.sin(2 * np.pi * 1.1 * t) + 0.5 * rng.standard_normal(n)
    opts = SpectralOptions(
        method="welch", welch_segment_s=segment_s, nfft=2048, detrend_lambda=None
    )
    spec = power_spectrum(x, fs_hz, opts)
    seg = int(round(segment_s * fs_hz))
    # The core steps by seg // 2 ("overlapping by half"); scipy's default overlap is seg // 2,
    # which differs by one sample for odd segments, so say it explicitly.
    f_ref, p_ref = scipy.signal.welch(
        x, fs_hz, window="hann", nperseg=seg, noverlap=seg - seg // 2, nfft=2048, detrend="constant"
    )
    np.testing.assert_allclose(spec.freqs_hz, f_ref, atol=1e-12)
    np.testing.assert_allclose(spec.power, p_ref, rtol=1e-7, atol=1e-12 * p_ref.max())


def test_power_spectrum_detrend_suppresses_slow_drift_only() -> None:
    t = np.arange(600) / 30.0
    x = 20.0 * t / t[-1] + np.sin(2 * np.pi * 1.5 * t)  # a ramp (as from auto-exposure) + pulse
    raw = power_spectrum(x, 30.0, SpectralOptions(detrend_lambda=None))
    det = power_spectrum(x, 30.0, SpectralOptions(detrend_lambda=100.0))
    low = raw.freqs_hz < 0.3
    k = np.argmin(np.abs(raw.freqs_hz - 1.5))
    assert det.power[low].sum() < 1e-3 * raw.power[low].sum()
    assert det.power[k] == pytest.approx(raw.power[k], rel=0.1)


@pytest.mark.parametrize("fs_hz", [25.0, 30.0, 60.0, 125.0])
@pytest.mark.parametrize("band_hz", [(0.7, 4.0), (0.5, 3.0)])
def test_auto_detrend_lambda_follows_rate_and_band(
    fs_hz: float, band_hz: tuple[float, float]
) -> None:
    """ "auto" is the smoothness-priors detrend with the lambda of auto_lambda(): the same
    spectrum as passing that lambda, and the same as the sparse reference."""
    rng = np.random.default_rng(int(fs_hz))
    n = int(10 * fs_hz)
    t = np.arange(n) / fs_hz
    x = 3.0 * t + np.sin(2 * np.pi * 1.2 * t) + 0.3 * rng.standard_normal(n)
    auto = power_spectrum(x, fs_hz, SpectralOptions(band_hz=band_hz))
    explicit = power_spectrum(
        x, fs_hz, SpectralOptions(band_hz=band_hz, detrend_lambda=auto_lambda(fs_hz, band_hz[0]))
    )
    np.testing.assert_allclose(auto.power, explicit.power, rtol=1e-9, atol=1e-12 * auto.power.max())
    z = ref_detrend(x - x.mean(), auto_lambda(fs_hz, band_hz[0]))
    _, p_ref = scipy.signal.periodogram(z, fs_hz, window="hann", nfft=auto.freqs_hz.size * 2 - 2)
    # lambda reaches ~6000 at 125 Hz (lambda^2 ~ 4e7): the sparse solve loses digits there.
    np.testing.assert_allclose(auto.power, p_ref, rtol=1e-5, atol=1e-6 * p_ref.max())
    # Half the band's low edge is where the detrender passes half the amplitude; the band's
    # low edge itself keeps ~94 %.
    long_t = np.arange(int(400 * fs_hz)) / fs_hz
    lam = auto_lambda(fs_hz, band_hz[0])
    for f, gain in [(band_hz[0] / 2, 0.5), (band_hz[0], 0.94)]:
        out = detrend(np.sin(2 * np.pi * f * long_t), lam)[long_t.size // 4 : -long_t.size // 4]
        assert amplitude_at(out, fs_hz, f)[0] == pytest.approx(gain, abs=0.01)


# ----------------------------------------------------------------------------- heart rate


@PROPERTY
@given(
    bpm=st.floats(45.0, 200.0),
    phase=st.floats(0.0, 2 * np.pi),
    second=st.floats(0.05, 0.6),
    noise=st.floats(0.0, 0.3),
    fs_hz=st.sampled_from([25.0, 30.0, 60.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_heart_rate_matches_reference_periodogram(
    bpm: float, phase: float, second: float, noise: float, fs_hz: float, seed: int
) -> None:
    t = np.arange(int(10 * fs_hz)) / fs_hz
    x = pulse_wave(t, bpm / 60.0, phase, (1.0, second, 0.3 * second))
    x += noise * np.random.default_rng(seed).standard_normal(t.size)
    est = estimate_heart_rate(x, fs_hz)
    ref = ref_peak_bpm(x, fs_hz)
    # The raw peak is what this reference computes; what the guard then does is tested below.
    assert est.raw_peak_bpm == pytest.approx(ref, abs=0.1)
    if est.harmonic_correction is HarmonicCorrection.NONE:
        assert est.bpm == est.raw_peak_bpm
    assert est.frequency_hz == pytest.approx(est.bpm / 60.0)


@pytest.mark.parametrize("fs_hz", [25.0, 30.0, 60.0])
@pytest.mark.parametrize("bpm", [45.0, 60.0, 72.5, 100.0, 150.0, 200.0])
def test_heart_rate_of_clean_pulse_is_its_frequency(fs_hz: float, bpm: float) -> None:
    """A clean 10 s pulse is read to a fraction of a bpm (no quantisation to the 1.76 bpm bins
    of the default 1024-point FFT at 30 Hz)."""
    t = np.arange(int(10 * fs_hz)) / fs_hz
    est = estimate_heart_rate(pulse_wave(t, bpm / 60.0, 0.3), fs_hz)
    assert est.bpm == pytest.approx(bpm, abs=0.5)
    assert est.harmonic_correction is HarmonicCorrection.NONE


@pytest.mark.parametrize("bpm", [47.3, 66.6, 91.1, 137.9, 188.4])
def test_heart_rate_does_not_depend_on_the_fft_grid(bpm: float) -> None:
    """SpectralOptions.nfft: the peak is refined on the continuous spectrum, so a coarse grid
    (300 samples at 30 Hz in 512 bins: 3.5 bpm apart) reads the same rate as a fine one."""
    t = np.arange(300) / 30.0
    x = pulse_wave(t, bpm / 60.0, 0.4) + 0.2 * np.random.default_rng(1).standard_normal(300)
    rates = [
        estimate_heart_rate(x, 30.0, SpectralOptions(nfft=k)).bpm for k in (300, 512, 4096, 2**16)
    ]
    assert max(rates) - min(rates) < 0.05, rates
    assert rates[-1] == pytest.approx(ref_peak_bpm(x, 30.0), abs=0.05)


def test_heart_rate_welch_matches_reference() -> None:
    fs_hz = 30.0
    t = np.arange(int(30 * fs_hz)) / fs_hz
    x = pulse_wave(t, 1.37, 1.0) + 0.3 * np.random.default_rng(0).standard_normal(t.size)
    opts = SpectralOptions(method="welch", welch_segment_s=10.0, nfft=2**16, detrend_lambda=None)
    est = estimate_heart_rate(x, fs_hz, opts)
    f_ref, p_ref = scipy.signal.welch(x, fs_hz, nperseg=300, noverlap=150, nfft=2**18)
    band = (f_ref >= 0.7) & (f_ref <= 4.0)
    assert est.raw_peak_bpm == pytest.approx(60 * f_ref[band][np.argmax(p_ref[band])], abs=0.1)


# ----------------------------------------------------------------------------- harmonic guard

NO_DETREND = SpectralOptions(detrend_lambda=None)


def test_guard_halves_a_dominant_second_harmonic() -> None:
    t = np.arange(300) / 30.0
    f0 = 1.1  # 66 bpm; its 2nd harmonic 2.2 Hz carries more power (1 vs 0.64)
    x = 0.8 * np.sin(2 * np.pi * f0 * t) + 1.0 * np.sin(2 * np.pi * 2 * f0 * t + 0.5)
    for opts in (NO_DETREND, SpectralOptions()):
        est = estimate_heart_rate(x, 30.0, opts)
        assert est.raw_peak_bpm == pytest.approx(2 * 60 * f0, abs=0.5)
        assert est.harmonic_correction is HarmonicCorrection.HALVED
        assert est.bpm == pytest.approx(60 * f0, abs=0.5)


def test_guard_keeps_second_harmonic_when_fundamental_is_weak() -> None:
    """Below half_harmonic_ratio of the peak's power the lower peak is not trusted."""
    t = np.arange(300) / 30.0
    x = 0.5 * np.sin(2 * np.pi * 1.1 * t) + np.sin(2 * np.pi * 2.2 * t)  # power ratio 0.25
    est = estimate_heart_rate(x, 30.0, NO_DETREND)
    assert est.harmonic_correction is HarmonicCorrection.NONE
    assert est.bpm == pytest.approx(132.0, abs=0.5)
    # ... and the guard follows the option.
    est = estimate_heart_rate(
        x, 30.0, SpectralOptions(detrend_lambda=None, half_harmonic_ratio=0.2)
    )
    assert est.harmonic_correction is HarmonicCorrection.HALVED


def test_guard_doubles_a_sub_harmonic_artefact() -> None:
    """A strong artefact at f/2 (e.g. a rocking head) above a pulse at f with nothing at 3f/2:
    SpectralOptions.missed_fundamental_ratio says the higher frequency is reported."""
    t = np.arange(300) / 30.0
    f = 2.0
    pulse = 0.97 * np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t + 1.0)
    artefact = 1.0 * np.sin(2 * np.pi * (f / 2) * t + 0.2)  # 0.97**2 = 0.94 > 0.9 of its power
    est = estimate_heart_rate(pulse + artefact, 30.0, NO_DETREND)
    assert est.raw_peak_bpm == pytest.approx(60.0, abs=0.5)
    assert est.harmonic_correction is HarmonicCorrection.DOUBLED
    assert est.bpm == pytest.approx(120.0, abs=0.5)
    # A much stronger artefact is reported as it is (the documented threshold, not a guess).
    est = estimate_heart_rate(0.8 * pulse + artefact, 30.0, NO_DETREND)
    assert est.harmonic_correction is HarmonicCorrection.NONE
    assert est.bpm == pytest.approx(60.0, abs=0.5)
    # And the check can be switched off.
    off = SpectralOptions(detrend_lambda=None, missed_fundamental_ratio=0.0)
    assert (
        estimate_heart_rate(pulse + artefact, 30.0, off).harmonic_correction
        is HarmonicCorrection.NONE
    )


def test_guard_does_not_double_a_pulse_with_its_own_harmonics() -> None:
    """A real 60 bpm pulse with a strong 2nd harmonic also has a 3rd: it is left alone."""
    t = np.arange(300) / 30.0
    x = pulse_wave(t, 1.0, 0.0, (1.0, 0.97, 0.6))
    est = estimate_heart_rate(x, 30.0, NO_DETREND)
    assert est.harmonic_correction is HarmonicCorrection.NONE
    assert est.bpm == pytest.approx(60.0, abs=0.5)


@PROPERTY
@given(
    bpm=st.floats(45.0, 200.0),
    phase=st.floats(0.0, 2 * np.pi),
    second=st.floats(0.0, 0.7),
    third=st.floats(0.0, 0.5),
    fs_hz=st.sampled_from([25.0, 30.0, 60.0]),
)
def test_guard_never_alters_a_clean_pulse(
    bpm: float, phase: float, second: float, third: float, fs_hz: float
) -> None:
    t = np.arange(int(10 * fs_hz)) / fs_hz
    x = pulse_wave(t, bpm / 60.0, phase, (1.0, second, third * second))
    est = estimate_heart_rate(x, fs_hz)
    assert est.harmonic_correction is HarmonicCorrection.NONE
    assert est.bpm == est.raw_peak_bpm
    assert est.bpm == pytest.approx(bpm, abs=1.0)


# ----------------------------------------------------------------------------- quality


def test_signal_quality_snr_and_ipr() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(300) / 30.0
    sine = np.sin(2 * np.pi * 1.2 * t)
    clean = signal_quality(sine, 30.0, 72.0)
    noise = signal_quality(rng.standard_normal(300), 30.0, 72.0)
    assert clean.snr_db > 5.0
    assert noise.snr_db < 0.0
    assert clean.irrelevant_power_ratio < 0.05
    # Detrending would remove most of a 0.2 Hz sine, which is exactly what IPR should flag.
    slow = signal_quality(np.sin(2 * np.pi * 0.2 * t), 30.0, 72.0, NO_DETREND)
    assert slow.irrelevant_power_ratio > 0.9
    # The estimate carries the same numbers around its own peak.
    est = estimate_heart_rate(sine, 30.0)
    same = signal_quality(sine, 30.0, est.bpm)
    assert est.snr_db == pytest.approx(same.snr_db)
    assert est.irrelevant_power_ratio == pytest.approx(same.irrelevant_power_ratio)


@PROPERTY
@given(
    bpm=st.floats(45.0, 120.0),  # 2nd harmonic inside the 0.7-4 Hz band
    noise=st.floats(0.0, 2.0),
    halfwidth_bpm=st.sampled_from([3.0, 6.0, 12.0]),
    fs_hz=st.sampled_from([25.0, 30.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_signal_quality_matches_its_definition(
    bpm: float, noise: float, halfwidth_bpm: float, fs_hz: float, seed: int
) -> None:
    """SNR (de Haan & Jeanne 2013): power within +-halfwidth of f0 and of 2 f0 over the rest of
    the band, in dB; IPR (Gideon & Stent 2021): share of power outside the band. Both from the
    same detrended Hann periodogram, here computed with scipy."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(10 * fs_hz)) / fs_hz
    x = 5.0 + 0.2 * t + pulse_wave(t, bpm / 60.0, 1.0) + noise * rng.standard_normal(t.size)
    opts = SpectralOptions(snr_halfwidth_bpm=halfwidth_bpm)
    q = signal_quality(x, fs_hz, bpm, opts)
    nfft = max(512, 1 << int(np.ceil(np.log2(2 * t.size))))
    z = ref_detrend(x - x.mean(), auto_lambda(fs_hz))
    f, p = scipy.signal.periodogram(z, fs_hz, window="hann", nfft=nfft, detrend="constant")
    f0, hw = bpm / 60.0, halfwidth_bpm / 60.0
    band = (f >= 0.7) & (f <= 4.0)
    sig = (np.abs(f - f0) <= hw) | (np.abs(f - 2 * f0) <= hw)
    snr_ref = 10 * np.log10(p[sig].sum() / p[band & ~sig].sum())
    ipr_ref = p[~band].sum() / p.sum()
    assert q.snr_db == pytest.approx(snr_ref, abs=1e-6)
    assert q.irrelevant_power_ratio == pytest.approx(ipr_ref, abs=1e-9)


def test_snr_falls_as_noise_rises() -> None:
    rng = np.random.default_rng(8)
    t = np.arange(300) / 30.0
    base = pulse_wave(t, 1.2)
    white = rng.standard_normal(300)
    snrs = [estimate_heart_rate(base + s * white, 30.0).snr_db for s in (0.0, 0.5, 1.0, 3.0)]
    assert snrs == sorted(snrs, reverse=True)


# ----------------------------------------------------------------------------- pulse extraction


def _sign_aligned(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``ref`` flipped to ``ours``'s sign: the sign convention is tested on its own below."""
    return ref if float(np.dot(ours, ref)) >= 0 else -ref


def test_green_is_normalised_green_column() -> None:
    rgb = skin_rgb(pulse_wave(np.arange(300) / 30.0, 1.2), 30.0)
    g = rgb[:, 1]
    ours = extract_pulse(rgb, 30.0, PulseMethod.GREEN)
    np.testing.assert_allclose(ours, _sign_aligned(ours, g / g.mean() - 1.0), atol=1e-12)
    np.testing.assert_array_equal(extract_pulse(rgb, 30.0, "green"), ours)


@pytest.mark.parametrize("fs_hz", [25.0, 30.0])
def test_pos_matches_wang_2017_algorithm_1(fs_hz: float) -> None:
    t = np.arange(int(12 * fs_hz)) / fs_hz
    rgb = skin_rgb(pulse_wave(t, 1.3), fs_hz, seed=2)
    for window_s in (1.6, 1.0):
        ours = extract_pulse(rgb, fs_hz, PulseMethod.POS, window_s=window_s)
        ref = _sign_aligned(ours, ref_pos(rgb, int(round(window_s * fs_hz))))
        np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("bpm", [45.0, 55.0, 78.0, 110.0, 150.0, 200.0])
def test_chrom_agrees_with_de_haan_2013(bpm: float) -> None:
    fs_hz = 30.0
    t = np.arange(int(12 * fs_hz)) / fs_hz
    rgb = skin_rgb(pulse_wave(t, bpm / 60.0, 0.7), fs_hz, seed=int(bpm))
    win = int(round(1.6 * fs_hz))
    ours = extract_pulse(rgb, fs_hz, PulseMethod.CHROM)
    # Filter and edge details differ (FFT band-pass with a taper vs Butterworth): compare the
    # waveforms where every sample has full window overlap, and the heart rates.
    mid = slice(win, -win)
    assert np.corrcoef(ours[mid], ref_chrom(rgb, fs_hz, (0.7, 4.0), win)[mid])[0, 1] > 0.9
    hr_ours = estimate_heart_rate(ours, fs_hz).bpm
    assert hr_ours == pytest.approx(bpm, abs=1.0)
    # The toolbox's per-window Butterworth is poor on 1.6 s windows at low rates (its waveform
    # correlates only ~0.8 with the truth at 55 bpm, and at 45 bpm its strongest peak is the
    # 2nd harmonic), so only its heart rate is compared, and only from 55 bpm up.
    if bpm >= 55.0:
        hr_toolbox = ref_peak_bpm(ref_chrom_toolbox(rgb, fs_hz, (0.7, 4.0), win), fs_hz)
        assert hr_ours == pytest.approx(hr_toolbox, abs=1.0)


@pytest.mark.parametrize("method", list(PulseMethod))
def test_pulse_rises_with_blood_volume(method: PulseMethod) -> None:
    """extract_pulse documents "larger = more blood". More blood under the skin absorbs more
    light, so the reflected colour *falls* along the blood-volume direction when it rises."""
    fs_hz = 30.0
    t = np.arange(300) / fs_hz
    blood = pulse_wave(t, 1.2, 0.0)
    # Reflected light = skin x (1 - k blood); no intensity flicker, which GREEN cannot reject.
    rgb = skin_rgb(-blood, fs_hz, seed=3, flicker=0.0)
    pulse = extract_pulse(rgb, fs_hz, method)
    mid = slice(48, -48)
    assert np.corrcoef(bandpass(pulse, fs_hz)[mid], bandpass(blood, fs_hz)[mid])[0, 1] > 0.8


@pytest.mark.parametrize("method", list(PulseMethod))
def test_pulse_methods_recover_heart_rate_through_illumination_changes(method: PulseMethod) -> None:
    fs_hz = 30.0
    t = np.arange(300) / fs_hz
    rgb = skin_rgb(pulse_wave(t, 1.25, 0.2), fs_hz, seed=11)
    pulse = extract_pulse(rgb, fs_hz, method)
    assert pulse.shape == (300,)
    assert estimate_heart_rate(pulse, fs_hz).bpm == pytest.approx(75.0, abs=1.0)


def test_pos_and_chrom_cancel_intensity_changes_green_does_not() -> None:
    """A strong common intensity flicker at 1.8 Hz (in band) beside a 1.1 Hz pulse: the
    chrominance methods remove it, the green channel reads it as the heart rate."""
    fs_hz = 30.0
    t = np.arange(300) / fs_hz
    rgb = skin_rgb(pulse_wave(t, 1.1), fs_hz, seed=4)
    rgb = rgb * (1.0 + 0.01 * np.sin(2 * np.pi * 1.8 * t))[:, None]
    assert estimate_heart_rate(extract_pulse(rgb, fs_hz, "green"), fs_hz).bpm == pytest.approx(
        108.0, abs=1.0
    )
    for method in (PulseMethod.POS, PulseMethod.CHROM):
        assert estimate_heart_rate(extract_pulse(rgb, fs_hz, method), fs_hz).bpm == pytest.approx(
            66.0, abs=1.0
        )
