"""Tables (markdown, one per set) and the reliability plot."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.metrics import CONFIDENT, WITHIN_BPM, ReadingRecord, summarize

__all__ = [
    "BLIND_GUESS_BPM",
    "NO_PULSE_CONFIDENCE",
    "condition_summary",
    "condition_table",
    "per_recording",
    "reliability_plot",
    "tables",
]

#: The confidence a no-pulse reading must stay below (the models' issue's target).
NO_PULSE_CONFIDENCE = 0.3

#: A resting adult's typical heart rate: the error of answering this without measuring anything
#: is the floor every real-data MAE must be read against.
BLIND_GUESS_BPM = 75.0


def _f(x: float, fmt: str = "{:.2f}") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def tables(records: Sequence[ReadingRecord]) -> str:
    """One markdown table per (set, split): a row per condition and method, plus 'all'."""
    groups: dict[tuple[str, str], dict[tuple[str, str], list[ReadingRecord]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in records:
        groups[(r.set_name, r.split)][(r.condition, r.method)].append(r)
        if r.has_pulse and r.set_name == "suite":
            groups[(r.set_name, r.split)][("all with pulse", r.method)].append(r)
    out = []
    for (set_name, split), rows in sorted(groups.items()):
        out.append(f"\n### {set_name} ({split})\n")
        out.append(
            "| condition | method | readings | MAE | RMSE | within 5 | mean conf | max conf "
            f"| conf ≥ {CONFIDENT} (share) | MAE | within 5 |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for (cond, method), recs in sorted(
            rows.items(), key=lambda kv: (kv[0][0] == "all with pulse", kv[0])
        ):
            s = summarize(recs)
            out.append(
                f"| {cond} | {method} | {s.n} | {_f(s.mae_bpm)} | {_f(s.rmse_bpm)} | "
                f"{_f(s.within5, '{:.0%}')} | {_f(s.mean_confidence)} | {_f(s.max_confidence)} | "
                f"{s.n_confident} ({_f(s.coverage, '{:.0%}')}) | {_f(s.confident_mae_bpm)} | "
                f"{_f(s.confident_within5, '{:.0%}')} |"
            )
    return "\n".join(out)


def per_recording(records: Sequence[ReadingRecord], set_name: str) -> str:
    """Per recording: the median reading (and of confident readings) against the truth."""
    by: dict[tuple[str, str], list[ReadingRecord]] = defaultdict(list)
    for r in records:
        if r.set_name == set_name:
            by[(r.method, r.clip)].append(r)
    errs: dict[str, list[float]] = defaultdict(list)
    for (method, _), recs in by.items():
        errs[method].append(abs(float(np.median([r.bpm for r in recs])) - recs[0].truth_bpm))
    lines = [f"\n{set_name}: per-recording median reading vs truth (MAE over recordings)"]
    for method, e in sorted(errs.items()):
        lines.append(f"  {method:8s} {np.mean(e):6.2f} bpm over {len(e)} recordings")
    # What no measurement at all scores: the population's resting mean for every recording.
    truths = {clip: recs[0].truth_bpm for (_, clip), recs in by.items()}
    blind = np.mean([abs(BLIND_GUESS_BPM - t) for t in truths.values()])
    lines.append(f"  blind guess ({BLIND_GUESS_BPM:g} bpm for every recording): {blind:6.2f} bpm")
    return "\n".join(lines)


def condition_summary(
    records: Sequence[ReadingRecord], split: str = "holdout"
) -> dict[str, dict[str, float]]:
    """Per method: MAE per condition of the suite's ``split``, over all pulse clips, and on the
    no-pulse clips the max confidence and the share of readings at or above
    :data:`NO_PULSE_CONFIDENCE`; on real video sets, the per-recording median's MAE (the
    ``<set>`` key) and the MAE over readings (``<set> readings``)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    by: dict[tuple[str, str], list[ReadingRecord]] = defaultdict(list)
    for r in records:
        if r.set_name == "suite" and r.split == split:
            by[(r.method, r.condition)].append(r)
            if r.has_pulse:
                by[(r.method, "all with pulse")].append(r)
    for (method, cond), recs in by.items():
        if cond == "no_pulse":
            conf = [r.confidence for r in recs]
            out[method]["no_pulse max conf"] = float(max(conf))
            out[method]["no_pulse share >= 0.3"] = float(
                np.mean([c >= NO_PULSE_CONFIDENCE for c in conf])
            )
        else:
            out[method][cond] = float(np.mean([r.error_bpm for r in recs]))
    real: dict[tuple[str, str, str], list[ReadingRecord]] = defaultdict(list)
    for r in records:
        if r.split == "real" and r.set_name != "suite" and r.method != "dsp":
            real[(r.method, r.set_name, r.clip)].append(r)
    per_set: dict[tuple[str, str], list[float]] = defaultdict(list)
    per_reading: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (method, set_name, _), recs in real.items():
        per_set[(method, set_name)].append(
            abs(float(np.median([r.bpm for r in recs])) - recs[0].truth_bpm)
        )
        per_reading[(method, set_name)] += [r.error_bpm for r in recs]
    for (method, set_name), errs in per_set.items():
        out[method][set_name] = float(np.mean(errs))
        out[method][f"{set_name} readings"] = float(np.mean(per_reading[(method, set_name)]))
    return {m: dict(v) for m, v in out.items()}


def condition_table(summary: dict[str, dict[str, float]]) -> str:
    """:func:`condition_summary` as one markdown table, a row per method."""
    cols: list[str] = []
    for v in summary.values():
        cols += [c for c in v if c not in cols]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for method, v in summary.items():
        cells = [_f(v.get(c, math.nan), "{:.0%}" if "share" in c else "{:.2f}") for c in cols]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def reliability_plot(records: Sequence[ReadingRecord], path: Path, title: str) -> None:
    """Share of readings within 5 bpm against their confidence, per method (pulse clips)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    edges = np.linspace(0.0, 1.0, 11)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="calibrated")
    by: dict[str, list[ReadingRecord]] = defaultdict(list)
    for r in records:
        if r.has_pulse and math.isfinite(r.confidence):
            by[r.method].append(r)
    for method, recs in sorted(by.items()):
        conf = np.array([r.confidence for r in recs])
        ok = np.array([r.error_bpm <= WITHIN_BPM for r in recs])
        xs, ys, ns = [], [], []
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            sel = (conf >= lo) & ((conf < hi) | (hi == 1.0))
            if sel.sum() >= 5:
                xs.append(float(conf[sel].mean()))
                ys.append(float(ok[sel].mean()))
                ns.append(int(sel.sum()))
        ax.plot(xs, ys, "o-", label=f"{method} (n={len(recs)})")
    ax.set_xlabel("confidence")
    ax.set_ylabel(f"share of readings within {WITHIN_BPM:g} bpm")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
