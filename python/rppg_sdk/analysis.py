"""``PulseAnalyzer``: a pulse window -> tracked heart rate -> confidence -> a reading.

``PulseWindow`` -> :class:`~rppg_sdk.tracking.HeartRateTracker` (spectral estimate, tracking
across windows) -> :class:`~rppg_sdk.confidence.ConfidenceModel` -> :class:`HeartRateReading`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp
from rppg_sdk.confidence import ConfidenceInputs, ConfidenceModel, calibrated_model
from rppg_sdk.extractors.base import PulseWindow
from rppg_sdk.illumination import power_share_at, reference_share
from rppg_sdk.reading import HeartRateReading, ReadingStatus
from rppg_sdk.tracking import HeartRateTracker, TrackerOptions

__all__ = ["PulseAnalyzer"]

FloatArray = npt.NDArray[np.float64]


class PulseAnalyzer:
    """Turns pulse windows into readings; holds the tracked rate of one stream.

    Parameters
    ----------
    band_hz
        Heart-rate band.
    window_s
        The full analysis window (confidence weighs how much of it a reading had).
    tracker, confidence
        Tracking across windows and the evidence -> confidence mapping (``None``: the fit of
        the method that made each window).
    low_quality_confidence
        Readings below this confidence get status ``LOW_QUALITY``.
    waveform_s
        Length of the pulse waveform attached to each reading.
    """

    def __init__(
        self,
        band_hz: tuple[float, float],
        window_s: float,
        tracker: TrackerOptions,
        confidence: ConfidenceModel | None,
        low_quality_confidence: float,
        waveform_s: float,
    ) -> None:
        self.band_hz = band_hz
        self.window_s = float(window_s)
        self.low_quality_confidence = float(low_quality_confidence)
        self.waveform_s = float(waveform_s)
        self._spectral = dsp.SpectralOptions(band_hz=band_hz)
        # The IPR looks at the pulse before any detrending: slow drift is what it should see.
        self._raw_spectral = replace(self._spectral, detrend_lambda=None)
        self._confidence = confidence
        self._tracker = HeartRateTracker(tracker)

    def _harmonic_ratio(self, pulse: FloatArray, fs_hz: float, bpm: float) -> float:
        """Power within the SNR half-width of twice ``bpm`` over that around ``bpm``."""
        f0 = bpm / 60.0
        hw = self._spectral.snr_halfwidth_bpm / 60.0
        if 2.0 * f0 + hw >= fs_hz / 2.0:
            return math.nan
        spec = dsp.power_spectrum(pulse, fs_hz, self._spectral)
        f, p = spec.freqs_hz, spec.power
        p1 = float(p[np.abs(f - f0) <= hw].sum())
        p2 = float(p[np.abs(f - 2.0 * f0) <= hw].sum())
        return p2 / p1 if p1 > 0 else math.nan

    def reset(self) -> None:
        """Forget the tracked rate (a new face or a new stream)."""
        self._tracker.reset()

    def analyze(
        self,
        window: PulseWindow | None,
        timestamp_s: float,
        box_xywh: tuple[int, int, int, int] | None,
        method_name: str,
        input_channels: int,
    ) -> HeartRateReading:
        """The reading at ``timestamp_s``: warming up without a (long enough) window."""
        if window is None:
            return HeartRateReading(
                timestamp_s=timestamp_s,
                status=ReadingStatus.WARMING_UP,
                face_box_xywh=box_xywh,
                method=method_name,
                window_end_s=timestamp_s,
                input_channels=input_channels,
            )
        pulse, fs, span = window.pulse, window.fs_hz, window.span_s
        est = self._tracker.update(pulse, fs, self._spectral)
        raw_ipr = dsp.signal_quality(pulse, fs, est.bpm, self._raw_spectral).irrelevant_power_ratio
        share = (
            0.0
            if window.reference is None
            else reference_share(window.reference, fs, est.bpm, self._spectral)
        )
        evidence = ConfidenceInputs(
            harmonic_ratio=self._harmonic_ratio(pulse, fs, est.bpm),
            snr_db=est.snr_db,
            irrelevant_power_ratio=raw_ipr,
            face_fraction=1.0,
            box_moves=window.box_moves,
            window_fraction=span / self.window_s,
            edge_distance_bpm=min(
                est.bpm - 60.0 * self.band_hz[0],
                60.0 * self.band_hz[1] - est.bpm,
            ),
            reference_share=share,
            motion_share=(
                0.0
                if window.motion is None
                else power_share_at(window.motion, fs, est.bpm, self._spectral)
            ),
        )
        model = self._confidence or calibrated_model(window.method_name)
        conf = model(evidence)
        wave = dsp.bandpass(pulse, fs, self.band_hz)
        n_wave = int(round(self.waveform_s * fs))
        status = (
            ReadingStatus.OK if conf >= self.low_quality_confidence else ReadingStatus.LOW_QUALITY
        )
        return HeartRateReading(
            timestamp_s=timestamp_s,
            status=status,
            bpm=est.bpm,
            confidence=conf,
            snr_db=est.snr_db,
            irrelevant_power_ratio=est.irrelevant_power_ratio,
            face_box_xywh=box_xywh,
            waveform=wave[-n_wave:].astype("float32"),
            waveform_fs_hz=fs,
            raw_bpm=est.raw_bpm,
            method=window.method_name,
            window_s=span,
            window_end_s=window.end_s,
            input_channels=window.input_channels,
            evidence=evidence,
        )
