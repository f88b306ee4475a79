"""FrameRingBuffer: semantics, copies of any frame layout, validation, threads, streaming."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rppg_sdk.dsp import FrameRingBuffer, estimate_heart_rate


def frame_of(value: int, shape: tuple[int, ...] = (4, 5, 3), dtype: type = np.uint8) -> np.ndarray:
    return np.full(shape, value % 256, dtype=dtype)


# ----------------------------------------------------------------------------- semantics


def test_push_and_window_before_and_after_wrap() -> None:
    rb = FrameRingBuffer(4, (4, 5, 3), np.uint8)
    assert (rb.size, rb.capacity, len(rb)) == (0, 4, 0)
    assert rb.frame_shape == (4, 5, 3)
    assert rb.dtype == np.uint8
    assert rb.last_timestamp_s is None
    for i in range(3):
        rb.push(frame_of(i), 0.1 * i)
    frames, ts = rb.window(3)
    assert frames.shape == (3, 4, 5, 3) and frames.dtype == np.uint8
    assert frames.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(frames[:, 0, 0, 0], [0, 1, 2])
    np.testing.assert_array_equal(ts, [0.0, 0.1, 0.2])
    assert ts.dtype == np.float64
    for i in range(3, 11):  # wraps twice and a bit: oldest overwritten first
        rb.push(frame_of(i), 0.1 * i)
    assert rb.size == 4
    frames, ts = rb.window(4)
    np.testing.assert_array_equal(frames[:, 2, 3, 1], [7, 8, 9, 10])
    np.testing.assert_allclose(ts, [0.7, 0.8, 0.9, 1.0])
    frames, ts = rb.window(2)  # the newest n, oldest first
    np.testing.assert_array_equal(frames[:, 0, 0, 0], [9, 10])
    assert rb.last_timestamp_s == pytest.approx(1.0)


def test_window_is_a_copy() -> None:
    rb = FrameRingBuffer(2, (2, 2, 3), np.uint8)
    src = frame_of(5, (2, 2, 3))
    rb.push(src, 1.0)
    src[:] = 99  # the caller reuses its frame buffer
    frames, _ = rb.window(1)
    frames[:] = 77
    again, _ = rb.window(1)
    assert int(again.max()) == 5


@settings(max_examples=30, deadline=None)
@given(capacity=st.integers(1, 9), pushes=st.integers(1, 40), data=st.data())
def test_window_matches_a_python_model(capacity: int, pushes: int, data: st.DataObject) -> None:
    rb = FrameRingBuffer(capacity, (2, 3, 2), np.float32)
    model: list[tuple[np.ndarray, float]] = []
    for i in range(pushes):
        f = np.random.default_rng(i).standard_normal((2, 3, 2)).astype(np.float32)
        rb.push(f, float(i))
        model = (model + [(f, float(i))])[-capacity:]
    n = data.draw(st.integers(1, len(model)))
    frames, ts = rb.window(n)
    np.testing.assert_array_equal(frames, np.stack([f for f, _ in model[-n:]]))
    np.testing.assert_array_equal(ts, [t for _, t in model[-n:]])


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_dtypes_round_trip_exactly(dtype: type) -> None:
    rng = np.random.default_rng(0)
    shape = (6, 7, 3)
    rb = FrameRingBuffer(3, shape, dtype)
    if dtype is np.uint8:
        frames = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(3)]
    else:
        frames = [rng.standard_normal(shape).astype(np.float32) * 1e3 for _ in range(3)]
        frames[1][0, 0, 0] = np.float32(np.nan)  # pixels are copied, not judged
    for i, f in enumerate(frames):
        rb.push(f, float(i))
    out, _ = rb.window(3)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, np.stack(frames))


def test_two_dimensional_frames_for_one_channel() -> None:
    rb = FrameRingBuffer(2, (3, 4), np.uint8)
    assert rb.frame_shape == (3, 4, 1)
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rb.push(gray, 0.0)
    rb.push(gray[..., None] + 1, 1.0)  # (H, W, 1) is accepted too
    frames, _ = rb.window(2)
    assert frames.shape == (2, 3, 4, 1)
    np.testing.assert_array_equal(frames[0, ..., 0], gray)
    np.testing.assert_array_equal(frames[1, ..., 0], gray + 1)


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(lambda f: f[:, ::-1], id="mirror"),
        pytest.param(lambda f: f[..., ::-1], id="bgr-to-rgb"),
        pytest.param(lambda f: f[::-1, ::-1, ::-1], id="all-reversed"),
        pytest.param(lambda f: f[2:10, 3:12], id="crop"),
        pytest.param(lambda f: f[::2, ::2], id="strided"),
        pytest.param(lambda f: np.asfortranarray(f), id="fortran"),
        pytest.param(lambda f: f.transpose(1, 0, 2), id="transposed"),
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_non_contiguous_frames_are_copied_correctly(view, dtype: type) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    big = (
        rng.integers(0, 256, (16, 16, 3)) if dtype is np.uint8 else rng.standard_normal((16, 16, 3))
    )
    frame = view(big.astype(dtype))
    rb = FrameRingBuffer(2, frame.shape, dtype)
    rb.push(frame, 0.0)
    rb.push(np.ascontiguousarray(frame), 1.0)
    out, _ = rb.window(2)
    np.testing.assert_array_equal(out[0], np.ascontiguousarray(frame))
    np.testing.assert_array_equal(out[1], out[0])


def test_broadcast_frame_is_copied() -> None:
    row = np.arange(3, dtype=np.uint8)
    frame = np.broadcast_to(row, (4, 5, 3))  # zero strides, read-only
    rb = FrameRingBuffer(1, (4, 5, 3), np.uint8)
    rb.push(frame, 0.0)
    np.testing.assert_array_equal(rb.window(1)[0][0], frame)


# ----------------------------------------------------------------------------- validation


def test_wrong_shape_names_expected_and_got() -> None:
    rb = FrameRingBuffer(2, (4, 5, 3), np.uint8)
    for bad in [(5, 4, 3), (4, 5), (4, 5, 4), (1, 4, 5, 3), (60,)]:
        with pytest.raises(ValueError, match=r"\(4, 5, 3\).*" + r"\(" + str(bad[0])):
            rb.push(np.zeros(bad, np.uint8), 0.0)
    assert rb.size == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16, np.int8, np.bool_])
def test_wrong_dtype_is_type_error(dtype: type) -> None:
    rb = FrameRingBuffer(2, (4, 5, 3), np.uint8)
    with pytest.raises(TypeError, match=f"uint8.*{np.dtype(dtype).name}"):
        rb.push(np.zeros((4, 5, 3), dtype), 0.0)
    rbf = FrameRingBuffer(2, (4, 5, 3), np.float32)
    if dtype is not np.float32:
        with pytest.raises(TypeError, match="float32"):
            rbf.push(np.zeros((4, 5, 3), dtype), 0.0)
    assert rb.size == 0


@pytest.mark.parametrize("frame", [None, [[1, 2], [3, 4]], "frame", 3.0])
def test_non_array_frame_is_type_error(frame: object) -> None:
    rb = FrameRingBuffer(2, (2, 2), np.uint8)
    with pytest.raises(TypeError, match="numpy array"):
        rb.push(frame, 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("ts", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_timestamp_is_rejected(ts: float) -> None:
    rb = FrameRingBuffer(2, (2, 2), np.uint8)
    with pytest.raises(ValueError, match="finite"):
        rb.push(np.zeros((2, 2), np.uint8), ts)
    assert rb.size == 0


def test_repeated_or_decreasing_timestamp_is_rejected_and_clear_resets() -> None:
    rb = FrameRingBuffer(3, (2, 2), np.uint8)
    rb.push(frame_of(1, (2, 2)), 10.0)
    for ts in (10.0, 9.999, -1.0):
        with pytest.raises(ValueError, match=r"10.*got"):
            rb.push(frame_of(2, (2, 2)), ts)
    assert rb.size == 1
    np.testing.assert_array_equal(rb.window(1)[1], [10.0])
    rb.clear()
    assert rb.size == 0 and rb.last_timestamp_s is None
    with pytest.raises(ValueError):
        rb.window(1)
    rb.push(frame_of(3, (2, 2)), 0.5)  # a restarted camera clock is fine after clear()
    frames, ts = rb.window(1)
    assert int(frames.max()) == 3 and ts[0] == 0.5


def test_window_bounds() -> None:
    rb = FrameRingBuffer(5, (2, 2), np.uint8)
    for i in range(3):
        rb.push(frame_of(i, (2, 2)), float(i))
    for n in (0, -1, 4, 6):
        with pytest.raises(ValueError, match=r"1 <= n <= 3.*" + str(n)):
            rb.window(n)
    with pytest.raises(TypeError):
        rb.window(1.5)  # type: ignore[arg-type]
    assert rb.window(np.int64(3))[0].shape[0] == 3


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((0, (2, 2, 3)), ValueError),
        ((-3, (2, 2, 3)), ValueError),
        ((2.0, (2, 2, 3)), TypeError),
        ((True, (2, 2, 3)), TypeError),
        ((2, (2, 0, 3)), ValueError),
        ((2, (2,)), ValueError),
        ((2, (2, 2, 3, 1)), ValueError),
        ((2, (2.5, 2, 3)), ValueError),
        ((10**6, (1000, 1000, 3)), ValueError),  # 3 TB
    ],
)
def test_constructor_validation(args: tuple, exc: type) -> None:  # type: ignore[type-arg]
    with pytest.raises(exc):
        FrameRingBuffer(*args)


@pytest.mark.parametrize("dtype", [np.float64, np.uint16, "int32", bool])
def test_constructor_rejects_other_dtypes(dtype: object) -> None:
    with pytest.raises(TypeError, match="uint8 or float32"):
        FrameRingBuffer(2, (2, 2, 3), dtype)  # type: ignore[arg-type]


def test_repr_mentions_shape_and_size() -> None:
    rb = FrameRingBuffer(3, (2, 4, 3), np.float32)
    rb.push(np.zeros((2, 4, 3), np.float32), 0.0)
    text = repr(rb)
    assert "capacity=3" in text and "(2, 4, 3)" in text and "float32" in text and "size=1" in text


# ----------------------------------------------------------------------------- threads


@pytest.mark.parametrize("shape", [(8, 8, 3), (72, 72, 3), (256, 256, 3)])
def test_one_pusher_one_reader(shape: tuple[int, int, int]) -> None:
    """Every window a reader sees while another thread pushes is whole: strictly increasing
    timestamps, each frame's every pixel equal to its own index (the frame pushed at t = i /
    1000 is filled with i % 256). The largest shape exercises the GIL-free copy path."""
    rb = FrameRingBuffer(64, shape, np.uint8)
    total = 20000 if shape[0] < 200 else 1500
    errors: list[str] = []
    windows_seen = 0
    done = threading.Event()
    start = threading.Barrier(2)  # both threads run from the first push on

    def pusher() -> None:
        start.wait()
        try:
            for i in range(total):
                rb.push(np.full(shape, i % 256, np.uint8), i / 1000.0)
        finally:
            done.set()

    def reader() -> None:
        nonlocal windows_seen
        start.wait()
        while not done.is_set() or windows_seen == 0:
            held = rb.size
            if held == 0:
                time.sleep(0)
                continue
            n = min(held, 1 + windows_seen % 64)
            frames, ts = rb.window(n)
            windows_seen += 1
            idx = np.rint(ts * 1000.0).astype(np.int64)
            if not np.all(np.diff(ts) > 0):
                errors.append(f"timestamps not increasing: {ts}")
            lo = frames.reshape(n, -1).min(axis=1)
            hi = frames.reshape(n, -1).max(axis=1)
            if not (np.array_equal(lo, idx % 256) and np.array_equal(hi, idx % 256)):
                errors.append(
                    f"torn frame: indices {idx.tolist()} min {lo.tolist()} max {hi.tolist()}"
                )
            if len(errors) > 5:
                return

    threads = [threading.Thread(target=pusher), threading.Thread(target=reader)]
    # Small frames are pushed with the GIL held: switch threads often so reads interleave.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert not any(th.is_alive() for th in threads), "deadlock: a thread did not finish"
    assert not errors, errors[:3]
    assert windows_seen > 0
    frames, ts = rb.window(64)
    np.testing.assert_array_equal(np.rint(ts * 1000.0), np.arange(total - 64, total))


# ----------------------------------------------------------------------------- streaming


def test_streaming_matches_one_shot() -> None:
    """A camera loop (push each frame, read the last 10 s, estimate) gives exactly what one-shot
    processing of the same samples gives."""
    fs_hz, seconds, win = 30.0, 25, 300
    rng = np.random.default_rng(5)
    t = np.arange(int(seconds * fs_hz)) / fs_hz
    bpm = 70.0 + 10.0 * t / t[-1]  # a slowly rising heart rate
    phase = 2 * np.pi * np.cumsum(bpm / 60.0) / fs_hz
    green = 120.0 + 2.0 * np.sin(phase) + 0.5 * rng.standard_normal(t.size)
    frames = np.clip(np.rint(green), 0, 255).astype(np.uint8)[:, None, None, None] * np.ones(
        (1, 6, 6, 3), np.uint8
    )
    frames[:, :, :, 0] = 90  # red and blue constant; the green channel carries the pulse
    frames[:, :, :, 2] = 60
    rb = FrameRingBuffer(win, (6, 6, 3), np.uint8)
    streamed: list[float] = []
    for i in range(t.size):
        rb.push(frames[i], 1000.0 + t[i])
        if rb.size == win and i % 15 == 0:
            window, ts = rb.window(win)
            np.testing.assert_allclose(ts, 1000.0 + t[i - win + 1 : i + 1])
            trace = window[..., 1].reshape(win, -1).mean(axis=1)
            streamed.append(estimate_heart_rate(trace, fs_hz).bpm)
    one_shot_trace = frames[..., 1].reshape(t.size, -1).mean(axis=1)
    one_shot = [
        estimate_heart_rate(one_shot_trace[i - win + 1 : i + 1], fs_hz).bpm
        for i in range(win - 1, t.size)
        if i % 15 == 0
    ]
    assert len(streamed) == len(one_shot) > 10
    np.testing.assert_allclose(streamed, one_shot, rtol=0, atol=1e-9)
    # And the readings follow the rising rate (window centre), within quantisation noise.
    centres = [bpm[i - win // 2] for i in range(win - 1, t.size) if i % 15 == 0]
    assert np.mean(np.abs(np.array(streamed) - centres)) < 2.0
