"""Fit each method's confidence on the suite's ``tune`` part; report it on ``holdout`` and real.

``python -m evaluation.calibrate --readings runs/evaluation/readings.csv`` fits the logistic
coefficients of :class:`rppg_sdk.confidence.ConfidenceModel` per method on the tune readings
(label: within 5 bpm of the truth; every reading of a no-pulse clip is wrong), then writes
``python/rppg_sdk/confidence.json`` with the coefficients and the reliability measured on each
part. The readings must come from a run whose confidence evidence is what the SDK computes now
(``python -m evaluation`` writes it); the fit does not use the readings' own confidences.

Several readings files may be given (``--readings a.csv b.csv``): the suite's and the cabin
evaluation's (``python -m evaluation.cabin --no-pulse --readings ...``), whose one-channel
940 nm readings, with their no-pulse controls, are what ``"mono"`` (POS on one-channel video)
and one-channel models such as ``"physnet_nir"`` are fitted on. A reading present twice (the
suite runs ``"mono"`` once under each classical method's name on its grey clips) counts once.

Examples
--------
::

    python -m evaluation.calibrate --readings runs/evaluation/readings.csv \
        runs/evaluation/cabin_mono.csv runs/evaluation/cabin_physnet_nir.csv \
        --methods mono,physnet_nir
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rppg_sdk.confidence import CALIBRATION_FILE, ConfidenceInputs, ConfidenceModel

from evaluation.metrics import CONFIDENT, WITHIN_BPM, ReadingRecord, read_records

__all__ = [
    "fit_method",
    "fitted_name",
    "main",
    "reliability_summary",
    "reliability_table",
    "unique_readings",
]

#: L2 penalty on the coefficients (not the intercept): a few hundred readings per method.
RIDGE = 0.01
#: Weight of a no-pulse reading in the fit: a confident reading where there is no pulse at all (a
#: heart rate shown for a mannequin, a seat, a photo) costs more than a missed true one.
NO_PULSE_WEIGHT = 10.0
#: A one-channel method (``"mono"``) with fewer tune readings of its own than this is fitted on
#: every classical method's readings instead (the evidence means much the same for all of them).
MIN_OWN_READINGS = 100
#: Confidence thresholds the summary reports: the cabin table's 0.5 and the apps' 0.6.
SUMMARY_THRESHOLDS = (0.5, CONFIDENT)
BANDS = ((0.0, 0.3), (0.3, 0.6), (0.6, 0.8), (0.8, 1.01))
#: The direction each feature of ``ConfidenceInputs.features()`` may push the confidence, by
#: the physics: more SNR and more of a classical pulse at the rate raise it; out-of-band power,
#: the surround or the head moving at the rate, box re-alignments and a harmonic ratio unlike a
#: pulse's lower it. A fit on a hundred readings can otherwise learn a sign from a coincidence
#: of its few clips (a nod at the rate raising the confidence), which no other video shares.
SIGNS: tuple[tuple[float | None, float | None], ...] = (
    (0.0, None),  # SNR
    (None, 0.0),  # irrelevant power ratio
    (None, 0.0),  # reference share
    (None, 0.0),  # box moves
    (None, 0.0),  # harmonic ratio's distance from a pulse's
    (None, 0.0),  # motion share
    (0.0, None),  # classical share
    (None, 0.0),  # classical harmonic ratio's distance
    (None, 0.0),  # pulse signature's angle from a blood-volume pulse's
)


def _inputs(r: ReadingRecord) -> ConfidenceInputs:
    return ConfidenceInputs(
        snr_db=r.snr_db,
        irrelevant_power_ratio=r.irrelevant_power_ratio,
        box_moves=int(r.box_moves),
        window_fraction=r.window_fraction,
        edge_distance_bpm=r.edge_distance_bpm,
        reference_share=r.reference_share,
        harmonic_ratio=r.harmonic_ratio,
        motion_share=r.motion_share,
        classical_share=r.classical_share,
        classical_harmonic_ratio=r.classical_harmonic_ratio,
        signature_deg=r.signature_deg,
    )


def _label(r: ReadingRecord) -> float:
    return 1.0 if r.has_pulse and r.error_bpm <= WITHIN_BPM else 0.0


def fit_method(records: Sequence[ReadingRecord]) -> ConfidenceModel:
    """Maximum-likelihood logistic fit (with a small ridge) of one method's readings."""
    from scipy.optimize import minimize  # noqa: PLC0415

    usable = [r for r in records if math.isfinite(r.snr_db)]
    if len(usable) < 20:
        raise ValueError(f"records: expected at least 20 readings to fit, got {len(usable)}")
    x = np.array([(1.0, *_inputs(r).features()) for r in usable])
    y = np.array([_label(r) for r in usable])
    weight = np.array([1.0 if r.has_pulse else NO_PULSE_WEIGHT for r in usable])
    weight /= weight.mean()
    # Scale the features so one ridge suits all of them.
    scale = np.maximum(x.std(axis=0), 1e-6)
    scale[0] = 1.0
    xs = x / scale

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xs @ w
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        nll = float(np.sum(weight * (np.logaddexp(0.0, z) - y * z))) / len(y)
        grad = xs.T @ (weight * (p - y)) / len(y)
        nll += RIDGE * float(np.sum(w[1:] ** 2))
        grad[1:] += 2.0 * RIDGE * w[1:]
        return nll, grad

    res = minimize(
        loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", bounds=[(None, None), *SIGNS]
    )
    w = res.x / scale
    return ConfidenceModel(
        intercept=round(float(w[0]), 4),
        snr_coef=round(float(w[1]), 4),
        ipr_coef=round(float(w[2]), 4),
        reference_coef=round(float(w[3]), 4),
        move_coef=round(float(w[4]), 4),
        harmonic_coef=round(float(w[5]), 4),
        motion_coef=round(float(w[6]), 4),
        classical_coef=round(float(w[7]), 4),
        classical_harmonic_coef=round(float(w[8]), 4),
        signature_coef=round(float(w[9]), 4),
    )


def reliability_table(
    records: Sequence[ReadingRecord], model: ConfidenceModel
) -> list[dict[str, Any]]:
    """Per confidence band: readings, share within 5 bpm (pulse clips), no-pulse readings."""
    conf = np.array([model(_inputs(r)) for r in records])
    rows = []
    for lo, hi in BANDS:
        sel = [(r, c) for r, c in zip(records, conf, strict=True) if lo <= c < hi]
        pulse = [r for r, _ in sel if r.has_pulse]
        rows.append(
            {
                "band": f"{lo:.1f}-{min(hi, 1.0):.1f}",
                "readings": len(sel),
                "within5": None
                if not pulse
                else round(float(np.mean([r.error_bpm <= WITHIN_BPM for r in pulse])), 3),
                "no_pulse_readings": sum(1 for r, _ in sel if not r.has_pulse),
            }
        )
    return rows


def reliability_summary(records: Sequence[ReadingRecord], model: ConfidenceModel) -> dict[str, Any]:
    """What a user of the confidence sees: the highest confidence on no-pulse readings, the MAE
    of the pulse readings (the confidence does not change a rate) and, per threshold of
    :data:`SUMMARY_THRESHOLDS`, the share of pulse readings at or above it and the share of
    those within 5 bpm."""
    conf = np.array([model(_inputs(r)) for r in records])
    pulse = np.array([r.has_pulse for r in records], dtype=bool)
    err = np.array([r.error_bpm if r.has_pulse else math.nan for r in records])
    out: dict[str, Any] = {
        "pulse_readings": int(pulse.sum()),
        "no_pulse_readings": int((~pulse).sum()),
        "no_pulse_max_confidence": round(float(conf[~pulse].max()), 3) if (~pulse).any() else None,
        "mae_bpm": round(float(np.mean(err[pulse])), 3) if pulse.any() else None,
    }
    for t in SUMMARY_THRESHOLDS:
        sure = pulse & (conf >= t)
        out[f"share_at_{t}"] = round(float(sure.sum() / pulse.sum()), 3) if pulse.any() else None
        out[f"within5_at_{t}"] = (
            round(float(np.mean(err[sure] <= WITHIN_BPM)), 3) if sure.any() else None
        )
    return out


def unique_readings(records: Sequence[ReadingRecord]) -> list[ReadingRecord]:
    """``records`` with each reading once: the suite measures its grey clips with ``"mono"``
    under every classical method's name (the same computation, the same numbers), which would
    otherwise count three times in a one-channel fit."""
    seen: set[tuple[str, str, str, str, str, float]] = set()
    out = []
    for r in records:
        key = (r.set_name, r.split, r.condition, r.clip, fitted_name(r), r.timestamp_s)
        if r.method_used == "mono" and key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


def fitted_name(r: ReadingRecord) -> str:
    """The method a reading's fit goes under: the one that ran (``"mono"`` for POS on grey
    video, a bundled model's name), or a model file's label."""
    return r.method if r.method_used == "model" else r.method_used


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.calibrate", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--readings",
        type=Path,
        nargs="+",
        default=[Path("runs/evaluation/readings.csv")],
        help="one or more readings CSVs (python -m evaluation's, python -m evaluation.cabin's)",
    )
    p.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    p.add_argument(
        "--methods",
        default=None,
        help="comma-separated: refit only these (e.g. a newly trained model), keep the others "
        "of --out as they are",
    )
    args = p.parse_args(argv)
    only = None if args.methods is None else {m for m in args.methods.split(",") if m}
    records = unique_readings(
        [r for path in args.readings for r in read_records(path) if r.method != "dsp"]
    )
    by: dict[tuple[str, str], list[ReadingRecord]] = defaultdict(list)
    for r in records:
        by[(fitted_name(r), r.split)].append(r)
    methods = sorted({m for m, split in by if split == "tune" and (only is None or m in only)})
    missing = sorted((only or set()) - set(methods))
    if missing:
        p.error(
            f"--methods: expected tune readings of {missing} in {[str(f) for f in args.readings]}"
            f", found tune readings of {sorted({m for m, split in by if split == 'tune'})}"
        )
    classical = [r for m in ("pos", "chrom", "green", "mono") for r in by.get((m, "tune"), [])]
    readings_files = [str(path) for path in args.readings]
    out: dict[str, Any] = {
        "what": "logistic confidence per method: P(|error| <= 5 bpm); fitted on the evaluation "
        "suite's tune part (one-channel methods: with the cabin scenes' tune part), reported on "
        "holdout and real video (python -m evaluation.calibrate)",
        "confident_threshold": CONFIDENT,
        "methods": {},
    }
    if only is not None and args.out.is_file():
        out["methods"] = {
            k: v for k, v in json.loads(args.out.read_text())["methods"].items() if k not in only
        }
    for method in methods:
        # "mono" runs on one-channel (940 nm, grey) video only; it is fitted on those readings
        # (the cabin scenes with their no-pulse controls, the suite's grey clips) when there
        # are enough, else on every classical method's colour readings.
        own = by[(method, "tune")]
        fit_on = own if len(own) >= MIN_OWN_READINGS or method not in ("mono",) else classical
        if fit_on is classical:
            print(
                f"{method}: {len(own)} readings of its own < {MIN_OWN_READINGS}: fitted on "
                f"every classical method's ({len(classical)})"
            )
        model = fit_method(fit_on)
        sets = sorted({r.set_name for r in fit_on})
        entry: dict[str, Any] = {
            "coefficients": model.as_dict(),
            "fitted_on_readings": len(fit_on),
            "fitted_on": {
                "sets": {name: sum(r.set_name == name for r in fit_on) for name in sets},
                "no_pulse_readings": sum(not r.has_pulse for r in fit_on),
                "readings_files": readings_files,
            },
        }
        for split in ("tune", "holdout", "real"):
            if by.get((method, split)):
                entry[f"reliability_{split}"] = reliability_table(by[(method, split)], model)
                entry[f"summary_{split}"] = reliability_summary(by[(method, split)], model)
                print(method, split, entry[f"summary_{split}"])
                names = sorted({r.set_name for r in by[(method, split)]})
                if len(names) > 1:
                    # Where the readings mix sets (the suite's grey clips, the cabin scenes),
                    # each one's own numbers too: the pooled ones hide the smaller set.
                    entry[f"summary_{split}_by_set"] = {
                        name: reliability_summary(
                            [r for r in by[(method, split)] if r.set_name == name], model
                        )
                        for name in names
                    }
        out["methods"][method] = entry
        print(method, model.as_dict())
    out["methods"] = dict(sorted(out["methods"].items()))
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
