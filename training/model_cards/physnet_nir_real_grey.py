"""The physnet_nir card's real-data check: the real recordings converted to one grey channel.

There is no real 940 nm recording here; the nearest real test of a one-channel model is real
colour video turned grey (``cv2.COLOR_BGR2GRAY``, one ``(H, W)`` channel per frame), fed frame by
frame to ``HeartRateMonitor`` with each method (``face_video``: the face tracker;
``skin_patches``: ``skin_roi="frame"``, as ``python -m evaluation`` runs them). Prints, per set
and method, the readings, their MAE against the recording's truth, the MAE of each recording's
median reading, and the mean / max confidence.

    python training/model_cards/physnet_nir_real_grey.py --methods pos,physnet_nir
    python training/model_cards/physnet_nir_real_grey.py --sets skin_patches --max-videos 9

``--readings PATH`` also writes every reading as :class:`evaluation.metrics.ReadingRecord` s
(set ``<set>_grey``, split ``real``): ``python -m evaluation.calibrate`` reports the one-channel
methods' confidence on them (``reliability_real``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def grey_readings(path: str, method: str, skin_roi: str) -> list[tuple[float, float]]:
    """``(bpm, confidence)`` of every reading with a heart rate on the grey version of
    ``path``."""
    return [(float(r.bpm), float(r.confidence)) for r in _grey_readings(path, method, skin_roi)]


def _grey_readings(path: str, method: str, skin_roi: str) -> list[Any]:
    import cv2  # noqa: PLC0415
    from rppg_sdk import HeartRateMonitor, MonitorOptions  # noqa: PLC0415

    model = None
    if method.endswith(".onnx") or method == "physnet_nir":
        method, model = "model", method
    opts = MonitorOptions(method=method, model=model, skin_roi=skin_roi, model_threads=1)
    cap = cv2.VideoCapture(path)
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
    out = []
    with HeartRateMonitor(opts) as monitor:
        k = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            r = monitor.process(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), k / fps)
            k += 1
            if r is not None and r.bpm is not None:
                out.append(r)
    cap.release()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--methods", default="pos,physnet_nir", help="pos runs mono on grey video")
    p.add_argument("--sets", default="face_video,skin_patches")
    p.add_argument("--max-videos", type=int, default=0, help="per set (0: all)")
    p.add_argument("--readings", type=Path, default=None, help="write ReadingRecords (CSV)")
    args = p.parse_args(argv)
    from tqdm import tqdm  # noqa: PLC0415

    from evaluation.metrics import ReadingRecord, write_records  # noqa: PLC0415
    from evaluation.real import real_videos  # noqa: PLC0415
    from evaluation.run import _record, method_label  # noqa: PLC0415

    sets = [s for s in args.sets.split(",") if s]
    methods = [m for m in args.methods.split(",") if m]
    print(
        "| set | method | recordings | readings | MAE | per-recording median MAE | "
        "mean conf | max conf |"
    )
    print("|---|---|---|---|---|---|---|---|")
    records: list[ReadingRecord] = []
    for set_name in sets:
        videos = [v for v in real_videos() if v.set_name == set_name]
        if args.max_videos:
            videos = videos[: args.max_videos]
        for method in methods:
            errs, medians, confs = [], [], []
            for v in tqdm(videos, desc=f"{set_name} {method}", leave=False):
                readings = _grey_readings(str(v.path), method, v.skin_roi)
                label = method_label(method)
                records += [
                    _record(f"{set_name}_grey", set_name, v.name, "real", label, r, v.truth_bpm)
                    for r in readings
                ]
                rs = [(float(r.bpm), float(r.confidence)) for r in readings]
                if not rs:
                    continue
                bpm = np.array([b for b, _ in rs])
                errs += list(np.abs(bpm - v.truth_bpm))
                medians.append(abs(float(np.median(bpm)) - v.truth_bpm))
                confs += [c for _, c in rs]
            if not errs:
                print(f"| {set_name} | {method} | {len(videos)} | 0 | — | — | — | — |")
                continue
            print(
                f"| {set_name} | {method} | {len(videos)} | {len(errs)} | "
                f"{np.mean(errs):.2f} | {np.mean(medians):.2f} | {np.mean(confs):.2f} | "
                f"{np.max(confs):.2f} |"
            )
    if args.readings is not None:
        write_records(args.readings, records)
        print(f"readings: {args.readings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
