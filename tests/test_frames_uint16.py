"""One-channel 16-bit frames (10-16-bit near-infrared sensors): accepted, judged for their bit
depth, detected on 8 bits and measured at full precision."""

from __future__ import annotations

import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.face import FaceTracker, FaceTrackerOptions
from rppg_sdk.frames import LevelScale, StreamClock, to_uint8, validate_frame
from rppg_sdk.roi import FrameRoi
from rppg_sdk.synthetic.cabin import CabinScene, render_cabin


@pytest.mark.parametrize("shape", [(48, 64), (48, 64, 1)])
def test_uint16_one_channel_frames_are_accepted(shape: tuple[int, ...]) -> None:
    out = validate_frame(np.full(shape, 700, np.uint16))
    assert out.shape == (48, 64, 1) and out.dtype == np.uint16 and int(out[0, 0, 0]) == 700


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (np.zeros((48, 64, 3), np.uint16), "uint16 is taken with one channel only"),
        (np.zeros((48, 64), np.float32), "uint8 .* or uint16"),
        (np.zeros((48, 64), np.int16), "uint8 .* or uint16"),
        (np.zeros((48, 64), np.uint32), "got uint32"),
    ],
)
def test_other_dtypes_are_named(frame: np.ndarray, words: str) -> None:
    with pytest.raises(TypeError, match=words):
        validate_frame(frame)
    with HeartRateMonitor(MonitorOptions()) as monitor, pytest.raises(TypeError, match=words):
        monitor.process(frame, 0.0)


def test_bit_depth_is_judged_from_the_values_and_only_grows() -> None:
    levels = LevelScale()
    assert levels.bits == 8 and not levels.update(np.full((4, 4), 200, np.uint16))
    assert levels.update(np.full((4, 4), 1000, np.uint16)) and levels.full_scale == 1023
    assert not levels.update(np.full((4, 4), 30, np.uint16)) and levels.bits == 10  # dim: kept
    assert levels.update(np.full((4, 4), 3000, np.uint16)) and levels.bits == 12
    frame = np.array([[0, 2048, 4095]], np.uint16)
    units = levels.units(frame)
    assert units.dtype == np.float32
    assert np.allclose(units, [[0.0, 2048 * 255 / 4095, 255.0]])
    assert to_uint8(frame, 4095).tolist() == [[0, 128, 255]]
    levels.reset()
    assert levels.bits == 8
    assert not levels.update(np.full((4, 4), 255, np.uint8))  # 8-bit frames: nothing to judge


def test_a_stream_keeps_its_dtype() -> None:
    clock = StreamClock(30.0)
    clock.admit(np.zeros((48, 64), np.uint16), 0.0)
    with pytest.raises(TypeError, match="dtype changed from uint16 to uint8"):
        clock.admit(np.zeros((48, 64), np.uint8), 0.1)


def test_face_tracker_detects_on_8_bits_and_crops_at_16() -> None:
    clip = render_cabin(CabinScene(duration_s=0.2, bit_depth=12, illuminator="constant"))
    frame16 = clip.frames[0]
    frame8 = to_uint8(frame16, 4095)
    opts = FaceTrackerOptions(detector="haar")
    with FaceTracker(opts) as deep, FaceTracker(opts) as shallow:
        a, b = deep.update(frame16), shallow.update(frame8)
    assert a is not None and b is not None and a.box_xywh == b.box_xywh
    assert a.crop.dtype == np.float32 and b.crop.dtype == np.uint8
    # The same picture in 8-bit units, with the precision 8 bits round away.
    assert np.abs(a.crop - b.crop.astype(np.float32)).max() <= 1.0  # two roundings apart
    assert np.any(np.abs(a.crop - np.round(a.crop)) > 0.01)


def test_frame_roi_keeps_16_bit_precision() -> None:
    roi = FrameRoi(8)
    base = np.full((32, 32), 2000, np.uint16)
    obs = roi.update(base)
    assert obs.crop.dtype == np.float32 and obs.crop.shape == (8, 8, 1)
    # One 12-bit level (a 0.05 % change) survives: 8 bits would need 16 of them.
    obs2 = roi.update(base + 1)
    assert float(obs2.crop.mean() - obs.crop.mean()) == pytest.approx(
        255 / 4095, rel=1e-3
    )  # 12 bits: 2000 < 4096
