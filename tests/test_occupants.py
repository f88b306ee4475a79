"""OccupantMonitors: one monitor per tracked face, created and retired with the tracker's ids."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import require_module
from rppg_sdk import EventKind, MonitorOptions, OccupantMonitors, PulseLostReason

require_module("skimage", extra="demo")  # the renderer's default face
from rppg_sdk import synthetic  # noqa: E402

DURATION_S = 16.0


@pytest.fixture(scope="module")
def cabin() -> Any:
    """Driver (62 bpm) and passenger (96 bpm) side by side in one 640x240 frame."""
    driver, passenger = (
        synthetic.render_clip(
            synthetic.SyntheticClipSpec(duration_s=DURATION_S, heart_rate_bpm=bpm, seed=seed)
        )
        for bpm, seed in ((62.0, 21), (96.0, 22))
    )
    frames = np.concatenate([driver.frames, passenger.frames], axis=2)
    x, y, w, h = driver.face_box_xywh
    px, py, pw, ph = passenger.face_box_xywh
    boxes = {"driver": (x, y, w, h), "passenger": (px + 320, py, pw, ph)}
    return frames, driver.timestamps_s, boxes, {"driver": driver, "passenger": passenger}


def test_each_occupant_gets_its_own_heart_rate(cabin: Any) -> None:
    frames, times, boxes, clips = cabin
    last: dict[Any, Any] = {}
    with OccupantMonitors() as occ:
        for frame, ts in zip(frames, times, strict=True):
            for track_id, reading in occ.process(frame, float(ts), boxes).items():
                last[track_id] = reading
        assert occ.occupants == ["driver", "passenger"]
        events = occ.drain_events()
    for track_id, clip in clips.items():
        r = last[track_id]
        truth = clip.mean_bpm(r.timestamp_s - r.window_s, r.timestamp_s)
        print(f"{track_id}: {r.bpm:.1f} bpm (truth {truth:.1f})")
        assert r.bpm is not None and abs(r.bpm - truth) <= 3.0
    assert {t for t, e in events if e.kind is EventKind.PULSE_REGAINED} == {"driver", "passenger"}


def test_absent_occupants_are_retired_and_ids_start_anew(cabin: Any) -> None:
    frames, times, boxes, _ = cabin
    with OccupantMonitors(retire_after_s=3.0) as occ:
        for frame, ts in zip(frames[:360], times, strict=False):
            faces = boxes if ts < 6.0 else {"driver": boxes["driver"]}  # the passenger leaves
            occ.process(frame, float(ts), faces)
        assert occ.occupants == ["driver"] and occ.retired == 1
        events = occ.drain_events()
        lost = [e for t, e in events if t == "passenger" and e.kind is EventKind.PULSE_LOST]
        assert not lost  # the passenger had no pulse yet at 6 s (warming up): nothing to lose
        # The passenger returns: a fresh monitor, warming up again.
        out = {}
        for frame, ts in zip(frames[360:420], times[360:420], strict=True):
            out.update(occ.process(frame, float(ts), boxes))
        assert occ.occupants == ["driver", "passenger"]
        assert out["passenger"].bpm is None


def test_a_lost_face_is_reported_per_occupant(cabin: Any) -> None:
    frames, times, boxes, _ = cabin
    heard: list[tuple[Any, Any]] = []
    with OccupantMonitors(retire_after_s=30.0, on_event=lambda t, e: heard.append((t, e))) as occ:
        for frame, ts in zip(frames, times, strict=True):
            faces = dict(boxes)
            if ts >= 11.0:
                del faces["driver"]  # a hand over the driver's face from 11 s
            occ.process(frame, float(ts), faces)
        events = occ.drain_events()
    assert heard == events  # the callback heard what the queue holds, in the same order
    lost = [(t, e) for t, e in events if e.kind is EventKind.PULSE_LOST]
    assert [t for t, _ in lost] == ["driver"]
    assert lost[0][1].reason is PulseLostReason.NO_FACE


def test_max_occupants_evicts_the_absent_and_makes_new_faces_wait(cabin: Any) -> None:
    frames, times, boxes, _ = cabin
    with OccupantMonitors(max_occupants=1, retire_after_s=30.0) as occ:
        occ.process(frames[0], 0.0, {"driver": boxes["driver"]})
        occ.process(frames[1], float(times[1]), boxes)  # both present: the passenger waits
        assert occ.occupants == ["driver"] and occ.ignored_faces == 1
        occ.process(frames[2], float(times[2]), {"passenger": boxes["passenger"]})
        assert occ.occupants == ["passenger"] and occ.retired == 1  # the absent driver evicted


def test_bad_input_is_named(cabin: Any) -> None:
    frames, _, boxes, _ = cabin
    with pytest.raises(ValueError, match="max_occupants"):
        OccupantMonitors(max_occupants=0)
    with pytest.raises(TypeError, match="max_occupants"):
        OccupantMonitors(max_occupants=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retire_after_s"):
        OccupantMonitors(retire_after_s=0.0)
    with pytest.raises(ValueError, match="VIDEO"):
        OccupantMonitors(MonitorOptions(running_mode="live_stream", callback=print))
    occ = OccupantMonitors()
    with pytest.raises(TypeError, match="faces"):
        occ.process(frames[0], 0.0, [boxes["driver"]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="face_box_xywh"):
        occ.process(frames[0], 0.0, {"a": (0, 0, -5, 10)})
    assert occ.occupants == []  # a bad box changes nothing
    occ.close()
    with pytest.raises(RuntimeError, match="closed"):
        occ.process(frames[0], 1.0, boxes)
