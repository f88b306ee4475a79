"""The physnet_nir card's no-pulse check: the cabin evaluation's scenes rendered without a pulse.

The suite's no-pulse clips are colour, which a one-channel model does not read; the cabin
renderer draws the same scenes (``python -m evaluation.cabin``'s, same seeds) with
``pulse=False``: the same face, turns, hand, illuminator and sensor, no blood-volume change.
Each goes through ``HeartRateMonitor`` (via :func:`evaluation.cabin.measure_scene`) with each
method; prints the readings' confidence: the highest, and the shares at or above 0.3 and 0.5.

    python training/model_cards/physnet_nir_no_pulse.py --methods pos,physnet_nir
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--methods", default="pos,physnet_nir", help="pos runs mono on grey video")
    p.add_argument("--splits", default="holdout")
    p.add_argument("--cache", type=Path, default=Path("cache/evaluation/cabin"))
    args = p.parse_args(argv)
    from tqdm import tqdm  # noqa: PLC0415

    from evaluation.cabin import cabin_scenes, measure_scene  # noqa: PLC0415

    scenes = cabin_scenes([s for s in args.splits.split(",") if s])
    print("| method | scenes | readings | max conf | share >= 0.3 | share >= 0.5 |")
    print("|---|---|---|---|---|---|")
    for method in [m for m in args.methods.split(",") if m]:
        kind, model = ("pos", None) if method == "pos" else ("model", method)
        conf: list[float] = []
        for split, cond, seed, scene in tqdm(scenes, desc=method, leave=False):
            flat = dataclasses.replace(scene, pulse=False)
            r = measure_scene(split, cond, seed, flat, args.cache, kind, model)
            conf += [float(c) for c in r.confidence]
        c = np.asarray(conf)
        print(
            f"| {method} | {len(scenes)} | {c.size} | {c.max():.2f} | {np.mean(c >= 0.3):.0%} | "
            f"{np.mean(c >= 0.5):.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
