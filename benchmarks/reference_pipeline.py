"""The monitor's job done the way the rPPG-Toolbox does it, in plain numpy / scipy / OpenCV.

``bench_monitor.py`` times this beside ``HeartRateMonitor`` on the same in-memory frames in the
same run and prints the ratio. The job is the same as the monitor's classical path:

* face detection on every ``detect_every``-th frame (and on every frame until a face is held)
  with the same detector the SDK uses (mediapipe's short-range model on the frame downscaled to
  320 px wide, as ``rppg_sdk.face`` runs it; OpenCV's Haar cascade when mediapipe is missing),
  so the comparison is about everything after detection;
* the toolbox's crop: the box enlarged by 1.5 (``LARGER_BOX_COEF``), clipped to the frame and
  resized to 72x72 with ``cv2.INTER_AREA``; mean RGB of the crop per frame;
* every ``update_interval_s`` on the newest ``window_s`` (once ``min_window_s`` is held): the
  toolbox's ``POS_WANG`` (a numpy loop over 1.6 s windows), its dense smoothness-priors detrend
  (lambda 100, an explicit inverse), a first-order Butterworth band-pass (0.75-3 Hz,
  ``scipy.signal.filtfilt``) and the periodogram peak in 0.75-2.5 Hz (nfft the next power of two),
  as the toolbox's ``POS_WANG`` and ``post_process._calculate_fft_hr``.

One kindness to the reference: POS_WANG subtracts each window's mean in a per-element Python
loop; here it is one vectorised subtraction, so the ratio is not inflated by that loop.
"""

from __future__ import annotations

import math
from types import TracebackType
from typing import Any

import cv2
import numpy as np
import scipy.signal
import scipy.sparse

__all__ = ["ReferencePipeline", "toolbox_detrend", "toolbox_hr_bpm", "toolbox_pos"]

# rppg_sdk.face detects on a frame at most this wide (its short-range model looks at 128x128).
_DETECT_MAX_WIDTH = 320
_LARGER_BOX_COEF = 1.5
_CROP_SIZE = 72
_POS_WINDOW_S = 1.6
_FILTER_BAND_HZ = (0.75, 3.0)
_HR_BAND_HZ = (0.75, 2.5)


def toolbox_pos(rgb: np.ndarray, fs_hz: float) -> np.ndarray:
    """POS (Wang et al. 2017) as rPPG-Toolbox's ``POS_WANG``: overlap-add over 1.6 s windows.

    ``rgb``: ``(N, 3)`` mean R, G, B per frame. Returns the raw (not yet detrended) pulse.
    """
    n_frames = rgb.shape[0]
    h_out = np.zeros((1, n_frames))
    win = math.ceil(_POS_WINDOW_S * fs_hz)
    proj = np.array([[0, 1, -1], [-2, 1, 1]])
    for n in range(n_frames):
        m = n - win
        if m >= 0:
            cn = np.true_divide(rgb[m:n, :], np.mean(rgb[m:n, :], axis=0)).T
            s = np.matmul(proj, cn)
            h = s[0, :] + (np.std(s[0, :]) / np.std(s[1, :])) * s[1, :]
            h_out[0, m:n] = h_out[0, m:n] + (h - np.mean(h))
    return h_out[0]


def toolbox_detrend(x: np.ndarray, lambda_value: float = 100.0) -> np.ndarray:
    """Smoothness-priors detrend as the toolbox writes it: dense matrices, explicit inverse."""
    n = x.shape[0]
    h = np.identity(n)
    ones = np.ones(n)
    d = scipy.sparse.spdiags(
        np.array([ones, -2 * ones, ones]), np.array([0, 1, 2]), n - 2, n
    ).toarray()
    return np.dot(h - np.linalg.inv(h + (lambda_value**2) * np.dot(d.T, d)), x)


def toolbox_hr_bpm(rgb: np.ndarray, fs_hz: float) -> float:
    """Heart rate (bpm) of one window of mean-RGB samples, the toolbox's unsupervised path."""
    bvp = toolbox_detrend(toolbox_pos(rgb, fs_hz), 100.0)
    b, a = scipy.signal.butter(
        1, [_FILTER_BAND_HZ[0] / fs_hz * 2, _FILTER_BAND_HZ[1] / fs_hz * 2], btype="bandpass"
    )
    bvp = scipy.signal.filtfilt(b, a, bvp.astype(np.double))
    nfft = 1 << math.ceil(math.log2(bvp.shape[0]))
    f, pxx = scipy.signal.periodogram(bvp, fs=fs_hz, nfft=nfft, detrend=False)
    band = (f >= _HR_BAND_HZ[0]) & (f <= _HR_BAND_HZ[1])
    return float(f[band][np.argmax(pxx[band])] * 60.0)


class _Detector:
    """The SDK's detector settings (mediapipe short-range, score 0.5; else Haar)."""

    def __init__(self) -> None:
        self._fd: Any = None
        self._haar: Any = None
        try:
            import mediapipe as mp  # noqa: PLC0415  (optional, as in rppg_sdk.face)

            self._fd = mp.solutions.face_detection.FaceDetection(
                model_selection=0, min_detection_confidence=0.5
            )
            self.name = "mediapipe"
        except Exception:  # noqa: BLE001  (any import failure: the SDK falls back to Haar too)
            path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
            self._haar = cv2.CascadeClassifier(path)
            self.name = "haar"

    def detect(self, bgr: np.ndarray) -> tuple[float, float, float, float] | None:
        """The largest face's box ``(x, y, w, h)`` in frame pixels, or None."""
        scale = min(1.0, _DETECT_MAX_WIDTH / bgr.shape[1])
        small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        boxes: list[tuple[float, float, float, float]] = []
        if self._fd is not None:
            img_h, img_w = rgb.shape[:2]
            for det in self._fd.process(rgb).detections or []:
                rb = det.location_data.relative_bounding_box
                boxes.append(
                    (rb.xmin * img_w, rb.ymin * img_h, rb.width * img_w, rb.height * img_h)
                )
        else:
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            side = max(16, int(0.1 * min(gray.shape)))
            found = self._haar.detectMultiScale(gray, 1.1, 4, minSize=(side, side))
            boxes = [(float(x), float(y), float(w), float(h)) for (x, y, w, h) in found]
        if not boxes:
            return None
        x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
        return (x / scale, y / scale, w / scale, h / scale)

    def close(self) -> None:
        if self._fd is not None:
            self._fd.close()


class ReferencePipeline:
    """Frames in, heart-rate readings (bpm) out, the toolbox's way (see the module docs).

    Parameters
    ----------
    fs_hz
        Frame rate of the stream.
    detect_every
        Detect on every n-th frame (the monitor's default: 10).
    window_s, min_window_s, update_interval_s
        As ``MonitorOptions``: a reading every ``update_interval_s`` of stream time on the newest
        ``window_s`` once ``min_window_s`` of samples are held.
    """

    def __init__(
        self,
        fs_hz: float = 30.0,
        detect_every: int = 10,
        window_s: float = 10.0,
        min_window_s: float = 5.0,
        update_interval_s: float = 1.0,
    ) -> None:
        self.fs_hz = fs_hz
        self.detect_every = detect_every
        self.window_n = int(round(window_s * fs_hz))
        self.min_window_n = int(round(min_window_s * fs_hz))
        self.update_every_n = max(1, int(round(update_interval_s * fs_hz)))
        self._detector = _Detector()
        self.detector_name = self._detector.name
        self.reset()

    def reset(self) -> None:
        """Forget the face and the samples."""
        self._index = 0
        self._box: tuple[int, int, int, int] | None = None
        self._rgb: list[np.ndarray] = []

    def process(self, frame: np.ndarray) -> float | None:
        """One BGR uint8 frame; returns the bpm reading this frame produced, else None."""
        if self._box is None or self._index % self.detect_every == 0:
            found = self._detector.detect(frame)
            if found is not None:
                x, y, w, h = found
                # The toolbox's enlargement (face_detection with LARGER_BOX_COEF).
                x = max(0.0, x - (_LARGER_BOX_COEF - 1.0) / 2 * w)
                y = max(0.0, y - (_LARGER_BOX_COEF - 1.0) / 2 * h)
                self._box = (int(x), int(y), int(_LARGER_BOX_COEF * w), int(_LARGER_BOX_COEF * h))
        self._index += 1
        if self._box is None:
            return None
        x, y, w, h = self._box
        fh, fw = frame.shape[:2]
        roi = frame[max(y, 0) : min(y + h, fh), max(x, 0) : min(x + w, fw)]
        crop = cv2.resize(roi, (_CROP_SIZE, _CROP_SIZE), interpolation=cv2.INTER_AREA)
        mean_bgr = np.sum(np.sum(crop, axis=0), axis=0) / (crop.shape[0] * crop.shape[1])
        self._rgb.append(mean_bgr[::-1])
        if len(self._rgb) > self.window_n:
            del self._rgb[0]
        if len(self._rgb) < self.min_window_n or self._index % self.update_every_n:
            return None
        return toolbox_hr_bpm(np.asarray(self._rgb), self.fs_hz)

    def close(self) -> None:
        """Free the detector."""
        self._detector.close()

    def __enter__(self) -> ReferencePipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
