"""What the monitor hands out: :class:`HeartRateReading` and its :class:`ReadingStatus`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk.confidence import ConfidenceInputs
from rppg_sdk.dsp import PulseRateVariability  # issue 12

__all__ = ["HeartRateReading", "ReadingStatus", "ResetReason"]

Float32Array = npt.NDArray[np.float32]


class ReadingStatus(str, Enum):
    """What a reading can be trusted for."""

    WARMING_UP = "warming_up"
    """Less than ``min_window_s`` of skin data since the start or since the face came back."""
    OK = "ok"
    """A heart rate with confidence at or above ``low_quality_confidence``."""
    LOW_QUALITY = "low_quality"
    """A heart rate with low confidence: no clear pulse in the window (motion, no skin...)."""
    NO_FACE = "no_face"
    """No face on the newest frame."""


class ResetReason(str, Enum):
    """Why the pulse history a reading rests on began where it did (driver monitoring, dms)."""

    STREAM_START = "stream_start"
    """The stream began (the first frame, or :meth:`HeartRateMonitor.reset`)."""
    FACE_LOST = "face_lost"
    """The face was lost for longer than ``MonitorOptions.face_loss_bridge_s``; the history
    started anew when it returned (shorter losses are bridged and keep it)."""


@dataclass(frozen=True)
class HeartRateReading:
    """One heart-rate reading, issued every update interval.

    Attributes
    ----------
    timestamp_s
        Time of the newest frame the reading covers.
    status
        See :class:`ReadingStatus`.
    bpm
        Heart rate in beats per minute (tracked and smoothed); ``None`` while warming up or
        without a face.
    confidence
        0..1; below 0.3 means "no reliable pulse". See :mod:`rppg_sdk.confidence` for what a
        value means in expected error.
    snr_db
        Spectral SNR of the pulse at ``bpm``.
    irrelevant_power_ratio
        Share of the pulse's power outside the heart-rate band.
    face_box_xywh
        The stable face box ``(x, y, w, h)`` in frame pixels (the whole frame with
        ``skin_roi="frame"``), ``None`` without a face.
    waveform
        The recent pulse (band-passed, float32, newest sample last; ``waveform_fs_hz``).
    waveform_fs_hz
        Sample rate of ``waveform``.
    raw_bpm
        This window's whole-band spectral peak before tracking (diagnostics).
    method
        The pulse method actually used: ``"mono"`` for classical methods on one-channel or grey
        frames; the model's name for models.
    window_s
        Seconds of data the reading is based on.
    window_end_s
        Time of the newest sample in that data: ``timestamp_s`` for classical methods; for
        models up to one chunk hop earlier (the newest frames are still being inferred).
    input_channels
        Channels the pulse was measured on: 1 for one-channel cameras and for three-channel
        frames whose channels are equal (grey near-infrared video), 3 for colour.
    evidence
        What the confidence was computed from (:class:`~rppg_sdk.confidence.ConfidenceInputs`:
        SNR, un-detrended irrelevant power ratio, the surround's share of power at this rate,
        box re-alignments, window coverage); ``None`` without a heart rate.
    reset_reason
        Why the pulse history this reading rests on began where it did (:class:`ResetReason`).
    bridged_gap_s
        Seconds without a face inside this reading's window that were bridged (short face
        losses keep the history; ``MonitorOptions.face_loss_bridge_s``).
    prv
        Pulse-rate variability over the newest ``MonitorOptions.prv_window_s`` of pulse
        (:class:`~rppg_sdk.dsp.PulseRateVariability`: RMSSD, SDNN, pNN50, beats used, share of
        intervals rejected, its own confidence). Pulse-wave intervals, not ECG R-R intervals:
        PRV, not HRV. ``None`` until ``min_prv_s`` of skin signal is in, and while its
        confidence is below ``vitals_min_confidence``.
    breathing_rate_bpm
        Breaths per minute from the pulse's respiratory modulations (amplitude, intervals,
        baseline; :func:`~rppg_sdk.dsp.breathing_rate`). ``None`` until ``min_breathing_s``
        of skin signal is in, and while ``breathing_confidence`` is below
        ``vitals_min_confidence``.
    breathing_confidence
        0..1, also when too low for ``breathing_rate_bpm`` to be given; ``None`` before there
        was enough signal to estimate it.
    """

    timestamp_s: float
    status: ReadingStatus
    bpm: float | None = None
    confidence: float = 0.0
    snr_db: float | None = None
    irrelevant_power_ratio: float | None = None
    face_box_xywh: tuple[int, int, int, int] | None = None
    waveform: Float32Array = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)
    waveform_fs_hz: float = 0.0
    raw_bpm: float | None = None
    method: str = ""
    window_s: float = 0.0
    window_end_s: float = 0.0
    input_channels: int = 3
    evidence: ConfidenceInputs | None = field(default=None, repr=False)
    # ---- driver monitoring (dms): history resets and bridged face losses ----
    reset_reason: ResetReason = ResetReason.STREAM_START
    bridged_gap_s: float = 0.0
    # ---- issue 12: pulse-rate variability and breathing (rppg_sdk.vitals) ----
    prv: PulseRateVariability | None = field(default=None, repr=False)
    breathing_rate_bpm: float | None = None
    breathing_confidence: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain types for CSV / JSON (no waveform)."""
        return {
            "timestamp_s": round(self.timestamp_s, 4),
            "status": self.status.value,
            "bpm": None if self.bpm is None else round(self.bpm, 2),
            "confidence": round(self.confidence, 3),
            "snr_db": None if self.snr_db is None else round(self.snr_db, 2),
            "irrelevant_power_ratio": (
                None
                if self.irrelevant_power_ratio is None
                else round(self.irrelevant_power_ratio, 3)
            ),
            "raw_bpm": None if self.raw_bpm is None else round(self.raw_bpm, 2),
            "face_box_xywh": None if self.face_box_xywh is None else list(self.face_box_xywh),
            "method": self.method,
            "window_s": round(self.window_s, 2),
            "window_end_s": round(self.window_end_s, 4),
            "input_channels": self.input_channels,
            "reset_reason": self.reset_reason.value,  # dms
            "bridged_gap_s": round(self.bridged_gap_s, 3),  # dms
            "reference_share": (
                None if self.evidence is None else round(self.evidence.reference_share, 3)
            ),
            # issue 12: pulse-rate variability and breathing
            **_prv_columns(self.prv),
            "breathing_rate_bpm": (
                None if self.breathing_rate_bpm is None else round(self.breathing_rate_bpm, 2)
            ),
            "breathing_confidence": (
                None if self.breathing_confidence is None else round(self.breathing_confidence, 3)
            ),
        }


def _prv_columns(prv: PulseRateVariability | None) -> dict[str, Any]:
    """The PRV's numbers as flat ``prv_*`` columns (``None`` without one), issue 12."""
    keys = ("rmssd_ms", "sdnn_ms", "pnn50_percent", "beats_used", "rejected_share", "confidence")
    values = prv.as_dict() if prv is not None else {}
    return {f"prv_{k}": values.get(k) for k in keys}
