"""Score a trained model the one way users run it: exported to ONNX, read by ``HeartRateMonitor``.

A checkpoint is exported with the deploy code (:func:`deploy.export_onnx.export_model`: ONNX,
parity with PyTorch, sidecar), then :mod:`evaluation` runs it with
``HeartRateMonitor(method="model", model=<file>)`` (the shipped chunker, stitcher, spectral
estimator and confidence) on the realistic suite and the real recordings, next to the baselines
(POS and the shipped models by default). There is no second, training-only way of turning a
model's output into a heart rate.

Examples
--------
The suite's holdout part and the real recordings, a checkpoint against POS and the shipped
PhysNet::

    python -m training.evaluate --checkpoint runs/physnet_realistic/best.pt --name candidate \\
        --out runs/eval_candidate

An exported file as it is, the skin patches only::

    python -m training.evaluate --onnx python/rppg_sdk/models/physnet.onnx --no-suite \\
        --real-sets skin_patches --baselines pos

Results: ``<out>/readings.csv`` (every reading, :mod:`evaluation.metrics`), ``<out>/summary.json``
(per method: MAE per condition, no-pulse confidence, real-data MAE) and the tables printed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["evaluate_model", "export_checkpoint", "get_args_parser", "main"]


def export_checkpoint(checkpoint: str | Path, out_dir: str | Path, name: str) -> Path:
    """Export ``checkpoint`` to ``<out_dir>/<name>.onnx`` (+ sidecar, parity checked)."""
    from deploy.export_onnx import export_model, load_model  # noqa: PLC0415

    model, spec = load_model(checkpoint, name=name)
    path, _ = export_model(model, spec, Path(out_dir) / f"{name}.onnx")
    return path


def evaluate_model(
    onnx_path: str | Path | None,
    *,
    label: str = "candidate",
    baselines: Sequence[str] = ("pos", "physnet"),
    splits: Sequence[str] = ("holdout",),
    conditions: Sequence[str] | None = None,
    suite: bool = True,
    real_sets: Sequence[str] | None = ("skin_patches", "face_video"),
    cache_dir: str | Path = "cache/evaluation",
    out_dir: str | Path = "runs/eval_model",
    workers: int = 2,
) -> dict[str, dict[str, float]]:
    """Measure the model file (and ``baselines``) through ``HeartRateMonitor``.

    Returns :func:`evaluation.report.condition_summary` of the readings (per method label: MAE
    per condition of the first split, no-pulse confidence, real-data MAE); writes
    ``readings.csv`` and ``summary.json`` into ``out_dir``.
    """
    from evaluation.metrics import write_records  # noqa: PLC0415
    from evaluation.report import condition_summary  # noqa: PLC0415
    from evaluation.run import measure_real, measure_suite  # noqa: PLC0415
    from evaluation.suite import CONDITIONS, suite_clips  # noqa: PLC0415

    methods = list(baselines)
    if onnx_path is not None:
        methods.append(f"{label}={Path(onnx_path)}")
    out = Path(out_dir)
    records = []
    if suite:
        clips = suite_clips(tuple(splits), tuple(conditions or CONDITIONS))
        records += measure_suite(clips, methods, Path(cache_dir), workers)
    if real_sets:
        records += measure_real(methods, workers, sets=real_sets)
    write_records(out / "readings.csv", records)
    summary = condition_summary(records, split=splits[0] if splits else "holdout")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
    return summary


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.evaluate",
        description="Score a model through HeartRateMonitor (suite + real recordings)",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--checkpoint", default=None, help="best.pt / training/checkpoints/*.pt")
    src.add_argument("--onnx", default=None, help="an exported model (with its sidecar)")
    p.add_argument("--name", default="candidate", help="label of the model's readings")
    p.add_argument(
        "--baselines", default="pos,physnet", help="comma-separated methods measured beside it"
    )
    p.add_argument("--splits", default="holdout", help="suite parts: tune,holdout")
    p.add_argument("--conditions", default=None, help="suite conditions (default all)")
    p.add_argument("--no-suite", action="store_true", help="skip the semi-synthetic suite")
    p.add_argument("--real-sets", default="skin_patches,face_video", help="'' for none")
    p.add_argument("--cache", default="cache/evaluation", help="rendered suite clips")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default="runs/eval_model")
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    args = get_args_parser().parse_args(argv)
    from evaluation.report import condition_table  # noqa: PLC0415

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path: Path | None = Path(args.onnx) if args.onnx else None
    if args.checkpoint:
        onnx_path = export_checkpoint(args.checkpoint, out, args.name)
    summary = evaluate_model(
        onnx_path,
        label=args.name,
        baselines=[m for m in args.baselines.split(",") if m],
        splits=[s for s in args.splits.split(",") if s],
        conditions=args.conditions.split(",") if args.conditions else None,
        suite=not args.no_suite,
        real_sets=[s for s in args.real_sets.split(",") if s] or None,
        cache_dir=args.cache,
        out_dir=out,
        workers=args.workers,
    )
    print(condition_table(summary))
    print(f"\nreadings: {out / 'readings.csv'}; summary: {out / 'summary.json'}")
    return summary


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return str(o)


if __name__ == "__main__":
    main(sys.argv[1:])
