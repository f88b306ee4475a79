"""Face tracking for rPPG: a stable, enlarged face box, a square crop and skin regions.

The papers' preprocessing (Gideon & Stent 2021, section 3.1): detect the face, enlarge the box by
50 %, and move that enlarged box only when a new (non-enlarged) detection leaves it. Holding the
box still matters more than following the face closely: every re-alignment is a step in the
mean skin colour, and steps are broadband noise in the pulse spectrum.

Detection runs every ``detect_every_n_frames`` frames (not every frame) with mediapipe's bundled
short-range face detector (offline), or OpenCV's Haar cascade when mediapipe is missing or fails
to import. With mediapipe, face-mesh landmarks give a skin mask (forehead and both cheeks) for
the classical methods; it is recomputed on detection frames only.

Example
-------
>>> with FaceTracker() as tracker:                        # doctest: +SKIP
...     for frame in frames:                                # BGR uint8 (H, W, 3)
...         obs = tracker.update(frame)
...         if obs is not None:
...             crop = obs.crop                             # (72, 72, 3) uint8
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk.frames import LevelScale, validate_frame

__all__ = [
    "FaceObservation",
    "FaceTracker",
    "FaceTrackerOptions",
    "mediapipe_available",
    "validate_frame",
]

_log = logging.getLogger(__name__)

UInt8Array = npt.NDArray[np.uint8]
Float32Array = npt.NDArray[np.float32]

# Face-mesh landmark polygons (mediapipe's 468-point canonical mesh), ordered around each region.
# Forehead: the upper brow contours (image left to right), then a row across mid-forehead (right
# to left; the hairline above it is often covered by hair). The brow edge is pulled up towards
# that row (``_BROW_LIFT``) to keep brow hair out.
_BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
_FOREHEAD_TOP = (333, 299, 337, 151, 108, 69, 104)
_BROW_LIFT = 0.2
# Cheeks below the eyes, beside the nose, above the mouth corners; mirror-image index pairs.
_CHEEK_RIGHT = (117, 118, 101, 36, 205, 187, 123, 50)  # the subject's right (image left)
_CHEEK_LEFT = (346, 347, 330, 266, 425, 411, 352, 280)
# Landmark shift (mean, as a share of the crop side) below which a new mask is not worth the
# step it puts into the skin-colour trace.
_MASK_UPDATE_SHIFT = 0.03
# A missed detection keeps the box for one frame and retries on the next frame; a second miss in
# a row reports no face. One-frame detector dropouts are common and not worth a gap.
_MAX_CONSECUTIVE_MISSES = 1
# Detectors run on a frame downscaled to at most this width: mediapipe's short-range model
# looks at 128x128 anyway, and copying and converting a full frame cost more than detecting.
_DETECT_MAX_WIDTH = 320
# Face mesh (for the skin mask) runs on every n-th detection, and whenever the box moved:
# landmarks of a face inside a still box barely change.
_MESH_EVERY_N_DETECTIONS = 3
# The mesh sees the box at most this size (its model's input is 192x192; larger only costs).
_MESH_MAX_SIDE = 192
# Largest relative change of a box side when snapping it to a multiple of the crop size.
_SNAP_TOLERANCE = 0.1


def mediapipe_available() -> bool:
    """Whether mediapipe's bundled face solutions can be imported here."""
    return _import_mediapipe()[0] is not None


def _import_mediapipe() -> tuple[Any | None, str]:
    """mediapipe, or ``None`` and why it cannot be used."""
    try:
        import mediapipe as mp  # noqa: PLC0415  (optional; heavy import, only when used)

        _ = mp.solutions.face_detection  # absent in mediapipe >= 1.0 (Tasks API only)
        return mp, ""
    except Exception as exc:  # noqa: BLE001  (any import failure means: use the fallback)
        return None, f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class FaceTrackerOptions:
    """How faces are detected, boxed and cropped.

    Parameters
    ----------
    detect_every_n_frames
        Run the detector on every n-th frame (and on every frame while no face is held).
    box_scale
        The detected box is enlarged by this factor about its centre (1.5: +50 %, the papers').
    crop_size
        Side of the square crop in pixels (72; the models take 64).
    detector
        ``"auto"`` (mediapipe when importable, else Haar), ``"mediapipe"`` or ``"haar"``.
    min_detection_confidence
        Detections scoring below this are ignored (mediapipe only).
    skin_regions
        Build a forehead-and-cheeks skin mask from face-mesh landmarks (mediapipe only).
    """

    detect_every_n_frames: int = 5
    box_scale: float = 1.5
    crop_size: int = 72
    detector: Literal["auto", "mediapipe", "haar"] = "auto"
    min_detection_confidence: float = 0.5
    skin_regions: bool = True

    def __post_init__(self) -> None:
        n = self.detect_every_n_frames
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
            raise ValueError(f"detect_every_n_frames: expected an int >= 1, got {n!r}")
        if not isinstance(self.box_scale, int | float) or not 1.0 <= float(self.box_scale) <= 4.0:
            raise ValueError(f"box_scale: expected a number in [1, 4], got {self.box_scale!r}")
        c = self.crop_size
        if not isinstance(c, int | np.integer) or isinstance(c, bool) or not 8 <= c <= 1024:
            raise ValueError(f"crop_size: expected an int in [8, 1024], got {c!r}")
        if self.detector not in ("auto", "mediapipe", "haar"):
            raise ValueError(
                f"detector: expected 'auto', 'mediapipe' or 'haar', got {self.detector!r}"
            )
        conf = self.min_detection_confidence
        if not isinstance(conf, int | float) or not 0.0 <= float(conf) <= 1.0:
            raise ValueError(f"min_detection_confidence: expected a number in [0, 1], got {conf!r}")


@dataclass(frozen=True)
class FaceObservation:
    """The face on one frame.

    Attributes
    ----------
    box_xywh
        The stable enlarged box in frame pixels ``(x, y, w, h)``; it may reach past the frame
        edges (the crop is zero-padded there).
    detection_score
        Score of the detection that placed or last confirmed the box (Haar: 1.0).
    crop
        ``(crop_size, crop_size, C)`` uint8, the box resized (area averaging), with the frame's
        channels (3 for BGR, 1 for gray); float32 in 8-bit units for uint16 frames.
    skin_mask
        ``(crop_size, crop_size)`` float32 in 0..1 (forehead and cheeks) or ``None`` when no
        landmarks are available.
    moved
        The stable box was re-aligned on this frame (a step in the skin-colour trace).
    """

    box_xywh: tuple[int, int, int, int]
    detection_score: float
    crop: UInt8Array
    skin_mask: Float32Array | None
    moved: bool


class _MediapipeDetector:
    def __init__(self, mp: Any, options: FaceTrackerOptions) -> None:
        self._fd = mp.solutions.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=float(options.min_detection_confidence)
        )

    def detect(self, rgb: UInt8Array) -> list[tuple[tuple[float, float, float, float], float]]:
        h, w = rgb.shape[:2]
        result = self._fd.process(rgb)
        out: list[tuple[tuple[float, float, float, float], float]] = []
        for det in result.detections or []:
            rb = det.location_data.relative_bounding_box
            box = (rb.xmin * w, rb.ymin * h, rb.width * w, rb.height * h)
            if box[2] > 1 and box[3] > 1:
                out.append((box, float(det.score[0]) if det.score else 0.0))
        return out

    def close(self) -> None:
        self._fd.close()


class _HaarDetector:
    def __init__(self) -> None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV Haar cascade could not be loaded from {path}")

    def detect(self, rgb: UInt8Array) -> list[tuple[tuple[float, float, float, float], float]]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        min_side = max(16, int(0.1 * min(gray.shape)))
        boxes = self._cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=4, minSize=(min_side, min_side)
        )
        return [((float(x), float(y), float(w), float(h)), 1.0) for (x, y, w, h) in boxes]

    def close(self) -> None:
        pass


class _FaceMesh:
    def __init__(self, mp: Any) -> None:
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=1, refine_landmarks=False
        )

    def landmarks(self, rgb: UInt8Array) -> npt.NDArray[np.float64] | None:
        """(468, 2) landmark pixels in ``rgb`` or None."""
        result = self._mesh.process(rgb)
        if not result.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        lm = result.multi_face_landmarks[0].landmark
        return np.array([(p.x * w, p.y * h) for p in lm], dtype=np.float64)

    def close(self) -> None:
        self._mesh.close()


def _skin_mask(points_crop: npt.NDArray[np.float64], crop_size: int) -> Float32Array:
    """Forehead and cheek polygons from landmarks already in crop pixel coordinates."""
    mask = np.zeros((crop_size, crop_size), np.uint8)
    brows = points_crop[list(_BROWS)]
    top = points_crop[list(_FOREHEAD_TOP)]
    # Lift the brow edge towards the top of the forehead so brow hair stays out.
    top_y = float(np.mean(top[:, 1]))
    lifted = brows.copy()
    lifted[:, 1] += _BROW_LIFT * (top_y - lifted[:, 1])
    polys = [
        np.vstack([lifted, top]),
        points_crop[list(_CHEEK_RIGHT)],
        points_crop[list(_CHEEK_LEFT)],
    ]
    for i, poly in enumerate(polys):
        pts = np.round(poly).astype(np.int32)
        if i == 0:
            cv2.fillPoly(mask, [pts], 255)  # type: ignore[call-overload]
        else:
            cv2.fillConvexPoly(mask, cv2.convexHull(pts), 255)  # type: ignore[call-overload]
    # Soft edges: a pixel half on skin counts half, which keeps the mean smooth as masks change.
    soft = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(0.5, crop_size / 72.0))
    return (soft.astype(np.float32) / 255.0).astype(np.float32)


class FaceTracker:
    """Detect a face every few frames and keep a stable enlarged box around it.

    Parameters
    ----------
    options
        See :class:`FaceTrackerOptions`.

    Notes
    -----
    Not thread-safe: call :meth:`update` from one thread. The mediapipe graphs are created once
    and reused; :meth:`close` frees them.
    """

    def __init__(self, options: FaceTrackerOptions = FaceTrackerOptions()) -> None:  # noqa: B008
        if not isinstance(options, FaceTrackerOptions):
            raise TypeError(f"options: expected FaceTrackerOptions, got {type(options).__name__}")
        self.options = options
        mp, why = (None, "") if options.detector == "haar" else _import_mediapipe()
        if options.detector == "mediapipe" and mp is None:
            raise RuntimeError(
                "detector='mediapipe' but mediapipe (0.10.x with bundled models) cannot be "
                f"imported ({why}); install mediapipe==0.10.21 or use detector='auto'"
            )
        if options.detector == "auto" and mp is None:
            # A broken install would otherwise silently cost accuracy (Haar finds fewer faces
            # and no landmarks): say so where users look.
            msg = (
                f"mediapipe cannot be used ({why}); face detection falls back to OpenCV's Haar "
                "cascade (fewer faces found, no landmark skin mask). Install "
                "mediapipe==0.10.21 or pass detector='haar' to silence this"
            )
            _log.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        self._detector: _MediapipeDetector | _HaarDetector
        self._mesh: _FaceMesh | None = None
        if mp is not None:
            self._detector = _MediapipeDetector(mp, options)
            if options.skin_regions:
                self._mesh = _FaceMesh(mp)
            self.detector_name = "mediapipe"
        else:
            self._detector = _HaarDetector()
            self.detector_name = "haar"
        self._closed = False
        self.reset()

    # ------------------------------------------------------------------ public

    def reset(self) -> None:
        """Forget the face: the next frame runs the detector."""
        self._frame_index = 0
        self._box: tuple[float, float, float, float] | None = None  # stable enlarged box
        self._score = 0.0
        self._misses = 0
        self._detections = 0
        self._mask: Float32Array | None = None
        self._mask_points: npt.NDArray[np.float64] | None = None
        self._frame_shape: tuple[int, ...] | None = None
        self._levels = LevelScale()  # 16-bit frames: the stream's bit depth (nir)

    def update(self, frame: npt.NDArray[np.uint8]) -> FaceObservation | None:
        """Track the face on one frame.

        Parameters
        ----------
        frame
            BGR uint8 ``(H, W, 3)`` or gray ``(H, W)`` / ``(H, W, 1)``, uint8 or uint16
            (10-16-bit sensors: detection sees the frame scaled to 8 bits; the crop keeps
            the precision as float32 in 8-bit units, see :class:`~rppg_sdk.frames.LevelScale`).

        Returns
        -------
        FaceObservation or None
            ``None`` when no face is held on this frame.
        """
        if self._closed:
            raise RuntimeError("FaceTracker is closed")
        img = validate_frame(frame)
        if self._frame_shape is not None and img.shape != self._frame_shape:
            # A new frame size invalidates the box; start over rather than crop garbage.
            self.reset()
        self._frame_shape = img.shape
        # 16-bit frames (nir): detect on 8 bits, crop at full precision; a grown bit depth is a
        # step in the crop's levels, handed on as a move.
        deeper = self._levels.update(img)
        img8 = self._levels.to_uint8(img)

        due = (
            self._box is None
            or self._misses > 0
            or (self._frame_index % self.options.detect_every_n_frames == 0)
        )
        self._frame_index += 1
        moved = False
        if due:
            moved = self._detect(img8)
            if self._box is None:
                return None
        assert self._box is not None
        box_i = _round_box(self._box)
        crop = _crop(img, box_i, self.options.crop_size)
        if crop.dtype != np.uint8:
            crop = self._levels.units(crop)  # type: ignore[assignment]
            moved = moved or deeper
        if due and self._mesh is not None and self._misses == 0:
            self._detections += 1
            if moved or self._mask is None or self._detections % _MESH_EVERY_N_DETECTIONS == 0:
                self._update_mask(_to_rgb(_crop(img8, box_i, _MESH_MAX_SIDE, upscale=False)), moved)
        return FaceObservation(
            box_xywh=box_i,
            detection_score=self._score,
            crop=crop,
            skin_mask=self._mask,
            moved=moved,
        )

    def close(self) -> None:
        """Free the detector (idempotent)."""
        if not self._closed:
            self._closed = True
            self._detector.close()
            if self._mesh is not None:
                self._mesh.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _detect(self, img: UInt8Array) -> bool:
        """Run the detector; update the stable box. Returns whether the box moved."""
        scale = min(1.0, _DETECT_MAX_WIDTH / img.shape[1])
        small = img
        if scale < 1.0:
            resized = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            small = np.asarray(resized, dtype=np.uint8)
            if small.ndim == 2:
                small = small[:, :, None]
        dets = [
            ((x / scale, y / scale, w / scale, h / scale), score)
            for (x, y, w, h), score in self._detector.detect(_to_rgb(small))
        ]
        if not dets:
            self._misses += 1
            if self._box is not None and self._misses > _MAX_CONSECUTIVE_MISSES:
                self._box = None
                self._mask = None
                self._mask_points = None
            return False
        self._misses = 0
        raw, score = self._pick(dets)
        self._score = score
        if self._box is not None and _inside(raw, self._box):
            return False
        self._box = _snap(_enlarge(raw, self.options.box_scale), self.options.crop_size)
        return True

    def _pick(
        self, dets: list[tuple[tuple[float, float, float, float], float]]
    ) -> tuple[tuple[float, float, float, float], float]:
        if self._box is None:
            # A new face: the largest one (the driver / the user nearest the camera).
            return max(dets, key=lambda d: d[0][2] * d[0][3])
        box = self._box
        return max(dets, key=lambda d: _overlap(d[0], box))

    def _update_mask(self, roi: UInt8Array, moved: bool) -> None:
        """Skin mask from face-mesh landmarks on ``roi`` (RGB pixels of the stable box)."""
        assert self._mesh is not None
        lm = self._mesh.landmarks(roi)
        if lm is None:
            return  # keep the previous mask: one failed mesh is no reason for a step
        cs = self.options.crop_size
        pts = lm * (cs / np.array([roi.shape[1], roi.shape[0]], dtype=np.float64))
        if (
            not moved
            and self._mask is not None
            and self._mask_points is not None
            and float(np.mean(np.linalg.norm(pts - self._mask_points, axis=1)))
            < _MASK_UPDATE_SHIFT * cs
        ):
            return
        self._mask_points = pts
        self._mask = _skin_mask(pts, cs)


def _to_rgb(img: UInt8Array) -> UInt8Array:
    if img.shape[2] == 1:
        # Gray / NIR: replicate for the detector only; the crop keeps one channel.
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)  # type: ignore[return-value]


def _enlarge(
    box: tuple[float, float, float, float], scale: float
) -> tuple[float, float, float, float]:
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    return (cx - w * scale / 2.0, cy - h * scale / 2.0, w * scale, h * scale)


def _snap(
    box: tuple[float, float, float, float], crop_size: int
) -> tuple[float, float, float, float]:
    """Round box sides to a multiple of ``crop_size`` where that changes them by <= 10 %.

    The crop is then an exact k x k pixel average, which OpenCV's area resize does about three
    times faster than a fractional one. The centre stays; the enlargement moves by at most 10 %.
    """
    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    w, h = _snap_side(w, crop_size), _snap_side(h, crop_size)
    return (cx - w / 2.0, cy - h / 2.0, w, h)


def _snap_side(side: float, crop_size: int) -> float:
    k = round(side / crop_size)
    if k >= 1 and abs(k * crop_size - side) <= _SNAP_TOLERANCE * side:
        return float(k * crop_size)
    return side


def _inside(
    inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]
) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return x >= ox and y >= oy and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy


def _round_box(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h))))


def _crop(
    img: UInt8Array, box: tuple[int, int, int, int], size: int | None, *, upscale: bool = True
) -> UInt8Array:
    """The box's pixels (zero-padded past the frame edges), resized to ``size`` (area).

    With ``upscale=False`` a box smaller than ``size`` keeps its own size.
    """
    x, y, w, h = box
    fh, fw = img.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    channels = img.shape[2]
    if x1 <= x0 or y1 <= y0:
        roi = np.zeros((h, w, channels), img.dtype)
    else:
        roi = img[y0:y1, x0:x1]
        pads = (y0 - y, y + h - y1, x0 - x, x + w - x1)
        if any(pads):
            roi = cv2.copyMakeBorder(roi, *pads, cv2.BORDER_CONSTANT, value=0)  # type: ignore[call-overload]
            if roi.ndim == 2:
                roi = roi[:, :, None]
    if size is None or (not upscale and max(roi.shape[:2]) <= size):
        return np.ascontiguousarray(roi)
    out = cv2.resize(roi, (size, size), interpolation=cv2.INTER_AREA)
    if out.ndim == 2:
        out = out[:, :, None]
    return out  # type: ignore[return-value]
