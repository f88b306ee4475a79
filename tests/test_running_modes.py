"""Running modes (VIDEO, LIVE_STREAM), whole-frame skin (skin_roi="frame") and grey video.

Most tests feed pre-cropped "skin video" (every pixel skin, a known pulse) through
``skin_roi="frame"``: no face detection runs, so they are quick and the truth is exact.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, HeartRateReading, MonitorOptions, RunningMode
from rppg_sdk.backends import ModelInputSpec
from rppg_sdk.frames import is_grey

FPS = 30.0
BPM = 72.0


def skin_clip(
    seconds: float = 12.0, bpm: float = BPM, grey: bool = False, size: tuple[int, int] = (64, 48)
) -> tuple[np.ndarray, np.ndarray]:
    """Frames of skin only (BGR uint8) whose colour pulses at ``bpm``, with sensor noise."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * FPS)) / FPS
    pulse = np.sin(2 * np.pi * bpm / 60.0 * t)
    # Blood absorbs green most: the pulse is strongest there (BGR order).
    base = np.array([110.0, 140.0, 190.0])
    depth = np.array([0.3, 1.0, 0.15]) * 0.01
    colours = base * (1.0 + depth * pulse[:, None])
    if grey:
        colours = np.repeat(colours[:, 1:2], 3, axis=1)
    w, h = size
    noise = rng.normal(0.0, 2.0, (t.size, h, w, 1))
    frames = np.clip(colours[:, None, None, :] + noise, 0, 255).round().astype(np.uint8)
    return frames, t


def test_wrong_mode_calls_name_the_right_entry_point() -> None:
    frames, t = skin_clip(1.0)
    with HeartRateMonitor(skin_roi="frame") as video:
        with pytest.raises(ValueError, match=r"VIDEO.*process\(frame"):
            video.process_async(frames[0], 0.0)
    live_opts = MonitorOptions(
        skin_roi="frame", running_mode=RunningMode.LIVE_STREAM, callback=lambda _r: None
    )
    with HeartRateMonitor(live_opts) as live:
        with pytest.raises(ValueError, match=r"LIVE_STREAM.*process_async"):
            live.process(frames[0], 0.0)
        with pytest.raises(ValueError, match=r"LIVE_STREAM.*process_async"):
            list(live.process_video("any.mp4"))
        with pytest.raises(ValueError, match="capture time"):
            live.process_async(frames[0], None)  # type: ignore[arg-type]


def test_live_stream_needs_a_callback() -> None:
    with pytest.raises(ValueError, match="callback"):
        MonitorOptions(running_mode="live_stream")
    with pytest.raises(ValueError, match="running_mode"):
        MonitorOptions(running_mode="camera")
    with pytest.raises(TypeError, match="live"):
        MonitorOptions(live=True)  # type: ignore[call-arg]


def test_video_mode_returns_new_readings_only() -> None:
    frames, t = skin_clip(8.0)
    returned: list[tuple[int, HeartRateReading]] = []
    with HeartRateMonitor(skin_roi="frame") as m:
        for i, (f, ts) in enumerate(zip(frames, t, strict=True)):
            r = m.process(f, float(ts))
            if r is not None:
                returned.append((i, r))
                assert m.latest_reading is r
    # One reading per second of stream time, on the frame that completed the second.
    assert [i for i, _ in returned] == [30 * k for k in range(1, 8)]
    assert [r.timestamp_s for _, r in returned] == pytest.approx(list(range(1, 8)))


def test_live_stream_readings_go_to_the_callback_and_flush_waits_for_every_frame() -> None:
    frames, t = skin_clip(8.0)
    seen: list[tuple[str, HeartRateReading]] = []
    opts = MonitorOptions(
        skin_roi="frame",
        running_mode="live_stream",
        callback=lambda r: seen.append((threading.current_thread().name, r)),
    )
    with HeartRateMonitor(opts) as m:
        for i, (f, ts) in enumerate(zip(frames, t, strict=True)):
            assert m.process_async(f, float(ts)) is None
            if i % 20 == 19:
                m.flush()  # keeps the queue short: nothing may be dropped here
        last = m.flush()
        dropped = m.dropped_frames
    assert dropped == 0
    # flush() returned only after every frame was handled: all 7 readings are in.
    assert [round(r.timestamp_s) for _, r in seen] == list(range(1, 8))
    assert last is seen[-1][1]
    assert all(name != threading.current_thread().name for name, _ in seen)


def test_live_stream_drops_frames_when_the_worker_is_behind() -> None:
    frames, t = skin_clip(6.0)
    gate = threading.Event()
    opts = MonitorOptions(
        skin_roi="frame", running_mode="live_stream", callback=lambda _r: gate.wait(30.0)
    )
    with HeartRateMonitor(opts) as m:
        for f, ts in zip(frames, t, strict=True):
            m.process_async(f, float(ts))  # the worker blocks in the first callback (1 s)
        assert m.dropped_frames > 0
        gate.set()
        m.flush()


def test_frame_roi_runs_no_face_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    import rppg_sdk.roi

    def no_tracker(*_a: Any, **_k: Any) -> None:
        raise AssertionError("skin_roi='frame' must not create a FaceTracker")

    monkeypatch.setattr(rppg_sdk.roi, "FaceTracker", no_tracker)
    frames, t = skin_clip(12.0)
    with HeartRateMonitor(skin_roi="frame") as m:
        readings = [r for f, ts in zip(frames, t, strict=True) if (r := m.process(f, float(ts)))]
        assert m.detector == "none"
    rated = [r for r in readings if r.bpm is not None]
    assert rated and all(r.face_box_xywh == (0, 0, 64, 48) for r in readings)
    assert all(abs(r.bpm - BPM) < 2.0 for r in rated[-3:])  # type: ignore[operator]


@pytest.mark.parametrize("method", ["pos", "chrom", "green"])
def test_grey_three_channel_video_takes_the_one_channel_path(method: str) -> None:
    frames, t = skin_clip(12.0, grey=True)
    assert frames.shape[-1] == 3
    with HeartRateMonitor(method=method, skin_roi="frame") as m:
        readings = [r for f, ts in zip(frames, t, strict=True) if (r := m.process(f, float(ts)))]
        assert m.method == "mono"
    assert {r.method for r in readings} == {"mono"}
    assert {r.input_channels for r in readings} == {1}
    rated = [r for r in readings if r.bpm is not None]
    assert rated and abs(rated[-1].bpm - BPM) < 2.0  # type: ignore[operator]


def test_colour_video_reports_three_channels() -> None:
    frames, t = skin_clip(6.0)
    with HeartRateMonitor(skin_roi="frame") as m:
        readings = [r for f, ts in zip(frames, t, strict=True) if (r := m.process(f, float(ts)))]
    assert {r.method for r in readings} == {"pos"} and {r.input_channels for r in readings} == {3}


def test_is_grey_tolerates_compression_but_not_colour() -> None:
    rng = np.random.default_rng(0)
    g = rng.integers(0, 256, (40, 40, 1)).astype(np.int16)
    near = np.clip(g + rng.integers(-1, 2, (40, 40, 3)), 0, 255).astype(np.uint8)
    assert is_grey(near)
    assert is_grey(g.astype(np.uint8))
    tinted = near.copy()
    tinted[..., 2] = np.clip(tinted[..., 2].astype(int) + 12, 0, 255)  # a real tint
    assert not is_grey(tinted)
    assert not is_grey(skin_clip(0.1)[0][0])  # skin: the channels differ pixel by pixel


class _RecordingBackend:
    """A fake model: records the chunks it sees, returns minus the chunk's mean channel."""

    def __init__(self, channels: int) -> None:
        self.spec = ModelInputSpec(name="fake", channels=channels, height=16, width=16)
        self.chunks: list[np.ndarray] = []

    def infer(self, chunk: np.ndarray) -> np.ndarray:
        self.chunks.append(chunk)
        return -chunk.mean(axis=(1, 3, 4)).astype(np.float32)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("model_channels", [3, 1])
def test_grey_video_reaches_models_as_one_channel(model_channels: int) -> None:
    frames, t = skin_clip(10.0, grey=True)
    backend = _RecordingBackend(model_channels)
    opts = MonitorOptions(
        method="model", backend=backend, skin_roi="frame", model_chunk_frames=64,  # type: ignore[arg-type]
        model_overlap_frames=16,
    )  # fmt: skip
    with HeartRateMonitor(opts) as m:
        readings = [r for f, ts in zip(frames, t, strict=True) if (r := m.process(f, float(ts)))]
    assert backend.chunks and {c.shape[1] for c in backend.chunks} == {model_channels}
    if model_channels == 3:  # the one channel, replicated
        c = backend.chunks[-1][0]
        np.testing.assert_array_equal(c[0], c[1])
        np.testing.assert_array_equal(c[1], c[2])
    assert {r.input_channels for r in readings} == {1}
    rated = [r for r in readings if r.bpm is not None]
    assert rated and abs(rated[-1].bpm - BPM) < 3.0  # type: ignore[operator]


def test_reset_starts_a_new_stream_in_both_modes() -> None:
    frames, t = skin_clip(3.0)
    seen: list[HeartRateReading] = []
    for opts in (
        MonitorOptions(skin_roi="frame"),
        MonitorOptions(skin_roi="frame", running_mode="live_stream", callback=seen.append),
    ):
        with HeartRateMonitor(opts) as m:
            feed = m.process if opts.running_mode is RunningMode.VIDEO else m.process_async
            for f, ts in zip(frames, t, strict=True):
                feed(f, float(ts))
            m.flush()
            assert m.latest_reading is not None
            m.reset()
            assert m.latest_reading is None
            feed(frames[0], 0.0)  # time may start again
            m.flush()
