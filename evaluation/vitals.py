"""Pulse-rate variability and breathing rate against independent truth (issue 12).

``python -m evaluation.vitals`` prints a table per source and writes
``evaluation/results/vitals.png`` (and ``vitals.json``):

* ``wfdb/mixedsignals`` (contact PPG at 125 Hz, ECG at 250 Hz and a respiration channel,
  230 s): per 60 s window (30 s stride), PRV from the PPG through
  :func:`rppg_sdk.dsp.pulse_rate_variability` against RMSSD / SDNN of the ECG's R-R intervals,
  and :func:`rppg_sdk.dsp.breathing_rate` against the respiration channel's spectral peak.
* ``vitallens`` (12 s at 30 Hz): a sanity check only; 12 s is below the monitor's 20 s / 30 s
  minimums and holds under two breaths.
* rendered face video (:mod:`rppg_sdk.synthetic`) whose pulse carries a known beat sequence and
  breathing, through :class:`rppg_sdk.HeartRateMonitor` as a user would run it: a still face,
  heavy sensor noise and talking motion.

Truth is computed here with numpy / scipy only, never with the SDK's own beat code:
R-peaks by a 5-20 Hz band-pass and ``scipy.signal.find_peaks``, refined by a parabola; NN
intervals are the R-R intervals within 20 % of the median of their 11 neighbours (the usual
"20 % filter": premature beats and missed R-peaks out), so the comparison is of beat timing on
normal beats. The respiration channel's rate is its periodogram peak in 4.8-42 breaths/min.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from evaluation.real import REAL_DIR

__all__ = [
    "BeatStats",
    "RenderedCase",
    "WindowRow",
    "beat_stats",
    "ecg_r_peaks",
    "render_case",
    "respiration_rate_per_min",
    "vitallens_row",
    "wfdb_rows",
]

FloatArray = npt.NDArray[np.float64]
RESULTS = Path(__file__).resolve().parent / "results"
#: The issue's targets.
CONTACT_MS = 10.0
VIDEO_RMSSD_MS = 15.0
BREATHING_PER_MIN = 2.0


# ----------------------------------------------------------------------------- truth


@dataclass(frozen=True)
class BeatStats:
    """RMSSD / SDNN (ms) of NN intervals and how many intervals the 20 % filter kept."""

    rmssd_ms: float
    sdnn_ms: float
    intervals: int
    rejected: int


def _parabola(y: FloatArray, i: npt.NDArray[np.int64]) -> FloatArray:
    i = np.clip(i, 1, y.size - 2)
    a, b, c = y[i - 1], y[i], y[i + 1]
    den = a - 2 * b + c
    off = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    return np.asarray(i + np.clip(off, -0.5, 0.5), np.float64)


def ecg_r_peaks(ecg: FloatArray, fs_hz: float) -> FloatArray:
    """R-peak times (s): 5-20 Hz band-pass (up to 0.45 fs), polarity by the larger extreme,
    peaks at least 0.3 s apart above 40 % of the 99.5th percentile, refined by a parabola."""
    import scipy.signal  # noqa: PLC0415

    x = np.nan_to_num(np.asarray(ecg, np.float64) - np.nanmedian(ecg))
    high = min(20.0, 0.45 * fs_hz)
    b, a = scipy.signal.butter(2, [5.0 / (fs_hz / 2), high / (fs_hz / 2)], "bandpass")
    qrs = scipy.signal.filtfilt(b, a, x)
    if abs(np.percentile(qrs, 0.5)) > abs(np.percentile(qrs, 99.5)):
        qrs = -qrs
    peaks, _ = scipy.signal.find_peaks(
        qrs, distance=int(0.3 * fs_hz), height=0.4 * np.percentile(qrs, 99.5)
    )
    return np.asarray(_parabola(qrs, peaks) / fs_hz, np.float64)


def beat_stats(beat_times_s: FloatArray) -> BeatStats:
    """RMSSD and SDNN of the NN intervals: R-R intervals within 20 % of the median of their 11
    neighbours; successive differences only between two kept neighbours."""
    rr = np.diff(np.asarray(beat_times_s, np.float64))
    keep = np.zeros(rr.size, bool)
    for i in range(rr.size):
        ref = float(np.median(rr[max(0, i - 5) : i + 6]))
        keep[i] = 0.25 <= rr[i] <= 2.0 and abs(rr[i] - ref) <= 0.2 * ref
    both = keep[1:] & keep[:-1]
    sd = np.diff(rr)[both]
    return BeatStats(
        rmssd_ms=float(1e3 * np.sqrt(np.mean(sd**2))) if sd.size else math.nan,
        sdnn_ms=float(1e3 * np.std(rr[keep], ddof=1)) if keep.sum() >= 2 else math.nan,
        intervals=int(keep.sum()),
        rejected=int((~keep).sum()),
    )


def respiration_rate_per_min(resp: FloatArray, fs_hz: float) -> float:
    """The respiration channel's periodogram peak (linear detrend, Hann) in 0.08-0.7 Hz."""
    import scipy.signal  # noqa: PLC0415

    f, p = scipy.signal.periodogram(scipy.signal.detrend(resp), fs_hz, window="hann", nfft=1 << 16)
    band = (f >= 0.08) & (f <= 0.7)
    return float(60.0 * f[band][np.argmax(p[band])])


# ----------------------------------------------------------------------------- contact PPG


@dataclass(frozen=True)
class WindowRow:
    """One window of a contact recording: truth, estimate and confidences."""

    source: str
    start_s: float
    window_s: float
    rmssd_truth_ms: float
    rmssd_ms: float
    sdnn_truth_ms: float
    sdnn_ms: float
    prv_confidence: float
    rejected_share: float
    breathing_truth_per_min: float | None
    breathing_per_min: float | None
    breathing_confidence: float

    @property
    def rmssd_error_ms(self) -> float:
        return self.rmssd_ms - self.rmssd_truth_ms

    @property
    def sdnn_error_ms(self) -> float:
        return self.sdnn_ms - self.sdnn_truth_ms

    @property
    def breathing_error_per_min(self) -> float | None:
        if self.breathing_per_min is None or self.breathing_truth_per_min is None:
            return None
        return self.breathing_per_min - self.breathing_truth_per_min


def _wfdb_signals(root: Path) -> dict[str, tuple[FloatArray, float]]:
    import wfdb  # noqa: PLC0415

    rec = wfdb.rdrecord(str(root / "wfdb" / "mixedsignals"), smooth_frames=False)
    out = {}
    for i, name in enumerate(rec.sig_name):
        out[name] = (
            np.asarray(rec.e_p_signal[i], np.float64),
            float(rec.fs * rec.samps_per_frame[i]),
        )
    return out


def wfdb_rows(
    root: Path = REAL_DIR, window_s: float = 60.0, stride_s: float = 30.0
) -> list[WindowRow]:
    """Per window of ``mixedsignals``: PRV and breathing from the Pleth channel against the
    ECG (lead II) R-R intervals and the respiration channel."""
    from rppg_sdk import dsp  # noqa: PLC0415

    sig = _wfdb_signals(root)
    ecg, fs_e = sig["II"]
    ppg, fs_p = sig["Pleth"]
    resp, fs_r = sig["Resp"]
    start = float(np.flatnonzero(np.isfinite(ecg))[0] / fs_e) + 0.5  # the ECG starts late
    r_s = ecg_r_peaks(ecg, fs_e)
    rows = []
    end = min(ppg.size / fs_p, ecg.size / fs_e)
    for s in np.arange(start, end - window_s + 1e-9, stride_s):
        seg = ppg[int(round(s * fs_p)) : int(round((s + window_s) * fs_p))]
        truth = beat_stats(r_s[(r_s >= s) & (r_s < s + window_s)])
        prv = dsp.pulse_rate_variability(seg, fs_p)
        br = dsp.breathing_rate(seg, fs_p)
        r_seg = resp[int(round(s * fs_r)) : int(round((s + window_s) * fs_r))]
        rows.append(
            WindowRow(
                "wfdb/mixedsignals", float(s), window_s, truth.rmssd_ms, prv.rmssd_ms,
                truth.sdnn_ms, prv.sdnn_ms, prv.confidence, prv.rejected_share,
                respiration_rate_per_min(r_seg, fs_r), br.breaths_per_min, br.confidence,
            )
        )  # fmt: skip
    return rows


def vitallens_row(root: Path = REAL_DIR) -> WindowRow:
    """The 12 s vitallens file: PRV and breathing of its contact PPG against RMSSD / SDNN of
    its 30 Hz ECG's R-peaks and its ``rr`` column (a sanity check: too short to report)."""
    from rppg_sdk import dsp  # noqa: PLC0415

    path = root / "vitallens" / "sample_vitals_1.csv"
    table = np.genfromtxt(path, delimiter=",", names=True)
    fs = 30.0
    ppg, ecg = np.asarray(table["ppg"], float), np.asarray(table["ecg"], float)
    truth = beat_stats(ecg_r_peaks(ecg, fs))
    prv = dsp.pulse_rate_variability(ppg, fs)
    br = dsp.breathing_rate(ppg, fs)
    return WindowRow(
        "vitallens", 0.0, ppg.size / fs, truth.rmssd_ms, prv.rmssd_ms, truth.sdnn_ms,
        prv.sdnn_ms, prv.confidence, prv.rejected_share, float(np.median(table["rr"])),
        br.breaths_per_min, br.confidence,
    )  # fmt: skip


# ----------------------------------------------------------------------------- rendered video


@dataclass(frozen=True)
class RenderedCase:
    """A rendered clip through the monitor: the last reading's PRV and breathing vs truth."""

    name: str
    duration_s: float
    rmssd_truth_ms: float
    sdnn_truth_ms: float
    breathing_truth_per_min: float
    rmssd_ms: float | None
    sdnn_ms: float | None
    prv_confidence: float | None
    breathing_per_min: float | None
    breathing_confidence: float | None
    bpm: float | None


def render_case(
    name: str,
    duration_s: float = 36.0,
    *,
    heart_rate_bpm: float = 66.0,
    breathing_per_min: float = 15.0,
    rsa_ms: float = 60.0,
    jitter_ms: float = 20.0,
    sensor_noise_std: float = 1.0,
    motion: str = "still",
    seed: int = 3,
    fps: float = 30.0,
    options: dict[str, Any] | None = None,
) -> tuple[RenderedCase, list[Any]]:
    """Render a face clip whose pulse has a known beat sequence and breathing, run it through
    ``HeartRateMonitor`` (POS unless ``options`` names another method) and compare the last
    reading with the truth over that reading's PRV window. Returns the case and every
    reading."""
    from rppg_sdk import HeartRateMonitor, MonitorOptions  # noqa: PLC0415
    from rppg_sdk.synthetic import SyntheticClipSpec, iter_frames  # noqa: PLC0415
    from rppg_sdk.synthetic.pulse import beat_sequence, ppg_from_beats  # noqa: PLC0415

    n = int(round(duration_s * fps))
    beats = beat_sequence(
        duration_s + 1.0, heart_rate_bpm, breathing_per_min, rsa_ms, jitter_ms, seed
    )
    ppg, truth = ppg_from_beats(beats, n, fps, breathing_per_min, 0.15, 0.15, rng=seed)
    spec = SyntheticClipSpec(
        duration_s=duration_s, fps=fps, ppg_waveform=ppg, pulse_amplitude=0.008,
        sensor_noise_std=sensor_noise_std, motion=motion, seed=seed,  # type: ignore[arg-type]
    )  # fmt: skip
    readings = []
    with HeartRateMonitor(MonitorOptions(**{"method": "pos", **(options or {})})) as monitor:
        for frame, ts in iter_frames(spec):
            r = monitor.process(frame, ts)
            if r is not None:
                readings.append(r)
    last = readings[-1]
    p = last.prv
    win = p.window_s if p is not None else min(duration_s, 48.0)
    t = truth.window(last.timestamp_s - win, last.timestamp_s)
    return (
        RenderedCase(
            name,
            duration_s,
            t.rmssd_ms,
            t.sdnn_ms,
            truth.breathing_rate_per_min,
            None if p is None else p.rmssd_ms,
            None if p is None else p.sdnn_ms,
            None if p is None else p.confidence,
            last.breathing_rate_bpm,
            last.breathing_confidence,
            last.bpm,
        ),  # fmt: skip
        readings,
    )


# ----------------------------------------------------------------------------- report


def _fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _print_rows(rows: list[WindowRow]) -> None:
    print(
        f"{'source':18} {'start':>6} {'RMSSD ecg':>9} {'ppg':>6} {'err':>6} {'SDNN ecg':>8} "
        f"{'ppg':>6} {'err':>6} {'conf':>5} {'rej':>5} | {'br resp':>7} {'ppg':>5} {'err':>5} "
        f"{'conf':>5}"
    )
    for r in rows:
        print(
            f"{r.source:18} {r.start_s:6.1f} {r.rmssd_truth_ms:9.1f} {r.rmssd_ms:6.1f} "
            f"{r.rmssd_error_ms:+6.1f} {r.sdnn_truth_ms:8.1f} {r.sdnn_ms:6.1f} "
            f"{r.sdnn_error_ms:+6.1f} {r.prv_confidence:5.2f} {r.rejected_share:5.2f} | "
            f"{_fmt(r.breathing_truth_per_min):>7} {_fmt(r.breathing_per_min):>5} "
            f"{_fmt(r.breathing_error_per_min):>5} {r.breathing_confidence:5.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-video", action="store_true", help="skip the rendered clips")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the plot / JSON")
    args = parser.parse_args(argv)
    from tqdm import tqdm  # noqa: PLC0415

    report: dict[str, Any] = {}
    rows = wfdb_rows()
    print("\nContact PPG vs ECG R-R (NN, 20 % filter) and the respiration channel, 60 s windows")
    _print_rows(rows)
    err = np.array([[abs(r.rmssd_error_ms), abs(r.sdnn_error_ms)] for r in rows])
    br = np.array([abs(e) for r in rows if (e := r.breathing_error_per_min) is not None])
    print(
        f"wfdb: RMSSD MAE {err[:, 0].mean():.1f} ms (max {err[:, 0].max():.1f}), SDNN MAE "
        f"{err[:, 1].mean():.1f} ms (max {err[:, 1].max():.1f}), breathing MAE {br.mean():.2f} "
        f"/min (max {br.max():.2f}); {len(rows)} windows"
    )
    v = vitallens_row()
    print("\nvitallens 12 s (sanity only: below the 20 s / 30 s minimums, under two breaths)")
    _print_rows([v])
    report["wfdb"] = [asdict(r) for r in rows]
    report["vitallens"] = asdict(v)

    cases: list[RenderedCase] = []
    readings_by_case: dict[str, list[Any]] = {}
    if not args.no_video:
        specs: list[tuple[str, dict[str, Any]]] = [
            ("still", {}),
            (
                "still, 72 bpm, 20/min",
                {"heart_rate_bpm": 72.0, "breathing_per_min": 20.0, "seed": 5},
            ),
            ("still, 58 bpm, 9/min", {"heart_rate_bpm": 58.0, "breathing_per_min": 9.0, "seed": 7}),
            ("sensor noise 12", {"sensor_noise_std": 12.0}),
            ("talking motion", {"motion": "talking", "sensor_noise_std": 2.0}),
            ("talking + noise 8", {"motion": "talking", "sensor_noise_std": 8.0}),
            ("still, PhysNet", {"options": {"method": "physnet"}}),
        ]
        # vitals_min_confidence=0: every estimate with its confidence, however low.
        for name, kw in tqdm(specs, desc="rendered clips"):
            opts = {"vitals_min_confidence": 0.0, **kw.pop("options", {})}
            case, readings = render_case(name, 40.0, options=opts, **kw)
            cases.append(case)
            readings_by_case[name] = readings
        print(
            "\nRendered face video through HeartRateMonitor (POS unless named), last reading, 40 s"
        )
        print(
            f"{'case':24} {'RMSSD true':>10} {'est':>6} {'err':>6} {'SDNN true':>9} {'est':>6} "
            f"{'conf':>5} | {'br true':>7} {'est':>5} {'conf':>5}"
        )
        for c in cases:
            e = None if c.rmssd_ms is None else c.rmssd_ms - c.rmssd_truth_ms
            print(
                f"{c.name:24} {c.rmssd_truth_ms:10.1f} {_fmt(c.rmssd_ms):>6} {_fmt(e):>6} "
                f"{c.sdnn_truth_ms:9.1f} {_fmt(c.sdnn_ms):>6} {_fmt(c.prv_confidence, 2):>5} | "
                f"{c.breathing_truth_per_min:7.1f} {_fmt(c.breathing_per_min):>5} "
                f"{_fmt(c.breathing_confidence, 2):>5}"
            )
        report["rendered"] = [asdict(c) for c in cases]

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vitals.json").write_text(json.dumps(report, indent=1))
    _plot(rows, cases, readings_by_case, args.out / "vitals.png")
    print(f"\nwrote {args.out / 'vitals.png'} and {args.out / 'vitals.json'}")
    return 0


def _plot(
    rows: list[WindowRow],
    cases: list[RenderedCase],
    readings: dict[str, list[Any]],
    path: Path,
) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    t = [r.start_s + r.window_s / 2 for r in rows]
    ax.plot(t, [r.rmssd_truth_ms for r in rows], "k-o", label="RMSSD, ECG")
    ax.plot(t, [r.rmssd_ms for r in rows], "C0--o", label="RMSSD, PPG (PRV)")
    ax.plot(t, [r.sdnn_truth_ms for r in rows], "k-s", alpha=0.5, label="SDNN, ECG")
    ax.plot(t, [r.sdnn_ms for r in rows], "C1--s", label="SDNN, PPG (PRV)")
    ax.set(xlabel="window centre (s)", ylabel="ms", title="wfdb mixedsignals: PRV vs ECG")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(t, [r.breathing_truth_per_min for r in rows], "k-o", label="respiration channel")
    ax.plot(t, [r.breathing_per_min for r in rows], "C2--o", label="from the PPG")
    ax.set(xlabel="window centre (s)", ylabel="breaths / min", title="wfdb: breathing rate")
    ax.set_ylim(0, 30)
    ax.legend(fontsize=8)
    ax = axes[2]
    for i, c in enumerate(cases):
        rs = [r for r in readings[c.name] if r.prv is not None]
        ax.plot(
            [r.timestamp_s for r in rs],
            [r.prv.rmssd_ms - c.rmssd_truth_ms for r in rs],
            color=f"C{i}",
            label=f"{c.name} (conf {_fmt(c.prv_confidence, 2)})",
        )
    ax.axhspan(-VIDEO_RMSSD_MS, VIDEO_RMSSD_MS, color="0.9")
    ax.set(xlabel="stream time (s)", ylabel="RMSSD error (ms)", title="rendered video, monitor")
    if cases:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
