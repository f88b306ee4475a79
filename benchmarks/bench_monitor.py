"""End-to-end speed of ``HeartRateMonitor`` on 640x480 frames, per method.

For each method it reports:

* processing: ``process()`` over frames already in memory (face tracking, traces, analysis;
  decode excluded) as frames per second, ratio to 30 fps real time, and milliseconds of
  processing per second of video (target: at most 10 ms for the classical methods);
* decode: reading the same frames from an MP4 file alone;
* measure: ``process_video`` on that file, where decoding overlaps processing (target: wall
  time within 10 % of decoding alone);
* live: ``process_async()`` latency p50 / p99 (``LIVE_STREAM``), frames paced at 30 fps, the
  model (if any) running on the worker thread (target p99 at most 5 ms);
* reference: the same job done the rPPG-Toolbox way in numpy / scipy / OpenCV
  (``reference_pipeline.py``: same detector every 10th frame, 72x72 crop, mean RGB, POS_WANG,
  dense detrend, filtfilt, periodogram every 1 s on the newest 10 s), timed on the same frames in
  the same run; each method's row prints the ratio reference / ours (above 1: ours is faster).

Processing is pinned to one thread where the libraries allow it (BLAS / OpenMP thread counts set
before numpy loads, ``cv2.setNumThreads``; ``--threads`` changes it); mediapipe's and ONNX
Runtime's own threads are not governed, which the CPU-time column shows.

Run: ``python benchmarks/bench_monitor.py [--seconds 20] [--live-seconds 15] [--methods pos,chrom]
[--threads 1] [--json out.json]`` (or ``nox -s bench``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _threads_arg(argv: list[str]) -> str:
    """``--threads`` read before argparse runs (a bad value is left for argparse to reject)."""
    for i, a in enumerate(argv):
        value = argv[i + 1] if a == "--threads" and i + 1 < len(argv) else None
        if a.startswith("--threads="):
            value = a.split("=", 1)[1]
        if value is not None and value.isdigit() and int(value) >= 1:
            return value
    return "1"


# Thread pools size themselves when numpy / OpenCV load, so this precedes their imports.
_THREADS = _threads_arg(sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)
os.environ.setdefault("GLOG_minloglevel", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from reference_pipeline import ReferencePipeline  # noqa: E402
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


def _timing(n_frames: int, dt: float, cpu: float, bpms: list[float]) -> dict[str, float]:
    video_s = n_frames / FPS
    return {
        "fps": n_frames / dt,
        "realtime_ratio": n_frames / dt / FPS,
        "ms_per_video_s": 1000.0 * dt / video_s,
        # CPU time of all threads: less sensitive to other processes on a shared machine.
        "cpu_ms_per_video_s": 1000.0 * cpu / video_s,
        # The job was done: how many readings, and where they landed (the clip is 72 bpm).
        "readings": float(len(bpms)),
        "median_bpm": float(np.median(bpms)) if bpms else float("nan"),
    }


def bench_processing(method: str, frames: list[np.ndarray]) -> dict[str, float]:
    bpms: list[float] = []
    with HeartRateMonitor(options(method)) as m:
        for i, f in enumerate(frames[:30]):  # warm-up: graph creation, first detection
            m.process(f, i / FPS)
        m.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        for i, f in enumerate(frames):
            r = m.process(f, i / FPS)
            if r is not None and r.bpm is not None:
                bpms.append(r.bpm)
        m.flush()  # the model's last chunks
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return _timing(len(frames), dt, cpu, bpms)


def bench_reference(frames: list[np.ndarray]) -> tuple[dict[str, float], str]:
    """The toolbox-style pipeline on the same frames, with the monitor's defaults."""
    o = MonitorOptions()
    bpms: list[float] = []
    with ReferencePipeline(
        fs_hz=FPS,
        detect_every=o.face.detect_every_n_frames,
        window_s=o.window_s,
        min_window_s=o.min_window_s,
        update_interval_s=o.update_interval_s,
    ) as ref:
        for f in frames[:30]:  # warm-up, as for the monitor
            ref.process(f)
        ref.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        for f in frames:
            bpm = ref.process(f)
            if bpm is not None:
                bpms.append(bpm)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        name = ref.detector_name
    return _timing(len(frames), dt, cpu, bpms), name


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


def _positive_int(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return n


def _limit_threads(n: int) -> contextlib.AbstractContextManager[Any]:
    """One thread for OpenCV, and for BLAS / OpenMP pools already loaded (threadpoolctl)."""
    cv2.setNumThreads(n)
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415  (optional)
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="video length per run")
    p.add_argument("--live-seconds", type=float, default=15.0, help="live run length")
    p.add_argument(
        "--methods", default="pos,chrom,green,model", help="comma-separated, e.g. pos,chrom"
    )
    p.add_argument(
        "--threads",
        type=_positive_int,
        default=int(_THREADS),
        help="OpenCV / BLAS / OpenMP threads (default 1: the target is per core)",
    )
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    methods = [m for m in args.methods.split(",") if m]

    frames, source = make_frames(args.seconds)
    print(
        f"frames: {len(frames)} x 640x480 BGR from {source}; {os.cpu_count()} CPU cores, "
        f"load average {os.getloadavg()[0]:.1f} at start; threads {args.threads} "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')})"
    )
    results: dict[str, Any] = {
        "frames": len(frames),
        "source": source,
        "threads": args.threads,
        "methods": {},
    }
    with tempfile.TemporaryDirectory() as tmp, _limit_threads(args.threads):
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
        ref, detector = bench_reference(frames)
        results["reference"] = {**ref, "detector": detector}
        print(
            f"reference (rPPG-Toolbox way, numpy/scipy/OpenCV, {detector} every 10th frame): "
            f"{ref['ms_per_video_s']:.1f} ms per s of video (cpu {ref['cpu_ms_per_video_s']:.1f}), "
            f"{ref['readings']:.0f} readings, median {ref['median_bpm']:.1f} bpm",
            flush=True,
        )
        header = (
            f"{'method':>7} {'proc fps':>9} {'x realtime':>10} {'ms/s video':>10} "
            f"{'cpu ms/s':>8} {'ref/ours':>8} {'ref/ours cpu':>12} {'bpm':>6} "
            f"{'measure s':>9} {'vs decode':>9} {'live p50':>8} {'live p99':>8}"
        )
        print(header)
        for method in methods:
            proc = bench_processing(method, frames)
            ratio = ref["ms_per_video_s"] / proc["ms_per_video_s"]
            ratio_cpu = ref["cpu_ms_per_video_s"] / proc["cpu_ms_per_video_s"]
            measure_s = bench_measure(method, path)
            live = bench_live(method, frames, args.live_seconds)
            results["methods"][method] = {
                **proc,
                "reference_over_ours": ratio,
                "reference_over_ours_cpu": ratio_cpu,
                "measure_s": measure_s,
                "measure_over_decode": measure_s / decode_s,
                "live": live,
            }
            print(
                f"{method:>7} {proc['fps']:9.0f} {proc['realtime_ratio']:10.1f} "
                f"{proc['ms_per_video_s']:10.1f} {proc['cpu_ms_per_video_s']:8.1f} "
                f"{ratio:8.2f} {ratio_cpu:12.2f} {proc['median_bpm']:6.1f} "
                f"{measure_s:9.2f} {measure_s / decode_s:9.2f} "
                f"{live['p50_ms']:8.2f} {live['p99_ms']:8.2f}",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
