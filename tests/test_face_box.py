"""Bring your own face: the caller's face boxes, mixing frames with and without one, and short face
losses bridged (driver monitoring)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import require_module
from rppg_sdk import (
    FaceSource,
    HeartRateMonitor,
    HeartRateReading,
    MonitorOptions,
    ReadingStatus,
    ResetReason,
    RunningMode,
)
from rppg_sdk.face_box import check_face_box

require_module("skimage", extra="demo")  # the renderer's default face
from rppg_sdk import synthetic  # noqa: E402

OCCLUDED = (10.0, 12.0)  # a hand over the camera for 2 s


@pytest.fixture(scope="module")
def clip() -> Any:
    spec = synthetic.SyntheticClipSpec(
        duration_s=20.0, heart_rate_bpm=75.0, seed=5, motion="rigid", motion_amplitude_px=4.0
    )
    return synthetic.render_clip(spec)


def run(
    clip: Any,
    options: MonitorOptions,
    box_for: Any = None,
    occluded: tuple[float, float] | None = None,
) -> list[HeartRateReading]:
    """Every reading over the clip; ``box_for(k)`` gives frame k's box; frames inside
    ``occluded`` show a hand (a flat skin-coloured frame) and get no box."""
    out: list[HeartRateReading] = []
    with HeartRateMonitor(options) as m:
        for k, (frame, ts) in enumerate(zip(clip.frames, clip.timestamps_s, strict=True)):
            box = None if box_for is None else box_for(k)
            if occluded is not None and occluded[0] <= ts < occluded[1]:
                frame = np.full_like(frame, (90, 120, 160))
                box = None
            r = m.process(frame, float(ts), face_box_xywh=box)
            if r is not None:
                out.append(r)
    return out


def mae(readings: list[HeartRateReading], clip: Any) -> float:
    err = [
        r.bpm - clip.mean_bpm(r.timestamp_s - r.window_s, r.timestamp_s)
        for r in readings
        if r.bpm is not None
    ]
    assert err
    return float(np.mean(np.abs(err)))


def test_caller_boxes_measure_as_well_as_the_tracker(clip: Any) -> None:
    box = clip.face_box_xywh
    caller = run(clip, MonitorOptions(face_source="caller"), lambda k: box)
    tracker = run(clip, MonitorOptions())
    print(f"MAE caller boxes {mae(caller, clip):.2f} bpm, tracker {mae(tracker, clip):.2f} bpm")
    assert mae(caller, clip) <= mae(tracker, clip) + 0.5
    assert mae(caller, clip) < 2.0
    assert all(r.face_box_xywh is not None for r in caller)


def test_caller_mode_loads_no_detector_and_no_box_is_no_face(clip: Any) -> None:
    with HeartRateMonitor(MonitorOptions(face_source=FaceSource.CALLER)) as m:
        assert m.detector == "caller"
        frames = zip(clip.frames[:61], clip.timestamps_s, strict=False)
        readings = [m.process(f, float(t)) for f, t in frames]
    got = [r for r in readings if r is not None]
    assert got and all(r.status is ReadingStatus.NO_FACE for r in got)


def test_mixing_boxes_and_tracker_frames(clip: Any) -> None:
    # Boxes on every other second only: the SDK's tracker fills in the rest, and the stream
    # never restarts (each switch of source is a box placement, not a face loss).
    box = clip.face_box_xywh
    readings = run(clip, MonitorOptions(), lambda k: box if (k // 30) % 2 == 0 else None)
    late = [r for r in readings if r.timestamp_s >= 6.0]
    assert all(r.status is not ReadingStatus.NO_FACE for r in readings)
    assert all(r.bpm is not None for r in late)
    assert mae(late, clip) < 3.0


def test_a_two_second_occlusion_is_bridged(clip: Any) -> None:
    for options, box_for in (
        (MonitorOptions(face_source="caller"), lambda k: clip.face_box_xywh),
        (MonitorOptions(), None),  # the SDK's tracker loses and finds the face itself
    ):
        readings = run(clip, options, box_for, OCCLUDED)
        by_time = {round(r.timestamp_s): r for r in readings}
        assert by_time[11].status is ReadingStatus.NO_FACE
        first = next(r for r in readings if r.timestamp_s >= OCCLUDED[1])
        truth = clip.mean_bpm(first.timestamp_s - first.window_s, first.timestamp_s)
        print(f"{options.face_source}: first reading after 2 s: {first.bpm} (truth {truth:.1f})")
        # No new warm-up: the history and the tracked rate carry over the gap.
        assert first.status is not ReadingStatus.WARMING_UP and first.bpm is not None
        assert abs(first.bpm - truth) <= 3.0
        assert first.reset_reason is ResetReason.STREAM_START
        assert 1.5 <= first.bridged_gap_s <= 2.1
        # The gap holds no data, only the resampler's line across it: the confidence knows.
        assert first.evidence is not None
        face = 1.0 - first.bridged_gap_s / options.window_s
        assert first.evidence.face_fraction == pytest.approx(face)
        assert first.confidence <= face + 1e-9


def test_a_loss_longer_than_the_bridge_restarts_and_says_why(clip: Any) -> None:
    opts = MonitorOptions(face_source="caller", face_loss_bridge_s=1.0)
    readings = run(clip, opts, lambda k: clip.face_box_xywh, OCCLUDED)
    after = [r for r in readings if r.timestamp_s >= OCCLUDED[1]]
    assert after[0].status is ReadingStatus.WARMING_UP
    assert all(r.reset_reason is ResetReason.FACE_LOST for r in after)
    assert all(r.reset_reason is ResetReason.STREAM_START for r in readings[:5])


def test_process_returns_only_new_readings(clip: Any) -> None:
    seen: list[HeartRateReading] = []
    with HeartRateMonitor(MonitorOptions(face_source="caller")) as m:
        for frame, ts in zip(clip.frames[:240], clip.timestamps_s, strict=False):
            r = m.process(frame, float(ts), face_box_xywh=clip.face_box_xywh)
            if r is not None:
                assert all(r is not s for s in seen)
                seen.append(r)
    times = [r.timestamp_s for r in seen]
    assert len(times) == 7 and np.all(np.diff(times) > 0.9)  # one per update interval


def test_live_stream_takes_boxes(clip: Any) -> None:
    got: list[HeartRateReading] = []
    opts = MonitorOptions(
        running_mode=RunningMode.LIVE_STREAM, face_source="caller", callback=got.append
    )
    with HeartRateMonitor(opts) as m:
        for i, (frame, ts) in enumerate(zip(clip.frames[:300], clip.timestamps_s, strict=False)):
            m.process_async(frame, float(ts), face_box_xywh=clip.face_box_xywh)
            if i % 30 == 29:
                m.flush()
        m.flush()
        with pytest.raises(ValueError, match="face_box_xywh"):
            m.process_async(clip.frames[300], 10.0, face_box_xywh=(0, 0, 0, 10))
    assert got and got[-1].bpm is not None


@pytest.mark.parametrize(
    ("box", "error", "match"),
    [
        ("10,10,50,50", TypeError, "four numbers"),
        ((10, 10, 50), ValueError, "four numbers"),
        ((10, 10, True, 50), TypeError, "real numbers"),
        ((10, 10, "50", 50), TypeError, "real numbers"),
        (None.__class__, TypeError, "four numbers"),
        ((10, 10, -50, 50), ValueError, "positive width"),
        ((10, 10, 50, 0), ValueError, "positive width"),
        ((10, float("nan"), 50, 50), ValueError, "finite"),
        ((400, 10, 50, 50), ValueError, "outside"),
        ((-60, -60, 50, 50), ValueError, "outside"),
    ],
)
def test_bad_boxes_are_named(box: Any, error: type[Exception], match: str, clip: Any) -> None:
    with HeartRateMonitor(MonitorOptions(face_source="caller")) as m:
        with pytest.raises(error, match=match):
            m.process(clip.frames[0], 0.0, face_box_xywh=box)
        # The bad call left the stream untouched: the same timestamp is still accepted.
        m.process(clip.frames[0], 0.0, face_box_xywh=clip.face_box_xywh)


def test_partly_outside_boxes_are_clipped(clip: Any) -> None:
    assert check_face_box((-20, -10, 60, 50), (240, 320, 3)) == (0.0, 0.0, 40.0, 40.0)
    assert check_face_box(np.array([300.0, 200.0, 50.0, 80.0]), (240, 320)) == (
        300.0,
        200.0,
        20.0,
        40.0,
    )
    x, y, w, h = clip.face_box_xywh
    shifted = (x - 3 * w // 4, y, w, h)  # the face leaving the frame's left edge
    readings = run(clip, MonitorOptions(face_source="caller"), lambda k: shifted)
    assert readings[-1].face_box_xywh is not None


def test_boxes_need_a_face_roi(clip: Any) -> None:
    with HeartRateMonitor(MonitorOptions(skin_roi="frame")) as m:
        with pytest.raises(ValueError, match="skin_roi='frame'"):
            m.process(clip.frames[0], 0.0, face_box_xywh=clip.face_box_xywh)
    with pytest.raises(ValueError, match="face_source"):
        MonitorOptions(face_source="caller", skin_roi="frame")
    with pytest.raises(ValueError, match="face_source"):
        MonitorOptions(face_source="dms")
    with pytest.raises(ValueError, match="face_loss_bridge_s"):
        MonitorOptions(face_loss_bridge_s=-1.0)


def test_real_face_clip_with_a_dms_trackers_boxes() -> None:
    """The real face video (truth 52.5 +- 3 bpm): a per-frame face tracker's boxes (here the SDK's
    FaceTracker detecting on every frame, unenlarged, as a DMS tracker would give them) measure
    as the monitor's own tracker does."""
    from conftest import require_real_data  # noqa: PLC0415
    from rppg_sdk import FaceTracker, FaceTrackerOptions  # noqa: PLC0415
    from rppg_sdk.video import VideoReader  # noqa: PLC0415

    path = require_real_data("evm_face", "face.mp4")
    dms = FaceTracker(FaceTrackerOptions(detect_every_n_frames=1, box_scale=1.0))
    own: list[float] = []
    caller: list[float] = []
    with (
        dms,
        VideoReader(path) as frames,
        HeartRateMonitor() as tracked,
        HeartRateMonitor(face_source="caller") as boxed,
    ):
        for frame, ts in frames:
            face = dms.update(frame)
            box = None if face is None else face.box_xywh
            for m, out, b in ((tracked, own, None), (boxed, caller, box)):
                r = m.process(frame, ts, face_box_xywh=b)
                if r is not None and r.bpm is not None:
                    out.append(r.bpm)
    print(f"real face: tracker {np.round(own, 1)}, caller boxes {np.round(caller, 1)}")
    assert own and len(caller) == len(own)
    assert all(abs(b - 52.5) <= 3.0 for b in caller)
    print(
        f"real face MAE vs 52.5: tracker {np.mean(np.abs(np.subtract(own, 52.5))):.2f}, "
        f"caller boxes {np.mean(np.abs(np.subtract(caller, 52.5))):.2f}"
    )
