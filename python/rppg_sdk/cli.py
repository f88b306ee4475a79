"""``rppg-sdk``: the command line.

``rppg-sdk demo``
    Render a short semi-synthetic face video with a known heart rate (scikit-image's astronaut;
    no camera, download or GPU), measure it, print truth against estimate, write a plot.
``rppg-sdk measure VIDEO``
    Measure a video file: progress bar, readings to CSV or JSON, optional PNG plot.
``rppg-sdk live --camera N``
    A camera with the heart rate drawn on it, where a display exists.
``rppg-sdk batch INPUT --out DIR``
    A folder or manifest of videos on a process pool or a Ray cluster, to Parquet (resumable).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rppg_sdk.extractors.base import Method

__all__ = ["main"]

_SKIN_ROIS = ("face", "landmarks", "frame")


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


def _monitor_options(args: argparse.Namespace, **extra: Any) -> Any:
    from rppg_sdk.monitor import MonitorOptions  # noqa: PLC0415

    method = Method(args.method)
    if getattr(args, "model", None):
        method = Method.MODEL
    return MonitorOptions(
        method=method,
        model=getattr(args, "model", None),
        window_s=args.window,
        update_interval_s=args.update,
        skin_roi=args.skin_roi,
        **extra,
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--method",
        choices=[m.value for m in Method],
        default="pos",
        help="pulse method (default pos)",
    )
    p.add_argument("--model", help="ONNX model path or bundled name (implies --method model)")
    p.add_argument("--window", type=float, default=10.0, help="analysis window, s (default 10)")
    p.add_argument("--update", type=float, default=1.0, help="reading interval, s (default 1)")
    p.add_argument(
        "--skin-roi",
        choices=_SKIN_ROIS,
        default="face",
        help="where the skin is: a tracked face (default), its landmarks, or the whole frame "
        "(video already cropped to skin)",
    )


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rppg-sdk", description="Heart rate from ordinary camera video (rPPG)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="measure a rendered face video with a known heart rate")
    _add_common(d)
    d.add_argument("--bpm", type=float, default=72.0, help="true heart rate (default 72)")
    d.add_argument("--duration", type=float, default=20.0, help="clip length, s (default 20)")
    d.add_argument(
        "--motion", choices=("still", "rigid", "periodic"), default="rigid", help="head motion"
    )
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--plot", default="rppg_demo.png", help="PNG to write (default rppg_demo.png)")
    d.add_argument("--video", help="also write the rendered clip to this video file")

    m = sub.add_parser("measure", help="measure a video file")
    m.add_argument("video", help="video file")
    _add_common(m)
    m.add_argument("--csv", help="write readings to this CSV file")
    m.add_argument("--json", help="write readings to this JSON file")
    m.add_argument("--plot", help="write a PNG plot here")
    # --saliency (models issue): where the reported rhythm is in the face, as PNGs.
    m.add_argument(
        "--saliency",
        metavar="DIR",
        help="write pulse maps (PNG) here: where in the face crop the reported heart rate is",
    )
    m.add_argument("--no-progress", action="store_true", help="no progress bar")

    # --- batch (rppg_sdk.batch): folders and manifests on a process pool or Ray, to Parquet
    b = sub.add_parser(
        "batch", help="measure a folder or manifest of videos (process pool or Ray) to Parquet"
    )
    b.add_argument("input", help="folder of videos (recursive) or .csv / .jsonl manifest")
    b.add_argument("--out", required=True, help="output folder (rerunning into it resumes)")
    _add_common(b)
    b.add_argument("--engine", choices=("local", "ray"), default="local", help="default local")
    b.add_argument("--address", help="Ray cluster address (default: a local Ray for the run)")
    b.add_argument("--workers", type=int, help="worker processes / local Ray CPUs (default: all)")
    b.add_argument(
        "--segment-s",
        type=float,
        default=600.0,
        help="split videos longer than 1.5x this many seconds into segments (default 600; 0: "
        "never)",
    )
    b.add_argument("--retry-failed", action="store_true", help="retry corrupt/unreadable videos")
    b.add_argument("--dry-run", action="store_true", help="count videos, hours, machine time")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")

    l_ = sub.add_parser("live", help="live camera with the heart rate overlaid")
    l_.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    _add_common(l_)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rppg-sdk``; returns the exit status."""
    args = get_args_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    # mediapipe/TFLite chatter on stderr is noise for command-line users.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "measure":
            return _measure(args)
        if args.command == "batch":
            return _batch(args)
        return _live(args)
    except CliError as exc:
        print(f"rppg-sdk {args.command}: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, TypeError) as exc:
        print(f"rppg-sdk {args.command}: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # an optional extra (the demo's renderer, plots) is missing
        print(f"rppg-sdk {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------------------------- demo


def _demo(args: argparse.Namespace) -> int:
    import numpy as np  # noqa: PLC0415

    from rppg_sdk.monitor import HeartRateMonitor  # noqa: PLC0415
    from rppg_sdk.plots import plot_readings  # noqa: PLC0415

    try:
        from rppg_sdk.synthetic import SyntheticClipSpec, render_clip, write_video  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - the renderer ships with the package
        raise CliError(f"the semi-synthetic renderer is unavailable ({exc})") from exc

    t0 = time.perf_counter()
    spec = SyntheticClipSpec(
        duration_s=args.duration,
        fps=30.0,
        heart_rate_bpm=args.bpm,
        frame_size=(320, 240),
        motion=args.motion,
        seed=args.seed,
    )
    clip = render_clip(spec)
    t_render = time.perf_counter() - t0
    if args.video:
        write_video(clip, args.video)
    opts = _monitor_options(args)
    print(
        f"Rendered {len(clip.frames)} frames ({args.duration:.0f} s, 320x240, heart rate "
        f"{args.bpm:.0f} bpm, motion {args.motion}) in {t_render:.1f} s; measuring with "
        f"{opts.method.value} ..."
    )
    readings = []
    t1 = time.perf_counter()
    with HeartRateMonitor(opts) as monitor:
        for frame, ts in zip(clip.frames, clip.timestamps_s, strict=True):
            r = monitor.process(frame, float(ts))
            if r is not None:
                readings.append(r)
        detector = monitor.detector
    t_measure = time.perf_counter() - t1
    print(f"face detector: {detector}")
    print(f"{'time s':>7} {'truth':>7} {'estimate':>9} {'error':>7} {'confidence':>11}  status")
    errors = []
    for r in readings:
        span = r.window_s if r.window_s > 0 else opts.window_s
        truth = float(clip.mean_bpm(max(0.0, r.timestamp_s - span), r.timestamp_s))
        if r.bpm is None:
            print(
                f"{r.timestamp_s:7.1f} {truth:7.1f} {'-':>9} {'-':>7} {r.confidence:11.2f}  "
                f"{r.status.value}"
            )
            continue
        err = r.bpm - truth
        errors.append(abs(err))
        print(
            f"{r.timestamp_s:7.1f} {truth:7.1f} {r.bpm:9.1f} {err:+7.1f} {r.confidence:11.2f}  "
            f"{r.status.value}"
        )
    if errors:
        print(
            f"mean absolute error {np.mean(errors):.2f} bpm over {len(errors)} readings "
            f"(measuring took {t_measure:.1f} s for {args.duration:.0f} s of video)"
        )
    else:
        print("no heart rate was measured")
    truth_t = np.asarray(clip.timestamps_s)
    truth_bpm = np.asarray(clip.bpm) if np.ndim(clip.bpm) else np.full(truth_t.size, clip.bpm)
    out = plot_readings(
        readings,
        args.plot,
        title=f"rppg-sdk demo: truth {args.bpm:.0f} bpm, {opts.method.value}",
        truth_times_s=truth_t,
        truth_bpm=truth_bpm,
        band_hz=opts.band_hz,
    )
    print(f"plot written to {out}")
    return 0 if errors else 1


# ---------------------------------------------------------------------------------- measure


def _progress(total: int | None, desc: str, disable: bool) -> Any:
    """A tqdm bar where the demo extra installed tqdm; otherwise no bar (the runtime install
    measures files too)."""
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:

        class _NoBar:
            def __enter__(self) -> _NoBar:  # the bar itself, as tqdm's __enter__ gives
                return self

            def __exit__(self, *_exc: object) -> None:
                pass

            def update(self, _n: int = 1) -> None:
                pass

            def set_postfix(self, **_kw: Any) -> None:
                pass

        return _NoBar()
    return tqdm(total=total, unit="frame", desc=desc, disable=disable)


def _measure(args: argparse.Namespace) -> int:
    from rppg_sdk.monitor import HeartRateMonitor  # noqa: PLC0415
    from rppg_sdk.video import probe_video  # noqa: PLC0415

    info = probe_video(args.video)
    # Output paths are checked before the measurement, not after minutes of it.
    for flag in ("csv", "json", "plot"):
        _check_output(flag, getattr(args, flag))
    opts = _monitor_options(args)
    readings = []
    t0 = time.perf_counter()
    with (
        HeartRateMonitor(opts) as monitor,
        _progress(info.frame_count or None, Path(args.video).name, args.no_progress) as bar,
    ):
        for r in monitor.process_video(args.video, on_frame=lambda _i: bar.update(1)):
            readings.append(r)
            if r.bpm is not None:
                bar.set_postfix(bpm=f"{r.bpm:.1f}", conf=f"{r.confidence:.2f}")
    wall = time.perf_counter() - t0
    rated = [r for r in readings if r.bpm is not None]
    good = [r for r in rated if r.confidence >= opts.low_quality_confidence]
    if good:
        import numpy as np  # noqa: PLC0415

        bpm = float(np.median([r.bpm for r in good]))
        print(
            f"heart rate {bpm:.1f} bpm (median of {len(good)} confident readings of "
            f"{len(readings)}); last {rated[-1].bpm:.1f} bpm, confidence "
            f"{rated[-1].confidence:.2f}"
        )
    elif rated:
        print(
            f"no confident reading; last estimate {rated[-1].bpm:.1f} bpm with confidence "
            f"{rated[-1].confidence:.2f}"
        )
    else:
        print("no heart rate measured (no face, or the video is shorter than the minimum window)")
    print(f"{info.duration_s:.1f} s of video measured in {wall:.1f} s")
    rows = [r.as_dict() for r in readings]
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            fields = list(rows[0]) if rows else ["timestamp_s"]
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for row in rows:
                row = dict(row)
                if row.get("face_box_xywh") is not None:
                    row["face_box_xywh"] = " ".join(map(str, row["face_box_xywh"]))
                w.writerow(row)
        print(f"readings written to {args.csv}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"video": str(args.video), "readings": rows}, indent=1)
        )
        print(f"readings written to {args.json}")
    if args.plot:
        from rppg_sdk.plots import plot_readings  # noqa: PLC0415

        out = plot_readings(readings, args.plot, title=Path(args.video).name, band_hz=opts.band_hz)
        print(f"plot written to {out}")
    if args.saliency:
        from rppg_sdk.saliency import write_pulse_maps  # noqa: PLC0415

        maps = write_pulse_maps(args.video, readings, args.saliency)
        print(f"{len(maps)} pulse maps written to {args.saliency}")
    return 0 if rated else 1


def _check_output(flag: str, path: str | None) -> None:
    if not path:
        return
    p = Path(path)
    if p.is_dir():
        raise CliError(f"--{flag}: {p} is a directory; name a file to write")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"--{flag}: cannot create the folder {p.parent} ({exc.strerror})") from exc
    if not os.access(p.parent, os.W_OK):
        raise CliError(f"--{flag}: the folder {p.parent} is not writable")


# ---------------------------------------------------------------------------------- batch


def _batch(args: argparse.Namespace) -> int:
    from rppg_sdk.batch import BatchConfig, dry_run, run_batch  # noqa: PLC0415

    if args.segment_s < 0:
        raise CliError(f"--segment-s: expected >= 0 seconds, got {args.segment_s}")
    cfg = BatchConfig(
        source=Path(args.input),
        out_dir=Path(args.out),
        options=_monitor_options(args),
        engine=args.engine,
        address=args.address,
        workers=args.workers,
        segment_s=args.segment_s or None,
        retry_failed=args.retry_failed,
        progress=not args.no_progress,
    )
    if args.dry_run:
        print(dry_run(cfg).describe())
        return 0
    rep = run_batch(cfg)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(rep.counts.items())) or "nothing new"
    print(
        f"{rep.n_videos} videos ({rep.n_skipped} finished before): {counts}; "
        f"{rep.video_s:.0f} s of video in {rep.wall_s:.1f} s ({rep.videos_per_s:.2f} videos/s, "
        f"{rep.video_s_per_s:.1f} s of video per s); results in {rep.out_dir}"
    )
    return 0 if rep.counts.get("ok", 0) or not rep.counts else 1


# ---------------------------------------------------------------------------------- live


def _has_display() -> tuple[bool, str]:
    import cv2  # noqa: PLC0415

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False, "no display (DISPLAY / WAYLAND_DISPLAY unset)"
    try:
        cv2.namedWindow("rppg-sdk")
        cv2.destroyWindow("rppg-sdk")
    except cv2.error:
        return False, (
            "this OpenCV has no GUI support: a headless OpenCV (opencv-python-headless) shadows "
            "the one rppg-sdk installs; `pip uninstall -y opencv-python-headless "
            "opencv-contrib-python && pip install opencv-contrib-python` restores it"
        )
    return True, ""


def _live(args: argparse.Namespace) -> int:
    import cv2  # noqa: PLC0415

    from rppg_sdk.monitor import HeartRateMonitor, ReadingStatus  # noqa: PLC0415

    ok, why = _has_display()
    if not ok:
        raise CliError(
            f"cannot open a window: {why}. Use `rppg-sdk measure VIDEO` for files, or the "
            "Python API (HeartRateMonitor with running_mode='live_stream') without a display."
        )
    cap = cv2.VideoCapture(args.camera)
    if not cap.isOpened():
        raise CliError(f"camera {args.camera} could not be opened")
    # Readings arrive on the monitor's worker thread; the window shows the newest.
    opts = _monitor_options(args, running_mode="live_stream", callback=lambda _r: None)
    t0 = time.monotonic()
    try:
        with HeartRateMonitor(opts) as monitor:
            while True:
                got, frame = cap.read()
                if not got:
                    raise CliError(f"camera {args.camera} stopped delivering frames")
                monitor.process_async(frame, time.monotonic() - t0)  # type: ignore[arg-type]
                r = monitor.latest_reading
                if r is not None and r.face_box_xywh is not None:
                    x, y, w, h = r.face_box_xywh
                    cv2.rectangle(frame, (x, y), (x + w, y + h), (0, 200, 0), 2)
                if r is None:
                    text = "warming up..."
                elif r.bpm is None:
                    text = r.status.value.replace("_", " ")
                else:
                    flag = "" if r.status is ReadingStatus.OK else " (low quality)"
                    text = f"{r.bpm:.0f} bpm  conf {r.confidence:.2f}{flag}"
                cv2.putText(frame, text, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 255), 2)
                cv2.imshow("rppg-sdk", frame)
                if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                    break
    finally:
        cap.release()
        cv2.destroyAllWindows()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
