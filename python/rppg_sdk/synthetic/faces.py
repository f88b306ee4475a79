"""Face pictures the renderer can animate, their face boxes and their skin.

Every face here ships with a dependency under a permissive licence, loads offline, and is
imported lazily:

============  ====================================================  ======================
name          source                                                licence
============  ====================================================  ======================
astronaut     ``skimage.data.astronaut()`` (Eileen Collins, NASA)   public domain
astronaut_    the same picture mirrored: the key light comes from   public domain
mirrored      the other side, so shading differs
============  ====================================================  ======================

No other permissively licensed colour face ships with PyPI or Debian packages this project can
depend on (``skimage.data.lfw_subset`` holds 25x25 grey crops of news photographs without a
licence; ``skimage.data.camera`` has no detectable frontal face). Variety comes from physics
instead: skin type (:mod:`rppg_sdk.synthetic.skin`), size, resolution, light and motion.
"""

from __future__ import annotations

import functools
import os

import cv2
import numpy as np
import numpy.typing as npt

UInt8Array = npt.NDArray[np.uint8]

__all__ = ["available_faces", "detect_face", "ellipse", "face_picture", "skin_mask"]

_FACES = ("astronaut", "astronaut_mirrored")


def available_faces() -> tuple[str, ...]:
    """Names accepted by ``SyntheticClipSpec(face=...)``."""
    return _FACES


def face_picture(name: str) -> tuple[UInt8Array, tuple[float, float, float, float]]:
    """A named face picture (BGR uint8, read-only) and its face box ``(x, y, w, h)``.

    Raises
    ------
    ValueError
        ``name`` is not one of :func:`available_faces`.
    ImportError
        The picture's package (scikit-image) is not installed.
    """
    if name not in _FACES:
        raise ValueError(f"face: expected one of {', '.join(_FACES)}, got {name!r}")
    return _named(name)


@functools.lru_cache(maxsize=len(_FACES))
def _named(name: str) -> tuple[UInt8Array, tuple[float, float, float, float]]:
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f'the {name!r} face needs scikit-image: pip install "rppg-sdk[demo]"'
        ) from exc
    image = np.asarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), dtype=np.uint8)  # type: ignore[no-untyped-call]
    if name == "astronaut_mirrored":
        image = np.ascontiguousarray(image[:, ::-1])
    image.flags.writeable = False
    return image, detect_face(image)


def detect_face(image_bgr: UInt8Array) -> tuple[float, float, float, float]:
    """Largest frontal face (Haar cascade), or the picture's centre taken as a face crop."""
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    min_side = max(24, min(gray.shape) // 10)
    faces = (
        ()
        if cascade.empty()
        else cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
        )
    )
    if len(faces) == 0:
        h, w = gray.shape
        return 0.2 * w, 0.2 * h, 0.6 * w, 0.6 * h
    x, y, w, h = max(faces, key=lambda f: int(f[2]) * int(f[3]))
    return float(x), float(y), float(w), float(h)


def skin_mask(
    image_bgr: UInt8Array, face: tuple[float, float, float, float]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Soft skin masks: skin colour in YCrCb near the face's own skin colour.

    Returns the mask of the face's skin (inside the face region: what pulses) and of all
    skin-coloured pixels in the picture (what a skin type recolours: neck and ears too).

    The YCrCb box (Cr 133-173, Cb 77-127; Chai & Ngan 1999) alone also takes blond hair and
    warm backgrounds, so pixels must also lie within ~2.5 standard deviations (in CrCb) of the
    cheeks-and-nose patch, which is nearly all skin in any frontal face box. When that patch
    itself falls mostly outside the box (an unusual camera white balance or a colour-shifted
    picture), the box is dropped and the face's own statistics decide alone.
    """
    fx, fy, fw, fh = face
    ycc = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    cr, cb = ycc[..., 1], ycc[..., 2]
    in_box = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    h, w = cr.shape
    y0, y1 = int(max(fy + 0.4 * fh, 0)), int(min(fy + 0.75 * fh, h))
    x0, x1 = int(max(fx + 0.2 * fw, 0)), int(min(fx + 0.8 * fw, w))
    patch = np.stack([cr[y0:y1, x0:x1].ravel(), cb[y0:y1, x0:x1].ravel()], axis=1)
    if patch.shape[0] >= 10:
        mean = patch.mean(axis=0)
        cov = np.cov(patch, rowvar=False) + np.eye(2) * 4.0  # floor: flat skin, JPEG'd sources
        inv = np.linalg.inv(cov)
        d = np.stack([cr - mean[0], cb - mean[1]], axis=-1)
        maha2 = np.einsum("...i,ij,...j->...", d, inv, d)
        colour = np.clip((3.0 - np.sqrt(maha2)) / 1.0, 0.0, 1.0)
    else:
        colour = np.ones_like(cr)
    patch_in_box = in_box[y0:y1, x0:x1]
    if patch_in_box.size and patch_in_box.mean() < 0.6:
        in_box = np.ones_like(in_box)
    colour_mask = in_box.astype(np.float32) * colour.astype(np.float32)
    # The face region: the detected box (brow to chin), a little wider for the cheeks and
    # lower for the jaw; not higher, where hair of skin-like colour begins.
    region = ellipse((h, w), (fx + 0.5 * fw, fy + 0.58 * fh), (0.55 * fw, 0.56 * fh))
    sigma = max(0.8, 0.015 * fh)
    blur = functools.partial(cv2.GaussianBlur, ksize=(0, 0), sigmaX=sigma)
    return (
        np.asarray(blur(colour_mask * region), dtype=np.float32),
        np.asarray(blur(colour_mask), dtype=np.float32),
    )


def ellipse(
    shape_hw: tuple[int, int], center_xy: tuple[float, float], axes_xy: tuple[float, float]
) -> npt.NDArray[np.float32]:
    """Binary filled ellipse, float32 0/1."""
    yy, xx = np.mgrid[0 : shape_hw[0], 0 : shape_hw[1]].astype(np.float32)
    d = ((xx - center_xy[0]) / axes_xy[0]) ** 2 + ((yy - center_xy[1]) / axes_xy[1]) ** 2
    return np.asarray(d <= 1.0, dtype=np.float32)
