"""Pulse-rate variability and breathing rate on the monitor's readings (issue 12).

At each reading the extractor is asked for a long pulse window (``MonitorOptions.prv_window_s``,
60 s by default) and :func:`rppg_sdk.dsp.pulse_rate_variability` and
:func:`rppg_sdk.dsp.breathing_rate` run on it. A reading carries them only once there is enough
skin signal (``min_prv_s``, ``min_breathing_s``) and only when their confidence reaches
``vitals_min_confidence``: until then ``reading.prv`` and ``reading.breathing_rate_bpm`` are
``None``. The extractor's history is what bounds the window: the classical trace buffer keeps
at least 64 s (``extractors.classical.MIN_BUFFER_WINDOW_S``) at up to 120 fps, the model
extractor ``window_s + 30`` s of stitched pulse (40 s by default); a shorter history simply
gives a shorter window, and ``None`` below the minimums.

From video the beat intervals are pulse-wave intervals, not ECG R-R intervals: this is
pulse-rate variability (PRV), not heart-rate variability (HRV).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rppg_sdk import dsp

if TYPE_CHECKING:
    from rppg_sdk.extractors import PulseExtractor
    from rppg_sdk.options import MonitorOptions
    from rppg_sdk.reading import HeartRateReading

__all__ = ["Vitals", "annotate_vitals", "measure_vitals"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vitals:
    """What :func:`measure_vitals` found in one pulse window.

    Attributes
    ----------
    prv
        Pulse-rate variability, ``None`` with less than ``min_prv_s`` of pulse or a confidence
        below ``vitals_min_confidence``.
    breathing_rate_bpm
        Breaths per minute, ``None`` with less than ``min_breathing_s`` of pulse or a
        confidence below ``vitals_min_confidence``.
    breathing_confidence
        The breathing estimate's confidence (0..1), also when it was too low to report the
        rate; ``None`` when there was too little pulse to estimate it.
    window_s
        Seconds of pulse the window held (0 when the extractor had none).
    """

    prv: dsp.PulseRateVariability | None = None
    breathing_rate_bpm: float | None = None
    breathing_confidence: float | None = None
    window_s: float = 0.0


_NONE = Vitals()


def measure_vitals(ext: PulseExtractor, timestamp_s: float, o: MonitorOptions) -> Vitals:
    """PRV and breathing rate over the newest ``o.prv_window_s`` of ``ext``'s pulse.

    Never raises on a short or odd window: whatever the core refuses (too few samples, a pulse
    with no beats) is reported as ``None``.
    """
    if not o.vitals:
        return _NONE
    need_s = min(o.min_prv_s, o.min_breathing_s)
    window = ext.pulse_window(timestamp_s, o.prv_window_s, need_s)
    if window is None:
        return _NONE
    span_s = window.span_s
    pulse, fs = window.pulse, float(window.fs_hz)
    band = (o.band_hz[0], min(o.band_hz[1], 0.45 * fs))
    prv: dsp.PulseRateVariability | None = None
    rate: float | None = None
    conf: float | None = None
    try:
        if span_s + 1e-6 >= o.min_prv_s:
            p = dsp.pulse_rate_variability(pulse, fs, band_hz=band)
            if p.confidence >= o.vitals_min_confidence:
                prv = p
        if span_s + 1e-6 >= o.min_breathing_s:
            b = dsp.breathing_rate(pulse, fs, band_hz=band)
            conf = b.confidence
            if b.breaths_per_min is not None and b.confidence >= o.vitals_min_confidence:
                rate = b.breaths_per_min
    except ValueError as exc:  # a window the core cannot use (e.g. too short at this rate)
        _log.debug("vitals skipped at %.2f s: %s", timestamp_s, exc)
    return Vitals(prv, rate, conf, span_s)


def annotate_vitals(
    reading: HeartRateReading, ext: PulseExtractor, timestamp_s: float, o: MonitorOptions
) -> HeartRateReading:
    """``reading`` with :func:`measure_vitals`'s PRV and breathing rate filled in."""
    v = measure_vitals(ext, timestamp_s, o)
    if v is _NONE:
        return reading
    return replace(
        reading,
        prv=v.prv,
        breathing_rate_bpm=v.breathing_rate_bpm,
        breathing_confidence=v.breathing_confidence,
    )
