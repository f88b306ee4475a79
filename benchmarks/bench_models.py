"""Model inference speed on this CPU: milliseconds of compute per second of video.

Run with ``nox -s bench`` or ``python benchmarks/bench_models.py [--quick] [--threads 2]
[--plot PATH] [--json PATH] [--monitor-s 30]``.

For each variant of the shipped models (``rppg_sdk/models``), one chunk of the model's
recommended length (e.g. 300 frames = 10 s at 30 fps) is timed (median of several runs after a
warm-up) and divided by the seconds of video it covers: the cost of running the model once over
every frame (wall time at the given threads, and process CPU time, which other jobs on the
machine do not inflate). A streaming runtime that overlaps chunks pays ``chunk / (chunk -
overlap)`` times that (the monitor's defaults, 128 and 32 frames: 1.33x).

Rows:

- PyTorch eager (the same architecture and weights when a checkpoint is in
  ``training/checkpoints``; the architecture with random weights otherwise: speed does not
  depend on the weights) against ONNX Runtime FP32 (ratio torch / ORT);
- ONNX Runtime INT8 (static quantization, QLinearConv; ``deploy.calibrate.quantize_int8``);
- a smaller input (the same network at half the side, the "lean" variant);
- GFLOP/s achieved against the FLOPs counted by ``torch.utils.flop_counter``.

With ``--monitor-s`` and the SDK's ``HeartRateMonitor`` present, it also feeds the monitor a
30 fps live stream (rendered face video, paced in real time) with the model method and reports
the process CPU load (CPU seconds / wall seconds / cores).

The issue's target: at most 40 ms of model compute per second of video for the shipped PhysNet.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # deploy/ and training/ live beside the package

TARGET_MS_PER_S = 40.0


@dataclass
class Row:
    model: str
    variant: str
    runtime: str
    size: int
    frames: int
    ms_per_chunk: float
    ms_per_video_s: float
    cpu_ms_per_video_s: float
    gflop_per_video_s: float
    gflops: float


#: How repeated timings are summarised ("min": least disturbed by other jobs on the machine).
STAT: Callable[[list[float]], float] = statistics.median


def median_s(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Wall time and process CPU time (all threads) of one call, seconds (:data:`STAT` of
    ``repeats`` runs).

    The CPU time is the compute actually spent; the wall time is what a caller waits (it grows
    when other jobs share the cores)."""
    fn()  # warm-up: allocations, kernel choice
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return STAT(wall), STAT(cpu)


def count_flops(model: Any, x: Any) -> float:
    """FLOPs of one forward pass (a multiply-add counts 2), by ``torch.utils.flop_counter``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return float(counter.get_total_flops())


def ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    # No busy-waiting between kernels: the CPU time measured is compute, not spinning.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def torch_model(name: str, side: dict[str, Any]) -> tuple[Any, str]:
    """The trained model when its checkpoint is here, else the same architecture untrained."""
    ckpt = REPO / "training" / "checkpoints" / f"{name}.pt"
    if ckpt.is_file():
        from training.checkpoints import load_shipped_model

        model, _ = load_shipped_model(ckpt)
        return model.eval(), "trained"
    from training.models import build_model

    model = build_model(side["architecture"], int(side["input"]["channels"]),
                        **side.get("model_kwargs", {}))
    return model.eval(), "untrained"


def bench_model(name: str, threads: int, repeats: int, tmp: Path, quick: bool) -> list[Row]:
    import torch
    from rppg_sdk.models import bundled_model_path, bundled_sidecar

    from deploy.calibrate import quantize_int8
    from deploy.export_onnx import export_onnx, load_model

    torch.set_num_threads(threads)
    side = bundled_sidecar(name)
    inp = side["input"]
    c, size = int(inp["channels"]), int(inp["height"])
    frames = int(inp["recommended_frames"])
    if quick:
        frames = min(frames, 120)
    fps = float(side["fps_hz"])
    video_s = frames / fps
    rng = np.random.default_rng(0)
    rows: list[Row] = []

    def add(variant: str, runtime: str, sz: int, times: tuple[float, float], flops: float) -> None:
        seconds, cpu_s = times
        rows.append(Row(name, variant, runtime, sz, frames, seconds * 1e3,
                        seconds * 1e3 / video_s, cpu_s * 1e3 / video_s,
                        flops / 1e9 / video_s, flops / 1e9 / seconds))

    x = rng.standard_normal((1, c, frames, size, size)).astype(np.float32)
    model, origin = torch_model(name, side)
    xt = torch.from_numpy(x)
    flops = count_flops(model, xt)
    with torch.no_grad():
        add(f"fp32 ({origin})", "torch eager", size, median_s(lambda: model(xt), repeats), flops)
    sess = ort_session(bundled_model_path(name), threads)
    add("fp32 (shipped)", "onnxruntime", size, median_s(lambda: sess.run(None, {"video": x}),
                                                        repeats), flops)

    # INT8: calibration data only sets scales; any plausible clips time the same.
    calib = rng.standard_normal((2, c, min(frames, 64), size, size)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = quantize_int8(bundled_model_path(name), tmp / f"{name}_int8.onnx", calib)
    sq = ort_session(q, threads)
    add("int8 static (QOperator)", "onnxruntime", size,
        median_s(lambda: sq.run(None, {"video": x}), repeats), flops)

    # The lean variant: the same network at half the side (fully convolutional to a mean).
    half = size // 2
    if half >= 16:
        lean, _spec = load_model(None, model=side["architecture"], model_kwargs=side.get(
            "model_kwargs", {}), in_channels=c, size=half)
        lean.load_state_dict(model.state_dict())
        lp = export_onnx(lean, tmp / f"{name}_{half}.onnx", _spec)
        xs = rng.standard_normal((1, c, frames, half, half)).astype(np.float32)
        sl = ort_session(lp, threads)
        lflops = count_flops(lean, torch.from_numpy(xs))
        add(f"fp32 input {half}x{half}", "onnxruntime", half,
            median_s(lambda: sl.run(None, {"video": xs}), repeats), lflops)
    return rows


def bench_monitor(method: str, seconds: float, models: list[str], fps: float = 30.0
                  ) -> dict[str, Any] | None:
    """CPU load of the whole monitor (live mode: face tracking on the caller's thread, analysis
    and model inference on its worker) fed a paced 30 fps stream; None without the monitor."""
    try:
        from rppg_sdk import monitor as mon
    except ImportError:
        return None
    import cv2

    face = REPO.parent / "shared" / "data" / "real" / "evm_face" / "face.mp4"
    frames: list[np.ndarray] = []
    if face.is_file():
        cap = cv2.VideoCapture(str(face))
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
        cap.release()
    if not frames:
        return None
    live = {"running_mode": "live_stream", "callback": lambda _r: None}
    opts = (mon.MonitorOptions(method="model", model=method, **live) if method in models
            else mon.MonitorOptions(method=method, **live))
    hrm = mon.HeartRateMonitor(opts)
    n = int(seconds * fps)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    late = 0
    for i in range(n):
        due = wall0 + i / fps
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        elif now - due > 1.0 / fps:
            late += 1
        i_f = i % (2 * len(frames) - 2)  # play forth and back: no jump in the face's position
        frame = frames[i_f if i_f < len(frames) else 2 * len(frames) - 2 - i_f]
        hrm.process_async(frame, timestamp_s=i / fps)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    reading = hrm.latest_reading
    hrm.close()
    cores = os.cpu_count() or 1
    return {"method": method, "seconds": wall, "last_bpm": getattr(reading, "bpm", None),
            "cpu_s": cpu, "cores": cores,
            "cpu_load_of_machine": cpu / wall / cores, "late_frames": late,
            "kept_up": wall <= seconds * 1.05}


def plot(rows: list[Row], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.model}\n{r.variant}\n{r.runtime}" for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(rows)), 4.2))
    colors = ["tab:green" if r.ms_per_video_s <= TARGET_MS_PER_S else "tab:red" for r in rows]
    ax.bar(range(len(rows)), [r.ms_per_video_s for r in rows], color=colors)
    ax.axhline(TARGET_MS_PER_S, color="k", ls="--", lw=1, label="target 40 ms/s")
    ax.set_xticks(range(len(rows)), labels, fontsize=7)
    ax.set_ylabel("model compute per second of video (ms)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["physnet", "autohr"])
    p.add_argument("--threads", type=int, default=2, help="intra-op threads (torch and ORT)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--stat", choices=["median", "min"], default="median",
                   help="summary of the repeats (min: for a machine shared with other jobs)")
    p.add_argument("--quick", action="store_true", help="120-frame chunks, 3 repeats")
    p.add_argument("--monitor-s", type=float, default=0.0,
                   help="also time the live monitor with the model method for this long")
    p.add_argument("--plot", default=None, help="bar chart of ms per second of video")
    p.add_argument("--json", default=None, help="write the rows here")
    args = p.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    global STAT
    STAT = min if args.stat == "min" else statistics.median

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            rows += bench_model(name, args.threads, repeats, Path(tmp), args.quick)

    print(f"model compute per second of video, {args.threads} thread(s), {args.stat} of {repeats} "
          f"(target for the shipped PhysNet: <= {TARGET_MS_PER_S:.0f} ms/s)")
    print(f"{'model':8} {'variant':26} {'runtime':12} {'input':>6} {'ms/chunk':>9} "
          f"{'ms/s':>7} {'CPU ms/s':>9} {'GFLOP/s of video':>17} {'GFLOP/s achieved':>17}")
    for r in rows:
        print(f"{r.model:8} {r.variant:26} {r.runtime:12} {r.size:>4}px {r.ms_per_chunk:9.1f} "
              f"{r.ms_per_video_s:7.1f} {r.cpu_ms_per_video_s:9.1f} {r.gflop_per_video_s:17.2f} "
              f"{r.gflops:17.1f}")
    for name in args.models:
        t = [r for r in rows if r.model == name and r.runtime == "torch eager"]
        o = [r for r in rows if r.model == name and r.variant == "fp32 (shipped)"]
        if t and o:
            ratio = t[0].ms_per_chunk / o[0].ms_per_chunk
            print(f"{name}: torch eager / ONNX Runtime = {ratio:.2f}")
    result: dict[str, Any] = {"threads": args.threads, "rows": [asdict(r) for r in rows]}
    if args.monitor_s > 0:
        for method in ("pos", *args.models):
            m = bench_monitor(method, args.monitor_s, args.models)
            if m is None:
                print("monitor: rppg_sdk.monitor or the face video is not available; skipped")
                break
            print(f"monitor method={method}: CPU load {100 * m['cpu_load_of_machine']:.0f} % of "
                  f"{m['cores']} cores at 30 fps live ({m['cpu_s']:.1f} CPU s in "
                  f"{m['seconds']:.1f} s; late frames {m['late_frames']}; kept up: {m['kept_up']})")
            result.setdefault("monitor", []).append(m)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if args.plot:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
