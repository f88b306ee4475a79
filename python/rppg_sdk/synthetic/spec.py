"""What to render (:class:`SyntheticClipSpec`) and what comes back (:class:`SyntheticClip`)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from rppg_sdk.synthetic._checks import _check_bool, _check_int, _check_real, _is_real
from rppg_sdk.synthetic.faces import available_faces

FloatArray = npt.NDArray[np.float64]
UInt8Array = npt.NDArray[np.uint8]

#: Translation amplitude, as a share of the frame height, of a moving ``motion`` kind when
#: ``motion_amplitude_px`` is left at 0 (about a head's casual sway).
DEFAULT_MOTION_FRACTION: float = 0.03

#: Default relative amplitude of illumination flicker (``flicker_amplitude``; also what the
#: older ``illumination_flicker_hz`` field renders with).
FLICKER_RELATIVE_AMPLITUDE: float = 0.03

#: Codecs a spec can record with. ``"none"``: raw frames; ``"jpeg"``: every frame through a
#: JPEG still encode/decode; the others are video codecs that see the whole clip.
CODECS: tuple[str, ...] = ("none", "jpeg", "mjpeg", "h264", "mp4v")
VIDEO_CODECS: tuple[str, ...] = ("mjpeg", "h264", "mp4v")
MOTIONS: tuple[str, ...] = ("still", "rigid", "periodic", "talking")

#: JPEG quality used by ``codec="jpeg"`` or ``"mjpeg"`` when ``jpeg_quality`` is None.
DEFAULT_JPEG_QUALITY: int = 90

_MAX_DURATION_S = 24 * 3600.0
_MAX_FPS = 1000.0
_MIN_FRAME_SIDE = 64
_MAX_FRAME_SIDE = 4096
_MIN_FACE_PX = 16.0


@dataclass(frozen=True)
class SyntheticClipSpec:
    """What to render. Every field is validated on construction.

    Parameters
    ----------
    duration_s
        Clip length in seconds; the clip has ``duration_s * fps`` frames, rounded half up
        (at least 1).
    fps
        Frame rate in Hz; frame ``k`` is taken at ``k / fps`` seconds.
    heart_rate_bpm
        Mean heart rate over the clip, 40-200 bpm. Ignored when ``ppg_waveform`` is given.
    heart_rate_variability
        Relative standard deviation of the instantaneous heart rate (slow wander plus
        respiratory sinus arrhythmia), 0-0.2. ``0.03`` at 72 bpm is about +-2 bpm.
    frame_size
        ``(width, height)`` in pixels, as OpenCV writes sizes; each side 64-4096.
    pulse
        ``False`` renders the same clip with no pulse (a control: nothing else changes).
    pulse_amplitude
        Relative modulation of the skin's green channel, 0-0.1 (0.003-0.01 is typical of real
        faces): a sinusoidal pulse swings the green value by +-``pulse_amplitude``; the pulse
        waveform has unit variance, so the rms modulation is ``pulse_amplitude / sqrt(2)``.
        Red and blue follow :data:`BVP_DIRECTION_RGB`.
    ppg_waveform
        Optional real blood-volume pulse sampled at ``fps`` (upward = more blood, as contact
        oximeters show it) with at least as many samples as the clip has frames. Its first
        samples drive the skin after removing a linear trend and scaling to unit variance.
    illumination_drift
        Relative amplitude (largest deviation) of a slow random change in light, 0-0.5.
    illumination_flicker_hz
        Older name of ``flicker_hz`` (set one or the other, not both).
    motion
        ``"still"``, ``"rigid"`` (slow random drift and quick repositioning), ``"periodic"``
        (nodding / swaying at ``motion_hz``, by default 0.2-0.5 Hz) or ``"talking"``
        (quasi-periodic bobbing in bursts at a syllable rate ``motion_hz``, by default
        1.0-1.6 Hz: inside the heart-rate band, over slow drift).
    motion_amplitude_px
        Largest translation of the face in pixels (rotation and scale follow it, a few degrees
        and percent); at most a quarter of the frame height. Must be 0 with
        ``motion="still"``; 0 with ``"rigid"`` or ``"periodic"`` means a moderate default,
        :data:`DEFAULT_MOTION_FRACTION` of the frame height (see
        :attr:`effective_motion_amplitude_px`).
    sensor_noise_std
        Standard deviation of the Gaussian sensor noise in 8-bit levels, 0-50.
    jpeg_quality
        JPEG quality (1-100) of ``codec="jpeg"`` or ``"mjpeg"`` (None: 90). Set with
        ``codec="none"`` it means ``codec="jpeg"`` (the older way to ask for JPEG frames).
    near_infrared
        Render a near-infrared clip: grey frames (see ``grey_channels``) whose pulse is
        :data:`NIR_PULSE_RATIO` times green's (the skin model's ratio at 850 nm).
    face_image
        BGR uint8 ``(H, W, 3)`` picture with one frontal face, at least 64x64. With neither
        this nor ``face`` the astronaut is used. The face is found with OpenCV's Haar cascade;
        if none is found, the picture is taken to be a face crop (face in its central area).
    seed
        Non-negative int: the same spec renders the same clip.
    face
        A face by name, one of :func:`available_faces` (not together with ``face_image``).
    face_height_px
        Height of the face box (brow to chin) in frame pixels, 16 to 0.9 x the frame height;
        None: 0.42 x the frame height.
    source_face_px
        When set (8-4096), the picture is first shrunk so its face is this many pixels tall (a
        low-resolution photo or a far camera), then enlarged to ``face_height_px``: flat,
        blocky skin with little texture, and a pulse averaged over few source pixels. A value
        at or above the picture's own face height changes nothing.
    fitzpatrick
        Skin type 1-6 rendered by the physical skin model (:mod:`rppg_sdk.synthetic.skin`):
        the picture's skin takes the model's colour (its shading and texture kept as a
        luminance modulation) and pulses with the model's per-channel amplitude. Then
        ``pulse_amplitude`` is the green modulation of type-II skin and darker types pulse
        less, towards red. None keeps the picture's colours and :data:`BVP_DIRECTION_RGB`.
    flicker_hz
        Optional sinusoidal flicker of the light (0 < f <= 10 kHz), sampled at the frame times
        (mains flicker aliases as with a short-exposure camera); on skin and background alike.
    flicker_amplitude
        Relative amplitude of that flicker, 0-0.2 (default
        :data:`FLICKER_RELATIVE_AMPLITUDE`; a few tenths of a percent are realistic in-band).
    flicker_tint_bgr
        Per-channel multiplier of ``flicker_amplitude`` (each 0-5): unequal values give a
        tinted flicker that a plain intensity normalisation does not cancel. Near-infrared
        clips take the mean.
    exposure_steps
        Number (0-100) of auto-exposure / white-balance corrections during the clip, at random
        times: the gain jumps by a few percent and the channel balance by about a percent,
        settling within a few frames.
    codec
        How the camera records: ``"none"`` (raw), ``"jpeg"`` (JPEG stills per frame),
        ``"mjpeg"``, ``"h264"`` or ``"mp4v"`` (video codecs: the clip is encoded to a file and
        decoded back, see :func:`render_to_file`). ``"h264"`` needs PyAV and even frame sides.
    bitrate_kbps
        Target bitrate (10-100000 kbps) of ``"h264"`` or ``"mp4v"``; None: the encoder's
        default quality (``h264``: CRF 23).
    grey_channels
        Near-infrared frames as one channel ``(T, H, W)`` or as three identical channels
        ``(T, H, W, 3)`` (how OpenCV hands over most NIR recordings). Must be 1 for colour.
    motion_hz
        Frequency of the periodic part of ``"periodic"`` or ``"talking"`` motion, 0.05-5 Hz
        (None: drawn from the kind's default range). May lie inside the heart-rate band.
    """

    duration_s: float = 10.0
    fps: float = 30.0
    heart_rate_bpm: float = 72.0
    heart_rate_variability: float = 0.03
    frame_size: tuple[int, int] = (320, 240)
    pulse: bool = True
    pulse_amplitude: float = 0.006
    ppg_waveform: npt.NDArray[np.float64] | None = field(default=None, repr=False)
    illumination_drift: float = 0.0
    illumination_flicker_hz: float | None = None
    motion: Literal["still", "rigid", "periodic", "talking"] = "still"
    motion_amplitude_px: float = 0.0
    sensor_noise_std: float = 1.0
    jpeg_quality: int | None = None
    near_infrared: bool = False
    face_image: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    seed: int = 0
    face: str | None = None
    face_height_px: float | None = None
    source_face_px: int | None = None
    fitzpatrick: int | None = None
    flicker_hz: float | None = None
    flicker_amplitude: float = FLICKER_RELATIVE_AMPLITUDE
    flicker_tint_bgr: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure_steps: int = 0
    codec: Literal["none", "jpeg", "mjpeg", "h264", "mp4v"] = "none"
    bitrate_kbps: int | None = None
    grey_channels: Literal[1, 3] = 1
    motion_hz: float | None = None

    def __post_init__(self) -> None:
        _check_real("duration_s", self.duration_s, 0.0, _MAX_DURATION_S)
        if self.duration_s <= 0:
            raise ValueError(f"duration_s: expected > 0, got {self.duration_s!r}")
        fps = _check_real("fps", self.fps, 0.0, _MAX_FPS)
        if fps <= 0:
            raise ValueError(f"fps: expected > 0, got {self.fps!r}")
        if self.n_frames < 1:
            raise ValueError(
                f"duration_s * fps: expected at least one frame, got {self.duration_s!r} s at "
                f"{self.fps!r} fps"
            )
        _check_real("heart_rate_bpm", self.heart_rate_bpm, 40.0, 200.0)
        _check_real("heart_rate_variability", self.heart_rate_variability, 0.0, 0.2)
        size = self.frame_size
        if (
            not isinstance(size, tuple | list)
            or len(size) != 2
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
        ):
            raise TypeError(f"frame_size: expected a (width, height) tuple of ints, got {size!r}")
        if not all(_MIN_FRAME_SIDE <= int(s) <= _MAX_FRAME_SIDE for s in size):
            raise ValueError(
                f"frame_size: expected each side in [{_MIN_FRAME_SIDE}, {_MAX_FRAME_SIDE}], "
                f"got {tuple(size)!r}"
            )
        object.__setattr__(self, "frame_size", (int(size[0]), int(size[1])))
        _check_bool("pulse", self.pulse)
        _check_real("pulse_amplitude", self.pulse_amplitude, 0.0, 0.1)
        if self.ppg_waveform is not None:
            object.__setattr__(self, "ppg_waveform", self._checked_waveform(self.ppg_waveform))
        _check_real("illumination_drift", self.illumination_drift, 0.0, 0.5)
        for name in ("illumination_flicker_hz", "flicker_hz"):
            value = getattr(self, name)
            if value is not None:
                _check_real(name, value, 0.0, 1e4)
                if value <= 0:
                    raise ValueError(f"{name}: expected > 0 or None, got {value!r}")
        if self.illumination_flicker_hz is not None and self.flicker_hz is not None:
            raise ValueError(
                "flicker_hz: expected it or its older name illumination_flicker_hz, got both "
                f"({self.flicker_hz!r} and {self.illumination_flicker_hz!r})"
            )
        _check_real("flicker_amplitude", self.flicker_amplitude, 0.0, 0.2)
        tint = self.flicker_tint_bgr
        if not isinstance(tint, tuple | list) or len(tint) != 3 or not all(map(_is_real, tint)):
            raise TypeError(
                f"flicker_tint_bgr: expected a (b, g, r) tuple of 3 real numbers, got {tint!r}"
            )
        for name, value in zip(("b", "g", "r"), tint, strict=True):
            _check_real(f"flicker_tint_bgr[{name}]", value, 0.0, 5.0)
        object.__setattr__(self, "flicker_tint_bgr", tuple(float(v) for v in tint))
        if self.motion not in MOTIONS:
            raise ValueError(f"motion: expected one of {MOTIONS}, got {self.motion!r}")
        if self.motion_hz is not None:
            _check_real("motion_hz", self.motion_hz, 0.05, 5.0)
            if self.motion not in ("periodic", "talking"):
                raise ValueError(
                    f"motion_hz: expected None with motion={self.motion!r} (it sets the "
                    f"periodic part of 'periodic' or 'talking'), got {self.motion_hz!r}"
                )
        max_motion = 0.25 * self.frame_size[1]
        _check_real("motion_amplitude_px", self.motion_amplitude_px, 0.0, max_motion)
        if self.motion == "still" and self.motion_amplitude_px != 0:
            raise ValueError(
                f"motion_amplitude_px: expected 0 with motion='still', got "
                f"{self.motion_amplitude_px!r} (choose a moving kind, e.g. motion='rigid')"
            )
        _check_real("sensor_noise_std", self.sensor_noise_std, 0.0, 50.0)
        _check_bool("near_infrared", self.near_infrared)
        if self.face_image is not None:
            object.__setattr__(self, "face_image", _checked_face(self.face_image))
        _check_int("seed", self.seed, 0, 2**63 - 1)
        self._check_face_fields()
        self._check_camera_fields()

    def _check_face_fields(self) -> None:
        if self.face is not None:
            if not isinstance(self.face, str):
                raise TypeError(f"face: expected a str or None, got {type(self.face).__name__}")
            if self.face not in available_faces():
                raise ValueError(f"face: expected one of {available_faces()}, got {self.face!r}")
            if self.face_image is not None:
                raise ValueError("face: expected face or face_image, got both")
        if self.face_height_px is not None:
            _check_real(
                "face_height_px", self.face_height_px, _MIN_FACE_PX, 0.9 * self.frame_size[1]
            )
        if self.source_face_px is not None:
            _check_int("source_face_px", self.source_face_px, 8, _MAX_FRAME_SIDE)
        if self.fitzpatrick is not None:
            _check_int("fitzpatrick", self.fitzpatrick, 1, 6)

    def _check_camera_fields(self) -> None:
        _check_int("exposure_steps", self.exposure_steps, 0, 100)
        if self.codec not in CODECS:
            raise ValueError(f"codec: expected one of {CODECS}, got {self.codec!r}")
        if self.jpeg_quality is not None:
            _check_int("jpeg_quality", self.jpeg_quality, 1, 100)
            if self.codec not in ("none", "jpeg", "mjpeg"):
                raise ValueError(
                    f"jpeg_quality: expected None with codec={self.codec!r} (it sets "
                    f"'jpeg' or 'mjpeg' quality), got {self.jpeg_quality!r}"
                )
        if self.bitrate_kbps is not None:
            _check_int("bitrate_kbps", self.bitrate_kbps, 10, 100_000)
            if self.codec not in ("h264", "mp4v"):
                raise ValueError(
                    f"bitrate_kbps: expected None with codec={self.codec!r} (it sets the "
                    f"bitrate of 'h264' or 'mp4v'), got {self.bitrate_kbps!r}"
                )
        if self.codec == "h264" and any(s % 2 for s in self.frame_size):
            raise ValueError(
                f"frame_size: expected even sides for codec='h264' (4:2:0 chroma), got "
                f"{self.frame_size!r}"
            )
        if self.grey_channels not in (1, 3) or isinstance(self.grey_channels, bool):
            raise ValueError(f"grey_channels: expected 1 or 3, got {self.grey_channels!r}")
        if self.grey_channels == 3 and not self.near_infrared:
            raise ValueError(
                "grey_channels: expected 1 for a colour clip (3 identical channels are for "
                "near_infrared=True), got 3"
            )

    @property
    def effective_codec(self) -> str:
        """The codec used: ``codec``, or ``"jpeg"`` when only ``jpeg_quality`` asks for it."""
        if self.codec == "none" and self.jpeg_quality is not None:
            return "jpeg"
        return self.codec

    @property
    def effective_jpeg_quality(self) -> int:
        """JPEG quality of ``"jpeg"`` / ``"mjpeg"``: the field or :data:`DEFAULT_JPEG_QUALITY`."""
        return DEFAULT_JPEG_QUALITY if self.jpeg_quality is None else int(self.jpeg_quality)

    @property
    def effective_flicker_hz(self) -> float | None:
        """The flicker frequency: ``flicker_hz`` or its older name ``illumination_flicker_hz``."""
        hz = self.flicker_hz if self.flicker_hz is not None else self.illumination_flicker_hz
        return None if hz is None else float(hz)

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of one frame: ``(H, W, 3)``, or ``(H, W)`` for one-channel near infrared."""
        width, height = self.frame_size
        if self.near_infrared and self.grey_channels == 1:
            return (height, width)
        return (height, width, 3)

    @property
    def effective_motion_amplitude_px(self) -> float:
        """The translation amplitude used: the field, or the default for a moving kind."""
        if self.motion == "still":
            return 0.0
        if self.motion_amplitude_px > 0:
            return float(self.motion_amplitude_px)
        return DEFAULT_MOTION_FRACTION * self.frame_size[1]

    @property
    def n_frames(self) -> int:
        """Number of frames: ``duration_s * fps`` rounded half up."""
        return int(math.floor(float(self.duration_s) * float(self.fps) + 0.5))  # half up

    def _checked_waveform(self, waveform: object) -> FloatArray:
        if not isinstance(waveform, np.ndarray):
            raise TypeError(
                f"ppg_waveform: expected a 1-D numpy array or None, got {type(waveform).__name__}"
            )
        if waveform.ndim != 1:
            raise ValueError(f"ppg_waveform: expected a 1-D array, got shape {waveform.shape}")
        if not (
            np.issubdtype(waveform.dtype, np.floating) or np.issubdtype(waveform.dtype, np.integer)
        ):
            raise TypeError(f"ppg_waveform: expected a real dtype, got {waveform.dtype}")
        n = self.n_frames
        if waveform.size < n:
            raise ValueError(
                f"ppg_waveform: expected at least {n} samples at {self.fps:g} Hz (one per "
                f"frame), got {waveform.size}"
            )
        out = np.array(waveform[:n], dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError("ppg_waveform: expected finite values, got NaN or inf")
        if n >= 2 and np.ptp(out) == 0:
            raise ValueError("ppg_waveform: expected a varying pulse, got a constant")
        out.flags.writeable = False
        return out


def _checked_face(image: object) -> UInt8Array:
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"face_image: expected a BGR uint8 numpy array or None, got {type(image).__name__}"
        )
    if image.dtype != np.uint8:
        raise TypeError(f"face_image: expected dtype uint8 (BGR), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"face_image: expected shape (H, W, 3) BGR, got {image.shape}")
    if min(image.shape[:2]) < _MIN_FRAME_SIDE:
        raise ValueError(
            f"face_image: expected at least {_MIN_FRAME_SIDE}x{_MIN_FRAME_SIDE} pixels, "
            f"got {image.shape[1]}x{image.shape[0]}"
        )
    out = np.ascontiguousarray(image).copy()
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)  # eq=False: array fields make generated __eq__ ambiguous
class SyntheticClip:
    """A rendered clip and its ground truth.

    Attributes
    ----------
    frames
        ``(T, H, W, 3)`` BGR uint8, or ``(T, H, W)`` uint8 for a near-infrared clip with
        ``grey_channels=1`` (``(T, H, W, 3)`` with three equal channels for ``3``); after a
        video codec, what OpenCV decodes from the file.
    timestamps_s
        ``(T,)`` frame times in seconds, ``k / fps``.
    ppg
        ``(T,)`` the blood-volume pulse that drove the skin (unit variance; zeros without
        pulse). The skin gets *darker* as it rises (more blood absorbs more light).
    bpm
        ``(T,)`` instantaneous true heart rate in bpm (NaN without pulse).
    face_box_xywh
        Face box (brow to chin) in frame 0, clipped to the frame.
    spec
        The spec that rendered it.
    """

    frames: UInt8Array
    timestamps_s: FloatArray
    ppg: FloatArray
    bpm: FloatArray
    face_box_xywh: tuple[int, int, int, int]
    spec: SyntheticClipSpec

    def mean_bpm(self, start_s: float, end_s: float) -> float:
        """True mean heart rate over frames with ``start_s <= t < end_s`` (NaN without pulse).

        With the model pulse this equals the number of beats in the window times 60 over its
        length, which is what a spectral estimate of the window should find.
        """
        return _window_mean_bpm(self.timestamps_s, self.bpm, self.spec.fps, start_s, end_s)


class ClipTruth(NamedTuple):
    """A spec's ground truth without its frames (see ``clip_truth``): unpacks as
    ``timestamps_s, bpm, ppg``, the same arrays a rendered :class:`SyntheticClip` holds."""

    timestamps_s: FloatArray
    bpm: FloatArray
    ppg: FloatArray

    def mean_bpm(self, start_s: float, end_s: float) -> float:
        """True mean heart rate over frames with ``start_s <= t < end_s`` (NaN without pulse)."""
        fps = 1.0 / float(self.timestamps_s[1]) if self.timestamps_s.size > 1 else 1.0
        return _window_mean_bpm(self.timestamps_s, self.bpm, fps, start_s, end_s)


def _window_mean_bpm(
    timestamps_s: FloatArray, bpm: FloatArray, fps: float, start_s: float, end_s: float
) -> float:
    start = _check_real("start_s", start_s, -math.inf, math.inf)
    end = _check_real("end_s", end_s, -math.inf, math.inf)
    if not end > start:
        raise ValueError(f"end_s: expected > start_s = {start_s!r}, got {end_s!r}")
    inside = (timestamps_s >= start) & (timestamps_s < end)
    if not np.any(inside):
        raise ValueError(
            f"[start_s, end_s): expected a window holding frames of this "
            f"{timestamps_s[-1] + 1 / fps:.3f} s clip, got [{start_s!r}, {end_s!r})"
        )
    return float(np.mean(bpm[inside]))
