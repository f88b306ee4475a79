"""FaceTracker: the stable enlarged box, crops, skin masks, gray frames, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import running_in_ci
from rppg_sdk.face import FaceTracker, FaceTrackerOptions, mediapipe_available, validate_frame
from skimage import data

# mediapipe is a runtime dependency: under CI its absence fails these tests instead of hiding them.
DETECTORS = ["haar"] + (["mediapipe"] if mediapipe_available() or running_in_ci() else [])


@pytest.fixture(scope="module")
def face_bgr() -> np.ndarray:
    # scikit-image's astronaut (public domain), 320x240 BGR.
    return cv2.cvtColor(cv2.resize(data.astronaut(), (320, 240)), cv2.COLOR_RGB2BGR)


def _shift(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("detector", DETECTORS)
def test_box_is_enlarged_and_crop_has_requested_size(face_bgr: np.ndarray, detector: str) -> None:
    with FaceTracker(FaceTrackerOptions(detector=detector, crop_size=64)) as tr:
        obs = tr.update(face_bgr)
    assert obs is not None
    x, y, w, h = obs.box_xywh
    # The astronaut's face is about 50-100 px wide at this size; enlarged by 1.5 it is more.
    assert 60 <= w <= 200 and 60 <= h <= 200
    # The box is centred on the face (upper middle of the image).
    assert 90 <= x + w / 2 <= 190 and 40 <= y + h / 2 <= 140
    assert obs.crop.shape == (64, 64, 3) and obs.crop.dtype == np.uint8
    assert obs.moved


@pytest.mark.parametrize("detector", DETECTORS)
def test_box_stays_for_small_motion_and_moves_for_large(
    face_bgr: np.ndarray, detector: str
) -> None:
    with FaceTracker(FaceTrackerOptions(detector=detector, detect_every_n_frames=1)) as tr:
        first = tr.update(face_bgr)
        assert first is not None
        small = tr.update(_shift(face_bgr, 3, 2))
        assert small is not None and not small.moved and small.box_xywh == first.box_xywh
        big = tr.update(_shift(face_bgr, 60, 0))
        assert big is not None and big.moved
        assert big.box_xywh[0] > first.box_xywh[0] + 30


def test_detects_every_n_frames_only(face_bgr: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    tr = FaceTracker(FaceTrackerOptions(detector="haar", detect_every_n_frames=4))
    calls = []
    real = tr._detector.detect
    monkeypatch.setattr(tr._detector, "detect", lambda rgb: calls.append(1) or real(rgb))
    for _ in range(12):
        assert tr.update(face_bgr) is not None
    assert len(calls) == 3
    tr.close()


def test_gray_frames_keep_one_channel(face_bgr: np.ndarray) -> None:
    gray = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2GRAY)
    with FaceTracker() as tr:
        obs = tr.update(gray)
        obs1 = tr.update(gray[:, :, None])
    assert obs is not None and obs.crop.shape == (72, 72, 1)
    assert obs1 is not None and obs1.crop.shape == (72, 72, 1)


@pytest.mark.skipif(
    not mediapipe_available() and not running_in_ci(), reason="mediapipe 0.10.x is not installed"
)
def test_skin_mask_covers_cheeks_not_background(face_bgr: np.ndarray) -> None:
    with FaceTracker(FaceTrackerOptions(detector="mediapipe")) as tr:
        obs = tr.update(face_bgr)
    assert obs is not None and obs.skin_mask is not None
    m = obs.skin_mask
    assert m.shape == (72, 72) and m.dtype == np.float32
    assert 0.02 < float(m.mean()) < 0.4
    # Nothing on the crop's border ring (background, hair, collar).
    assert float(m[:6].max()) == 0.0 and float(m[-6:].max()) == 0.0


def test_no_face_then_face_again(face_bgr: np.ndarray) -> None:
    blank = np.full_like(face_bgr, 128)
    with FaceTracker(FaceTrackerOptions(detect_every_n_frames=3)) as tr:
        assert tr.update(face_bgr) is not None
        results = [tr.update(blank) for _ in range(4)]
        # One missed detection is tolerated (a dropout), a second one reports no face.
        assert results[-1] is None
        assert tr.update(face_bgr) is not None


def test_box_reaching_past_the_frame_is_padded() -> None:
    img = cv2.cvtColor(cv2.resize(data.astronaut(), (320, 240)), cv2.COLOR_RGB2BGR)
    corner = img[0:150, 80:230]  # the face near the top edge: the enlarged box leaves the frame
    with FaceTracker(FaceTrackerOptions(detector="haar")) as tr:
        obs = tr.update(np.ascontiguousarray(corner))
    if obs is None:
        pytest.skip("Haar found no face on the cut image")
    assert obs.crop.shape == (72, 72, 3)


@pytest.mark.parametrize(
    ("frame", "exc", "words"),
    [
        (np.zeros((120, 160, 3), np.float32), TypeError, "uint8"),
        (np.zeros((120, 160, 4), np.uint8), ValueError, "(H, W, 3)"),
        (np.zeros((0, 160, 3), np.uint8), ValueError, "8x8"),
        (np.zeros((120,), np.uint8), ValueError, "shape"),
        ([[1, 2], [3, 4]], TypeError, "numpy array"),
    ],
)
def test_bad_frames_are_clear_errors(frame: object, exc: type[Exception], words: str) -> None:
    with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)")):
        validate_frame(frame)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="detect_every_n_frames"):
        FaceTrackerOptions(detect_every_n_frames=0)
    with pytest.raises(ValueError, match="detector"):
        FaceTrackerOptions(detector="yolo")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="crop_size"):
        FaceTrackerOptions(crop_size=4)
