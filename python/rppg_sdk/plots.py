"""Plots of a measurement: pulse waveform, its spectrum, heart rate over time with confidence.

matplotlib with the Agg backend (files only; no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp
from rppg_sdk.monitor import HeartRateReading

__all__ = ["plot_readings"]


def plot_readings(
    readings: Sequence[HeartRateReading],
    path: str | Path,
    *,
    title: str = "rppg-sdk",
    truth_times_s: npt.ArrayLike | None = None,
    truth_bpm: npt.ArrayLike | None = None,
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
) -> Path:
    """Write a three-panel PNG of a measurement.

    Parameters
    ----------
    readings
        Readings in time order (as :meth:`HeartRateMonitor.process_video` yields them).
    path
        Output PNG.
    title
        Figure title.
    truth_times_s, truth_bpm
        Optional reference heart rate over time (drawn as a line).
    band_hz
        Band shaded in the spectrum.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib  # noqa: PLC0415  (only when plotting)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out = Path(path)
    rated = [r for r in readings if r.bpm is not None]
    last = next((r for r in reversed(rated) if r.waveform.size), None)
    fig, axes = plt.subplots(3, 1, figsize=(9, 9), constrained_layout=True)
    fig.suptitle(title)

    ax = axes[0]
    if last is not None:
        n = last.waveform.size
        t = last.timestamp_s - (n - 1 - np.arange(n)) / last.waveform_fs_hz
        ax.plot(t, last.waveform, color="tab:red", lw=1.2)
        ax.set_title(f"Pulse waveform (last {n / last.waveform_fs_hz:.0f} s, {last.method})")
    else:
        ax.set_title("Pulse waveform: no heart rate was measured")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pulse (a.u.)")

    ax = axes[1]
    if last is not None:
        spec = dsp.power_spectrum(last.waveform.astype(np.float64), last.waveform_fs_hz)
        bpm_axis = spec.freqs_hz * 60.0
        keep = bpm_axis <= 300
        ax.plot(bpm_axis[keep], spec.power[keep] / max(spec.power[keep].max(), 1e-30), color="k")
        ax.axvspan(band_hz[0] * 60, band_hz[1] * 60, color="tab:green", alpha=0.08, label="band")
        assert last.bpm is not None
        ax.axvline(last.bpm, color="tab:red", ls="--", label=f"reading {last.bpm:.1f} bpm")
        ax.legend(loc="upper right")
        ax.set_title("Spectrum of the waveform")
    ax.set_xlabel("heart rate (bpm)")
    ax.set_ylabel("power (normalised)")

    ax = axes[2]
    if rated:
        ts = np.array([r.timestamp_s for r in rated])
        bpm = np.array([r.bpm for r in rated], dtype=np.float64)
        conf = np.array([r.confidence for r in rated])
        ax.plot(ts, bpm, color="0.6", lw=1, zorder=1)
        sc = ax.scatter(ts, bpm, c=conf, cmap="RdYlGn", vmin=0, vmax=1, s=28, zorder=2)
        fig.colorbar(sc, ax=ax, label="confidence")
    if truth_times_s is not None and truth_bpm is not None:
        ax.plot(
            np.asarray(truth_times_s),
            np.asarray(truth_bpm),
            color="tab:blue",
            lw=1.5,
            label="truth",
        )
        ax.legend(loc="upper right")
    others = [r for r in readings if r.bpm is None]
    if others:
        ax.plot([r.timestamp_s for r in others], np.full(len(others), np.nan))
    ax.set_title("Heart rate over time (colour: confidence)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bpm")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
