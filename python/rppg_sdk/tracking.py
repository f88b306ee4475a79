"""Heart rate across windows: stay on the pulse, resist harmonic jumps, follow real changes.

The tracker runs in the C++ core (``rppg::HeartRateTracker``, ``csrc/src/tracker.cpp``); this
module holds its options and documents the method.

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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rppg_sdk import _core, dsp

__all__ = ["HeartRateTracker", "TrackedEstimate", "TrackerOptions", "core_tracker_config"]


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


def core_tracker_config(options: TrackerOptions) -> _core.TrackerConfig:
    """The C++ core's ``rppg::TrackerConfig`` with ``options``' values."""
    c = _core.TrackerConfig()
    c.search_halfwidth_bpm = float(options.search_halfwidth_bpm)
    c.switch_margin_db = float(options.switch_margin_db)
    c.switch_persistence = int(options.switch_persistence)
    c.harmonic_tolerance = float(options.harmonic_tolerance)
    c.lost_snr_db = float(options.lost_snr_db)
    c.median_length = int(options.median_length)
    c.outlier_bpm = float(options.outlier_bpm)
    c.prior_center_bpm = float(options.prior_center_bpm)
    c.prior_log_sd = float(options.prior_log_sd)
    c.harmonic_weight = float(options.harmonic_weight)
    return c


class HeartRateTracker:
    """Tracks the heart rate over successive, overlapping windows (see the module docs).

    The work is the C++ core's ``rppg::HeartRateTracker`` (the one implementation, also inside
    ``rppg::PulseMonitor``); this class converts arguments.
    """

    def __init__(self, options: TrackerOptions = TrackerOptions()) -> None:  # noqa: B008
        self.options = options
        self._impl = _core.HeartRateTracker(core_tracker_config(options))

    def reset(self) -> None:
        """Forget the tracked rate (a new subject, or a long gap)."""
        self._impl.reset()

    @property
    def tracked_bpm(self) -> float | None:
        """The rate being tracked (median of recent estimates), ``None`` before the first."""
        return self._impl.tracked_bpm

    def update(
        self,
        pulse: npt.NDArray[np.float64],
        fs_hz: float,
        spectral: dsp.SpectralOptions,
    ) -> TrackedEstimate:
        """Add one window's pulse (uniform at ``fs_hz``) and return the tracked estimate."""
        x = dsp._as_signal("pulse", pulse, min_len=dsp._min_samples(fs_hz, spectral.band_hz))
        cfg = dsp._core_config(dsp._check_fs(fs_hz), x.shape[0], spectral)
        bpm, window_bpm, raw_bpm, snr_db, ipr, jumped = self._impl.update(x, cfg)
        return TrackedEstimate(
            bpm=bpm,
            window_bpm=window_bpm,
            raw_bpm=raw_bpm,
            snr_db=snr_db,
            irrelevant_power_ratio=ipr,
            jumped=jumped,
        )
