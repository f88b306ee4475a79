"""Privacy by construction (EU GSR driver monitoring: process, don't keep): what the monitor holds
of the pictures it is given, and for how long.

Measured here, through the public API plus a walk over every object the monitor references:

- a frame given to ``process`` is not referenced once the call returns (weak references die);
- a live stream's frame copies are gone once the worker has run them (``flush``);
- the image-like arrays a monitor references do not grow with the stream and share no memory
  with any frame; the only one holding picture content is the classical extractor's motion
  template (a half-size grey face crop), which ``reset()`` drops;
- a model's crop buffer spans less than the analysis window.

Known gap (``test_motion_template_is_renewed_within_the_window``, expected to fail until the
classical extractor renews it): the template is renewed only when the face box moves, so a
still face's template can be older than the window.
"""

from __future__ import annotations

import gc
import types
import weakref
from typing import Any

import numpy as np
import pytest
from conftest import require_module
from rppg_sdk import HeartRateMonitor, MonitorOptions, RunningMode

require_module("skimage", extra="demo")  # the renderer's default face
from rppg_sdk import synthetic  # noqa: E402

WINDOW_S = 10.0
_SKIP = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, str, bytes)


@pytest.fixture(scope="module")
def clip() -> Any:
    return synthetic.render_clip(
        synthetic.SyntheticClipSpec(duration_s=20.0, heart_rate_bpm=70.0, seed=31)
    )


def reachable_arrays(root: object) -> list[np.ndarray]:
    """Every numpy array reachable from ``root`` through Python references."""
    seen: set[int] = set()
    out: list[np.ndarray] = []
    stack = [root]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, _SKIP):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            out.append(o)
            if o.base is not None:
                stack.append(o.base)
            continue
        stack.extend(gc.get_referents(o))
    return out


def pictures(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Arrays shaped like an image (two sides of 8+ pixels) whose values vary like one (more
    than 16 distinct levels: masks and weights hold a handful)."""
    return [
        a
        for a in arrays
        if a.ndim >= 2
        and min(a.shape[:2]) >= 8
        and a.dtype in (np.uint8, np.uint16, np.float32)
        and np.unique(a).size > 16
    ]


def test_frames_are_not_kept_after_process(clip: Any) -> None:
    refs: list[weakref.ref[np.ndarray]] = []
    with HeartRateMonitor(MonitorOptions(face_source="caller")) as m:
        for frame, ts in zip(clip.frames[:300], clip.timestamps_s, strict=False):
            own = frame.copy()  # an array only this loop holds
            refs.append(weakref.ref(own))
            m.process(own, float(ts), face_box_xywh=clip.face_box_xywh)
            del own
        gc.collect()
        assert sum(r() is not None for r in refs) == 0


def test_what_the_monitor_holds_is_bounded_and_no_frame(clip: Any) -> None:
    frames = [np.ascontiguousarray(f) for f in clip.frames]
    with HeartRateMonitor(MonitorOptions(face_source="caller")) as m:
        held = []
        for k, (frame, ts) in enumerate(zip(frames, clip.timestamps_s, strict=True)):
            m.process(frame, float(ts), face_box_xywh=clip.face_box_xywh)
            if k in (299, 599):  # after 10 s and after 20 s
                held.append(pictures(reachable_arrays(m)))
        after_10s, after_20s = held
        print("pictures held:", [(a.shape, a.dtype.name) for a in after_20s])
        # The same few small arrays at 10 s and 20 s: nothing accumulates with the stream.
        assert len(after_20s) == len(after_10s) <= 1
        for a in after_20s:
            assert a.size <= frames[0].size // 16  # a half-size grey crop, not a frame
            assert not any(np.shares_memory(a, f) for f in frames)
        m.reset()
        assert pictures(reachable_arrays(m)) == []


def test_live_stream_copies_are_gone_after_processing(clip: Any) -> None:
    opts = MonitorOptions(
        running_mode=RunningMode.LIVE_STREAM, face_source="caller", callback=lambda r: None
    )
    with HeartRateMonitor(opts) as m:
        for frame, ts in zip(clip.frames[:120], clip.timestamps_s, strict=False):
            m.process_async(frame, float(ts), face_box_xywh=clip.face_box_xywh)
        m.flush()
        shape = clip.frames[0].shape
        assert not [a for a in reachable_arrays(m) if a.shape == shape]


def test_model_crops_span_less_than_the_window(clip: Any) -> None:
    opts = MonitorOptions(method="physnet", face_source="caller", window_s=WINDOW_S)
    with HeartRateMonitor(opts) as m:
        for frame, ts in zip(clip.frames, clip.timestamps_s, strict=True):
            m.process(frame, float(ts), face_box_xywh=clip.face_box_xywh)
        m.flush()
        crops = m._pipe.ext._chunker._crops  # type: ignore[attr-defined]  # the C++ crop ring
        _, times = crops.window(crops.size)
        span_s = float(times[-1] - times[0])
        print(f"model crop ring: {crops.size} crops over {span_s:.1f} s")
        assert span_s < WINDOW_S
        assert clip.timestamps_s[-1] - times[0] < WINDOW_S


def test_motion_template_is_renewed_within_the_window(clip: Any) -> None:
    # A still face whose brightness codes the second it was filmed in (+1 level per second):
    # the template's mean level tells when it was taken.
    base = clip.frames[0].astype(np.int16)
    with HeartRateMonitor(MonitorOptions(face_source="caller")) as m:
        for k in range(600):
            frame = np.clip(base + k // 30, 0, 255).astype(np.uint8)
            m.process(frame, k / 30.0, face_box_xywh=clip.face_box_xywh)
        (template,) = pictures(reachable_arrays(m))
    with HeartRateMonitor(MonitorOptions(face_source="caller")) as ref:
        ref.process(clip.frames[0], 0.0, face_box_xywh=clip.face_box_xywh)
        (first,) = pictures(reachable_arrays(ref))
    taken_s = float(np.mean(template) - np.mean(first))
    assert 20.0 - taken_s <= WINDOW_S
