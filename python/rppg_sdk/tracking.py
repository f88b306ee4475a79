"""Heart rate across windows: stay on the pulse, resist harmonic jumps, follow real changes.

Each update looks at the newest window's pulse spectrum twice, both times through the C++ core:

1. the whole band (:func:`rppg_sdk.dsp.estimate_heart_rate`, with its harmonic guard), and
2. when that peak lies far from the tracked heart rate, only a neighbourhood of the tracked rate
   (the same function on a narrowed band, harmonic guard off).

A far peak replaces the tracked rate only when its SNR (:func:`rppg_sdk.dsp.signal_quality`:
power at the fundamental and its second harmonic against the rest of the band) beats the near
peak's by ``switch_margin_db`` in ``switch_persistence`` consecutive windows, twice as many when
it is a harmonic (x2 / x0.5) of the tracked rate; a real change passes these tests within a few
seconds, a one-window artefact or a harmonic does not. When the near peak has no pulse in it
(SNR below ``lost_snr_db``) the far one is taken at once. The reported rate is this window's
accepted estimate unless it lies more than ``outlier_bpm`` from the median of the last
``median_length`` accepted estimates; then the median is reported. That removes single-window
outliers without the lag a plain running median puts on every reading.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp

__all__ = ["HeartRateTracker", "TrackedEstimate", "TrackerOptions"]


@dataclass(frozen=True)
class TrackerOptions:
    """Tuning of :class:`HeartRateTracker` (defaults suit 10 s windows updated every second).

    Parameters
    ----------
    search_halfwidth_bpm
        Neighbourhood of the tracked rate searched for the near peak; peaks within it are
        followed at once (heart rate changes by less than this between 1 s updates).
    switch_margin_db
        SNR a far peak must have over the near one to count as evidence for a jump.
    switch_persistence
        Consecutive windows of such evidence before the tracker jumps.
    harmonic_tolerance
        Relative tolerance for calling a far peak a harmonic (x2, x0.5) of the tracked rate.
    lost_snr_db
        Below this SNR the near peak is not a pulse: the tracker re-acquires at once.
    median_length
        Accepted estimates the outlier check's median runs over.
    outlier_bpm
        An estimate this far from that median is reported as the median instead.
    """

    search_halfwidth_bpm: float = 10.0
    switch_margin_db: float = 2.0
    switch_persistence: int = 3
    harmonic_tolerance: float = 0.1
    lost_snr_db: float = -6.0
    median_length: int = 3
    outlier_bpm: float = 3.0

    def __post_init__(self) -> None:
        if not self.search_halfwidth_bpm > 0:
            raise ValueError(f"search_halfwidth_bpm: expected > 0, got {self.search_halfwidth_bpm}")
        if self.switch_persistence < 1 or self.median_length < 1:
            raise ValueError("switch_persistence, median_length: expected >= 1")


@dataclass(frozen=True)
class TrackedEstimate:
    """One window's heart rate after tracking.

    Attributes
    ----------
    bpm
        Reported (tracked, outlier-checked) heart rate.
    window_bpm
        This window's accepted estimate before the outlier check.
    raw_bpm
        The whole-band spectral estimate of this window (what an untracked reader would say).
    snr_db, irrelevant_power_ratio
        Quality of the pulse around ``window_bpm``.
    jumped
        The tracker moved to a far peak on this window.
    """

    bpm: float
    window_bpm: float
    raw_bpm: float
    snr_db: float
    irrelevant_power_ratio: float
    jumped: bool


class HeartRateTracker:
    """Tracks the heart rate over successive, overlapping windows (see the module docs)."""

    def __init__(self, options: TrackerOptions = TrackerOptions()) -> None:  # noqa: B008
        self.options = options
        self.reset()

    def reset(self) -> None:
        """Forget the tracked rate (a new subject, or a long gap)."""
        self._history: deque[float] = deque(maxlen=self.options.median_length)
        self._pending: list[float] = []

    @property
    def tracked_bpm(self) -> float | None:
        """The rate being tracked (median of recent estimates), ``None`` before the first."""
        return statistics.median(self._history) if self._history else None

    def update(
        self,
        pulse: npt.NDArray[np.float64],
        fs_hz: float,
        spectral: dsp.SpectralOptions,
    ) -> TrackedEstimate:
        """Add one window's pulse (uniform at ``fs_hz``) and return the tracked estimate."""
        o = self.options
        glob = dsp.estimate_heart_rate(pulse, fs_hz, spectral)
        prev = self.tracked_bpm
        jumped = False
        if prev is None:
            accepted, snr, ipr = glob.bpm, glob.snr_db, glob.irrelevant_power_ratio
            self._pending.clear()
        elif abs(glob.bpm - prev) <= o.search_halfwidth_bpm:
            accepted, snr, ipr = glob.bpm, glob.snr_db, glob.irrelevant_power_ratio
            self._pending.clear()
        else:
            near = self._near_peak(pulse, fs_hz, spectral, prev)
            near_q = dsp.signal_quality(pulse, fs_hz, near, spectral)
            harmonic = _is_harmonic(glob.bpm, prev, o.harmonic_tolerance)
            need = o.switch_persistence * (2 if harmonic else 1)
            if near_q.snr_db < o.lost_snr_db:
                need = 1
            if glob.snr_db >= near_q.snr_db + o.switch_margin_db:
                if self._pending and abs(glob.bpm - self._pending[-1]) > o.search_halfwidth_bpm:
                    self._pending.clear()  # evidence for a different far peak: start over
                self._pending.append(glob.bpm)
            else:
                self._pending.clear()
            if len(self._pending) >= need:
                accepted, snr, ipr = glob.bpm, glob.snr_db, glob.irrelevant_power_ratio
                self._history.clear()  # a real change: do not drag the old rate along
                self._pending.clear()
                jumped = True
            else:
                accepted, snr, ipr = near, near_q.snr_db, near_q.irrelevant_power_ratio
        self._history.append(float(accepted))
        med = statistics.median(self._history)
        bpm = accepted if abs(accepted - med) <= self.options.outlier_bpm else med
        return TrackedEstimate(
            bpm=float(bpm),
            window_bpm=float(accepted),
            raw_bpm=float(glob.bpm),
            snr_db=float(snr),
            irrelevant_power_ratio=float(ipr),
            jumped=jumped,
        )

    def _near_peak(
        self,
        pulse: npt.NDArray[np.float64],
        fs_hz: float,
        spectral: dsp.SpectralOptions,
        prev: float,
    ) -> float:
        lo_hz, hi_hz = spectral.band_hz
        hw = self.options.search_halfwidth_bpm / 60.0
        lo = max(lo_hz, prev / 60.0 - hw)
        hi = min(hi_hz, prev / 60.0 + hw)
        if hi - lo < 0.05:
            return prev
        local = replace(
            spectral,
            band_hz=(lo, hi),
            half_harmonic_ratio=1e9,  # guard off: the neighbourhood is the answer
            missed_fundamental_ratio=0.0,
        )
        try:
            return float(dsp.estimate_heart_rate(pulse, fs_hz, local).bpm)
        except ValueError:
            # The narrowed band's low edge needs a longer signal than this window holds.
            return prev


def _is_harmonic(a_bpm: float, b_bpm: float, tol: float) -> bool:
    ratio = max(a_bpm, b_bpm) / max(min(a_bpm, b_bpm), 1e-9)
    return abs(ratio - 2.0) <= 2.0 * tol or abs(ratio - 3.0) <= 3.0 * tol
