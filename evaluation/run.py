"""Run methods through ``HeartRateMonitor.process_video`` and collect :class:`ReadingRecord` s."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from evaluation.metrics import ReadingRecord
from evaluation.real import RealVideo, oximetry_windows, real_videos, wfdb_windows
from evaluation.suite import SuiteClip, render_cached

__all__ = [
    "CLASSICAL",
    "MODELS",
    "measure_real",
    "measure_suite",
    "measure_traces",
    "method_label",
]

CLASSICAL = ("pos", "chrom", "green")
MODELS = ("physnet", "autohr")


def method_label(method: str) -> str:
    """The name a method's readings go under: ``"pos"``, a bundled model's name, or for a model
    file the label before ``=`` in ``"label=path/to/model.onnx"`` (else the file's stem)."""
    label, sep, path = method.partition("=")
    if sep:
        return label
    if method.endswith((".onnx", ".engine")):
        return Path(method).stem
    return method


def _options(method: str, skin_roi: str) -> object:
    from rppg_sdk import MonitorOptions  # noqa: PLC0415

    _, sep, path = method.partition("=")
    model_file = path if sep else (method if method.endswith((".onnx", ".engine")) else None)
    if model_file is not None:
        # A model file (a candidate before it ships): the same runtime, stitcher and analysis
        # as a bundled model; only the weights differ.
        return MonitorOptions(method="model", model=model_file, skin_roi=skin_roi, model_threads=1)
    return MonitorOptions(method=method, skin_roi=skin_roi, model_threads=1)


def _readings(path: Path, method: str, skin_roi: str) -> list[object]:
    # Imported in the worker process: each measures with its own monitor.
    from rppg_sdk import HeartRateMonitor  # noqa: PLC0415

    opts = _options(method, skin_roi)
    with HeartRateMonitor(opts) as monitor:
        return [r for r in monitor.process_video(path) if r.bpm is not None]


def _record(
    set_name: str, condition: str, clip: str, split: str, method: str, r: object, truth: float
) -> ReadingRecord:
    ev = getattr(r, "evidence", None)
    return ReadingRecord(
        set_name=set_name,
        condition=condition,
        clip=clip,
        split=split,
        method=method,
        timestamp_s=float(r.timestamp_s),  # type: ignore[attr-defined]
        bpm=float(r.bpm),  # type: ignore[attr-defined]
        truth_bpm=truth,
        confidence=float(r.confidence),  # type: ignore[attr-defined]
        status=str(r.status.value),  # type: ignore[attr-defined]
        snr_db=float(r.snr_db if r.snr_db is not None else math.nan),  # type: ignore[attr-defined]
        # The confidence's own evidence (the un-detrended IPR), not the estimator's detrended one:
        # the calibration is fitted on exactly what the monitor feeds the model.
        irrelevant_power_ratio=float(
            ev.irrelevant_power_ratio if ev else (r.irrelevant_power_ratio or math.nan)  # type: ignore[attr-defined]
        ),
        input_channels=int(getattr(r, "input_channels", 3)),
        method_used=str(r.method),  # type: ignore[attr-defined]
        box_moves=int(ev.box_moves) if ev else 0,
        window_fraction=float(ev.window_fraction) if ev else 1.0,
        edge_distance_bpm=float(ev.edge_distance_bpm) if ev else math.inf,
        reference_share=float(ev.reference_share) if ev else 0.0,
        harmonic_ratio=float(ev.harmonic_ratio) if ev else math.nan,
        motion_share=float(ev.motion_share) if ev else 0.0,
        classical_share=float(ev.classical_share) if ev else math.nan,
        classical_harmonic_ratio=float(ev.classical_harmonic_ratio) if ev else math.nan,
        signature_deg=float(ev.signature_deg) if ev else math.nan,
    )


def _suite_job(args: tuple[SuiteClip, str, Path]) -> list[ReadingRecord]:
    clip, method, cache_dir = args
    path, truth = render_cached(clip, cache_dir)
    t_s, bpm = np.asarray(truth.timestamps_s), np.asarray(truth.bpm)
    has_pulse = clip.spec_kwargs.get("pulse", True)
    out = []
    for r in _readings(path, method, "face"):
        end, span = float(r.window_end_s), float(r.window_s)  # type: ignore[attr-defined]
        sel = (t_s >= end - span) & (t_s <= end)
        true = float(np.mean(bpm[sel])) if has_pulse and sel.any() else math.nan
        out.append(
            _record("suite", clip.condition, clip.name, clip.split, method_label(method), r, true)
        )
    return out


def _render_job(args: tuple[SuiteClip, Path]) -> None:
    render_cached(*args)


def _real_job(args: tuple[RealVideo, str]) -> list[ReadingRecord]:
    video, method = args
    label = method_label(method)
    return [
        _record(video.set_name, video.set_name, video.name, "real", label, r, video.truth_bpm)
        for r in _readings(video.path, method, video.skin_roi)
    ]


def _pool_map(
    fn: Callable[..., list[ReadingRecord]], jobs: list, workers: int, desc: str
) -> list[ReadingRecord]:
    from tqdm import tqdm  # noqa: PLC0415

    out: list[ReadingRecord] = []
    if workers <= 1:
        for job in tqdm(jobs, desc=desc, unit="job"):
            out.extend(fn(job) or [])
        return out
    with ProcessPoolExecutor(workers) as pool:
        for recs in tqdm(pool.map(fn, jobs), total=len(jobs), desc=desc, unit="job"):
            out.extend(recs or [])
    return out


def measure_suite(
    clips: Iterable[SuiteClip], methods: Iterable[str], cache_dir: Path, workers: int = 2
) -> list[ReadingRecord]:
    """Render (once, cached) and measure every clip with every method (a name, or a model
    file as ``"label=path.onnx"``)."""
    clips = list(clips)
    _pool_map(_render_job, [(c, cache_dir) for c in clips], workers, "render suite")  # type: ignore[arg-type]
    jobs = [(c, m, cache_dir) for c in clips for m in methods]
    return _pool_map(_suite_job, jobs, workers, "measure suite")


def measure_real(
    methods: Iterable[str], workers: int = 2, sets: Iterable[str] | None = None
) -> list[ReadingRecord]:
    """Every real video present (of ``sets``, default all), with every method.

    A method is a name (``"pos"``, ``"physnet"``) or a model file, ``"label=path.onnx"``.
    """
    chosen = None if sets is None else set(sets)
    videos = [v for v in real_videos() if chosen is None or v.set_name in chosen]
    jobs = [(v, m) for v in videos for m in methods]
    return _pool_map(_real_job, jobs, workers, "measure real video")


def measure_traces() -> list[ReadingRecord]:
    """Contact and fingertip PPG traces through the DSP API's estimator (no monitor, no
    confidence: these sets check the spectral estimator on real pulses)."""
    from rppg_sdk import dsp  # noqa: PLC0415

    out = []
    for set_name, windows in (("oximetry", oximetry_windows()), ("wfdb", wfdb_windows())):
        for i, (rec, x, fs, truth) in enumerate(windows):
            est = dsp.estimate_heart_rate(x, fs)
            out.append(
                ReadingRecord(
                    set_name,
                    set_name,
                    rec,
                    "real",
                    "dsp",
                    float(i),
                    est.bpm,
                    truth,
                    math.nan,
                    "ok",
                    est.snr_db,
                    est.irrelevant_power_ratio,
                    1,
                    "dsp",
                    0,
                    1.0,
                    math.inf,
                    0.0,
                    math.nan,
                    0.0,
                )
            )
    return out
