"""The one spelling of "method", and what every pulse extractor offers the monitor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from rppg_sdk.roi import SkinObservation

__all__ = ["Method", "PulseExtractor", "PulseWindow"]

FloatArray = npt.NDArray[np.float64]


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

    @property
    def is_classical(self) -> bool:
        return self is not Method.MODEL


@dataclass(frozen=True)
class PulseWindow:
    """The pulse over one analysis window.

    Attributes
    ----------
    times_s
        Times of the samples the window was built from (camera frames for classical methods,
        stitched model samples for models), oldest first.
    pulse
        The pulse waveform on a uniform grid at ``fs_hz`` (float64).
    fs_hz
        Rate of ``pulse``.
    box_moves
        Re-alignments of the face box inside the window (steps in the colour traces).
    method_name
        The method that made ``pulse`` (``"mono"`` after the one-channel fallback).
    input_channels
        1 (one-channel or grey video) or 3 (colour).
    traces
        The skin's un-detrended per-channel mean traces ``(T, C)`` on the same grid as ``pulse``
        (crop channel order; for models, read beside the model), or ``None``.
    reference
        The mean traces ``(T, C)`` of a non-skin region beside the skin on the same grid
        (:mod:`rppg_sdk.illumination`), or ``None`` when the ROI has none.
    motion
        The face's position inside the crop ``(T, 2)`` (x, y in crop pixels) on the same grid,
        or ``None`` where it is not measured.
    classical
        Learned models: a classical pulse (POS, or ``"mono"`` on one channel) from the same
        skin on the same grid ``(T,)``, the evidence that the model's rate is in the skin's
        colour (``ConfidenceInputs.classical_share``); ``None`` for classical methods.
    """

    times_s: FloatArray
    pulse: FloatArray
    fs_hz: float
    box_moves: int
    method_name: str
    input_channels: int
    traces: FloatArray | None = None
    reference: FloatArray | None = None
    motion: FloatArray | None = None
    classical: FloatArray | None = None

    @property
    def span_s(self) -> float:
        """Seconds between the first and the newest sample."""
        return float(self.times_s[-1] - self.times_s[0]) if self.times_s.size >= 2 else 0.0

    @property
    def end_s(self) -> float:
        """Time of the newest sample."""
        return float(self.times_s[-1])


class PulseExtractor(Protocol):
    """Skin observations in, pulse windows out."""

    @property
    def method_name(self) -> str:
        """``"pos"``, ``"mono"``, ``"physnet"``, ...: what :meth:`pulse_window` will run."""
        ...

    def push(self, obs: SkinObservation, timestamp_s: float) -> None:
        """Add the skin of one frame (timestamps strictly increase between resets)."""
        ...

    def pulse_window(
        self, end_s: float, window_s: float, min_window_s: float
    ) -> PulseWindow | None:
        """The pulse over the newest ``window_s`` up to ``end_s``; ``None`` while less than
        ``min_window_s`` of data is in."""
        ...

    def reset(self) -> None:
        """Forget all data (a new face or a new stream); work in flight is discarded."""
        ...

    def close(self) -> None:
        """Free threads and runtimes the extractor owns (idempotent)."""
        ...
