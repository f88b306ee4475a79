"""Throughput of ``rppg-sdk batch`` against measuring the files by hand with every core busy.

A folder of rendered clips (320x240, MJPEG, cached in ``--cache``) is measured four ways in one
run, each with ``--workers`` processes (default: the machine's cores):

* ``shell loop``: what users do today: ``--workers`` shell processes side by side, each running
  ``rppg-sdk measure FILE --no-progress`` over its share of the files one after another (a fresh
  Python per file);
* ``python loop``: the floor of that: ``--workers`` Python processes side by side, each measuring
  its share with ``HeartRateMonitor(...).process_video`` in one process (no start-up per file);
* ``batch local``: ``rppg_sdk.batch.run_batch`` on the local process pool (pool start-up
  included);
* ``batch ray``: the same on a local Ray started for the run with ``--workers`` CPUs (Ray's own
  start-up is timed apart and not included; it is printed).

Each row prints videos/s and seconds of video per second of wall time, and its ratio to the
``python loop`` and ``shell loop`` rows of the same run (above 1: faster), and the CPU seconds
the row used (this process and its children; not Ray's workers). The machine is
shared: other jobs on it slow every row alike but add noise; the load average is printed.

The rows run round robin ``--repeat`` times and each shows its median.

Run: ``python benchmarks/bench_batch.py [--videos 8] [--seconds 30] [--workers 2] [--repeat 3]
[--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_LOOP = """
import sys, cv2
cv2.setNumThreads(1)
from rppg_sdk import HeartRateMonitor, MonitorOptions
for p in sys.argv[1:]:
    with HeartRateMonitor(MonitorOptions()) as m:
        n = sum(1 for _ in m.process_video(p))
"""


def _render(cache: Path, n: int, seconds: float) -> list[Path]:
    from rppg_sdk.synthetic import SyntheticClipSpec, render_to_file

    folder = cache / f"bench_batch_{n}x{seconds:g}s"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"clip{i:03d}.avi"
        if not p.exists():
            spec = SyntheticClipSpec(
                duration_s=seconds, frame_size=(320, 240), heart_rate_bpm=60.0 + 4 * i,
                motion="rigid", motion_amplitude_px=4.0, codec="mjpeg", jpeg_quality=90, seed=i,
            )  # fmt: skip
            render_to_file(spec, p)
        paths.append(p)
    return paths


def _side_by_side(cmds: list[list[str]]) -> float:
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds
    ]
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError(f"{p.args} failed")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=8, help="clips (default 8)")
    ap.add_argument("--seconds", type=float, default=30.0, help="clip length, s (default 30)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rppg-bench")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each row's median is shown")
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)

    from rppg_sdk.batch import BatchConfig, run_batch
    from rppg_sdk.batch.engines import RayEngine

    paths = _render(args.cache, args.videos, args.seconds)
    folder = paths[0].parent
    video_s = args.videos * args.seconds
    w = args.workers
    shares = [[str(p) for p in paths[k::w]] for k in range(w)]
    exe = Path(sys.executable)
    cli = str(exe.with_name("rppg-sdk"))
    load0 = os.getloadavg()[0]
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def cpu_s() -> float:
        own, kids = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def timed(name: str, fn: Any) -> None:
        c0, t0 = cpu_s(), time.perf_counter()
        fn()
        times.setdefault(name, []).append(time.perf_counter() - t0)
        cpu.setdefault(name, []).append(cpu_s() - c0)

    shell = [
        ["sh", "-c", " ; ".join(f"{cli} measure '{p}' --no-progress" for p in s) or "true"]
        for s in shares
    ]
    loop = [[str(exe), "-c", _LOOP, *s] for s in shares]
    work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    ray_start = None
    eng = None
    try:
        if not args.skip_ray:
            t0 = time.perf_counter()
            eng = RayEngine(None, w)
            ray_start = time.perf_counter() - t0
        # Round robin: load from other jobs that comes and goes hits every row alike.
        for r in range(args.repeat):
            timed("shell loop", lambda: _side_by_side(shell))
            timed("python loop", lambda: _side_by_side(loop))
            local = BatchConfig(folder, work / f"local{r}", workers=w, progress=False)
            timed("batch local", lambda c=local: run_batch(c))
            if eng is not None:
                on_ray = BatchConfig(folder, work / f"ray{r}", engine="ray", progress=False)
                timed("batch ray", lambda c=on_ray: run_batch(c, engine=eng))
    finally:
        if eng is not None:
            eng.close()
        shutil.rmtree(work, ignore_errors=True)
    rows = {name: statistics.median(ts) for name, ts in times.items()}
    # CPU seconds of this process and its reaped children: what a row costs whatever else
    # runs on the machine. Ray's workers are the raylet's children, not ours: not counted.
    cpu_rows = {name: statistics.median(c) for name, c in cpu.items() if name != "batch ray"}

    load1 = os.getloadavg()[0]
    print(
        f"{args.videos} clips x {args.seconds:g} s (320x240 MJPEG, POS), {w} workers, "
        f"{os.cpu_count()} cores, median of {args.repeat} rounds; load average {load0:.1f} "
        f"before, {load1:.1f} after"
    )
    if ray_start is not None:
        print(f"Ray start-up (not in the batch ray row): {ray_start:.1f} s")
    print(f"{'':14} {'wall s':>7} {'videos/s':>9} {'video s/s':>10} {'/python loop':>13} "
          f"{'/shell loop':>12} {'CPU s':>7}")  # fmt: skip
    results: dict[str, Any] = {"videos": args.videos, "seconds": args.seconds, "workers": w,
                               "load_before": load0, "load_after": load1,
                               "ray_startup_s": ray_start, "repeat": args.repeat,
                               "all_wall_s": times, "rows": {}}  # fmt: skip
    for name, wall in rows.items():
        r_py, r_sh = rows["python loop"] / wall, rows["shell loop"] / wall
        c = cpu_rows.get(name)
        print(f"{name:14} {wall:7.1f} {args.videos / wall:9.3f} {video_s / wall:10.1f} "
              f"{r_py:13.2f} {r_sh:12.2f} {'n/a' if c is None else f'{c:.1f}':>7}")  # fmt: skip
        results["rows"][name] = {"wall_s": wall, "videos_per_s": args.videos / wall,
                                 "video_s_per_s": video_s / wall, "vs_python_loop": r_py,
                                 "vs_shell_loop": r_sh,
                                 "cpu_s": cpu_rows.get(name)}  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
