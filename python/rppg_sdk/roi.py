"""Where the skin is on each frame: a tracked face (:class:`FaceRoi`) or the whole frame
(:class:`FrameRoi`), handed on as a :class:`SkinObservation`.

Both sources also decide, once per stream from the first crop, whether the video is grey: a
three-channel frame whose channels are equal (near-infrared video as OpenCV decodes it) carries
one channel of information, and POS and CHROM are undefined on it. Grey streams are handed on as
one-channel crops, so every pulse extractor takes its one-channel path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import Enum

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk.face import FaceTracker, FaceTrackerOptions
from rppg_sdk.frames import LevelScale, is_grey

__all__ = [
    "FaceRoi",
    "FrameRoi",
    "SkinObservation",
    "SkinRoi",
    "SkinSource",
    "surround_weights",
]

_log = logging.getLogger(__name__)

UInt8Array = npt.NDArray[np.uint8]
Float32Array = npt.NDArray[np.float32]

# A surround pixel whose (Cr, Cb) lies this far from the face's median skin chroma is not skin.
_NON_SKIN_CHROMA = 10.0
# Fewer reference pixels than this average too little to tell light from noise.
_MIN_REFERENCE_PIXELS = 64.0


class SkinRoi(str, Enum):
    """Which pixels carry the pulse: where the crop comes from and which of its pixels count."""

    FACE = "face"
    """An ellipse over the face inside the stable box (default; no face mesh runs).

    The face moves inside the stable box (the box moves only when the face leaves it), and the
    pixels crossing the ellipse's edge (hair, background) are a small share of its area. On
    synthetic nodding of 8-12 px at 320x240 this keeps POS within about 1 bpm, where the
    landmark mask errs by 5 bpm (``LANDMARKS``), and it is as accurate on still and real faces.
    """
    LANDMARKS = "landmarks"
    """The face tracker's forehead-and-cheek mask from face-mesh landmarks (mediapipe only;
    ``FACE`` without it). Purer skin, but the mesh runs only every few detections, so the mask
    lags a moving face, and being small, the hair and brows that move across its edges are a
    large share of it: a motion artefact at the nodding rate and its harmonics."""
    FRAME = "frame"
    """Every whole frame is skin: video already cropped to skin (a patch of forehead or cheek,
    or a driver-monitoring system that crops the face itself). No face detection runs."""


@dataclass(frozen=True)
class SkinObservation:
    """The skin on one frame.

    Attributes
    ----------
    crop
        ``(S, S, C)`` uint8 square crop; ``C`` is 1 for one-channel and grey streams
        (float32 in 8-bit units for uint16 frames: their precision kept).
    skin_weights
        ``(S, S)`` float32 pixel weights, or ``None``: no mask, the extractor uses its own
        default (an ellipse over the face).
    box_xywh
        Where the crop came from in frame pixels.
    moved
        The box was re-aligned on this frame (a step in the skin-colour trace).
    reference_weights
        ``(S, S)`` float32 weights of a region beside the skin that holds none (background and
        hair around a face), or ``None`` (the whole frame is skin). It sees the light without the
        pulse: :mod:`rppg_sdk.illumination`.
    """

    crop: UInt8Array
    skin_weights: Float32Array | None
    box_xywh: tuple[int, int, int, int]
    moved: bool
    reference_weights: Float32Array | None = None


def surround_weights(crop_size: int, box_scale: float) -> Float32Array:
    """The ring of a face crop outside the face: pixels beyond an ellipse 1.3 times the face's.

    The crop is the face box enlarged ``box_scale`` times, so the face fills its central
    ``1 / box_scale``; the margin between face and ring keeps a moving face's edge out of it.
    """
    c = (crop_size - 1) / 2.0
    yy, xx = np.mgrid[0:crop_size, 0:crop_size].astype(np.float64)
    rx = 1.3 * 0.42 * crop_size / box_scale
    ry = 1.3 * 0.5 * crop_size / box_scale
    outside = ((xx - c) / rx) ** 2 + ((yy - c) / ry) ** 2 > 1.0
    return np.asarray(outside, dtype=np.float32)


def _non_skin(crop: UInt8Array, surround: Float32Array, box_scale: float) -> Float32Array | None:
    if crop.shape[2] != 3 or is_grey(crop):
        return None
    ycc = cv2.cvtColor(crop, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    s = crop.shape[0]
    c = (s - 1) / 2.0
    yy, xx = np.mgrid[0:s, 0:s]
    face = ((xx - c) / (0.3 * s / box_scale)) ** 2 + ((yy - c) / (0.35 * s / box_scale)) ** 2 <= 1
    skin_crcb = np.median(ycc[face][:, 1:], axis=0)
    dist = np.linalg.norm(ycc[:, :, 1:] - skin_crcb, axis=2)
    luma = ycc[:, :, 0]
    # Far from the skin's chroma, or too dark / saturated to carry a pulse measurably.
    other = (dist > _NON_SKIN_CHROMA) | (luma < 25.0) | (luma > 245.0)
    weights = (surround * other).astype(np.float32)
    return weights if float(weights.sum()) >= _MIN_REFERENCE_PIXELS else None


class SkinSource:
    """Shared part of the ROI sources: the per-stream grey decision."""

    detector_name = "none"

    def __init__(self) -> None:
        self.input_channels: int | None = None
        """Channels handed on in this stream (1 or 3); ``None`` before the first crop."""

    def _channels(self, crop: UInt8Array) -> UInt8Array:
        if self.input_channels is None:
            grey = is_grey(crop)
            self.input_channels = 1 if grey else 3
            if grey and crop.shape[2] == 3:
                _log.info(
                    "three-channel frames with equal channels (grey / near-infrared video): "
                    "measuring the one channel"
                )
        if self.input_channels == 1 and crop.shape[2] == 3:
            return np.ascontiguousarray(crop[:, :, 1:2])
        return crop

    def update(self, frame: UInt8Array) -> SkinObservation | None:
        raise NotImplementedError

    def reset(self) -> None:
        """Start a new stream (the grey decision is made again)."""
        self.input_channels = None

    def close(self) -> None:
        """Free what the source holds (idempotent)."""


class FaceRoi(SkinSource):
    """Skin from a tracked face (:class:`~rppg_sdk.face.FaceTracker`).

    Parameters
    ----------
    options
        Face-tracker options; the face mesh runs only for ``SkinRoi.LANDMARKS``.
    skin_roi
        ``FACE`` (no mask: the extractor's ellipse) or ``LANDMARKS`` (the mesh's mask).
    reference
        Hand on the non-skin surround of the face as ``reference_weights``.
    """

    def __init__(
        self,
        options: FaceTrackerOptions,
        skin_roi: SkinRoi = SkinRoi.FACE,
        *,
        reference: bool = False,
    ) -> None:
        super().__init__()
        self.reference = bool(reference)
        self.landmarks = skin_roi is SkinRoi.LANDMARKS
        if not self.landmarks:
            options = replace(options, skin_regions=False)  # no mesh to run for the ellipse
        self.tracker = FaceTracker(options)
        self.options = self.tracker.options
        self.detector_name = self.tracker.detector_name
        self._surround = surround_weights(self.options.crop_size, self.options.box_scale)
        self._reference: Float32Array | None = None

    def update(self, frame: UInt8Array) -> SkinObservation | None:
        obs = self.tracker.update(frame)
        if obs is None:
            return None
        return SkinObservation(
            crop=self._channels(obs.crop),
            skin_weights=obs.skin_mask if self.landmarks else None,
            box_xywh=obs.box_xywh,
            moved=obs.moved,
            reference_weights=self._reference_weights(obs.crop, obs.moved),
        )

    def _reference_weights(self, crop: UInt8Array, moved: bool) -> Float32Array | None:
        # Decided when the box is placed: the surround's pixels whose colour is far from the
        # face's skin. A close-up face's surround is forehead, jaw and neck: skin that pulses,
        # which would make the "light" the pulse itself. Grey video has no colour to tell skin
        # by: no reference there.
        if not self.reference:
            return None
        if moved or self._reference is None:
            self._reference = _non_skin(crop, self._surround, self.options.box_scale)
        return self._reference

    def reset(self) -> None:
        super().reset()
        self.tracker.reset()

    def close(self) -> None:
        self.tracker.close()


class FrameRoi(SkinSource):
    """The whole frame is skin: resized to ``crop_size`` (area averaging), all weights one.

    Parameters
    ----------
    crop_size
        Side of the square crop (a model's input size for models).
    """

    def __init__(self, crop_size: int) -> None:
        super().__init__()
        self.crop_size = int(crop_size)
        self._weights = np.ones((self.crop_size, self.crop_size), np.float32)
        self._levels = LevelScale()

    def update(self, frame: UInt8Array) -> SkinObservation:
        h, w = frame.shape[:2]
        s = self.crop_size
        # 16-bit frames (nir): the crop keeps their precision as float32 in 8-bit units.
        deeper = self._levels.update(frame)
        crop: UInt8Array = np.asarray(
            cv2.resize(frame, (s, s), interpolation=cv2.INTER_AREA), dtype=frame.dtype
        ).reshape(s, s, -1)
        if crop.dtype != np.uint8:
            crop = self._levels.units(crop)  # type: ignore[assignment]
        return SkinObservation(
            crop=self._channels(crop),
            skin_weights=self._weights,
            box_xywh=(0, 0, int(w), int(h)),
            moved=deeper,
        )

    def reset(self) -> None:
        super().reset()
        self._levels.reset()
