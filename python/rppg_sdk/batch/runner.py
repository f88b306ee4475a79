"""A batch run: plan, resume, dispatch, collect, write.

1. The input is listed (:func:`~rppg_sdk.batch.inputs.discover_inputs`) and every video probed
   (frame rate, frame count) to plan its segments; a video that cannot be opened is recorded
   with its reason at once.
2. Videos finished by an earlier run into the same ``OUT`` (their ``videos/<key>.json`` exists)
   are skipped; leftover temporary files of an interrupted run are removed. An ``OUT`` that holds
   results of other options is refused rather than mixed.
3. The segments go to the engine; when the last segment of a video is back, its readings are
   stitched, written (``readings/<key>.parquet``), then its summary (``videos/<key>.json``).
4. At the end ``summary.parquet`` and ``manifest.json`` are rewritten.

A video measured in one piece runs ``HeartRateMonitor(options).process_video(path)`` in a worker:
what ``rppg-sdk measure`` runs. A video whose readings never saw a face is ``faceless`` (its
``no_face`` readings are still written); one that cannot be opened or decoded is ``unreadable``
or ``corrupt``; the run goes on either way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rppg_sdk.batch.engines import Engine, make_engine
from rppg_sdk.batch.inputs import VideoItem, discover_inputs
from rppg_sdk.batch.records import (
    TMP_SUFFIX,
    model_sha256,
    options_hash,
    options_record,
    readings_table,
    require_pyarrow,
    summary_table,
    write_json,
    write_parquet,
)
from rppg_sdk.batch.segments import (
    Segment,
    SegmentResult,
    SegmentTask,
    plan_segments,
    stitch,
)
from rppg_sdk.extractors import Method
from rppg_sdk.options import MonitorOptions

__all__ = ["BatchConfig", "BatchReport", "DryRunReport", "dry_run", "run_batch"]

_log = logging.getLogger(__name__)

#: Statuses of a finished video.
FINISHED = ("ok", "faceless", "corrupt", "unreadable", "error")


@dataclass(frozen=True)
class BatchConfig:
    """One batch run.

    Parameters
    ----------
    source
        A folder of videos (recursive) or a ``.csv`` / ``.jsonl`` manifest.
    out_dir
        Where the outputs go (see :mod:`rppg_sdk.batch.records`); rerunning into it resumes.
    options
        The monitor's options (``backend`` by name, no callback: they travel to the workers).
    engine
        ``"local"`` (process pool) or ``"ray"``.
    address
        The Ray cluster (``--engine ray``); ``None`` starts a local Ray for the run.
    workers
        Worker processes (local) or CPUs of a local Ray; default: every core.
    segment_s
        Split videos longer than 1.5 x this into segments of about this length (``None``: whole
        videos only). Model methods always run whole videos (their chunks follow the stream).
    warmup_s
        Seconds each segment starts early; ``None``: two analysis windows (``2 * window_s``).
    retry_failed
        Measure again videos an earlier run recorded as ``corrupt``, ``unreadable`` or ``error``.
    progress
        Show a progress bar (tqdm).
    """

    source: Path
    out_dir: Path
    options: MonitorOptions = field(default_factory=MonitorOptions)
    engine: str = "local"
    address: str | None = None
    workers: int | None = None
    segment_s: float | None = 600.0
    warmup_s: float | None = None
    retry_failed: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.options, MonitorOptions):
            raise TypeError(f"options: expected MonitorOptions, got {type(self.options).__name__}")
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine: expected 'local' or 'ray', got {self.engine!r}")
        if self.address and self.engine != "ray":
            raise ValueError("--address names a Ray cluster; use it with --engine ray")
        w = self.workers
        if w is not None and (not isinstance(w, int) or isinstance(w, bool) or w < 1):
            raise ValueError(f"workers: expected an int >= 1, got {w!r}")
        for name in ("segment_s", "warmup_s"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int | float) and 0 <= v < float("inf")):
                raise ValueError(f"{name}: expected seconds >= 0 or None, got {v!r}")
        if self.segment_s == 0:
            raise ValueError("segment_s: expected seconds > 0, or None for whole videos")
        object.__setattr__(self, "source", Path(self.source))
        object.__setattr__(self, "out_dir", Path(self.out_dir))


@dataclass(frozen=True)
class BatchReport:
    """What a run did: counts by status, and how fast it went."""

    out_dir: Path
    n_videos: int
    n_skipped: int
    counts: dict[str, int]
    video_s: float
    wall_s: float

    @property
    def videos_per_s(self) -> float:
        done = sum(self.counts.values())
        return done / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def video_s_per_s(self) -> float:
        """Seconds of video measured per second of wall time."""
        return self.video_s / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class DryRunReport:
    """What a run would do: videos, hours of video, and the machine time a calibration run
    predicts."""

    n_videos: int
    n_unreadable: int
    n_finished: int
    video_s: float
    processed_s: float
    calibration_video: str | None
    worker_startup_s: float
    startup_s: float
    seconds_per_video_s: float
    workers: int

    @property
    def machine_s(self) -> float:
        """Estimated CPU time: each worker's start-up, each video's, and the processing per
        second of video (segment warm-ups included)."""
        todo = self.n_videos - self.n_unreadable - self.n_finished
        return (
            min(self.workers, todo) * self.worker_startup_s
            + todo * self.startup_s
            + self.processed_s * self.seconds_per_video_s
        )

    @property
    def wall_estimate_s(self) -> float:
        return self.machine_s / max(1, self.workers)

    def describe(self) -> str:
        todo = self.n_videos - self.n_unreadable - self.n_finished
        lines = [
            f"{self.n_videos} videos, {self.video_s / 3600:.2f} h of video "
            f"({self.n_finished} already finished, {self.n_unreadable} cannot be opened, "
            f"{todo} to measure)",
        ]
        if self.calibration_video is None:
            lines.append("no video could be calibrated on: no estimate of machine time")
        else:
            lines.append(
                f"calibration on {self.calibration_video}: {self.worker_startup_s:.2f} s "
                f"start-up per worker, {self.startup_s:.3f} s per video, "
                f"{self.seconds_per_video_s:.3f} s per second of video on one core"
            )
            lines.append(
                f"estimated machine time {_hms(self.machine_s)} (one core); about "
                f"{_hms(self.wall_estimate_s)} on {self.workers} workers"
            )
        return "\n".join(lines)


@dataclass
class _Video:
    item: VideoItem
    fps_hz: float = 0.0
    duration_s: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    error: tuple[str, str] | None = None
    parts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    wall_s: float = 0.0


def _hms(s: float) -> str:
    s = max(0.0, s)
    return f"{int(s // 3600)}:{int(s % 3600 // 60):02d}:{s % 60:04.1f}"


def _plan(cfg: BatchConfig, items: list[VideoItem]) -> list[_Video]:
    from rppg_sdk.video import probe_video  # noqa: PLC0415

    o = cfg.options
    warm = 2.0 * o.window_s if cfg.warmup_s is None else cfg.warmup_s
    seg_s = None if o.method is Method.MODEL else cfg.segment_s
    out = []
    for it in items:
        v = _Video(it)
        try:
            info = probe_video(it.path, fallback_fps_hz=o.fps)
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            v.error = ("unreadable", str(exc))
        except ValueError as exc:
            v.error = ("corrupt", str(exc))
        else:
            v.fps_hz, v.duration_s = info.fps_hz, info.duration_s
            v.segments = plan_segments(
                info.frame_count,
                info.fps_hz,
                segment_s=seg_s,
                warmup_s=warm,
                update_interval_s=o.update_interval_s,
                align_frames=o.face.detect_every_n_frames,
            )
        out.append(v)
    return out


class _OutDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.readings = root / "readings"
        self.videos = root / "videos"
        self.manifest = root / "manifest.json"
        self.summary = root / "summary.parquet"

    def prepare(self, opt_hash: str) -> None:
        """Create the folders, refuse results of other options, remove leftover temp files."""
        if self.manifest.exists():
            try:
                prev = json.loads(self.manifest.read_text()).get("options_hash")
            except (OSError, json.JSONDecodeError):
                prev = None
            if prev is not None and prev != opt_hash:
                raise ValueError(
                    f"--out: {self.root} holds results of other options (hash {prev}, now "
                    f"{opt_hash}); resume with the same options or choose another folder"
                )
        for d in (self.root, self.readings, self.videos):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.root, self.readings, self.videos):
            for tmp in d.glob(f"*{TMP_SUFFIX}"):
                tmp.unlink(missing_ok=True)  # half-written by an interrupted run

    def record(self, key: str) -> dict[str, Any] | None:
        p = self.videos / f"{key}.json"
        if not p.exists():
            return None
        try:
            rec: dict[str, Any] = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        if (
            rec.get("status") in ("ok", "faceless")
            and not (self.readings / f"{key}.parquet").exists()
        ):
            return None
        return rec

    def all_records(self) -> Iterator[dict[str, Any]]:
        for p in sorted(self.videos.glob("*.json")):
            with contextlib.suppress(OSError, json.JSONDecodeError):
                yield json.loads(p.read_text())


def _finished(out: _OutDir, key: str, retry_failed: bool) -> bool:
    rec = out.record(key)
    if rec is None:
        return False
    return not (retry_failed and rec.get("status") in ("corrupt", "unreadable", "error"))


def _provenance(o: MonitorOptions) -> dict[str, Any]:
    import rppg_sdk  # noqa: PLC0415

    return {
        "sdk_version": rppg_sdk.__version__,
        "options_hash": options_hash(o),
        "model_sha256": model_sha256(o),
    }


def _finish_video(out: _OutDir, v: _Video, prov: dict[str, Any], conf_min: float) -> str:
    """Write one video's readings and summary; return its status."""
    rows: list[dict[str, Any]] = []
    if v.error is not None:
        status, reason = v.error
    elif v.failures:
        status, reason = v.failures[0]
    else:
        rows = stitch([v.parts[k] for k in sorted(v.parts)])
        if not rows:
            status, reason = "ok", "no reading (shorter than one update interval)"
        elif all(r["status"] == "no_face" for r in rows):
            status, reason = "faceless", "no face in any reading"
        else:
            status, reason = "ok", ""
        write_parquet(
            readings_table(rows, {**prov, "video_id": v.item.video_id}),
            out.readings / f"{v.item.key}.parquet",
        )
    rated = [r for r in rows if r["bpm"] is not None]
    good = [r for r in rated if r["confidence"] >= conf_min]
    methods = sorted({r["method"] for r in rows if r["method"]})
    rec = {
        "video_id": v.item.video_id,
        "path": str(v.item.path),
        "status": status,
        "reason": reason,
        "duration_s": v.duration_s,
        "fps_hz": v.fps_hz,
        "segments": len(v.segments),
        "n_readings": len(rows),
        "n_rated": len(rated),
        "n_confident": len(good),
        # The number `rppg-sdk measure` prints: the median of the confident readings.
        "median_bpm": statistics.median(r["bpm"] for r in good) if good else None,
        "last_bpm": rated[-1]["bpm"] if rated else None,
        "mean_confidence": statistics.fmean(r["confidence"] for r in rows) if rows else None,
        "wall_s": v.wall_s,
        "method": ",".join(methods) or None,
        "metadata": v.item.metadata,
        **prov,
    }
    write_json(rec, out.videos / f"{v.item.key}.json")
    return status


def _tasks(videos: list[_Video], o: MonitorOptions) -> Iterator[SegmentTask]:
    for v in videos:
        for seg in v.segments:
            yield SegmentTask(v.item.key, str(v.item.path), seg, v.fps_hz, o)


class _NoBar:
    """Stands in for a tqdm bar when there is none (no tqdm, or ``progress=False``)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, _n: int = 1) -> None:
        pass

    def set_postfix_str(self, _s: str) -> None:
        pass


def _bar(total: int, enabled: bool) -> Any:
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        enabled = False
    if not enabled:
        return _NoBar()
    # tqdm's rate is videos/s and its remaining time the ETA; the postfix adds video s/s.
    return tqdm(total=total, unit="video", desc="rppg-sdk batch", smoothing=0.1)


def _manifest(
    cfg: BatchConfig, prov: dict[str, Any], engine: str, workers: int, **extra: Any
) -> dict[str, Any]:
    return {
        "tool": "rppg-sdk batch",
        "input": str(cfg.source),
        "out_dir": str(cfg.out_dir),
        "engine": engine,
        "address": cfg.address,
        "workers": workers,
        "segment_s": cfg.segment_s,
        "warmup_s": cfg.warmup_s,
        "options": options_record(cfg.options),
        "python": platform.python_version(),
        "host": platform.node(),
        **prov,
        **extra,
    }


def run_batch(cfg: BatchConfig, *, engine: Engine | None = None) -> BatchReport:
    """Measure every video of ``cfg.source`` into ``cfg.out_dir`` (see the module docs).

    ``engine``: a ready engine to use (and leave open); default: ``cfg.engine`` made for the
    run and closed after it.
    """
    require_pyarrow()
    o = cfg.options
    prov = _provenance(o)
    out = _OutDir(Path(cfg.out_dir))
    out.prepare(prov["options_hash"])
    items = discover_inputs(cfg.source)
    todo_items = [it for it in items if not _finished(out, it.key, cfg.retry_failed)]
    n_skipped = len(items) - len(todo_items)
    videos = _plan(cfg, todo_items)
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    counts: dict[str, int] = {}
    video_s = 0.0
    t0 = time.perf_counter()
    own = engine is None
    eng = engine or make_engine(cfg.engine, workers=cfg.workers, address=cfg.address)
    try:
        write_json(
            _manifest(cfg, prov, eng.name, eng.workers, state="running", started=started,
                      n_videos=len(items), n_skipped=n_skipped),
            out.manifest,
        )  # fmt: skip
        by_key = {v.item.key: v for v in videos}
        remaining = {v.item.key: len(v.segments) for v in videos if v.error is None}
        with _bar(len(videos), cfg.progress) as bar:
            for v in videos:  # the ones that could not be opened: recorded at once
                if v.error is not None:
                    s = _finish_video(out, v, prov, o.low_quality_confidence)
                    counts[s] = counts.get(s, 0) + 1
                    bar.update(1)
            for res in eng.run(_tasks([v for v in videos if v.error is None], o)):
                v = by_key[res.key]
                _collect(v, res)
                remaining[res.key] -= 1
                if remaining[res.key] == 0:
                    s = _finish_video(out, v, prov, o.low_quality_confidence)
                    counts[s] = counts.get(s, 0) + 1
                    video_s += v.duration_s
                    v.parts.clear()
                    elapsed = time.perf_counter() - t0
                    bar.set_postfix_str(f"{video_s / max(elapsed, 1e-9):.1f} video-s/s")
                    bar.update(1)
    finally:
        if own:
            eng.close()
    wall = time.perf_counter() - t0
    write_parquet(summary_table(out.all_records()), out.summary)
    write_json(
        _manifest(cfg, prov, eng.name, eng.workers, state="finished", started=started,
                  finished=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  n_videos=len(items), n_skipped=n_skipped, counts=counts,
                  video_s=video_s, wall_s=wall),
        out.manifest,
    )  # fmt: skip
    return BatchReport(out.root, len(items), n_skipped, counts, video_s, wall)


def _collect(v: _Video, res: SegmentResult) -> None:
    v.wall_s += res.wall_s
    if res.error is not None:
        v.failures.append((res.error, res.message))
    else:
        v.parts[res.index] = res.rows


def dry_run(cfg: BatchConfig, *, calibration_s: float = 20.0) -> DryRunReport:
    """Count the videos and hours of ``cfg.source`` and estimate the machine time from measuring
    the first ``calibration_s`` seconds of its first readable video on this machine."""
    from rppg_sdk.monitor import HeartRateMonitor  # noqa: PLC0415

    o = cfg.options
    out = _OutDir(Path(cfg.out_dir))
    items = discover_inputs(cfg.source)
    finished = {it.key for it in items if out.videos.exists() and _finished(out, it.key, False)}
    videos = _plan(cfg, [it for it in items if it.key not in finished])
    total_s = sum(v.duration_s for v in videos)
    processed_s = 0.0
    for v in videos:
        for seg in v.segments:
            start = seg.first_frame / v.fps_hz if v.fps_hz > 0 else 0.0
            end = seg.keep_until_s if seg.keep_until_s is not None else v.duration_s
            processed_s += v.duration_s if seg.whole else max(0.0, end - start)
    cal = next((v for v in videos if v.error is None and v.duration_s > 0), None)
    worker_startup = startup = per_s = 0.0
    if cal is not None:
        frames = 0

        def count(_i: int) -> None:
            nonlocal frames
            frames += 1

        # A worker's first monitor loads the face detector (once per worker); later ones are
        # cheap: each is timed on its own.
        t0 = time.perf_counter()
        with HeartRateMonitor(replace(o)) as first:
            for _ in first.process_video(cal.item.path, max_frames=1):
                pass
        t1 = time.perf_counter()
        n = max(1, round(min(calibration_s, cal.duration_s) * cal.fps_hz))
        frames = 0
        with HeartRateMonitor(replace(o)) as monitor:
            t2 = time.perf_counter()
            for _ in monitor.process_video(cal.item.path, max_frames=n, on_frame=count):
                pass
        t3 = time.perf_counter()
        worker_startup, startup = t1 - t0, t2 - t1
        per_s = (t3 - t2) / max(frames / cal.fps_hz, 1e-9)
    workers = cfg.workers or os.cpu_count() or 1
    if cfg.engine == "ray" and cfg.address:
        workers = _cluster_cpus(cfg.address)
    return DryRunReport(
        n_videos=len(items),
        n_unreadable=sum(v.error is not None for v in videos),
        n_finished=len(finished),
        video_s=total_s,
        processed_s=processed_s,
        calibration_video=None if cal is None else cal.item.video_id,
        worker_startup_s=worker_startup,
        startup_s=startup,
        seconds_per_video_s=per_s,
        workers=workers,
    )


def _cluster_cpus(address: str) -> int:
    """CPUs of the Ray cluster at ``address`` (joined and left again; the cluster stays up)."""
    try:
        import ray as ray_module  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(f"--engine ray needs Ray ({exc}); pip install 'rppg-sdk[batch]'") from exc
    ray: Any = ray_module
    if ray.is_initialized():
        return max(1, int(ray.cluster_resources().get("CPU", 1)))
    ray.init(address=address, logging_level=logging.WARNING)
    try:
        return max(1, int(ray.cluster_resources().get("CPU", 1)))
    finally:
        ray.shutdown()
