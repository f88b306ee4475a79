"""Bring your own face: the caller's face boxes (a driver-monitoring system's tracker) instead of
the SDK's detector.

``HeartRateMonitor.process(frame, timestamp_s, face_box_xywh=(x, y, w, h))`` hands the face's
own box (brow to chin, as a face detector gives it, in frame pixels). The SDK treats it exactly
like one of its own detections (:mod:`rppg_sdk.face`): enlarged by ``face.box_scale`` about its
centre into a *stable* box that moves only when the caller's box leaves it, because every
re-alignment is a step in the skin-colour trace and a tracker's box jitters by a few pixels on
every frame. No detector runs for a frame with a box.

Frames without a box depend on :class:`FaceSource`:

``FaceSource.AUTO`` (default)
    the SDK's own tracker looks for the face (mediapipe or Haar). Mixing is allowed frame by
    frame; switching source places the box anew (a step the pulse chain removes).
``FaceSource.CALLER``
    no box means no face on that frame (the DMS lost it: a hand, a head turn). No detector is
    ever loaded. Short losses are bridged (``MonitorOptions.face_loss_bridge_s``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk import face as _face
from rppg_sdk.roi import FaceRoi, SkinObservation, SkinSource

__all__ = ["BoxedFaceRoi", "FaceSource", "check_face_box"]

Box = tuple[float, float, float, float]


class FaceSource(str, Enum):
    """Where the face box of a frame comes from when the caller gives none."""

    AUTO = "auto"
    """A box given is used; without one the SDK's face tracker finds the face."""
    CALLER = "caller"
    """Only the caller's boxes: a frame without one has no face. No detector is loaded."""


def check_face_box(box: object, frame_shape: Sequence[int]) -> Box:
    """Validate a caller's face box and clip it to the frame.

    Parameters
    ----------
    box
        ``(x, y, w, h)`` in frame pixels: four real numbers (a tuple, list or numpy array).
    frame_shape
        ``(H, W, ...)`` of the frame the box belongs to.

    Returns
    -------
    tuple of float
        The box clipped to the frame (a box partly outside keeps its inside part).

    Raises
    ------
    TypeError
        Not a sequence of four real numbers (bools and strings included).
    ValueError
        Not finite, zero or negative width or height, or no overlap with the frame.
    """
    if isinstance(box, str | bytes) or not isinstance(box, Sequence | np.ndarray):
        raise TypeError(
            f"face_box_xywh: expected (x, y, w, h) as four numbers, got {type(box).__name__}"
        )
    values = list(np.asarray(box).reshape(-1)) if isinstance(box, np.ndarray) else list(box)
    if len(values) != 4:
        raise ValueError(f"face_box_xywh: expected four numbers (x, y, w, h), got {len(values)}")
    for v in values:
        if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real):
            raise TypeError(
                f"face_box_xywh: expected real numbers (x, y, w, h), got {type(v).__name__} "
                f"in {box!r}"
            )
    x, y, w, h = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f"face_box_xywh: expected finite numbers, got {box!r}")
    if w <= 0 or h <= 0:
        raise ValueError(
            f"face_box_xywh: expected a positive width and height, got w={w:g}, h={h:g}"
        )
    fh, fw = float(frame_shape[0]), float(frame_shape[1])
    x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(fw, x + w), min(fh, y + h)
    if x1 - x0 < 1.0 or y1 - y0 < 1.0:
        raise ValueError(
            f"face_box_xywh: the box {box!r} lies outside the {int(fw)}x{int(fh)} frame"
        )
    return (x0, y0, x1 - x0, y1 - y0)


class BoxedFaceRoi(SkinSource):
    """Skin from the caller's face boxes, with the SDK's tracker (``tracker``) for frames
    without one, or none (``FaceSource.CALLER``).

    Parameters
    ----------
    options
        Face-tracker options: ``box_scale`` and ``crop_size`` shape the caller's boxes too.
    tracker
        The SDK's face source for frames without a box, or ``None`` (no box: no face).
    """

    def __init__(self, options: _face.FaceTrackerOptions, tracker: FaceRoi | None) -> None:
        super().__init__()
        self.options = options
        self.tracker = tracker
        self.detector_name = "caller" if tracker is None else tracker.detector_name
        self._box: Box | None = None  # the stable enlarged box placed from the caller's boxes
        self._levels: Any = None  # uint16 frames: their bit depth (rppg_sdk.frames.LevelScale)

    def update(self, frame: Any, box: Box | None = None) -> SkinObservation | None:
        """The skin of one frame: from ``box`` (already checked by :func:`check_face_box`),
        else from the tracker (or no face)."""
        t = self.tracker
        if t is not None and self.input_channels is None:
            self.input_channels = t.input_channels  # one grey decision, whichever source
        if box is None:
            self._box = None  # the caller's next box is placed anew
            if t is None:
                return None
            obs = t.update(frame)
            self.input_channels = t.input_channels
            return obs
        o = self.options
        moved = self._box is None or not _face._inside(box, self._box)
        if moved:
            self._box = _face._snap(_face._enlarge(box, o.box_scale), o.crop_size)
        assert self._box is not None
        box_i = _face._round_box(self._box)
        crop: npt.NDArray[Any] = _face._crop(frame, box_i, o.crop_size)
        if crop.dtype != np.uint8:
            crop, deeper = self._units(frame, crop)
            moved = moved or deeper
        obs = SkinObservation(
            crop=self._channels(crop), skin_weights=None, box_xywh=box_i, moved=moved
        )
        if t is not None:
            t.input_channels = self.input_channels
        return obs

    def _units(self, frame: Any, crop: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], bool]:
        # Deep (uint16) frames: crops in 8-bit units as float32, as the SDK's tracker makes them.
        from rppg_sdk.frames import LevelScale  # noqa: PLC0415

        if self._levels is None:
            self._levels = LevelScale()
        deeper = bool(self._levels.update(frame))
        return self._levels.units(crop), deeper

    def reset(self) -> None:
        super().reset()
        self._box = None
        if self._levels is not None:
            self._levels.reset()
        if self.tracker is not None:
            self.tracker.reset()

    def close(self) -> None:
        if self.tracker is not None:
            self.tracker.close()
