"""TimeSeriesBuffer: against a deque model, boundaries, validation, threads."""

from __future__ import annotations

import math
import sys
import threading
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rppg_sdk.dsp import TimeSeriesBuffer

# ----------------------------------------------------------------------------- semantics


def _as_arrays(model: deque[tuple[tuple[float, ...], float]], channels: int) -> tuple:  # type: ignore[type-arg]
    values = np.array([v for v, _ in model], dtype=np.float64).reshape(len(model), channels)
    times = np.array([t for _, t in model], dtype=np.float64)
    return values, times


# One operation of a random program: push one sample, push a batch, read a window or since().
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.floats(0.001, 5.0)),
        st.tuples(st.just("push_many"), st.lists(st.floats(0.001, 5.0), min_size=0, max_size=12)),
        st.tuples(st.just("window"), st.integers(0, 20)),
        st.tuples(st.just("since"), st.floats(-10.0, 80.0)),
        st.tuples(st.just("clear"), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(capacity=st.integers(1, 9), channels=st.integers(1, 4), ops=_ops)
def test_matches_a_deque_model(capacity: int, channels: int, ops: list) -> None:  # type: ignore[type-arg]
    buf = TimeSeriesBuffer(capacity, channels)
    model: deque[tuple[tuple[float, ...], float]] = deque(maxlen=capacity)
    clock = 0.0
    counter = 0

    def sample() -> tuple[float, ...]:
        nonlocal counter
        counter += 1
        return tuple(counter * 10.0 + c for c in range(channels))

    for op, arg in ops:
        if op == "push":
            clock += arg
            v = sample()
            buf.push(np.array(v), clock)
            model.append((v, clock))
        elif op == "push_many":
            times = clock + np.cumsum(arg)
            vals = [sample() for _ in arg]
            buf.push_many(np.array(vals, dtype=np.float64).reshape(len(arg), channels), times)
            model.extend(zip(vals, times.tolist(), strict=True))
            if len(arg):
                clock = float(times[-1])
        elif op == "window":
            want_v, want_t = _as_arrays(model, channels)
            if 1 <= arg <= len(model):
                got_v, got_t = buf.window(arg)
                np.testing.assert_array_equal(got_v, want_v[len(model) - arg :])
                np.testing.assert_array_equal(got_t, want_t[len(model) - arg :])
            else:
                with pytest.raises(ValueError, match="window: expected 1 <= n <= "):
                    buf.window(arg)
            got_v, got_t = buf.window()
            np.testing.assert_array_equal(got_v, want_v)
            np.testing.assert_array_equal(got_t, want_t)
        elif op == "since":
            want_v, want_t = _as_arrays(model, channels)
            keep = want_t >= arg
            got_v, got_t = buf.since(arg)
            np.testing.assert_array_equal(got_v, want_v[keep])
            np.testing.assert_array_equal(got_t, want_t[keep])
        else:
            buf.clear()
            model.clear()
        assert len(buf) == buf.size == len(model)
        expected_last = model[-1][1] if model else None
        assert buf.last_timestamp_s == expected_last


def test_wrap_around_keeps_the_newest_oldest_first() -> None:
    buf = TimeSeriesBuffer(4, 3)
    assert (buf.size, buf.capacity, buf.channels, len(buf)) == (0, 4, 3, 0)
    for i in range(11):  # wraps twice and a bit
        buf.push([i, 2 * i, 3 * i], 0.25 * i)
    values, times = buf.window()
    assert values.shape == (4, 3) and values.dtype == np.float64 and times.dtype == np.float64
    assert values.flags["C_CONTIGUOUS"] and times.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(values[:, 0], [7, 8, 9, 10])
    np.testing.assert_array_equal(values[:, 2], [21, 24, 27, 30])
    np.testing.assert_array_equal(times, [1.75, 2.0, 2.25, 2.5])
    values, times = buf.window(2)
    np.testing.assert_array_equal(times, [2.25, 2.5])
    assert buf.last_timestamp_s == 2.5


def test_push_many_larger_than_capacity_keeps_the_newest() -> None:
    buf = TimeSeriesBuffer(5, 2)
    buf.push([-1.0, -1.0], 0.0)
    t = 1.0 + np.arange(13.0)
    v = np.stack([np.arange(13.0), -np.arange(13.0)], axis=1)
    buf.push_many(v, t)
    values, times = buf.window()
    np.testing.assert_array_equal(times, t[-5:])
    np.testing.assert_array_equal(values, v[-5:])


def test_window_and_since_are_copies() -> None:
    buf = TimeSeriesBuffer(3, 1)
    src = np.array([5.0])
    buf.push(src, 1.0)
    src[:] = 99.0  # the caller reuses its array
    values, times = buf.window()
    values[:] = 77.0
    times[:] = 0.0
    again, again_t = buf.since(-math.inf)
    assert again.tolist() == [[5.0]] and again_t.tolist() == [1.0]


@pytest.mark.parametrize(
    ("start_s", "expected"),
    [
        (-math.inf, [1.0, 2.0, 3.0]),
        (0.999, [1.0, 2.0, 3.0]),
        (1.0, [1.0, 2.0, 3.0]),  # a sample exactly at start_s is included
        (1.0000001, [2.0, 3.0]),
        (3.0, [3.0]),
        (3.0000001, []),
        (math.inf, []),
    ],
)
def test_since_at_boundaries(start_s: float, expected: list[float]) -> None:
    buf = TimeSeriesBuffer(3, 2)
    for i in range(5):  # wrapped: holds t = 1, 2, 3 (physically not in order)
        buf.push([i, i], float(i - 1))
    values, times = buf.since(start_s)
    assert times.tolist() == expected
    assert values.shape == (len(expected), 2)
    np.testing.assert_array_equal(values[:, 0], np.array(expected) + 1)


def test_empty_buffer() -> None:
    buf = TimeSeriesBuffer(3, 2)
    assert buf.last_timestamp_s is None and len(buf) == 0
    values, times = buf.window()
    assert values.shape == (0, 2) and times.shape == (0,)
    values, times = buf.since(0.0)
    assert values.shape == (0, 2) and times.shape == (0,)
    with pytest.raises(ValueError, match=r"window: expected 1 <= n <= 0 \(samples held\), got 1"):
        buf.window(1)
    buf.push_many(np.zeros((0, 2)), np.zeros(0))  # an empty batch is a no-op
    assert buf.size == 0
    assert repr(buf) == "TimeSeriesBuffer(capacity=3, channels=2, size=0)"


def test_clear_drops_samples_and_the_time_order() -> None:
    buf = TimeSeriesBuffer(3, 1)
    buf.push([1.0], 100.0)
    buf.clear()
    assert buf.size == 0 and buf.last_timestamp_s is None
    buf.push([2.0], -5.0)  # a restarted camera clock
    assert buf.window()[1].tolist() == [-5.0]


def test_accepts_integer_and_list_input() -> None:
    buf = TimeSeriesBuffer(2, 3)
    buf.push(np.array([1, 2, 3], dtype=np.uint8), np.int64(4))
    buf.push((4.0, 5.0, 6.0), np.float32(5.5))
    values, times = buf.window()
    assert values.tolist() == [[1, 2, 3], [4, 5, 6]] and times.tolist() == [4.0, 5.5]


# ----------------------------------------------------------------------------- bad input


def _filled() -> TimeSeriesBuffer:
    buf = TimeSeriesBuffer(4, 2)
    buf.push([1.0, 2.0], 1.0)
    buf.push([3.0, 4.0], 2.0)
    return buf


def _unchanged(buf: TimeSeriesBuffer) -> None:
    values, times = buf.window()
    assert values.tolist() == [[1.0, 2.0], [3.0, 4.0]] and times.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected(bad: float) -> None:
    buf = _filled()
    with pytest.raises(ValueError, match=r"values: expected finite numbers, got .* channel 1"):
        buf.push([0.0, bad], 3.0)
    vals = np.zeros((3, 2))
    vals[2, 0] = bad
    with pytest.raises(ValueError, match=r"values: expected finite numbers, got .* sample 2"):
        buf.push_many(vals, [3.0, 4.0, 5.0])
    _unchanged(buf)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_timestamps_are_rejected(bad: float) -> None:
    buf = _filled()
    with pytest.raises(ValueError, match="timestamp_s: expected a finite number of seconds"):
        buf.push([0.0, 0.0], bad)
    with pytest.raises(ValueError, match=r"timestamps_s\[1\]: expected a finite number"):
        buf.push_many(np.zeros((2, 2)), [3.0, bad])
    _unchanged(buf)


@pytest.mark.parametrize("t", [2.0, 1.5, -3.0])
def test_repeated_or_earlier_timestamps_are_rejected(t: float) -> None:
    buf = _filled()
    with pytest.raises(ValueError, match=r"after the previous sample's 2 s, got .* camera restart"):
        buf.push([0.0, 0.0], t)
    with pytest.raises(ValueError, match=r"timestamps_s\[0\]: expected a time after"):
        buf.push_many(np.zeros((2, 2)), [t, 10.0])
    with pytest.raises(ValueError, match=r"timestamps_s\[2\]: expected a time after"):
        buf.push_many(np.zeros((3, 2)), [3.0, 4.0, 4.0])  # out of order within the batch
    _unchanged(buf)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, 2.0, 3.0], r"values: expected shape \(2,\), got \(3,\)"),
        ([[1.0, 2.0]], r"values: expected shape \(2,\), got \(1, 2\)"),
        ([], r"values: expected shape \(2,\), got \(0,\)"),
        ([[1.0], [1.0, 2.0]], "values: expected a rectangular array, got ragged input"),
    ],
)
def test_wrong_shape_names_expected_and_got(values: object, message: str) -> None:
    buf = _filled()
    with pytest.raises(ValueError, match=message):
        buf.push(values, 3.0)  # type: ignore[arg-type]
    _unchanged(buf)


@pytest.mark.parametrize(
    ("values", "times"),
    [
        (np.zeros((2, 3)), [3.0, 4.0]),  # wrong channel count
        (np.zeros((2, 2)), [3.0]),  # lengths differ
        (np.zeros(2), [3.0]),  # not 2-D
        (np.zeros((1, 2)), [[3.0]]),  # timestamps not 1-D
    ],
)
def test_push_many_shapes(values: np.ndarray, times: list) -> None:  # type: ignore[type-arg]
    buf = _filled()
    with pytest.raises(ValueError, match=r"push_many: expected values \(n, 2\) and timestamps_s"):
        buf.push_many(values, times)
    _unchanged(buf)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.push("ab", 3.0), "values: expected a numpy array, got str"),
        (lambda b: b.push(np.array(["a", "b"]), 3.0), "values: expected a real numeric dtype"),
        (lambda b: b.push(np.array([True, False]), 3.0), "values: expected a real numeric"),
        (lambda b: b.push([1.0, 2.0], "3"), "timestamp_s: expected a number of seconds, got str"),
        (lambda b: b.push([1.0, 2.0], True), "timestamp_s: expected a number of seconds"),
        (lambda b: b.push_many(np.zeros((1, 2)), None), "timestamps_s: expected a numpy array"),
        (lambda b: b.window(1.0), "n: expected an int or None, got float"),
        (lambda b: b.since("0"), "start_s: expected a number of seconds, got str"),
    ],
)
def test_wrong_types_are_type_errors(call, message: str) -> None:  # noqa: ANN001
    buf = _filled()
    with pytest.raises(TypeError, match=message):
        call(buf)
    _unchanged(buf)


def test_nan_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="start_s: expected a number of seconds, got nan"):
        _filled().since(math.nan)


@pytest.mark.parametrize(
    ("args", "exc", "message"),
    [
        ((0, 3), ValueError, "capacity: expected >= 1, got 0"),
        ((3, 0), ValueError, "channels: expected >= 1, got 0"),
        ((-1, 3), ValueError, "capacity: expected >= 1"),
        ((2.0, 3), TypeError, "capacity: expected an int, got float"),
        ((2, True), TypeError, "channels: expected an int, got bool"),
        ((1 << 40, 3), ValueError, "capacity: expected samples totalling at most 8 GiB"),
    ],
)
def test_constructor_validation(args: tuple, exc: type, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(exc, match=message):
        TimeSeriesBuffer(*args)


# ----------------------------------------------------------------------------- threads


@pytest.mark.parametrize("channels", [3, 4096])
def test_one_writer_many_readers(channels: int) -> None:
    """Readers running beside a writer always see whole samples: timestamps strictly increasing
    and consecutive, every value of a sample equal to its index. 4096 channels exercise the
    GIL-free copies (and since()'s retry when the writer gets in between)."""
    buf = TimeSeriesBuffer(50, channels)
    total = 6000 if channels < 100 else 600
    errors: list[str] = []
    reads = [0, 0, 0]
    done = threading.Event()
    start = threading.Barrier(4)

    def writer() -> None:
        start.wait()
        try:
            i = 0
            while i < total:
                if i % 7 == 0 and i + 3 <= total:  # batches too
                    idx = np.arange(i, i + 3)
                    buf.push_many(np.repeat(idx[:, None], channels, axis=1), idx / 1000.0)
                    i += 3
                else:
                    buf.push(np.full(channels, float(i)), i / 1000.0)
                    i += 1
        finally:
            done.set()

    def check(values: np.ndarray, times: np.ndarray) -> None:
        idx = np.rint(times * 1000.0)
        if times.size and not np.array_equal(np.diff(idx), np.ones(times.size - 1)):
            errors.append(f"samples missing or out of order: {idx.tolist()}")
        lo, hi = values.min(axis=1), values.max(axis=1)
        if not (np.array_equal(lo, idx) and np.array_equal(hi, idx)):
            errors.append(f"torn sample: indices {idx.tolist()}")

    def reader(k: int) -> None:
        start.wait()
        while not done.is_set() or reads[k] == 0:
            if k == 0:
                check(*buf.window())
            elif k == 1:
                last = buf.last_timestamp_s
                check(*buf.since(-math.inf if last is None else last - 0.02))
            else:
                held = buf.size
                if held:
                    check(*buf.window(min(held, 1 + reads[k] % 50)))
            reads[k] += 1
            if len(errors) > 5:
                return

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader, args=(k,)) for k in range(3)
    ]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # small pushes hold the GIL: switch often so reads interleave
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert not any(th.is_alive() for th in threads), "deadlock: a thread did not finish"
    assert not errors, errors[:3]
    assert min(reads) > 0
    values, times = buf.window()
    np.testing.assert_array_equal(np.rint(times * 1000.0), np.arange(total - 50, total))
    np.testing.assert_array_equal(values[:, -1], np.arange(total - 50, total))
