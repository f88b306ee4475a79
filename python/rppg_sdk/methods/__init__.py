"""Ways to turn a face into a pulse waveform: classical colour methods and learned models.

Classical (:mod:`rppg_sdk.methods.classical`): the mean skin colour of every face crop forms
traces; POS, CHROM or GREEN (C++ core, :func:`rppg_sdk.dsp.extract_pulse`) turn them into a
pulse. One-channel (near-infrared or gray) cameras have no colour differences, so POS and CHROM
are undefined there: the ``MONO`` method uses the one channel's relative change instead.

Models (:mod:`rppg_sdk.methods.model`): normalised chunks of face crops go through a
:class:`~rppg_sdk.backends.Backend`; overlapping chunk outputs are stitched into one waveform.
"""

from __future__ import annotations

from enum import Enum

from rppg_sdk.methods.classical import (
    CLASSICAL_METHODS,
    face_weights,
    pulse_from_traces,
    skin_means,
)
from rppg_sdk.methods.model import ChunkStitcher, normalize_chunk

__all__ = [
    "CLASSICAL_METHODS",
    "ChunkStitcher",
    "Method",
    "face_weights",
    "normalize_chunk",
    "pulse_from_traces",
    "skin_means",
]


class Method(str, Enum):
    """How the monitor extracts the pulse."""

    POS = "pos"
    """Plane orthogonal to skin (Wang et al. 2017); colour frames only."""
    CHROM = "chrom"
    """Chrominance (de Haan & Jeanne 2013); colour frames only."""
    GREEN = "green"
    """Green channel (Verkruysse et al. 2008)."""
    MONO = "mono"
    """The single channel of a near-infrared / gray camera (relative intensity change)."""
    MODEL = "model"
    """A learned model through a backend (``MonitorOptions.model``)."""
