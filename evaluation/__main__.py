"""``python -m evaluation``: every method through the public API, on the suite and real data.

Examples
--------
The whole evaluation (the README's accuracy tables)::

    python -m evaluation --out runs/evaluation

The tuning part only, classical methods, to try an idea quickly::

    python -m evaluation --splits tune --methods pos,chrom --no-real
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from evaluation.metrics import read_records, write_records
from evaluation.report import per_recording, reliability_plot, tables
from evaluation.run import CLASSICAL, MODELS, measure_real, measure_suite, measure_traces
from evaluation.suite import CONDITIONS, SPLITS, suite_clips


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.split("\n")[0])
    p.add_argument("--methods", default=",".join(CLASSICAL + MODELS), help="comma-separated")
    p.add_argument("--splits", default=",".join(SPLITS), help="suite parts: tune,holdout")
    p.add_argument("--conditions", default=",".join(CONDITIONS), help="suite conditions")
    p.add_argument("--no-suite", action="store_true", help="skip the semi-synthetic suite")
    p.add_argument("--no-real", action="store_true", help="skip the real recordings")
    p.add_argument("--out", type=Path, default=Path("runs/evaluation"), help="results folder")
    p.add_argument("--cache", type=Path, default=Path("cache/evaluation"), help="rendered clips")
    p.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    p.add_argument("--report-only", action="store_true", help="re-print <out>/readings.csv")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    csv_path = args.out / "readings.csv"
    if args.report_only:
        records = read_records(csv_path)
    else:
        methods = [m for m in args.methods.split(",") if m]
        records = []
        if not args.no_suite:
            clips = suite_clips(tuple(args.splits.split(",")), tuple(args.conditions.split(",")))
            records += measure_suite(clips, methods, args.cache, args.workers)
        if not args.no_real:
            records += measure_real(methods, args.workers)
            records += measure_traces()
        write_records(csv_path, records)
    print(tables(records))
    for set_name in ("skin_patches", "face_video"):
        if any(r.set_name == set_name for r in records):
            print(per_recording(records, set_name))
    for split in ("tune", "holdout", "real"):
        recs = [r for r in records if r.split == split and r.method != "dsp"]
        if recs:
            reliability_plot(recs, args.out / f"reliability_{split}.png", f"reliability: {split}")
    print(f"\nreadings: {csv_path}; reliability plots: {args.out}/reliability_*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
