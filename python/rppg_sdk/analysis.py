"""``PulseAnalyzer``: a pulse window -> tracked heart rate -> confidence -> a reading.

``PulseWindow`` -> the C++ core's ``rppg::PulseAnalyzer`` (spectral tracking across windows,
:mod:`rppg_sdk.tracking`; the evidence, :class:`~rppg_sdk.confidence.ConfidenceInputs`; the
fitted confidence, :class:`~rppg_sdk.confidence.ConfidenceModel`) -> :class:`HeartRateReading`.
The same C++ class analyses the classical chain's windows inside ``rppg::PulseMonitor`` and the
windows a learned model makes, so every reading comes from one implementation.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rppg_sdk import _core
from rppg_sdk.confidence import (
    ConfidenceInputs,
    ConfidenceModel,
    calibrated_model,
    core_coefficients,
)
from rppg_sdk.extractors.base import PulseWindow
from rppg_sdk.reading import HeartRateReading, ReadingStatus
from rppg_sdk.tracking import TrackerOptions, core_tracker_config

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
        the method that made each window). A :class:`ConfidenceModel` is evaluated in the C++
        core; a subclass of it (a caller's own model) is called in Python on the same evidence.
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
        self._confidence = confidence
        self._impl = _core.PulseAnalyzer(
            float(band_hz[0]),
            float(band_hz[1]),
            self.window_s,
            core_tracker_config(tracker),
            self.low_quality_confidence,
            self.waveform_s,
        )

    def reset(self) -> None:
        """Forget the tracked rate (a new face or a new stream)."""
        self._impl.reset()

    def analyze(
        self,
        window: PulseWindow | None,
        timestamp_s: float,
        box_xywh: tuple[int, int, int, int] | None,
        method_name: str,
        input_channels: int,
        face_fraction: float = 1.0,
    ) -> HeartRateReading:
        """The reading at ``timestamp_s``: warming up without a (long enough) window.
        ``face_fraction``: the share of the window with a face (below 1 after a bridged face
        loss: the gap holds no data), a factor of the confidence."""
        if window is None:
            return HeartRateReading(
                timestamp_s=timestamp_s,
                status=ReadingStatus.WARMING_UP,
                face_box_xywh=box_xywh,
                method=method_name,
                window_end_s=timestamp_s,
                input_channels=input_channels,
            )
        model = self._confidence or calibrated_model(window.method_name)
        # The fitted form runs in C++; a subclass (someone's own model) is called below instead.
        core_model = model if type(model) is ConfidenceModel else ConfidenceModel()
        span = window.span_s
        # The skin's traces (BGR, the crops' order, or one channel): the surround's light is
        # weighed against them, and colour ones give the pulse signature.
        traces = window.traces
        skin = (
            np.ascontiguousarray(traces, np.float64)
            if traces is not None and traces.ndim == 2 and traces.shape[1] in (1, 3)
            else None
        )
        r = self._impl.analyze(
            np.ascontiguousarray(window.pulse, dtype=np.float64),
            float(window.fs_hz),
            span,
            int(window.box_moves),
            None if window.reference is None else _rows(window.reference),
            None if window.motion is None else _rows(window.motion),
            core_coefficients(core_model),
            min(1.0, max(0.0, float(face_fraction))),
            None
            if window.classical is None
            else np.ascontiguousarray(window.classical, np.float64),
            skin,
            True,  # crops are BGR
        )
        (snr, ipr, face, moves, frac, edge, ref_share, harmonic, motion, classical, c_harmonic,
         signature) = r["evidence"]  # fmt: skip
        evidence = ConfidenceInputs(
            snr_db=snr,
            irrelevant_power_ratio=ipr,
            face_fraction=face,
            box_moves=moves,
            window_fraction=frac,
            edge_distance_bpm=edge,
            reference_share=ref_share,
            harmonic_ratio=harmonic,
            motion_share=motion,
            classical_share=classical,
            classical_harmonic_ratio=c_harmonic,
            signature_deg=signature,
        )
        conf = float(r["confidence"]) if core_model is model else float(model(evidence))
        status = (
            ReadingStatus.OK if conf >= self.low_quality_confidence else ReadingStatus.LOW_QUALITY
        )
        return HeartRateReading(
            timestamp_s=timestamp_s,
            status=status,
            bpm=float(r["bpm"]),
            confidence=conf,
            snr_db=float(r["snr_db"]),
            irrelevant_power_ratio=float(r["irrelevant_power_ratio"]),
            face_box_xywh=box_xywh,
            waveform=np.asarray(r["waveform"]).astype("float32"),
            waveform_fs_hz=window.fs_hz,
            raw_bpm=float(r["raw_bpm"]),
            method=window.method_name,
            window_s=span,
            window_end_s=window.end_s,
            input_channels=window.input_channels,
            evidence=evidence,
        )


def _rows(x: FloatArray) -> FloatArray:
    """A ``(T, C)`` C-contiguous float64 copy-free view where possible (``(T,)`` -> ``(T, 1)``)."""
    a = np.asarray(x, dtype=np.float64)
    return np.ascontiguousarray(a.reshape(a.shape[0], -1))
