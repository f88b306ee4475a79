"""``python -m evaluation.cabin``: heart rate on rendered 940 nm in-cabin video.

Driver-monitoring video as cars record it (:mod:`rppg_sdk.synthetic.cabin`): one-channel 8-,
10- or 12-bit frames, an illuminator that lights every other frame (either phase first), a weak
940 nm pulse, sway and head turns (mirror checks), and a heart rate that rises during the clip.
Every scene is drawn from its seed; the ``tune`` seeds (0-3) are what settings may be tried on,
the ``holdout`` seeds (100+) are only reported. Conditions:

- ``turns``: sway and two head turns of 15-35 degrees (1-2 s each).
- ``turns_hand``: the same, and a hand over the face for 1.5-2.5 s.

``--no-pulse`` adds a control: every scene again with ``pulse=False`` (the same face, turns, hand,
illuminator and sensor, no blood-volume change). Its rows show only confidences (the highest and
the share at or above 0.5); the pulse rows, and the ``all`` row, are the pulse scenes' alone.
``--readings PATH`` writes every reading as :class:`evaluation.metrics.ReadingRecord` s (set
``"cabin"``, no-pulse readings with NaN truth, the confidence's evidence), which
``python -m evaluation.calibrate`` fits the one-channel methods' confidence on.

Frames go through ``HeartRateMonitor.process(frame, timestamp_s)`` with default options (the
one-channel path runs ``"mono"``, the dark frames are dropped automatically). A reading's error
is its rate minus the true mean rate over the reading's window (``window_s`` before it);
readings from the first ``window_s`` of each clip (the warm-up) are left out. Rendered frames are
cached as ``.npz`` under ``cache/evaluation/cabin/`` (keyed by the scene).

Examples
--------
::

    python -m evaluation.cabin                  # holdout table and plot
    python -m evaluation.cabin --splits tune    # the seeds settings may be tried on
    python -m evaluation.cabin --splits tune,holdout --no-pulse \
        --readings runs/evaluation/cabin_mono.csv   # readings for evaluation.calibrate
    python -m evaluation.cabin --splits tune,holdout --no-pulse --method model \
        --model physnet_nir --readings runs/evaluation/cabin_physnet_nir.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.metrics import ReadingRecord, write_records

__all__ = [
    "CONDITIONS",
    "CabinResult",
    "cabin_scenes",
    "measure_scene",
    "records_of",
    "summary_table",
]

CONDITIONS: dict[str, str] = {
    "turns": "sway and two head turns of 15-35 degrees, rising heart rate",
    "turns_hand": "the same and a hand over the face for 1.5-2.5 s",
}
SPLIT_SEEDS: dict[str, tuple[int, ...]] = {
    "tune": (0, 1, 2, 3),
    "holdout": (100, 101, 102, 103, 104, 105),
}
DURATION_S = 30.0
#: Readings at or above this confidence are the ones a fusion layer would trust.
CONFIDENT = 0.5
WINDOW_S = 10.0
CACHE = Path("cache/evaluation/cabin")
RESULTS = Path("evaluation/results")


def cabin_scene(condition: str, seed: int) -> Any:
    """The scene of ``condition`` drawn from ``seed`` (everything not tested varies)."""
    from rppg_sdk.synthetic.cabin import CabinScene  # noqa: PLC0415
    from rppg_sdk.synthetic.faces import available_faces  # noqa: PLC0415

    if condition not in CONDITIONS:
        raise ValueError(f"condition: expected one of {tuple(CONDITIONS)}, got {condition!r}")
    rng = np.random.default_rng([seed, list(CONDITIONS).index(condition), 940])
    start = float(rng.uniform(58.0, 85.0))
    rise = float(rng.uniform(10.0, 30.0))
    t0 = float(rng.uniform(6.0, 12.0))
    dur = float(rng.uniform(8.0, 14.0))
    turns = []
    for lo, hi in ((4.0, 12.0), (16.0, 26.0)):
        yaw = float(rng.uniform(15.0, 35.0)) * float(rng.choice([-1.0, 1.0]))
        turns.append((float(rng.uniform(lo, hi)), float(rng.uniform(1.0, 2.0)), yaw))
    hand = None
    if condition == "turns_hand":
        a = float(rng.uniform(12.0, 15.0))
        hand = (a, a + float(rng.uniform(1.5, 2.5)))
    return CabinScene(
        duration_s=DURATION_S,
        heart_rate_knots=((0.0, start), (t0, start), (t0 + dur, start + rise)),
        bit_depth=int(rng.choice([8, 10, 12])),
        dark_first=bool(rng.integers(0, 2)),
        ambient_level=float(rng.uniform(0.05, 0.4)),
        head_turns=tuple(turns),
        sway_px=float(rng.uniform(1.0, 4.0)),
        hand_interval_s=hand,
        gain=float(rng.uniform(1.0, 3.0)),
        fitzpatrick=int(rng.integers(1, 7)),
        face=str(rng.choice(available_faces())),
        seed=int(seed),
    )


def cabin_scenes(splits: Sequence[str], no_pulse: bool = False) -> list[tuple[str, str, int, Any]]:
    """``(split, condition, seed, scene)`` for every scene of ``splits``; with ``no_pulse``, each
    scene is followed by its no-pulse control (the same scene with ``pulse=False``)."""
    out = []
    for split in splits:
        if split not in SPLIT_SEEDS:
            raise ValueError(f"splits: expected names from {tuple(SPLIT_SEEDS)}, got {split!r}")
        for condition in CONDITIONS:
            for seed in SPLIT_SEEDS[split]:
                scene = cabin_scene(condition, seed)
                out.append((split, condition, seed, scene))
                if no_pulse:
                    out.append((split, condition, seed, dataclasses.replace(scene, pulse=False)))
    return out


def _key(scene: Any) -> str:
    blob = json.dumps(dataclasses.asdict(scene), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _frames(scene: Any, cache: Path) -> tuple[np.ndarray, np.ndarray, Any]:
    from rppg_sdk.synthetic.cabin import cabin_truth, render_cabin  # noqa: PLC0415

    path = cache / f"{_key(scene)}.npz"
    if path.is_file():
        with np.load(path) as data:
            return data["frames"], data["timestamps_s"], cabin_truth(scene)
    clip = render_cabin(scene)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, frames=clip.frames, timestamps_s=clip.timestamps_s)
    tmp.replace(path)
    return clip.frames, clip.timestamps_s, clip.truth


@dataclass(frozen=True)
class CabinResult:
    """One scene through the monitor: per-reading times, rates, truths and confidences.

    ``pulse`` is False for a no-pulse control (``true_bpm`` NaN); ``records`` holds the same
    readings as :class:`~evaluation.metrics.ReadingRecord` s, with the confidence's evidence.
    """

    split: str
    condition: str
    seed: int
    times_s: np.ndarray
    bpm: np.ndarray
    true_bpm: np.ndarray
    confidence: np.ndarray
    dark_frames_dropped: int
    frames: int
    pulse: bool = True
    records: tuple[ReadingRecord, ...] = ()

    @property
    def errors(self) -> np.ndarray:
        return np.asarray(self.bpm - self.true_bpm, dtype=np.float64)


def measure_scene(
    split: str,
    condition: str,
    seed: int,
    scene: Any,
    cache: Path = CACHE,
    method: str = "pos",
    model: str | None = None,
) -> CabinResult:
    """Render (or load) one scene and run it through ``HeartRateMonitor.process``.

    ``method`` and ``model`` are :class:`~rppg_sdk.MonitorOptions`' (the default ``"pos"`` runs
    ``"mono"`` on these one-channel frames; ``method="model"`` with a one-channel ``model``).
    A scene with ``pulse=False`` is a no-pulse control: its truth is NaN.
    """
    from rppg_sdk import HeartRateMonitor, MonitorOptions  # noqa: PLC0415

    from evaluation.run import _record, method_label  # noqa: PLC0415

    pulse = bool(getattr(scene, "pulse", True))
    # The name readings go under, as `python -m evaluation` names them ("pos", the model's).
    label = method_label(model) if method == "model" and model else method
    clip = f"{condition}_{seed}" + ("" if pulse else "_no_pulse")
    frames, times, truth = _frames(scene, cache)
    rows = []
    records = []
    options = MonitorOptions(window_s=WINDOW_S, method=method, model=model)
    with HeartRateMonitor(options) as monitor:
        for frame, ts in zip(frames, times, strict=True):
            r = monitor.process(frame, float(ts))
            if r is None or r.bpm is None or ts < WINDOW_S:
                continue
            true = truth.mean_bpm(ts - WINDOW_S, ts + 1e-9) if pulse else math.nan
            rows.append((ts, r.bpm, true, r.confidence))
            cond = condition if pulse else f"{condition}_no_pulse"
            records.append(_record("cabin", cond, clip, split, label, r, true))
        dropped = monitor.dark_frames_dropped
    a = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return CabinResult(
        split,
        condition,
        seed,
        a[:, 0],
        a[:, 1],
        a[:, 2],
        a[:, 3],
        dropped,
        len(frames),
        pulse=pulse,
        records=tuple(records),
    )


def records_of(results: Sequence[CabinResult]) -> list[ReadingRecord]:
    """Every reading of ``results`` as :class:`~evaluation.metrics.ReadingRecord` s."""
    return [rec for r in results for rec in r.records]


def summary_table(results: Sequence[CabinResult]) -> str:
    """Markdown: a row per (split, condition) and per split over all, MAE over every reading.

    No-pulse controls get rows of their own (``<condition>, no pulse``: the highest confidence
    and the share at or above ``CONFIDENT``); they are left out of the ``all`` rows.
    """
    lines = [
        "| split | condition | scenes | readings | MAE (bpm) | RMSE | within 3 bpm | "
        f"worst scene MAE | conf >= {CONFIDENT}: share, MAE | dark frames dropped |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[CabinResult]] = {}
    flat: dict[tuple[str, str], list[CabinResult]] = {}
    for r in results:
        if not r.pulse:
            flat.setdefault((r.split, f"{r.condition}, no pulse"), []).append(r)
            continue
        groups.setdefault((r.split, r.condition), []).append(r)
        groups.setdefault((r.split, "all"), []).append(r)
    for (split, condition), rs in sorted(groups.items()):
        e = np.concatenate([r.errors for r in rs]) if rs else np.zeros(0)
        per = [float(np.mean(np.abs(r.errors))) if r.errors.size else math.nan for r in rs]
        dropped = sum(r.dark_frames_dropped for r in rs)
        frames = sum(r.frames for r in rs)
        conf = np.concatenate([r.confidence for r in rs]) if rs else np.zeros(0)
        sure = conf >= CONFIDENT
        sure_mae = f"{np.mean(np.abs(e[sure])):.2f}" if sure.any() else "—"
        lines.append(
            f"| {split} | {condition} | {len(rs)} | {e.size} | {np.mean(np.abs(e)):.2f} | "
            f"{np.sqrt(np.mean(e**2)):.2f} | {np.mean(np.abs(e) <= 3):.0%} | {max(per):.2f} | "
            f"{np.mean(sure):.0%}, {sure_mae} | {dropped}/{frames} |"
        )
    if flat:
        lines += [
            "",
            "| split | no-pulse control | scenes | readings | max confidence | "
            f"conf >= 0.3 | conf >= {CONFIDENT} |",
            "|---|---|---|---|---|---|---|",
        ]
    for (split, condition), rs in sorted(flat.items()):
        conf = np.concatenate([r.confidence for r in rs])
        top = f"{conf.max():.2f}" if conf.size else "—"
        share = (f"{np.mean(conf >= t):.0%}" if conf.size else "—" for t in (0.3, CONFIDENT))
        lines.append(
            f"| {split} | {condition} | {len(rs)} | {conf.size} | {top} | "
            + " | ".join(share)
            + " |"
        )
    return "\n".join(lines)


def plot(results: Sequence[CabinResult], path: Path) -> Path:
    """Estimate against truth over time, one panel per scene."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    n = len(results)
    cols = 4
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    for ax, r in zip(axes.ravel(), results, strict=False):
        ax.plot(r.times_s, r.true_bpm, "k-", label="truth (window mean)")
        ax.scatter(r.times_s, r.bpm, c=r.confidence, cmap="viridis", vmin=0, vmax=1, s=12)
        if r.pulse:
            mae = float(np.mean(np.abs(r.errors))) if r.errors.size else math.nan
            what = f"MAE {mae:.1f}"
        else:
            top = float(r.confidence.max()) if r.confidence.size else math.nan
            what = f"no pulse, max conf {top:.2f}"
        ax.set_title(f"{r.split} {r.condition} seed {r.seed}: {what}", fontsize=8)
        ax.set_xlabel("s")
        ax.set_ylabel("bpm")
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m evaluation.cabin", description=__doc__.split("\n")[0]
    )
    p.add_argument("--splits", default="holdout", help="comma-separated: tune,holdout")
    p.add_argument("--cache", type=Path, default=CACHE)
    p.add_argument("--method", default="pos", help="MonitorOptions.method (default pos -> mono)")
    p.add_argument("--model", default=None, help="MonitorOptions.model with --method model")
    p.add_argument(
        "--plot", type=Path, default=None, help="default evaluation/results/cabin_<splits>.png"
    )
    p.add_argument(
        "--no-pulse", action="store_true", help="also every scene without a pulse (a control)"
    )
    p.add_argument(
        "--readings", type=Path, default=None, help="write every reading as a ReadingRecord CSV"
    )
    args = p.parse_args(argv)
    from tqdm import tqdm  # noqa: PLC0415

    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    scenes = cabin_scenes(splits, no_pulse=args.no_pulse)
    results = [
        measure_scene(split, cond, seed, scene, args.cache, args.method, args.model)
        for split, cond, seed, scene in tqdm(scenes, desc="cabin scenes", unit="scene")
    ]
    print(summary_table(results))
    if args.readings is not None:
        write_records(args.readings, records_of(results))
        print(f"readings: {args.readings}")
    # The control's plot goes beside, not over, the pulse scenes' (README's) plot.
    stem = f"cabin_{'_'.join(splits)}" + ("_no_pulse" if args.no_pulse else "")
    out = args.plot or RESULTS / f"{stem}.png"
    print(f"plot: {plot(results, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
