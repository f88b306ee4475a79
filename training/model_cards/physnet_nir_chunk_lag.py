"""The physnet_nir card's chunk-lag check: the cabin holdout with the model's chunks closer.

A model's pulse ends where its newest inferred chunk ends: with the runtime's default chunks
(128 frames, 32 overlapping: a new chunk every 96 frames, 3.2 s at 30 Hz) a reading's window
ends up to 3.2 s before the reading, which under a rising heart rate reads low. This runs
:func:`evaluation.cabin.cabin_scenes` frame by frame through ``HeartRateMonitor`` exactly as
``python -m evaluation.cabin`` does (same window, same truth, readings from 10 s on), with
``model_overlap_frames`` set (more overlap: chunks more often, and more inference: the cost
grows as ``128 / (128 - overlap)``), and prints the MAE per condition.

    python training/model_cards/physnet_nir_chunk_lag.py --overlap 96
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="physnet_nir")
    p.add_argument("--overlap", type=int, default=96, help="model_overlap_frames (default 32)")
    p.add_argument("--splits", default="holdout")
    args = p.parse_args(argv)
    from rppg_sdk import HeartRateMonitor, MonitorOptions  # noqa: PLC0415
    from rppg_sdk.synthetic.cabin import render_cabin  # noqa: PLC0415
    from tqdm import tqdm  # noqa: PLC0415

    from evaluation.cabin import WINDOW_S, cabin_scenes  # noqa: PLC0415

    errors: dict[str, list[float]] = {}
    for _split, cond, _seed, scene in tqdm(cabin_scenes(args.splits.split(",")), leave=False):
        clip = render_cabin(scene)
        frames, times, truth = clip.frames, clip.timestamps_s, clip.truth
        opts = MonitorOptions(
            window_s=WINDOW_S,
            method="model",
            model=args.model,
            model_overlap_frames=args.overlap,
        )
        with HeartRateMonitor(opts) as monitor:
            for frame, ts in zip(frames, times, strict=True):
                r = monitor.process(frame, float(ts))
                if r is None or r.bpm is None or ts < WINDOW_S:
                    continue
                err = abs(r.bpm - truth.mean_bpm(ts - WINDOW_S, ts + 1e-9))
                errors.setdefault(cond, []).append(err)
                errors.setdefault("all", []).append(err)
    print("| model | overlap | condition | readings | MAE (bpm) |\n|---|---|---|---|---|")
    for cond, errs in sorted(errors.items()):
        print(f"| {args.model} | {args.overlap} | {cond} | {len(errs)} | {np.mean(errs):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
