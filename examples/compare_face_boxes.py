"""Caller's face boxes against the SDK's own tracker, clip by clip on the evaluation suite.

A driver-monitoring system hands its own face boxes to ``HeartRateMonitor.process(...,
face_box_xywh=...)``. This runs each chosen suite clip twice through the public API: once with
the SDK's face tracker (mediapipe), once with ``face_source="caller"`` and the renderer's true
face box of every frame (brow to chin, as a DMS tracker gives it), and prints the MAE of every
reading with a heart rate, per clip and overall (the ``README``'s driver-monitoring number).

    python examples/compare_face_boxes.py --split holdout \
        --conditions still,motion,small_face,dark_skin,low_bitrate
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.synthetic import SyntheticClipSpec
from rppg_sdk.synthetic.render import _Renderer  # the per-frame true face box
from rppg_sdk.video import VideoReader


def errors(path: Path, truth: object, options: MonitorOptions, boxes: list | None) -> list[float]:
    out: list[float] = []
    with HeartRateMonitor(options) as m, VideoReader(path) as frames:
        for k, (frame, ts) in enumerate(frames):
            r = m.process(frame, ts, face_box_xywh=None if boxes is None else boxes[k])
            if r is not None and r.bpm is not None:
                true = truth.mean_bpm(r.timestamp_s - r.window_s, r.timestamp_s)  # type: ignore[attr-defined]
                out.append(r.bpm - true)
    return out


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's evaluation/
    from evaluation.suite import render_cached, suite_clips  # noqa: PLC0415

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="holdout")
    ap.add_argument("--conditions", default="still,motion,small_face,dark_skin,low_bitrate")
    ap.add_argument("--method", default="pos")
    ap.add_argument("--cache", default="cache/evaluation")
    args = ap.parse_args()
    conds = tuple(args.conditions.split(","))
    totals: dict[str, list[float]] = {"tracker": [], "caller": []}
    print(f"{'clip':28s} {'tracker MAE':>12s} {'caller MAE':>11s}  readings")
    for clip in suite_clips((args.split,), conds):
        path, truth = render_cached(clip, Path(args.cache))
        renderer = _Renderer(SyntheticClipSpec(**clip.spec_kwargs))
        boxes = [renderer.face_box(k) for k in range(renderer.spec.n_frames)]
        tracked = errors(path, truth, MonitorOptions(method=args.method), None)
        caller = errors(
            path, truth, MonitorOptions(method=args.method, face_source="caller"), boxes
        )
        totals["tracker"] += tracked
        totals["caller"] += caller
        print(
            f"{clip.name:28s} {np.mean(np.abs(tracked)):12.2f} {np.mean(np.abs(caller)):11.2f}"
            f"  {len(tracked)}/{len(caller)}"
        )
    t, c = (np.abs(np.asarray(totals[k])) for k in ("tracker", "caller"))
    print(f"{'all':28s} {t.mean():12.2f} {c.mean():11.2f}  {t.size}/{c.size}")


if __name__ == "__main__":
    main()
