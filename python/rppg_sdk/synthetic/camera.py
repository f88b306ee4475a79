"""The camera after the light: auto-exposure steps and the codecs that record the frames.

Video codecs see the whole clip (H.264 predicts each frame from others), so they are applied by
encoding to a file and decoding it back, as a user's recording would be: MJPEG and MPEG-4 part 2
through OpenCV's writer, H.264 through PyAV (its wheels bundle libx264) at a set bitrate.
Uncompressed clips go to a lossless FFV1 file.
"""

from __future__ import annotations

import fractions
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

UInt8Array = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]

__all__ = ["CONTAINERS", "VideoSink", "check_container", "exposure_gains", "jpeg_round_trip"]

#: Containers (file suffixes) each file codec can be written to; the first is the default.
CONTAINERS: dict[str, tuple[str, ...]] = {
    "ffv1": (".avi", ".mkv"),
    "mjpeg": (".avi",),
    "mp4v": (".mp4", ".avi", ".mkv"),
    "h264": (".mp4", ".mkv"),
}

# Auto-exposure / white-balance corrections: a gain step of ~3 % rms, a channel-balance step of
# ~1 % rms, settling with this time constant (a camera's control loop converges in a few frames).
_EXPOSURE_STEP_STD = 0.03
_BALANCE_STEP_STD = 0.01
_EXPOSURE_SETTLE_S = 0.07

_H264_DEFAULT_CRF = "23"


def exposure_gains(
    n_frames: int, fps: float, steps: int, channels: int, rng: np.random.Generator
) -> FloatArray:
    """Per-frame, per-channel gain ``(T, channels)`` of ``steps`` exposure / balance changes.

    The step times are uniform over the clip; each changes the overall gain and (for colour)
    the channel balance, and the camera settles on the new value exponentially.
    """
    gain = np.ones((n_frames, channels))
    if steps == 0 or n_frames < 2:
        return gain
    t_s = np.arange(n_frames) / fps
    times = np.sort(rng.uniform(0.05, 0.95, size=steps)) * t_s[-1]
    log_steps = _EXPOSURE_STEP_STD * rng.standard_normal((steps, 1)) + (
        _BALANCE_STEP_STD * rng.standard_normal((steps, channels)) if channels > 1 else 0.0
    )
    log_gain = np.zeros((n_frames, channels))
    for when, step in zip(times, log_steps, strict=True):
        after = t_s >= when
        settle = 1.0 - np.exp(-(t_s[after] - when) / _EXPOSURE_SETTLE_S - 1.0)
        log_gain[after] += settle[:, None] * step[None, :]
    return np.asarray(np.exp(log_gain), dtype=np.float64)


def jpeg_round_trip(frame: UInt8Array, quality: int) -> UInt8Array:
    """Encode one frame as a JPEG still and decode it (grey stays grey)."""
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 images
        raise RuntimeError("JPEG encoding failed")
    flag = cv2.IMREAD_GRAYSCALE if frame.ndim == 2 else cv2.IMREAD_COLOR
    return np.asarray(cv2.imdecode(encoded, flag), dtype=np.uint8)


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise ImportError(
            'codec="h264" needs PyAV (the "av" package, whose wheels bundle libx264): '
            'pip install "rppg-sdk[demo]"'
        ) from exc
    return av


def check_container(codec: str, path: Path) -> None:
    """Raise ValueError unless ``path``'s suffix is a container ``codec`` can be written to."""
    allowed = CONTAINERS[codec]
    if path.suffix.lower() not in allowed:
        raise ValueError(
            f"path: expected a {' or '.join(allowed)} file for codec {codec!r}, got {str(path)!r}"
        )


class VideoSink:
    """Writes frames one at a time into a video file; use as a context manager.

    Parameters
    ----------
    path
        Output file (its parent folders are created); the suffix must suit the codec
        (:data:`CONTAINERS`).
    codec
        ``"ffv1"`` (lossless), ``"mjpeg"``, ``"mp4v"`` or ``"h264"``, or any other
        four-character OpenCV FourCC (written with OpenCV whatever the suffix).
    fps
        Frame rate in Hz.
    frame_size
        ``(width, height)``.
    color
        Three-channel frames (True) or one-channel grey frames (False).
    bitrate_kbps
        Target bitrate of ``"h264"`` (PyAV) or ``"mp4v"`` (then written with PyAV's MPEG-4
        part 2 encoder, since OpenCV's writer has no bitrate control).
    jpeg_quality
        Quality of ``"mjpeg"`` frames.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        codec: str,
        fps: float,
        frame_size: tuple[int, int],
        *,
        color: bool = True,
        bitrate_kbps: int | None = None,
        jpeg_quality: int | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
        self.path = Path(path)
        self.frame_size = frame_size
        self.color = color
        self._count = 0
        self._expand_grey = False
        self._cv: cv2.VideoWriter | None = None
        self._container: Any = None
        self._stream: Any = None
        if codec in CONTAINERS and not (codec == "mp4v" and bitrate_kbps is None):
            # OpenCV's own mp4v writer picks its container from any suffix, as it always has.
            check_container(codec, self.path)
        elif not (isinstance(codec, str) and len(codec) == 4):
            raise ValueError(
                f"codec: expected one of {tuple(CONTAINERS)} or a four-character FourCC, "
                f"got {codec!r}"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if codec == "h264" or (codec == "mp4v" and bitrate_kbps is not None):
            self._open_av("libx264" if codec == "h264" else "mpeg4", fps, bitrate_kbps)
        else:
            fourcc = {"ffv1": "FFV1", "mjpeg": "MJPG", "mp4v": "mp4v"}.get(codec, codec)
            # OpenCV's own MJPEG writer honours the JPEG quality; its FFmpeg one ignores it.
            backend = cv2.CAP_OPENCV_MJPEG if codec == "mjpeg" else cv2.CAP_ANY
            # That writer cannot encode grey frames: they go in as three equal channels, which
            # is what a decoder hands back from a grey MJPEG file anyway.
            self._expand_grey = codec == "mjpeg" and not color
            self._cv = cv2.VideoWriter(
                str(self.path),
                backend,
                cv2.VideoWriter.fourcc(*fourcc),
                float(fps),
                frame_size,
                color or self._expand_grey,
            )
            if not self._cv.isOpened():
                raise ValueError(
                    f"codec/path: OpenCV cannot open a {fourcc!r} writer for {str(self.path)!r} "
                    f"(expected a codec and container this OpenCV build supports, e.g. 'mp4v' "
                    f"with .mp4)"
                )
            if codec == "mjpeg" and jpeg_quality is not None:
                self._cv.set(cv2.VIDEOWRITER_PROP_QUALITY, float(jpeg_quality))  # after opening

    def _open_av(self, encoder: str, fps: float, bitrate_kbps: int | None) -> None:
        av = _import_av()
        self._container = av.open(str(self.path), mode="w")
        rate = fractions.Fraction(fps).limit_denominator(1001)
        stream = self._container.add_stream(encoder, rate=rate)
        stream.width, stream.height = self.frame_size
        stream.pix_fmt = "yuv420p"
        options = {"preset": "veryfast"} if encoder == "libx264" else {}
        if bitrate_kbps is not None:
            stream.bit_rate = int(bitrate_kbps) * 1000
        elif encoder == "libx264":
            options["crf"] = _H264_DEFAULT_CRF
        stream.options = options
        self._stream = stream

    def write(self, frame: UInt8Array) -> None:
        """Append one ``(H, W, 3)`` BGR or ``(H, W)`` grey uint8 frame."""
        width, height = self.frame_size
        expected = (height, width, 3) if self.color else (height, width)
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            raise TypeError("frame: expected a uint8 numpy array")
        if frame.shape != expected:
            raise ValueError(f"frame: expected shape {expected}, got {frame.shape}")
        if self._cv is not None:
            self._cv.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if self._expand_grey else frame)
        elif self._stream is not None:
            av = _import_av()
            video_frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(frame), format="bgr24" if self.color else "gray"
            )
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
        else:
            raise ValueError(f"write: the sink for {str(self.path)!r} is closed")
        self._count += 1

    def close(self) -> None:
        """Flush the encoder and close the file (idempotent)."""
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        if self._stream is not None:
            try:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            finally:
                self._container.close()
                self._stream = self._container = None

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if (
            exc_type is None
            and self._count
            and (not self.path.exists() or self.path.stat().st_size == 0)
        ):
            raise RuntimeError(f"the encoder wrote nothing to {str(self.path)!r}")
