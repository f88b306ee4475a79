"""Evaluate a trained model against POS on the same face clips, per video and per dataset: the
command line of :mod:`training.scoring`.

Examples
--------
The held-out synthetic fold of the model's own training configuration, plus a real video with a
known heart rate::

    python -m training.evaluate --checkpoint training/checkpoints/physnet.pt --synthetic-heldout \\
        --video ../shared/data/real/evm_face/face.mp4 --video-bpm 52.5 --out runs/eval_physnet

A real dataset (subject-wise fold ``--fold`` of ``--folds``, or all of it with ``--all``)::

    python -m training.evaluate --checkpoint ... --data ubfc-rppg --data-path /data/UBFC --all

Windows of ``--window-s`` seconds (10 s, the contrastive paper's W) are scored as
:mod:`training.scoring` describes. Results go to ``<out>/results.json``, ``<out>/windows.csv``
and ``<out>/evaluation_<set>.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from training.checkpoints import load_shipped_model
from training.data.build import heldout_videos, load_videos
from training.data.preprocess import FaceVideo
from training.scoring import (
    WindowResult,
    evaluate_videos,
    plot_windows,
    summarize,
    synthetic_skin_masks,
    video_from_file,
)

__all__ = ["get_args_parser", "main"]


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Evaluate an rPPG model against POS")
    p.add_argument("--checkpoint", required=True, help="best.pt / training/checkpoints/*.pt")
    p.add_argument(
        "--synthetic-heldout",
        action="store_true",
        help="the held-out fold of the synthetic set the model was trained with",
    )
    p.add_argument(
        "--synthetic",
        default=None,
        help="a fresh synthetic set, all of it: SyntheticSetConfig fields as YAML, e.g. "
        "'{seed: 1, n_videos: 12, motion_share: 1.0}' (use a seed the model was not trained on)",
    )
    p.add_argument("--data", default=None, help="ubfc-rppg | pure | cohface | mr-nirp-car")
    p.add_argument("--data-path", default=None)
    p.add_argument("--all", action="store_true", help="every video of --data, not one fold")
    p.add_argument("--folds", type=int, default=None, help="default: the checkpoint's")
    p.add_argument("--fold", type=int, default=None, help="default: the checkpoint's")
    p.add_argument("--video", action="append", default=[], help="a real video file")
    p.add_argument(
        "--video-bpm",
        type=float,
        action="append",
        default=[],
        help="its true heart rate (one per --video)",
    )
    p.add_argument("--window-s", type=float, default=10.0)
    p.add_argument(
        "--no-skin-masks",
        action="store_true",
        help="skip POS on the tracker's skin mask for synthetic sets (it re-renders them)",
    )
    p.add_argument("--cache-dir", default="cache")
    p.add_argument("--out", default="runs/eval")
    p.add_argument("--threads", type=int, default=0)
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = get_args_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, cfg = load_shipped_model(args.checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "checkpoint": str(args.checkpoint),
        "window_s": args.window_s,
        "sets": {},
    }
    all_rows: list[WindowResult] = []

    sets: list[tuple[str, list[FaceVideo], list[Any] | None]] = []
    if args.synthetic_heldout or args.data:
        if args.all and args.data:
            chosen = load_videos(
                args.data,
                data_path=args.data_path,
                cache_dir=args.cache_dir,
                fps_hz=float(cfg["fps"]),
                size=int(cfg["size"]),
            )
        else:
            chosen = heldout_videos(
                cfg,
                cache_dir=args.cache_dir,
                data=args.data,
                data_path=args.data_path,
                folds=args.folds,
                fold=args.fold,
            )
        masks = None
        if not args.data and not args.no_skin_masks:
            from training.data.synthetic import SyntheticSetConfig

            scfg = SyntheticSetConfig(
                **{"fps_hz": float(cfg["fps"]), **(cfg.get("synthetic") or {})}
            )
            masks = synthetic_skin_masks(scfg, chosen)
        sets.append((args.data or "synthetic-heldout", chosen, masks))
    if args.synthetic:
        import yaml

        from training.data.synthetic import SyntheticSetConfig, build_synthetic_videos

        fields = yaml.safe_load(args.synthetic) or {}
        if not isinstance(fields, dict):
            raise ValueError(f"--synthetic: expected a mapping, got {args.synthetic!r}")
        base = dict(cfg.get("synthetic") or {})
        trained_seed = base.get("seed", 0)
        scfg = SyntheticSetConfig(**{"fps_hz": float(cfg["fps"]), **base, **fields})
        if scfg.seed == trained_seed:
            print(f"warning: --synthetic uses the training seed {trained_seed}: not held out")
        fresh = build_synthetic_videos(scfg, cache_dir=args.cache_dir)
        masks = None if args.no_skin_masks else synthetic_skin_masks(scfg, fresh)
        sets.append((f"synthetic-seed{scfg.seed}", fresh, masks))
    if len(args.video_bpm) not in (0, len(args.video)):
        raise ValueError("--video-bpm: expected one value per --video")
    for i, path in enumerate(args.video):
        bpm = args.video_bpm[i] if args.video_bpm else math.nan
        v, m = video_from_file(path, bpm, max(64, int(cfg["size"])))
        sets.append((Path(path).name, [v], [m]))

    for name, videos, masks in sets:
        rows = evaluate_videos(model, cfg, videos, window_s=args.window_s, masks=masks)
        all_rows += rows
        methods = sorted({w.method for w in rows})
        per_video = {
            vid: {m: asdict(summarize([w for w in rows if w.video_id == vid], m)) for m in methods}
            for vid in sorted({w.video_id for w in rows})
        }
        results["sets"][name] = {
            "n_videos": len(videos),
            "dataset": {m: asdict(summarize(rows, m)) for m in methods},
            "per_video": per_video,
        }
        plot_windows(
            rows, out / f"evaluation_{_safe(name)}.png", f"{Path(args.checkpoint).name} on {name}"
        )
        for m in methods:
            s = summarize(rows, m)
            print(
                f"{name:>22} {m:>8}: windows={s.n_windows:3d} MAE={s.mae_bpm:6.2f} "
                f"RMSE={s.rmse_bpm:6.2f} r={s.pearson_r:5.2f} SNR={s.snr_db:6.2f} dB "
                f"MCC={s.mcc:5.2f}"
            )
    with (out / "windows.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(WindowResult.__dataclass_fields__))
        w.writeheader()
        w.writerows(asdict(r) for r in all_rows)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=_json_default))
    return results


def _safe(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in s)


def _json_default(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return str(o)


if __name__ == "__main__":
    main()
