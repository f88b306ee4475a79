"""Bad input to every public DSP function: a ValueError or TypeError that says what was expected
and what arrived, never a crash, a hang, another exception type or a silent NaN."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.signal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rppg_sdk.dsp import (
    FrameRingBuffer,
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

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

FS = 30.0
T = np.arange(300) / FS
GOOD = 2.0 + np.sin(2 * np.pi * 1.2 * T) + 0.3 * np.sin(2 * np.pi * 2.4 * T)
GOOD_RGB = np.column_stack([100.0 + GOOD, 80.0 + 2.0 * GOOD, 60.0 + GOOD])


def _resample(x: Any, fs: Any) -> Any:
    try:
        n = len(x)
    except TypeError:
        n = 300
    return resample_uniform(np.arange(max(n, 2)) / 30.0, x, fs)


#: Every public function as f(signal, fs_hz), the other arguments fixed and valid.
SIGNAL_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "detrend": lambda x, fs: detrend(x, 100.0),
    "bandpass": lambda x, fs: bandpass(x, fs),
    "power_spectrum": lambda x, fs: power_spectrum(x, fs),
    "power_spectrum_welch": lambda x, fs: power_spectrum(x, fs, SpectralOptions(method="welch")),
    "estimate_heart_rate": lambda x, fs: estimate_heart_rate(x, fs),
    "signal_quality": lambda x, fs: signal_quality(x, fs, 72.0),
    "resample_uniform": _resample,
}
RGB_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    f"extract_pulse_{m.value}": functools.partial(
        lambda x, fs, method: extract_pulse(x, fs, method), method=m
    )
    for m in PulseMethod
}
ALL_FUNCS = {**SIGNAL_FUNCS, **RGB_FUNCS}


def _outputs(result: Any) -> list[np.ndarray]:
    """The numeric arrays/values a result holds, to check for NaN leaks."""
    if isinstance(result, np.ndarray):
        return [result]
    if hasattr(result, "__dataclass_fields__"):
        out = []
        for name in result.__dataclass_fields__:
            v = getattr(result, name)
            if isinstance(v, np.ndarray | float | int) and not isinstance(v, bool):
                out.append(np.asarray(v, dtype=float))
        return out
    return []


def call_checked(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call; allow only ValueError/TypeError that name what was expected and what arrived.
    On success every number in the result must be finite."""
    try:
        result = func(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert re.search(r"expected", msg) and re.search(r"\bgot\b", msg), (
            f"{type(exc).__name__} without 'expected ... got': {msg!r}"
        )
        return exc
    for arr in _outputs(result):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        assert bad == 0, f"{bad} non-finite output values from accepted input ({func!r})"
    return result


# ----------------------------------------------------------------------------- fuzzing

bad_dtypes = st.sampled_from(
    [np.bool_, np.int8, np.uint8, np.int64, np.uint64, np.float16, np.float32, np.float64,
     np.complex64, np.complex128, np.dtype("U3"), np.dtype("S2"), np.dtype("<M8[s]"),
     np.dtype(">f8")]
)  # fmt: skip
fuzz_arrays = hnp.arrays(
    dtype=bad_dtypes,
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40),
)
fuzz_long_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.dtype(">f8")]),
    shape=st.integers(0, 400),
    elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
)
fuzz_signals = st.one_of(
    fuzz_arrays,
    fuzz_long_arrays,
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=400),
    st.lists(st.one_of(st.integers(-10, 10), st.text(max_size=2), st.none()), max_size=20),
    st.builds(
        lambda n, s: (s * np.random.default_rng(n).standard_normal(n)).tolist(),
        st.integers(0, 400),
        st.sampled_from([1.0, 1e100, 1e200, 1e300]),
    ),  # fmt: skip
    st.none(),
    st.text(max_size=5),
    st.floats(),
    st.just(object()),
)
fuzz_fs = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([30.0, 25, 0, -30.0, 1e-300, 1e6, 1e9, 4.0, 8.0]),
    st.just("30"),
    st.none(),
    st.just(np.float32(30.0)),
    st.just(True),
)


@FUZZ
@given(name=st.sampled_from(sorted(ALL_FUNCS)), x=fuzz_signals, fs=fuzz_fs)
def test_fuzz_every_function(name: str, x: Any, fs: Any) -> None:
    call_checked(ALL_FUNCS[name], x, fs)


@FUZZ
@given(
    name=st.sampled_from(sorted(RGB_FUNCS)),
    rgb=hnp.arrays(
        dtype=np.float64,
        shape=st.tuples(st.integers(0, 400), st.integers(0, 5)),
        elements=st.one_of(st.floats(0.0, 1e300), st.floats(50.0, 60.0)),
    ),
    window_s=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1.6)),
    fs=st.sampled_from([30.0, 25.0, 1e6, 9.0]),
)
def test_fuzz_extract_pulse(name: str, rgb: np.ndarray, window_s: float, fs: float) -> None:
    method = name.removeprefix("extract_pulse_")
    call_checked(extract_pulse, rgb, fs, method, window_s=window_s)


spectral_kwargs = st.fixed_dictionaries(
    {},
    optional={
        "band_hz": st.one_of(
            st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True)),
            st.sampled_from([(4.0, 0.7), (0.7, 20.0), (0.7, 0.7), (0.0, 4.0), (1.0,), "ab"]),
        ),
        "nfft": st.one_of(st.integers(-5, 2**23), st.none(), st.just(512.0), st.just(True)),
        "window": st.sampled_from(["hann", "boxcar", "hamming", None]),
        "method": st.sampled_from(["periodogram", "welch", "lomb"]),
        "welch_segment_s": st.floats(allow_nan=True, allow_infinity=True),
        "detrend_lambda": st.one_of(
            st.none(), st.just("auto"), st.just("x"), st.floats(allow_nan=True, allow_infinity=True)
        ),
        "half_harmonic_ratio": st.floats(allow_nan=True, allow_infinity=True),
        "missed_fundamental_ratio": st.floats(allow_nan=True, allow_infinity=True),
        "snr_halfwidth_bpm": st.floats(allow_nan=True, allow_infinity=True),
    },
)


@FUZZ
@given(kwargs=spectral_kwargs, fs=st.sampled_from([30.0, 25.0, 60.0, 9.0]))
def test_fuzz_spectral_options(kwargs: dict[str, Any], fs: float) -> None:
    opts = call_checked(SpectralOptions, **kwargs)
    if isinstance(opts, Exception):
        return
    for func in (estimate_heart_rate, power_spectrum):
        call_checked(func, GOOD, fs, opts)
    call_checked(signal_quality, GOOD, fs, 72.0, opts)


@FUZZ
@given(lambda_=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2)))
def test_fuzz_detrend_lambda(lambda_: Any) -> None:
    call_checked(detrend, GOOD, lambda_)


@FUZZ
@given(
    band=st.tuples(st.floats(0.0, 20.0), st.floats(0.0, 20.0)),
    taper=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just("0.1")),
    fs=st.sampled_from([30.0, 8.0, 1e6]),
)
def test_fuzz_bandpass_parameters(band: tuple[float, float], taper: Any, fs: float) -> None:
    call_checked(bandpass, GOOD, fs, band, taper)


@FUZZ
@given(
    t=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=30),
    fs=fuzz_fs,
)
def test_fuzz_resample_timestamps(t: list[float], fs: Any) -> None:
    call_checked(resample_uniform, t, np.ones(len(t)), fs)


# ----------------------------------------------------------------------------- named cases


def _check_raises(exc: type[Exception], func: Callable[..., Any], *args: Any, **kw: Any) -> str:
    with pytest.raises(exc) as info:
        func(*args, **kw)
    msg = str(info.value)
    assert "expected" in msg and re.search(r"\bgot\b", msg), msg
    return msg


@pytest.mark.parametrize("name", sorted(SIGNAL_FUNCS))
@pytest.mark.parametrize(
    ("bad", "exc", "says"),
    [
        (np.array([]), ValueError, "at least"),
        (GOOD[:1], ValueError, "at least"),
        (GOOD[:40], ValueError, "at least"),
        (np.where(T > 3, np.nan, GOOD), ValueError, "finite"),
        (np.where(T > 3, np.inf, GOOD), ValueError, "finite"),
        (np.where(T > 3, -np.inf, GOOD), ValueError, "finite"),
        (GOOD > 2, TypeError, "bool"),
        (GOOD.astype(complex), TypeError, "complex"),
        (GOOD.astype(object), TypeError, "object"),
        (GOOD.astype(str), TypeError, "<U"),
        (GOOD * 1e300, ValueError, "1e\\+?150"),
        (np.stack([GOOD, GOOD, GOOD]), ValueError, "shape"),
        (np.float64(3.0), TypeError, "numpy array"),
        ("0.1, 0.2", TypeError, "numpy array"),
        (None, TypeError, "numpy array"),
    ],
    ids=[
        "empty", "one-sample", "short-for-band", "nan", "inf", "-inf", "bool", "complex",
        "object", "str", "huge", "2d", "scalar", "string", "none",
    ],
)  # fmt: skip
def test_bad_signals(name: str, bad: Any, exc: type[Exception], says: str) -> None:
    if name == "resample_uniform" and says == "shape":
        pytest.skip("resample_uniform takes (T, C) values")
    if name in ("detrend", "resample_uniform") and getattr(bad, "shape", None) == (40,):
        pytest.skip("no band: 40 samples are plenty")
    msg = _check_raises(exc, SIGNAL_FUNCS[name], bad, FS)
    assert re.search(says, msg), msg


@pytest.mark.parametrize("name", sorted(ALL_FUNCS))
@pytest.mark.parametrize(
    ("fs", "exc"),
    [(0.0, ValueError), (-30.0, ValueError), (np.nan, ValueError), (np.inf, ValueError),
     ("30", TypeError), (None, TypeError), (30j, TypeError), (True, TypeError),
     (7.0, ValueError)],  # 7 Hz: the 4 Hz band edge is above Nyquist
)  # fmt: skip
def test_bad_rates(name: str, fs: Any, exc: type[Exception]) -> None:
    if name == "detrend" or (name == "resample_uniform" and fs == 7.0):
        pytest.skip("no rate (detrend) or no band (resample)")
    x = GOOD_RGB if name.startswith("extract_pulse") else GOOD
    msg = _check_raises(exc, ALL_FUNCS[name], x, fs)
    assert "fs_hz" in msg or "band_hz" in msg or "Nyquist" in msg, msg


@pytest.mark.parametrize(
    "call",
    [
        lambda band: bandpass(GOOD, FS, band),
        lambda band: estimate_heart_rate(GOOD, FS, SpectralOptions(band_hz=band)),
        lambda band: power_spectrum(GOOD, FS, SpectralOptions(band_hz=band)),
        lambda band: signal_quality(GOOD, FS, 72.0, SpectralOptions(band_hz=band)),
        lambda band: extract_pulse(GOOD_RGB, FS, "chrom", band_hz=band),
    ],
    ids=["bandpass", "estimate_heart_rate", "power_spectrum", "signal_quality", "chrom"],
)
@pytest.mark.parametrize(
    ("band", "says"),
    [((4.0, 0.7), "low < high"), ((1.0, 1.0), "low < high"), ((0.7, 15.0), "Nyquist"),
     ((0.7, 20.0), "Nyquist"), ((0.0, 4.0), "positive"), ((-1.0, 4.0), "positive"),
     ((0.7,), r"\(low_hz, high_hz\)"), ("0.7-4", r"\(low_hz, high_hz\)")],
)  # fmt: skip
def test_bad_bands(call: Callable[[Any], Any], band: Any, says: str) -> None:
    msg = _check_raises(ValueError, call, band)
    assert re.search(says, msg), msg


def test_options_must_be_spectral_options() -> None:
    for func in (estimate_heart_rate, power_spectrum):
        _check_raises(TypeError, func, GOOD, FS, {"band_hz": (0.7, 4.0)})
    _check_raises(TypeError, signal_quality, GOOD, FS, 72.0, "hann")


@pytest.mark.parametrize("nfft", [65521, 1000003, 4194301])  # primes
def test_prime_nfft_does_not_hang(nfft: int) -> None:
    """A prime FFT length made KissFFT quadratic (minutes for 4194301). Any nfft in range must
    answer as fast as a smooth one, with the same heart rate."""
    for func in (estimate_heart_rate, power_spectrum):
        call_checked(func, GOOD, FS, SpectralOptions(nfft=nfft))
    est = estimate_heart_rate(GOOD, FS, SpectralOptions(nfft=nfft))
    assert est.bpm == pytest.approx(estimate_heart_rate(GOOD, FS).bpm, abs=0.05)


@pytest.mark.parametrize("window_s", [1e308, 1e300, float("inf"), 0.0, -1.0, 0.01])
def test_pulse_window_bounds(window_s: float) -> None:
    _check_raises(ValueError, extract_pulse, GOOD_RGB, FS, window_s=window_s)


@pytest.mark.parametrize("segment_s", [1e308, float("inf"), 0.0, -5.0])
def test_welch_segment_bounds(segment_s: float) -> None:
    with pytest.raises(ValueError, match="welch_segment_s"):
        estimate_heart_rate(GOOD, FS, SpectralOptions(method="welch", welch_segment_s=segment_s))


@pytest.mark.parametrize("lambda_", [1e5, 1e6, 1e7, 1e8, 1e10, 1e12, 1e16, 1e160, 1e300])
def test_detrend_huge_lambda_is_rejected_or_right(lambda_: float) -> None:
    """As lambda grows the smoothness-priors trend tends to the least-squares line (D2 has the
    lines as its null space), so the output tends to the line-fit residual. A lambda too large
    for double precision (the system's condition number is ~16 lambda^2) must be refused, not
    answered with NaN or with a wrong but finite signal."""
    x = GOOD + 3.0 * T
    residual = x - np.polyval(np.polyfit(T, x, 1), T)
    out = call_checked(detrend, x, lambda_)
    if not isinstance(out, Exception):
        assert np.max(np.abs(out - residual)) < 0.05, f"lambda {lambda_:g}"
    spec = call_checked(power_spectrum, x, FS, SpectralOptions(detrend_lambda=lambda_))
    if not isinstance(spec, Exception):
        _, p_ref = scipy.signal.periodogram(
            residual, FS, window="hann", nfft=spec.freqs_hz.size * 2 - 2
        )
        assert np.max(np.abs(spec.power - p_ref)) < 0.05 * p_ref.max(), f"lambda {lambda_:g}"


@pytest.mark.parametrize(
    "rgb",
    [
        np.zeros((300, 3)),
        -GOOD_RGB,
        np.where(T[:, None] > 3, 0.0, GOOD_RGB),
        GOOD_RGB[:, :2],
        GOOD_RGB.T,
        GOOD_RGB[:10],
        np.where(T[:, None] > 3, np.nan, GOOD_RGB),
    ],
    ids=["zeros", "negative", "some-zero", "two-channels", "transposed", "short", "nan"],
)
@pytest.mark.parametrize("method", list(PulseMethod))
def test_bad_rgb(rgb: np.ndarray, method: PulseMethod) -> None:
    _check_raises(ValueError, extract_pulse, rgb, FS, method)


def test_bad_method_names_the_choices() -> None:
    msg = _check_raises(ValueError, extract_pulse, GOOD_RGB, FS, "ica")
    assert "'pos'" in msg and "'ica'" in msg


def test_resample_bad_timestamps() -> None:
    v = np.ones(5)
    _check_raises(ValueError, resample_uniform, [0.0, 1.0, 1.0, 2.0, 3.0], v, FS)  # repeat
    _check_raises(ValueError, resample_uniform, [0.0, 1.0, 0.5, 2.0, 3.0], v, FS)  # step back
    _check_raises(ValueError, resample_uniform, [0.0, 1.0, np.nan, 2.0, 3.0], v, FS)
    _check_raises(ValueError, resample_uniform, [0.0, 1.0, 2.0], v, FS)  # length mismatch
    _check_raises(ValueError, resample_uniform, [0.0], [1.0], FS)
    _check_raises(ValueError, resample_uniform, [0.0, 1e9], [1.0, 2.0], FS)  # 3e10 samples
    _check_raises(ValueError, resample_uniform, np.zeros((5, 1)), v, FS)


# ----------------------------------------------------------------------------- accepted input


@pytest.mark.parametrize("name", sorted(SIGNAL_FUNCS))
def test_lists_ints_views_and_byte_orders_give_the_same_answer(name: str) -> None:
    func = SIGNAL_FUNCS[name]
    ref = func(GOOD, FS)
    twice = np.repeat(GOOD, 2)
    variants = {
        "list": GOOD.tolist(),
        "tuple": tuple(GOOD),
        "strided view": twice[::2],
        "reversed view": GOOD[::-1].copy()[::-1],
        "big-endian": GOOD.astype(">f8"),
        "read-only": np.lib.stride_tricks.as_strided(GOOD, writeable=False),
    }
    for label, x in variants.items():
        got = func(x, FS)
        for a, b in zip(_outputs(got), _outputs(ref), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=label)
    # Other real dtypes are taken at their values.
    for other in (np.rint(GOOD * 100).astype(np.int16), GOOD.astype(np.float32)):
        got, want = func(other, FS), func(other.astype(np.float64), FS)
        for a, b in zip(_outputs(got), _outputs(want), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=str(other.dtype))


@pytest.mark.parametrize("method", list(PulseMethod))
def test_pulse_accepts_views_bgr_reversal_and_fortran(method: PulseMethod) -> None:
    ref = extract_pulse(GOOD_RGB, FS, method)
    bgr = np.ascontiguousarray(GOOD_RGB[:, ::-1])
    for label, x in {
        "bgr[:, ::-1]": bgr[:, ::-1],
        "fortran": np.asfortranarray(GOOD_RGB),
        "list": GOOD_RGB.tolist(),
    }.items():
        np.testing.assert_allclose(
            extract_pulse(x, FS, method), ref, rtol=1e-12, atol=1e-14, err_msg=label
        )
    u8 = np.clip(GOOD_RGB, 1, 255).astype(np.uint8)
    np.testing.assert_allclose(
        extract_pulse(u8, FS, method), extract_pulse(u8.astype(float), FS, method), atol=1e-14
    )


@pytest.mark.parametrize("name", sorted(SIGNAL_FUNCS))
def test_no_pulse_means_low_confidence_not_an_error(name: str) -> None:
    """Flat, zero and tiny signals are valid input (a covered camera): no error, finite output,
    and the heart-rate estimate says it is not to be trusted."""
    for x in (np.zeros(300), np.full(300, 7.0), 1e-300 * np.sin(T)):
        call_checked(SIGNAL_FUNCS[name], x, FS)
    assert estimate_heart_rate(np.zeros(300), FS).snr_db < -20.0
    assert estimate_heart_rate(np.full(300, 7.0), FS).snr_db < -20.0


# ----------------------------------------------------------------------------- ring buffer


@FUZZ
@given(
    frame=st.one_of(
        hnp.arrays(dtype=bad_dtypes, shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=6)),
        st.none(),
        st.lists(st.integers(0, 255), max_size=5),
    ),
    ts=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)),
)
def test_fuzz_ring_buffer_push(frame: Any, ts: Any) -> None:
    rb = FrameRingBuffer(3, (4, 5, 3), np.uint8)
    rb.push(np.zeros((4, 5, 3), np.uint8), 0.0)
    out = call_checked(rb.push, frame, ts)
    assert rb.size == (1 if isinstance(out, Exception) else 2)


@pytest.mark.parametrize("ts", ["1.0", None, [1.0], np.array([1.0, 2.0])])
def test_ring_buffer_bad_timestamp_type(ts: Any) -> None:
    rb = FrameRingBuffer(2, (2, 2), np.uint8)
    _check_raises(TypeError, rb.push, np.zeros((2, 2), np.uint8), ts)


@pytest.mark.parametrize("n", ["1", 1.5, None])
def test_ring_buffer_bad_window_type(n: Any) -> None:
    rb = FrameRingBuffer(2, (2, 2), np.uint8)
    rb.push(np.zeros((2, 2), np.uint8), 0.0)
    _check_raises(TypeError, rb.window, n)


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((2, None), TypeError),
        ((2, 5), TypeError),
        ((2, (2, 2), "uint9"), TypeError),
        ((2, (2**40, 2**40, 1)), ValueError),  # 2**80 bytes: np.prod would wrap to 0
        ((2, (2**31, 2**31, 4)), ValueError),
    ],
)
def test_ring_buffer_bad_construction(args: tuple[Any, ...], exc: type[Exception]) -> None:
    _check_raises(exc, FrameRingBuffer, *args)
