"""End-to-end speed of ``HeartRateMonitor`` on 640x480 frames, per method.

For each method it reports:

* processing: ``process()`` over frames already in memory (face tracking, traces, analysis;
  decode excluded) as frames per second, ratio to 30 fps real time, and milliseconds of
  processing per second of video (target: at most 10 ms for the classical methods);
* decode: reading the same frames from an MP4 file alone;
* measure: ``process_video`` on that file, where decoding overlaps processing (target: wall
  time within 10 % of decoding alone);
* live: ``process_async()`` latency p50 / p99 (``LIVE_STREAM``), frames paced at 30 fps, the
  model (if any) running on the worker thread (target p99 at most 5 ms).

Run: ``python benchmarks/bench_monitor.py [--seconds 20] [--live-seconds 15] [--json out.json]``
(or ``nox -s bench``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from rppg_sdk.monitor import HeartRateMonitor, MonitorOptions  # noqa: E402
from rppg_sdk.video import VideoReader  # noqa: E402

FPS = 30.0
SIZE = (640, 480)


def make_frames(seconds: float) -> tuple[list[np.ndarray], str]:
    """640x480 BGR face frames: the semi-synthetic renderer when present, else a still face."""
    n = int(seconds * FPS)
    try:
        from rppg_sdk.synthetic import SyntheticClipSpec, render_clip

        clip = render_clip(
            SyntheticClipSpec(
                duration_s=seconds,
                fps=FPS,
                heart_rate_bpm=72.0,
                frame_size=SIZE,
                motion="rigid",
                seed=0,
            )
        )
        return [
            np.ascontiguousarray(f) for f in clip.frames[:n]
        ], "rppg_sdk.synthetic (rigid motion)"
    except ImportError:
        from skimage import data

        face = cv2.cvtColor(cv2.resize(data.astronaut(), SIZE), cv2.COLOR_RGB2BGR)
        rng = np.random.default_rng(0)
        frames = [
            np.clip(face + rng.normal(0, 2, face.shape), 0, 255).astype(np.uint8) for _ in range(n)
        ]
        return frames, "still astronaut + noise (renderer unavailable)"


def write_mp4(frames: list[np.ndarray], path: Path) -> None:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for f in frames:
        w.write(f)
    w.release()


def bench_decode(path: Path) -> float:
    t0 = time.perf_counter()
    with VideoReader(path) as r:
        for _ in r:
            pass
    return time.perf_counter() - t0


def options(method: str, **kw: Any) -> MonitorOptions:
    if method == "model":
        return MonitorOptions(method="model", model="physnet", **kw)
    return MonitorOptions(method=method, **kw)


def bench_processing(method: str, frames: list[np.ndarray]) -> dict[str, float]:
    with HeartRateMonitor(options(method)) as m:
        for i, f in enumerate(frames[:30]):  # warm-up: graph creation, first detection
            m.process(f, i / FPS)
        m.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        for i, f in enumerate(frames):
            m.process(f, i / FPS)
        m.flush()  # the model's last chunks
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    video_s = len(frames) / FPS
    return {
        "fps": len(frames) / dt,
        "realtime_ratio": len(frames) / dt / FPS,
        "ms_per_video_s": 1000.0 * dt / video_s,
        # CPU time of all threads: less sensitive to other processes on a shared machine.
        "cpu_ms_per_video_s": 1000.0 * cpu / video_s,
    }


def bench_measure(method: str, path: Path) -> float:
    with HeartRateMonitor(options(method)) as m:
        t0 = time.perf_counter()
        for _ in m.process_video(path):
            pass
        return time.perf_counter() - t0


def bench_live(method: str, frames: list[np.ndarray], seconds: float) -> dict[str, float]:
    lat = []
    n = min(len(frames), int(seconds * FPS))
    with HeartRateMonitor(
        options(method, running_mode="live_stream", callback=lambda _r: None)
    ) as m:
        start = time.perf_counter()
        for i in range(n):
            due = start + i / FPS
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            t0 = time.perf_counter()
            m.process_async(frames[i], i / FPS)
            lat.append(time.perf_counter() - t0)
        dropped = m.dropped_frames
    a = np.array(lat) * 1000.0
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "dropped_jobs": float(dropped),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="video length per run")
    p.add_argument("--live-seconds", type=float, default=15.0, help="live run length")
    p.add_argument("--methods", default="pos,chrom,green,model")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    frames, source = make_frames(args.seconds)
    print(
        f"frames: {len(frames)} x 640x480 BGR from {source}; {os.cpu_count()} CPU cores, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    results: dict[str, Any] = {"frames": len(frames), "source": source, "methods": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mp4"
        write_mp4(frames, path)
        decode_s = bench_decode(path)
        video_s = len(frames) / FPS
        results["decode"] = {
            "fps": len(frames) / decode_s,
            "ms_per_video_s": 1000 * decode_s / video_s,
        }
        print(
            f"decode alone: {len(frames) / decode_s:7.0f} fps ({1000 * decode_s / video_s:.1f} ms "
            "per s of video)"
        )
        header = (
            f"{'method':>7} {'proc fps':>9} {'x realtime':>10} {'ms/s video':>10} "
            f"{'cpu ms/s':>8} {'measure s':>9} {'vs decode':>9} {'live p50':>8} {'live p99':>8}"
        )
        print(header)
        for method in [m for m in args.methods.split(",") if m]:
            proc = bench_processing(method, frames)
            measure_s = bench_measure(method, path)
            live = bench_live(method, frames, args.live_seconds)
            results["methods"][method] = {
                **proc,
                "measure_s": measure_s,
                "measure_over_decode": measure_s / decode_s,
                "live": live,
            }
            print(
                f"{method:>7} {proc['fps']:9.0f} {proc['realtime_ratio']:10.1f} "
                f"{proc['ms_per_video_s']:10.1f} {proc['cpu_ms_per_video_s']:8.1f} "
                f"{measure_s:9.2f} {measure_s / decode_s:9.2f} "
                f"{live['p50_ms']:8.2f} {live['p99_ms']:8.2f}",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
