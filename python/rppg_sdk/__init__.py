"""rppg-sdk: heart rate from ordinary camera video (remote photoplethysmography).

The signal chain runs in a C++ core (``rppg_sdk._core``); :mod:`rppg_sdk.dsp` is its typed
Python face.
"""

from rppg_sdk.dsp import (
    DEFAULT_BAND_HZ,
    Beats,
    BreathingRate,
    FrameRingBuffer,
    HarmonicCorrection,
    HeartRateEstimate,
    PulseMethod,
    PulseRateVariability,
    SignalQuality,
    SpectralOptions,
    Spectrum,
    TimeSeriesBuffer,
    UniformSignal,
    bandpass,
    breathing_rate,
    detect_beats,
    detrend,
    estimate_heart_rate,
    extract_pulse,
    power_spectrum,
    pulse_rate_variability,
    resample_uniform,
    signal_quality,
)
from rppg_sdk.events import EventKind, EventOptions, MonitorEvent, PulseLostReason
from rppg_sdk.extractors import Method
from rppg_sdk.face import FaceObservation, FaceTracker, FaceTrackerOptions
from rppg_sdk.face_box import FaceSource
from rppg_sdk.monitor import HeartRateMonitor
from rppg_sdk.occupants import OccupantMonitors
from rppg_sdk.options import MonitorOptions, RunningMode
from rppg_sdk.reading import HeartRateReading, ReadingStatus, ResetReason
from rppg_sdk.roi import SkinRoi

__version__ = "0.1.0"

__all__ = [
    "Beats",
    "BreathingRate",
    "DEFAULT_BAND_HZ",
    "EventKind",
    "EventOptions",
    "FaceObservation",
    "FaceSource",
    "FaceTracker",
    "FaceTrackerOptions",
    "FrameRingBuffer",
    "HarmonicCorrection",
    "HeartRateEstimate",
    "HeartRateMonitor",
    "HeartRateReading",
    "Method",
    "MonitorEvent",
    "MonitorOptions",
    "OccupantMonitors",
    "PulseLostReason",
    "PulseMethod",
    "PulseRateVariability",
    "ReadingStatus",
    "ResetReason",
    "RunningMode",
    "SignalQuality",
    "SkinRoi",
    "SpectralOptions",
    "Spectrum",
    "TimeSeriesBuffer",
    "UniformSignal",
    "bandpass",
    "breathing_rate",
    "detect_beats",
    "detrend",
    "estimate_heart_rate",
    "extract_pulse",
    "power_spectrum",
    "pulse_rate_variability",
    "resample_uniform",
    "signal_quality",
    "__version__",
]
