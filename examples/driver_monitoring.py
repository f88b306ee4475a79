"""Driver monitoring with rppg-sdk: heart-rate events from a 940 nm in-cabin camera.

A rendered in-cabin near-infrared clip (:mod:`rppg_sdk.synthetic.cabin`: 10-bit frames, an
alternating illuminator, head turns, a hand over the face, a heart rate that rises) is fed to a
:class:`~rppg_sdk.HeartRateMonitor` the way a driver-monitoring system (DMS) would: each frame with
the DMS tracker's face box (here the renderer's truth box; no box while the face is covered or
turned away), ``face_source="caller"`` so the SDK runs no face detector of its own. The events
the monitor raises are printed as they come (``on_event``); it exits non-zero when a face
loss cost a new warm-up (losses up to ``face_loss_bridge_s`` are bridged) or no reading came.

    python examples/driver_monitoring.py            # 90 s of video
    python examples/driver_monitoring.py --quick    # 30 s (what tests/test_examples.py runs)
    python examples/driver_monitoring.py --method physnet   # a learned model instead of mono
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from rppg_sdk import (
    EventKind,
    EventOptions,
    HeartRateMonitor,
    MonitorEvent,
    MonitorOptions,
    ReadingStatus,
)
from rppg_sdk.synthetic.cabin import CabinScene, cabin_truth, iter_cabin_frames


def scene(seconds: float) -> CabinScene:
    """A driver whose heart rate rises from 68 to 112 bpm, with two mirror checks and a hand."""
    s = float(seconds)
    return CabinScene(
        duration_s=s,
        fps=30.0,
        heart_rate_knots=((0.0, 68.0), (0.35 * s, 68.0), (0.6 * s, 112.0)),
        head_turns=((0.2 * s, 1.2, 40.0), (0.75 * s, 1.5, -45.0)),
        hand_interval_s=(0.45 * s, 0.45 * s + 1.5),
        bit_depth=10,
        illuminator="alternating",
        seed=7,
    )


def describe(e: MonitorEvent) -> str:
    """One line per event (the readings themselves are summarised, not printed)."""
    bpm = "-" if e.bpm is None else f"{e.bpm:5.1f} bpm"
    if e.kind is EventKind.PULSE_LOST:
        return f"pulse lost ({e.reason.value}) since {e.since_s:.1f} s"
    if e.kind is EventKind.QUALITY_CHANGED:
        return f"quality {e.previous_status} -> {e.status} ({bpm}, confidence {e.confidence:.2f})"
    if e.kind is EventKind.ABRUPT_CHANGE:
        return f"abrupt change {e.previous_bpm:.1f} -> {bpm} since {e.since_s:.1f} s"
    if e.since_s is not None:
        return f"{e.kind.value} ({bpm}) since {e.since_s:.1f} s"
    return f"{e.kind.value} ({bpm})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=90.0, help="video length (default 90)")
    ap.add_argument("--quick", action="store_true", help="30 s of video")
    ap.add_argument("--method", default="pos", help="pulse method (default pos; NIR runs mono)")
    args = ap.parse_args(argv)
    seconds = 30.0 if args.quick else args.seconds
    cabin = scene(seconds)
    truth = cabin_truth(cabin)
    # Short clips: a sustained fast rate after 8 s instead of a clinical 30 s.
    events = EventOptions(sustain_s=min(30.0, 0.25 * seconds))

    def on_event(e: MonitorEvent) -> None:
        if e.kind is not EventKind.READING:
            print(f"{e.timestamp_s:6.1f} s  {describe(e)}")

    opts = MonitorOptions(
        method=args.method, face_source="caller", events=events, on_event=on_event
    )
    errors: list[tuple[float, float]] = []  # (error, confidence) of readings with a rate
    warmups_after_start = 0
    with HeartRateMonitor(opts) as monitor:
        warmed = False
        for k, (frame, ts) in enumerate(iter_cabin_frames(cabin)):
            visible = bool(truth.face_visible[k])
            box = tuple(int(v) for v in truth.face_box_xywh[k]) if visible else None
            reading = monitor.process(frame, ts, face_box_xywh=box)
            if reading is None:
                continue
            if reading.status is ReadingStatus.WARMING_UP:
                warmups_after_start += warmed  # a face loss that was not bridged
            elif reading.bpm is not None:
                warmed = True
                true_bpm = truth.mean_bpm(ts - reading.window_s, ts)
                errors.append((reading.bpm - true_bpm, reading.confidence))
        print(f"dark frames dropped: {monitor.dark_frames_dropped}")
    err = np.array(errors).reshape(-1, 2)
    confident = np.abs(err[err[:, 1] >= 0.6, 0])
    print(
        f"readings with a rate: {len(err)}, MAE {np.mean(np.abs(err[:, 0])):.2f} bpm; "
        f"confident (>= 0.6): {confident.size}"
        + (f", MAE {confident.mean():.2f} bpm" if confident.size else "")
    )
    print(f"warm-ups after a face loss: {warmups_after_start} (losses up to 2 s are bridged)")
    return 0 if len(err) and warmups_after_start == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
