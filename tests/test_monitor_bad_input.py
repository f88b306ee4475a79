"""HeartRateMonitor on bad input: clear errors, and recovery where the issue asks for it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from rppg_sdk import dsp
from rppg_sdk.monitor import HeartRateMonitor, MonitorOptions, ReadingStatus
from skimage import data


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return cv2.cvtColor(cv2.resize(data.astronaut(), (160, 120)), cv2.COLOR_RGB2BGR)


@pytest.fixture()
def monitor() -> HeartRateMonitor:
    m = HeartRateMonitor(MonitorOptions())
    yield m
    m.close()


@pytest.mark.parametrize(
    ("frame", "exc", "words"),
    [
        (np.zeros((120, 160, 3), np.float64), TypeError, "expected dtype uint8"),
        (np.zeros((120, 160, 3), np.uint16), TypeError, "expected dtype uint8"),
        (np.zeros((120, 160, 2), np.uint8), ValueError, "expected shape"),
        (np.zeros((2, 120, 160, 3), np.uint8), ValueError, "expected shape"),
        (np.zeros((0, 0, 3), np.uint8), ValueError, "at least 8x8"),
        (None, TypeError, "numpy array"),
    ],
)
def test_bad_frames(
    monitor: HeartRateMonitor, frame: object, exc: type[Exception], words: str
) -> None:
    with pytest.raises(exc, match=words):
        monitor.process(frame)  # type: ignore[arg-type]


def test_timestamps_must_increase_and_reset_recovers(
    monitor: HeartRateMonitor, face: np.ndarray
) -> None:
    monitor.process(face, 1.0)
    with pytest.raises(ValueError, match="repeated"):
        monitor.process(face, 1.0)
    with pytest.raises(ValueError, match="earlier"):
        monitor.process(face, 0.5)
    with pytest.raises(ValueError, match="finite"):
        monitor.process(face, float("nan"))
    with pytest.raises(TypeError, match="timestamp_s"):
        monitor.process(face, "1.5")  # type: ignore[arg-type]
    monitor.process(face, 1.1)  # the stream goes on after a rejected frame
    monitor.reset()
    monitor.process(face, 0.0)  # a new stream may start anywhere


def test_changed_frame_size_is_an_error(monitor: HeartRateMonitor, face: np.ndarray) -> None:
    monitor.process(face, 0.0)
    with pytest.raises(ValueError, match="size changed"):
        monitor.process(cv2.resize(face, (320, 240)), 0.1)
    with pytest.raises(ValueError, match="size changed"):
        monitor.process(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY), 0.2)
    monitor.reset()
    monitor.process(cv2.resize(face, (320, 240)), 0.3)


def test_missing_and_unreadable_videos(monitor: HeartRateMonitor, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(monitor.process_video(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(ValueError, match="video"):
        list(monitor.process_video(junk))
    with pytest.raises(ValueError, match="expected a file"):
        list(monitor.process_video(tmp_path))


def test_frames_without_a_face_give_no_face_readings(monitor: HeartRateMonitor) -> None:
    rng = np.random.default_rng(0)
    readings = []
    for i in range(90):
        frame = rng.integers(0, 40, size=(120, 160, 3), dtype=np.uint8)
        r = monitor.process(frame, i / 30.0)
        if r is not None:
            readings.append(r)
    assert readings and all(r.status is ReadingStatus.NO_FACE for r in readings)
    assert all(r.bpm is None and r.confidence == 0.0 and r.face_box_xywh is None for r in readings)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="method"):
        MonitorOptions(method="ica")
    with pytest.raises(ValueError, match="model"):
        MonitorOptions(method="model")
    with pytest.raises(ValueError, match="window_s"):
        MonitorOptions(window_s=-1)
    with pytest.raises(ValueError, match="min_window_s"):
        MonitorOptions(window_s=4, min_window_s=5)
    with pytest.raises(ValueError, match="band_hz"):
        MonitorOptions(band_hz=(3.0, 1.0))
    with pytest.raises(ValueError, match="skin_roi: expected one of 'face', 'landmarks'"):
        MonitorOptions(skin_roi="cheeks")
    with pytest.raises(TypeError, match="options"):
        HeartRateMonitor({"method": "pos"})  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        HeartRateMonitor(MonitorOptions(method="model", model="/nonexistent/model.onnx"))
    with pytest.raises(ValueError, match="bundled"):
        HeartRateMonitor(MonitorOptions(method="model", model="no-such-model"))


def test_closed_monitor_refuses_frames(face: np.ndarray) -> None:
    m = HeartRateMonitor()
    m.close()
    m.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        m.process(face)


def test_default_band_is_the_core_default() -> None:
    assert MonitorOptions().band_hz == dsp.DEFAULT_BAND_HZ
