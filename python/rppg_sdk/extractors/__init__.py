"""Pulse extractors: skin observations in, a pulse waveform per analysis window out.

Classical (:mod:`rppg_sdk.extractors.classical`): the mean skin colour of every crop forms
traces; POS, CHROM or GREEN (C++ core, :func:`rppg_sdk.dsp.extract_pulse`) turn them into a
pulse. One-channel (near-infrared or gray) video has no colour differences, so POS and CHROM are
undefined there: the ``MONO`` method uses the one channel's relative change instead.

Models (:mod:`rppg_sdk.extractors.model`): normalised chunks of crops go through a
:class:`~rppg_sdk.backends.Backend`; overlapping chunk outputs are stitched into one waveform.

Both follow :class:`PulseExtractor`; :func:`make_extractor` builds the one a method needs.
"""

from __future__ import annotations

from rppg_sdk import dsp
from rppg_sdk.backends.base import Backend
from rppg_sdk.extractors.base import Method, PulseExtractor, PulseWindow
from rppg_sdk.extractors.classical import (
    ClassicalExtractor,
    face_weights,
    pulse_from_traces,
    skin_means,
)
from rppg_sdk.extractors.model import ChunkStitcher, ModelExtractor, normalize_chunk

__all__ = [
    "ChunkStitcher",
    "ClassicalExtractor",
    "Method",
    "ModelExtractor",
    "PulseExtractor",
    "PulseWindow",
    "face_weights",
    "make_extractor",
    "normalize_chunk",
    "pulse_from_traces",
    "skin_means",
]


def make_extractor(
    method: Method | str,
    *,
    backend: Backend | None = None,
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
    window_s: float = 10.0,
    fps: float = 30.0,
    box_scale: float = 1.5,
    chunk_frames: int = 128,
    overlap_frames: int = 32,
    live: bool = False,
    remove_reference: bool = False,
) -> ClassicalExtractor | ModelExtractor:
    """The extractor for ``method`` (``Method.MODEL`` needs ``backend``).

    Parameters
    ----------
    method
        A :class:`Method` or its value.
    backend
        The model runtime for ``Method.MODEL`` (its owner closes it).
    band_hz, window_s, fps
        Heart-rate band, longest analysis window and expected camera rate.
    box_scale
        Classical: the face box enlargement (places the default face ellipse).
    chunk_frames, overlap_frames, live
        Models: see :class:`~rppg_sdk.extractors.model.ModelExtractor`.
    remove_reference
        Regress the surround's light out of the skin traces (classical pulses, and a model's
        classical evidence); otherwise the surround only informs the confidence.
    """
    try:
        m = Method(method)
    except ValueError:
        names = ", ".join(repr(x.value) for x in Method)
        raise ValueError(f"method: expected one of {names}, got {method!r}") from None
    if m is Method.MODEL:
        if backend is None:
            raise ValueError("backend: Method.MODEL needs a backend")
        return ModelExtractor(
            backend, chunk_frames, overlap_frames, window_s=window_s, fps=fps, live=live,
            band_hz=band_hz, box_scale=box_scale, remove_reference=remove_reference,
        )  # fmt: skip
    return ClassicalExtractor(
        m, band_hz=band_hz, window_s=window_s, box_scale=box_scale, fps=fps,
        remove_reference=remove_reference,
    )  # fmt: skip
