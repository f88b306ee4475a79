"""rppg-sdk: heart rate from ordinary camera video (remote photoplethysmography).

The signal chain runs in a C++ core (``rppg_sdk._core``); :mod:`rppg_sdk.dsp` is its typed
Python face.
"""

from rppg_sdk.dsp import (
    DEFAULT_BAND_HZ,
    FrameRingBuffer,
    HarmonicCorrection,
    HeartRateEstimate,
    PulseMethod,
    SignalQuality,
    SpectralOptions,
    Spectrum,
    TimeSeriesBuffer,
    UniformSignal,
    bandpass,
    detrend,
    estimate_heart_rate,
    extract_pulse,
    power_spectrum,
    resample_uniform,
    signal_quality,
)
from rppg_sdk.events import EventKind, EventOptions, MonitorEvent, PulseLostReason  # dms
from rppg_sdk.extractors import Method
from rppg_sdk.face import FaceObservation, FaceTracker, FaceTrackerOptions
from rppg_sdk.face_box import FaceSource  # dms
from rppg_sdk.monitor import HeartRateMonitor
from rppg_sdk.occupants import OccupantMonitors  # dms
from rppg_sdk.options import MonitorOptions, RunningMode
from rppg_sdk.reading import HeartRateReading, ReadingStatus, ResetReason
from rppg_sdk.roi import SkinRoi

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_BAND_HZ",
    # dms
    "EventKind",
    "EventOptions",
    "FaceSource",
    "MonitorEvent",
    "OccupantMonitors",
    "PulseLostReason",
    "ResetReason",
    "FaceObservation",
    "FaceTracker",
    "FaceTrackerOptions",
    "FrameRingBuffer",
    "HarmonicCorrection",
    "HeartRateEstimate",
    "HeartRateMonitor",
    "HeartRateReading",
    "Method",
    "MonitorOptions",
    "PulseMethod",
    "ReadingStatus",
    "RunningMode",
    "SkinRoi",
    "SignalQuality",
    "SpectralOptions",
    "Spectrum",
    "TimeSeriesBuffer",
    "UniformSignal",
    "__version__",
    "bandpass",
    "detrend",
    "estimate_heart_rate",
    "extract_pulse",
    "power_spectrum",
    "resample_uniform",
    "signal_quality",
]
