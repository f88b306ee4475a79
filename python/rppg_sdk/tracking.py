"""Heart rate across windows: stay on the pulse, resist harmonic jumps, follow real changes.

Each update looks at the newest window's pulse spectrum (C++ core,
:func:`rppg_sdk.dsp.power_spectrum`) twice:

1. the whole band, where every local peak is a candidate scored by its own power plus
   ``harmonic_weight`` times the power at twice its frequency (a pulse has a second harmonic,
   most noise peaks do not), weighted by a physiological prior on heart rate (a wide log-normal
   around ``prior_center_bpm``: resting adults sit at 60-100 bpm, so a lone peak at 200 bpm in a
   noisy window is more likely noise than pulse); the winner is refined on the continuous
   spectrum (:func:`rppg_sdk.dsp.estimate_heart_rate` on a narrow band around it), and
2. when that peak lies far from the tracked heart rate, only a neighbourhood of the tracked rate
   (the same function on a narrowed band, harmonic guard off).

Why the prior and the harmonic: on a weak pulse (small faces, strong compression, darker skin)
the spectrum is a flat noise floor with the pulse a little above it; the band 42-240 bpm is
wide, so a plain argmax picks a noise peak somewhere in it far more often than in the
toolbox's 45-150 bpm band. The prior keeps the whole band open to a clear pulse (a peak at
150 bpm needs about 2.5x the power of one at 75 bpm to win) instead of cutting it.

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
    prior_center_bpm, prior_log_sd
        The physiological prior on heart rate used to pick among candidate peaks: a log-normal
        with this median and log standard deviation (0.45: weight 0.38 at 140 bpm and 0.55 at
        50 bpm against 1 at 75). ``prior_log_sd=inf`` turns it off.
    harmonic_weight
        Weight of the power at twice a candidate's frequency in its score (0: off).
    """

    search_halfwidth_bpm: float = 10.0
    switch_margin_db: float = 2.0
    switch_persistence: int = 3
    harmonic_tolerance: float = 0.1
    lost_snr_db: float = -6.0
    median_length: int = 3
    outlier_bpm: float = 3.0
    prior_center_bpm: float = 75.0
    prior_log_sd: float = 0.45
    harmonic_weight: float = 0.5

    def __post_init__(self) -> None:
        if not self.search_halfwidth_bpm > 0:
            raise ValueError(f"search_halfwidth_bpm: expected > 0, got {self.search_halfwidth_bpm}")
        if self.switch_persistence < 1 or self.median_length < 1:
            raise ValueError("switch_persistence, median_length: expected >= 1")
        if not self.prior_center_bpm > 0 or not self.prior_log_sd > 0:
            raise ValueError(
                f"prior_center_bpm, prior_log_sd: expected > 0, got {self.prior_center_bpm}, "
                f"{self.prior_log_sd}"
            )
        if not self.harmonic_weight >= 0:
            raise ValueError(f"harmonic_weight: expected >= 0, got {self.harmonic_weight}")


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
        glob = self._acquire(pulse, fs_hz, spectral)
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

    def _acquire(
        self, pulse: npt.NDArray[np.float64], fs_hz: float, spectral: dsp.SpectralOptions
    ) -> dsp.HeartRateEstimate:
        """The whole band's best candidate (harmonic-sum score times the prior), refined."""
        o = self.options
        spec = dsp.power_spectrum(pulse, fs_hz, spectral)
        f, p = spec.freqs_hz, spec.power
        lo, hi = spectral.band_hz
        inside = np.flatnonzero((f >= lo) & (f <= hi))
        if inside.size < 3 or not np.any(p[inside] > 0):
            return dsp.estimate_heart_rate(pulse, fs_hz, spectral)
        # The second harmonic counts only up to the candidate's own power: otherwise a weak
        # peak at half a strong pulse's rate would borrow the pulse as its "harmonic".
        harmonic = np.minimum(np.interp(2.0 * f[inside], f, p, right=0.0), p[inside])
        log_ratio = np.log(f[inside] * 60.0 / o.prior_center_bpm)
        prior = np.exp(-0.5 * (log_ratio / o.prior_log_sd) ** 2)
        score = (p[inside] + o.harmonic_weight * harmonic) * prior
        # Local maxima only: a skirt of a strong peak is not a candidate of its own.
        pk = p[inside]
        is_peak = np.ones(inside.size, bool)
        is_peak[1:] &= pk[1:] >= pk[:-1]
        is_peak[:-1] &= pk[:-1] >= pk[1:]
        if not is_peak.any():
            is_peak[:] = True
        best = float(f[inside][np.argmax(np.where(is_peak, score, -np.inf))])
        # Refine on the continuous spectrum in a narrow band around the winner; the harmonic
        # choice has been made above, so the core's guard is off here.
        half = max(2.0 * (f[1] - f[0]), 0.1)
        local = replace(
            spectral,
            band_hz=(max(lo, best - half), min(hi, best + half)),
            half_harmonic_ratio=1e9,
            missed_fundamental_ratio=0.0,
        )
        try:
            est = dsp.estimate_heart_rate(pulse, fs_hz, local)
        except ValueError:  # the narrowed band needs a longer window than this one
            return dsp.estimate_heart_rate(pulse, fs_hz, spectral)
        q = dsp.signal_quality(pulse, fs_hz, est.bpm, spectral)
        return replace(est, snr_db=q.snr_db, irrelevant_power_ratio=q.irrelevant_power_ratio)

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
