"""After training: export the selected weights, check parity, score them through the SDK, and
write the model card. What ``python -m training.train ... --release-name NAME`` runs last.

Steps, each on the run's ``best.pt``:

1. :func:`deploy.export_onnx.export_model`: ONNX (opset 17), ``onnx.checker``, parity ONNX
   Runtime vs PyTorch (bounded), the sidecar (:mod:`rppg_sdk.backends.sidecar` schema);
2. :func:`training.evaluate.evaluate_model`: the exported file read by ``HeartRateMonitor`` on the
   evaluation suite's holdout part and the real recordings, beside POS and the shipped model;
3. ``<NAME>.md``: the model card: the command, seed, data, schedule, sha256 of the checkpoint and
   the ONNX file, parity, and the numbers of step 2 with the command that reproduces them.

Everything lands in ``--release-dir`` (default ``<output-dir>/release``). Shipping is a copy of
the three files into ``python/rppg_sdk/models/`` (and the card into ``training/model_cards/``),
done by hand after comparing the numbers with the shipped model's: a run never overwrites the
shipped files itself.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
from pathlib import Path
from typing import Any

__all__ = ["model_card", "release"]


def release(args: argparse.Namespace, *, command: str) -> dict[str, Any]:
    """Export, score and describe ``<output_dir>/best.pt``; returns what the card says."""
    from rppg_sdk.backends.sidecar import file_sha256  # noqa: PLC0415

    from training.evaluate import evaluate_model, export_checkpoint  # noqa: PLC0415
    from training.logger import read_csv  # noqa: PLC0415

    out_dir = Path(args.output_dir)
    best = out_dir / "best.pt"
    if not best.is_file():
        raise FileNotFoundError(f"release: no selected weights at {best} (did any epoch run?)")
    name = str(args.release_name)
    rel = Path(args.release_dir or out_dir / "release")
    rel.mkdir(parents=True, exist_ok=True)
    onnx_path = export_checkpoint(best, rel, name)
    sidecar = json.loads(onnx_path.with_suffix(".json").read_text())
    summary: dict[str, dict[str, float]] = {}
    splits = [s for s in str(args.evaluate or "").split(",") if s]
    real_sets = [s for s in str(args.evaluate_real or "").split(",") if s]
    # A one-channel (near-infrared) model reads only grey video: of the suite, the grey NIR
    # condition; the real recordings are colour (the monitor refuses them for such a model).
    one_channel = int(sidecar.get("input", {}).get("channels", 3)) == 1
    conditions = ("grey_nir",) if one_channel else None
    if one_channel and real_sets:
        print(f"release: {name} takes one channel; colour sets {real_sets} left out", flush=True)
        real_sets = []
    baselines = [m for m in str(args.evaluate_baselines or "").split(",") if m]
    eval_cmd = ""
    # The readings' label: the shipped model of the same name is usually a baseline beside it.
    label = f"{name}-new" if name in baselines else name
    if splits or real_sets:
        summary = evaluate_model(
            onnx_path,
            label=label,
            baselines=baselines,
            splits=splits or ("holdout",),
            conditions=conditions,
            suite=bool(splits),
            real_sets=real_sets or None,
            out_dir=rel / "evaluation",
            workers=max(1, int(args.workers) or 1),
        )
        eval_cmd = (
            f"python -m training.evaluate --onnx {onnx_path} --name {label} "
            f"--baselines '{','.join(baselines)}' --splits {','.join(splits) or 'holdout'}"
            + ("" if splits else " --no-suite")
            + (f" --conditions {','.join(conditions)}" if conditions else "")
            + f" --real-sets '{','.join(real_sets)}' --out {rel / 'evaluation'}"
        )
    rows = read_csv(out_dir / "metrics.csv") if (out_dir / "metrics.csv").is_file() else []
    facts = {
        "name": name,
        "command": command,
        "eval_command": eval_cmd,
        "config": json.loads((out_dir / "config.json").read_text()),
        "checkpoint_sha256": file_sha256(best),
        "onnx_sha256": file_sha256(onnx_path),
        "onnx_bytes": onnx_path.stat().st_size,
        "parity": sidecar.get("parity"),
        "best": sidecar.get("training", {}).get("epoch"),
        "epochs_run": len(rows),
        "train_wall_s": float(rows[-1].get("wall_s", 0.0)) if rows else 0.0,
        "summary": summary,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    (rel / f"{name}.md").write_text(model_card(facts))
    (rel / "release.json").write_text(json.dumps(facts, indent=2, default=str))
    print(f"release: {onnx_path}, its sidecar and {rel / (name + '.md')}", flush=True)
    return facts


def model_card(f: dict[str, Any]) -> str:
    """The markdown model card of a release (see :func:`release` for ``f``'s keys)."""
    from evaluation.report import condition_table  # noqa: PLC0415

    cfg = f["config"]
    data = cfg.get("data")
    data_opts = json.dumps(cfg.get("synthetic") or {}, sort_keys=True)
    lines = [
        f"# Model card: {f['name']}",
        "",
        "Generated by `training/release.py` at the end of the training command below; every "
        "number comes from the commands quoted here.",
        "",
        "| | |",
        "| --- | --- |",
        f"| architecture | `{cfg.get('model')}` {json.dumps(cfg.get('model_kwargs') or {})}, "
        f"{cfg.get('in_channels', 3)} input channel(s), {cfg.get('size')}×{cfg.get('size')} "
        f"crops, {cfg.get('clip_frames')} frames at {cfg.get('fps')} fps, normalisation "
        f"`{cfg.get('normalization')}` |",
        f"| command | `{f['command']}` |",
        f"| seed | {cfg.get('seed')} (deterministic kernels: {bool(cfg.get('deterministic'))}) |",
        f"| data | `{data}` {data_opts} |",
        f"| initial weights | {cfg.get('init_weights') or 'random initialisation'} |",
        f"| schedule | {cfg.get('epochs')} epochs × {cfg.get('samples_per_epoch')} clips, batch "
        f"{cfg.get('batch_size')}, loss `{cfg.get('loss')}` (+ no-pulse weight "
        f"{cfg.get('neg_weight', 1.0)}), lr {cfg.get('lr')}, augment "
        f"{json.dumps(cfg.get('augment') or {})} |",
        f"| ran | {f['epochs_run']} epochs in {f['train_wall_s'] / 60:.1f} min on "
        f"{f['machine']}; selected epoch {f['best']} (lowest validation loss) |",
        f"| checkpoint sha256 | `{f['checkpoint_sha256']}` |",
        f"| ONNX sha256 | `{f['onnx_sha256']}` ({f['onnx_bytes']:,} bytes) |",
        f"| parity | ONNX Runtime vs PyTorch max abs error "
        f"{(f.get('parity') or {}).get('max_abs_error', float('nan')):.3g} |",
        "",
        "## Accuracy through the SDK",
        "",
    ]
    if f["summary"]:
        lines += [
            '`HeartRateMonitor(method="model", model=<this file>)` (the shipped chunker and '
            "stitcher) beside the baselines. Suite conditions: MAE in bpm over every reading of "
            "the holdout part; no_pulse: the highest confidence and the share of readings at "
            "or above 0.3; real sets: MAE of each recording's median reading "
            "(`<set> readings`: over readings).",
            "",
            f"`{f['eval_command']}`",
            "",
            condition_table(f["summary"]),
            "",
        ]
    else:
        lines += ["Not evaluated (`--evaluate '' --evaluate-real ''`).", ""]
    return "\n".join(lines)
