"""Semi-synthetic face video with a known heart rate.

A real face picture is made to pulse the way skin does under a camera, then moved, lit and
recorded like a real clip. Used by ``rppg-sdk demo``, the end-to-end tests and training.

The physics, step by step (every step is vectorised numpy / OpenCV on float32 images):

1. **Blood-volume pulse.** :func:`physiological_ppg` builds a beat-by-beat waveform: the heart
   rate wanders slowly (Mayer waves, ~0.1 Hz, and slower drift) and with breathing
   (respiratory sinus arrhythmia, 0.2-0.33 Hz); its integral places the beats, and each beat is
   a sum of two Gaussians (the systolic peak and the later, broader dicrotic wave). A real PPG
   (``SyntheticClipSpec.ppg_waveform``) can drive the skin instead.
2. **Skin reflectance.** Following the dichromatic skin model behind CHROM and POS, more blood
   absorbs more light, so the diffuse skin colour drops along the blood-volume-pulse direction
   ``[0.33, 0.77, 0.53]`` (normalised R, G, B: green strongest) by ``pulse_amplitude`` (0.3-1 %
   of the skin's intensity). Only skin pulses: a soft mask (skin colour in YCrCb inside the face,
   matched to the colour statistics of the cheeks and nose, feathered) is built once from the
   face picture, and a smooth random gain map makes some skin pulse more than other skin, as
   real faces do. Near-saturated (specular) pixels do not pulse: specular light never entered
   the skin.
3. **Near-infrared.** With ``near_infrared`` the face is rendered in one channel (a red-weighted
   luminance: skin is bright in NIR) and pulses about four times more weakly than green does
   (NIR pulsatility is 3-5x weaker), so NIR clips are honestly hard.
4. **Motion.** The pulsing face layer (head and shoulders with a feathered silhouette) is warped
   every frame with ``cv2.warpAffine`` (translation, small rotation and scale about the face
   centre) over a static background: ``rigid`` is slow random drift plus occasional quick
   repositioning, ``periodic`` is nodding / swaying at 0.2-0.5 Hz.
5. **Light.** Illumination multiplies the whole frame: a slow random drift (below ~0.15 Hz, with
   a small colour-temperature component) and an optional sinusoidal flicker.
6. **Sensor.** Gaussian noise is added in float before rounding, so it dithers the quantiser:
   a 0.6 % pulse on skin at ~150 is about one 8-bit level and would otherwise be lost in
   rounding. Then clip to uint8 and, optionally, a JPEG round trip per frame.

Everything random comes from ``seed`` through independent streams (pulse, motion, light, scene,
noise per frame), so switching ``pulse`` off changes nothing but the pulse, and any frame can be
rendered on its own: :func:`iter_frames` and :func:`render_clip` give identical frames.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "BVP_DIRECTION_RGB",
    "DEFAULT_MOTION_FRACTION",
    "FLICKER_RELATIVE_AMPLITUDE",
    "NIR_PULSE_RATIO",
    "SyntheticClip",
    "SyntheticClipSpec",
    "iter_frames",
    "physiological_ppg",
    "render_clip",
    "write_video",
]

FloatArray = npt.NDArray[np.float64]
UInt8Array = npt.NDArray[np.uint8]

#: Direction of the blood-volume pulse in normalised (R, G, B) skin colour (de Haan & van Leest
#: 2014; the vector POS and CHROM are built around). Green pulses most, then blue, then red.
BVP_DIRECTION_RGB: tuple[float, float, float] = (0.33, 0.77, 0.53)

#: NIR pulsatility relative to green: near-infrared light penetrates deeper but haemoglobin
#: absorbs it far less, so the pulse is 3-5x weaker there.
NIR_PULSE_RATIO: float = 0.25

#: Translation amplitude, as a share of the frame height, of ``motion="rigid"`` or
#: ``"periodic"`` when ``motion_amplitude_px`` is left at 0 (about a head's casual sway).
DEFAULT_MOTION_FRACTION: float = 0.03

#: Relative amplitude of ``illumination_flicker_hz`` flicker (the spec has no field for it).
FLICKER_RELATIVE_AMPLITUDE: float = 0.03

# NIR image from BGR: weighted to red because skin reflects strongly in the near infrared,
# much as it does in red, and looks bright and smooth there.
_NIR_WEIGHTS_BGR = np.array([0.10, 0.30, 0.60], dtype=np.float32)

# Independent random streams, one per concern, derived from the spec's seed.
_STREAM_PULSE, _STREAM_MOTION, _STREAM_LIGHT, _STREAM_SCENE, _STREAM_NOISE = range(5)

# Target height of the detected face box (brow to chin) as a share of the frame height; with
# hair and chin the head then fills ~55 % of the frame, which mediapipe's short-range detector
# finds reliably.
_FACE_HEIGHT_FRACTION = 0.42

_MAX_DURATION_S = 24 * 3600.0
_MAX_FPS = 1000.0
_MIN_FRAME_SIDE = 64
_MAX_FRAME_SIDE = 4096

# Two-Gaussian beat shape, positions and widths in fractions of the beat interval. Least-squares
# fit (rounded) to a contact PPG at ~76 bpm: a narrow systolic peak ~0.14 s into the beat and a
# broad, later reflected (dicrotic) wave that together give the fast upstroke and the long
# diastolic decline of a real pulse.
_SYSTOLIC_MU, _SYSTOLIC_SIGMA = 0.18, 0.08
_DICROTIC_MU, _DICROTIC_SIGMA, _DICROTIC_AMPLITUDE = 0.43, 0.22, 1.2


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_real(name: str, value: object, low: float, high: float) -> float:
    """Check ``low <= value <= high`` for a finite real number and return it as float."""
    if not _is_real(value):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    out = float(value)  # type: ignore[arg-type]
    if not math.isfinite(out) or not low <= out <= high:
        raise ValueError(f"{name}: expected {low:g} <= {name} <= {high:g}, got {value!r}")
    return out


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    out = int(value)
    if not low <= out <= high:
        raise ValueError(f"{name}: expected {low} <= {name} <= {high}, got {out}")
    return out


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")


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
        Optional sinusoidal flicker of the light at this frequency (relative amplitude
        :data:`FLICKER_RELATIVE_AMPLITUDE`), sampled at the frame times (so mains flicker
        aliases as it does with a short-exposure camera).
    motion
        ``"still"``, ``"rigid"`` (slow random drift and quick repositioning) or ``"periodic"``
        (nodding / swaying at 0.2-0.5 Hz).
    motion_amplitude_px
        Largest translation of the face in pixels (rotation and scale follow it, a few degrees
        and percent); at most a quarter of the frame height. Must be 0 with
        ``motion="still"``; 0 with ``"rigid"`` or ``"periodic"`` means a moderate default,
        :data:`DEFAULT_MOTION_FRACTION` of the frame height (see
        :attr:`effective_motion_amplitude_px`).
    sensor_noise_std
        Standard deviation of the Gaussian sensor noise in 8-bit levels, 0-50.
    jpeg_quality
        When set (1-100), every frame goes through a JPEG encode/decode at this quality.
    near_infrared
        Render a one-channel near-infrared clip: frames ``(T, H, W)``, pulse
        :data:`NIR_PULSE_RATIO` times as strong as green.
    face_image
        BGR uint8 ``(H, W, 3)`` picture with one frontal face, at least 64x64. ``None`` uses
        scikit-image's astronaut (public domain). The face is found with OpenCV's Haar cascade;
        if none is found, the picture is taken to be a face crop (face in its central area).
    seed
        Non-negative int: the same spec renders the same clip.
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
    motion: Literal["still", "rigid", "periodic"] = "still"
    motion_amplitude_px: float = 0.0
    sensor_noise_std: float = 1.0
    jpeg_quality: int | None = None
    near_infrared: bool = False
    face_image: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    seed: int = 0

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
        if self.illumination_flicker_hz is not None:
            _check_real("illumination_flicker_hz", self.illumination_flicker_hz, 0.0, 1e4)
            if self.illumination_flicker_hz <= 0:
                raise ValueError(
                    f"illumination_flicker_hz: expected > 0 or None, got "
                    f"{self.illumination_flicker_hz!r}"
                )
        if self.motion not in ("still", "rigid", "periodic"):
            raise ValueError(
                f"motion: expected 'still', 'rigid' or 'periodic', got {self.motion!r}"
            )
        max_motion = 0.25 * self.frame_size[1]
        _check_real("motion_amplitude_px", self.motion_amplitude_px, 0.0, max_motion)
        if self.motion == "still" and self.motion_amplitude_px != 0:
            raise ValueError(
                f"motion_amplitude_px: expected 0 with motion='still', got "
                f"{self.motion_amplitude_px!r} (choose motion='rigid' or 'periodic')"
            )
        _check_real("sensor_noise_std", self.sensor_noise_std, 0.0, 50.0)
        if self.jpeg_quality is not None:
            _check_int("jpeg_quality", self.jpeg_quality, 1, 100)
        _check_bool("near_infrared", self.near_infrared)
        if self.face_image is not None:
            object.__setattr__(self, "face_image", _checked_face(self.face_image))
        _check_int("seed", self.seed, 0, 2**63 - 1)

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
        ``(T, H, W, 3)`` BGR uint8, or ``(T, H, W)`` uint8 for a near-infrared clip.
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
        start = _check_real("start_s", start_s, -math.inf, math.inf)
        end = _check_real("end_s", end_s, -math.inf, math.inf)
        if not end > start:
            raise ValueError(f"end_s: expected > start_s = {start_s!r}, got {end_s!r}")
        inside = (self.timestamps_s >= start) & (self.timestamps_s < end)
        if not np.any(inside):
            raise ValueError(
                f"[start_s, end_s): expected a window holding frames of this "
                f"{self.timestamps_s[-1] + 1 / self.spec.fps:.3f} s clip, got "
                f"[{start_s!r}, {end_s!r})"
            )
        return float(np.mean(self.bpm[inside]))


# --------------------------------------------------------------------------- the pulse model


def _random_sinusoids(
    t_s: FloatArray, rng: np.random.Generator, band_hz: tuple[float, float], count: int
) -> FloatArray:
    """Sum of ``count`` sinusoids at random frequencies in ``band_hz``, unit variance.

    A sum of sinusoids (not filtered noise) keeps its variance whatever the clip length, so
    short and long clips wander alike.
    """
    freqs = rng.uniform(*band_hz, size=count)
    phases = rng.uniform(0.0, 2 * np.pi, size=count)
    weights = rng.uniform(0.5, 1.0, size=count)
    weights *= np.sqrt(2.0 / np.sum(weights**2))  # sum of w^2/2 = 1
    waves = np.sin(2 * np.pi * freqs[:, None] * t_s[None, :] + phases[:, None])
    return np.asarray(weights @ waves, dtype=np.float64)


def physiological_ppg(
    n: int,
    fs_hz: float,
    heart_rate_bpm: float,
    variability: float,
    rng: np.random.Generator | int,
) -> tuple[FloatArray, FloatArray]:
    """A beat-by-beat blood-volume pulse with realistic heart-rate variability.

    The relative heart rate is ``1 + slow(t) + rsa(t)``: ``slow`` (60 % of the variance) holds
    Mayer waves and slower drift (0.01-0.12 Hz), ``rsa`` (40 %) is respiratory sinus
    arrhythmia at a breathing rate drawn from 0.2-0.33 Hz. The rate is scaled so its mean
    over the ``n`` samples is exactly ``heart_rate_bpm``. Its integral is the cardiac phase;
    each beat is a systolic Gaussian plus a broader dicrotic one (positions scale with the
    beat interval), with a few percent of beat-to-beat amplitude jitter and a small
    respiratory baseline and amplitude modulation, as contact PPG shows.

    Parameters
    ----------
    n
        Number of samples (>= 1).
    fs_hz
        Sample rate in Hz.
    heart_rate_bpm
        Mean heart rate, 20-250 bpm.
    variability
        Relative standard deviation of the heart rate, 0-0.2.
    rng
        A numpy ``Generator`` (or an int seed for one).

    Returns
    -------
    ppg, bpm
        ``(n,)`` pulse with zero mean and unit variance (for ``n >= 2``; rising = more blood),
        and ``(n,)`` instantaneous heart rate in bpm.
    """
    n = _check_int("n", n, 1, 2**31 - 1)
    fs = _check_real("fs_hz", fs_hz, 0.0, _MAX_FPS * 100)
    if fs <= 0:
        raise ValueError(f"fs_hz: expected > 0, got {fs_hz!r}")
    hr0 = _check_real("heart_rate_bpm", heart_rate_bpm, 20.0, 250.0)
    var = _check_real("variability", variability, 0.0, 0.2)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        rng = np.random.default_rng(int(rng))
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy Generator or int, got {type(rng).__name__}")

    t_s = np.arange(n, dtype=np.float64) / fs
    slow = _random_sinusoids(t_s, rng, (0.01, 0.12), 4)
    resp_hz = rng.uniform(0.2, 0.33)
    # Breathing is not a metronome: its rate wanders +-10 % over tens of seconds.
    resp_rate = resp_hz * (1.0 + 0.1 * _random_sinusoids(t_s, rng, (0.005, 0.03), 2) / 1.5)
    resp_phase = 2 * np.pi * np.cumsum(resp_rate) / fs + rng.uniform(0, 2 * np.pi)
    # Inspiration speeds the heart: rsa peaks with the breathing phase.
    rsa = np.sqrt(2.0) * np.sin(resp_phase)
    relative = var * (np.sqrt(0.6) * slow + np.sqrt(0.4) * rsa)
    hr = hr0 * np.maximum(1.0 + relative, 0.3)
    hr *= hr0 / np.mean(hr)

    # Cardiac phase in beats; the phase at sample k integrates the rate up to k (midpoint rule).
    phase = rng.uniform(0.0, 1.0) + (np.cumsum(hr) - 0.5 * hr) / (60.0 * fs)
    beat = np.floor(phase).astype(np.int64)
    frac = phase - beat
    n_beats = int(beat[-1]) + 3
    amplitude = 1.0 + 0.04 * rng.standard_normal(n_beats + 1)
    dicrotic = _DICROTIC_AMPLITUDE * (1.0 + 0.1 * rng.standard_normal(n_beats + 1))
    wave = np.zeros(n)
    for offset in (-1, 0, 1):  # neighbouring beats' tails overlap this one
        k = np.clip(beat - offset + 1, 0, n_beats)
        x = frac + offset
        wave += amplitude[k] * (
            np.exp(-0.5 * ((x - _SYSTOLIC_MU) / _SYSTOLIC_SIGMA) ** 2)
            + dicrotic[k] * np.exp(-0.5 * ((x - _DICROTIC_MU) / _DICROTIC_SIGMA) ** 2)
        )
    # Breathing also shifts venous volume (baseline) and stroke volume (amplitude).
    wave = wave * (1.0 + 0.05 * np.sin(resp_phase)) + 0.06 * np.sin(resp_phase + 1.0)
    return _unit_variance(wave), hr


def _unit_variance(x: FloatArray) -> FloatArray:
    x = x - np.mean(x)
    std = float(np.std(x))
    return x / std if std > 0 else x


def _detrended(x: FloatArray) -> FloatArray:
    if x.size < 3:
        return x - np.mean(x)
    t = np.arange(x.size, dtype=np.float64)
    slope, intercept = np.polyfit(t, x, 1)
    return np.asarray(x - (slope * t + intercept), dtype=np.float64)


def _bpm_from_waveform(ppg: FloatArray, fs_hz: float, fallback_bpm: float) -> FloatArray:
    """Instantaneous heart rate from the beats of a real PPG, with numpy only.

    The dominant in-band frequency ``f0`` sets a band-pass (FFT mask, 0.6-1.6 ``f0``) that
    leaves one smooth maximum per beat (the dicrotic wave and the harmonics go); of maxima
    closer than 0.6 beat the highest is kept; each is refined to sub-sample time by a parabola,
    and ``60 / interval`` is interpolated at every sample (held constant beyond the first and
    last beats). Falls back to ``fallback_bpm`` when the clip holds fewer than two beats.
    """
    n = ppg.size
    if n < 8:
        return np.full(n, fallback_bpm)
    nfft = 1 << max(12, int(np.ceil(np.log2(4 * n))))
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    power = np.abs(np.fft.rfft(ppg * np.hanning(n), nfft)) ** 2
    band = (freqs >= 40 / 60) & (freqs <= min(220 / 60, 0.5 * fs_hz))
    if not np.any(band):
        return np.full(n, fallback_bpm)
    f0 = float(freqs[band][np.argmax(power[band])])
    spectrum = np.fft.rfft(ppg - ppg.mean(), nfft)
    f = np.fft.rfftfreq(nfft, 1.0 / fs_hz)
    spectrum[(f < 0.6 * f0) | (f > 1.6 * f0)] = 0
    smooth = np.fft.irfft(spectrum, nfft)[:n]
    is_max = (smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] >= smooth[2:]) & (smooth[1:-1] > 0)
    candidates = np.flatnonzero(is_max) + 1
    min_gap = 0.6 * fs_hz / f0
    kept: list[int] = []
    for idx in candidates:  # in time order: of two maxima closer than min_gap keep the higher
        if kept and idx - kept[-1] < min_gap:
            if smooth[idx] > smooth[kept[-1]]:
                kept[-1] = int(idx)
        else:
            kept.append(int(idx))
    peaks = np.array(kept, dtype=np.int64)
    if peaks.size < 2:
        return np.full(n, 60.0 * f0 if f0 > 0 else fallback_bpm)
    y0, y1, y2 = smooth[peaks - 1], smooth[peaks], smooth[peaks + 1]
    denom = y0 - 2 * y1 + y2
    shift = np.where(denom < 0, 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1.0), 0.0)
    times_s = (peaks + np.clip(shift, -0.5, 0.5)) / fs_hz
    intervals_s = np.diff(times_s)
    t_s = np.arange(n) / fs_hz
    return np.interp(t_s, 0.5 * (times_s[1:] + times_s[:-1]), 60.0 / intervals_s)


def _pulse_signals(
    spec: SyntheticClipSpec, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    n = spec.n_frames
    if not spec.pulse:
        return np.zeros(n), np.full(n, np.nan)
    if spec.ppg_waveform is not None:
        ppg = _unit_variance(_detrended(np.asarray(spec.ppg_waveform, dtype=np.float64)))
        return ppg, _bpm_from_waveform(ppg, float(spec.fps), float(spec.heart_rate_bpm))
    return physiological_ppg(
        n, float(spec.fps), float(spec.heart_rate_bpm), float(spec.heart_rate_variability), rng
    )


# --------------------------------------------------------------------------- motion and light


def _smooth_steps(
    t_s: FloatArray, rng: np.random.Generator, rate_hz: float, width_s: float
) -> FloatArray:
    """Random steps (Poisson times, Gaussian sizes), each a logistic ~4 ``width_s`` long.

    Built as impulses convolved with the logistic density and integrated, so the cost and
    memory stay linear in the clip length however many steps there are.
    """
    n = t_s.size
    fs = (n - 1) / float(t_s[-1]) if n > 1 and t_s[-1] > 0 else 1.0
    duration = float(t_s[-1]) + 1e-9
    count = rng.poisson(rate_hz * duration)
    times = rng.uniform(0.0, duration, size=count)
    sizes = rng.standard_normal(count)
    impulses = np.zeros(n)
    np.add.at(impulses, np.minimum(np.searchsorted(t_s, times), n - 1), sizes)
    half = int(np.ceil(10.0 * width_s * fs))
    u = np.arange(-half, half + 1) / (fs * width_s)
    density = 1.0 / (4.0 * np.cosh(0.5 * u) ** 2)  # the logistic's derivative
    density /= density.sum()
    smoothed = np.convolve(impulses, density)[half : half + n]
    return np.asarray(np.cumsum(smoothed), dtype=np.float64)


def _normalised_peak(x: FloatArray) -> FloatArray:
    x = x - x[0] if x.size else x
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return x / peak if peak > 0 else x


def _motion_tracks(
    spec: SyntheticClipSpec, rng: np.random.Generator, face_height_px: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-frame (dx_px, dy_px, rotation_deg, scale) of the face layer, relative to frame 0."""
    n = spec.n_frames
    t_s = np.arange(n) / float(spec.fps)
    amp = spec.effective_motion_amplitude_px
    if amp == 0 or n < 2:
        return np.zeros(n), np.zeros(n), np.zeros(n), np.ones(n)
    # Rotation and scale grow with the translation: a head that moves 10 px with a 100 px face
    # also turns a few degrees and comes closer or farther by a few percent.
    rot_deg = np.degrees(0.5 * amp / face_height_px)
    scale_amp = 0.3 * amp / face_height_px
    if spec.motion == "periodic":
        f_hz = rng.uniform(0.2, 0.5)
        f2_hz = f_hz * rng.uniform(0.5, 1.0)
        ph = rng.uniform(0, 2 * np.pi, size=4)
        dy = amp * np.sin(2 * np.pi * f_hz * t_s + ph[0])
        dx = 0.5 * amp * np.sin(2 * np.pi * f2_hz * t_s + ph[1])
        rot = rot_deg * np.sin(2 * np.pi * f2_hz * t_s + ph[2])
        scale = 1.0 + scale_amp * np.sin(2 * np.pi * f_hz * t_s + ph[3])
        return dx, dy, rot, scale
    tracks = []
    for _ in range(4):
        drift = _random_sinusoids(t_s, rng, (0.02, 0.15), 3)
        # Quick repositioning (~0.3 s), as when a driver checks a mirror, every ~4 s.
        steps = _smooth_steps(t_s, rng, 0.25, 0.08)
        tracks.append(_normalised_peak(drift + 1.5 * steps))
    return amp * tracks[0], amp * tracks[1], rot_deg * tracks[2], 1.0 + scale_amp * tracks[3]


def _illumination(spec: SyntheticClipSpec, rng: np.random.Generator, channels: int) -> FloatArray:
    """Per-frame, per-channel multiplicative light gain, ``(T, channels)`` float32."""
    n = spec.n_frames
    t_s = np.arange(n) / float(spec.fps)
    gain = np.ones((n, channels))
    if spec.illumination_drift > 0 and n >= 2:
        # Slow (< 0.15 Hz) changes: clouds, a car turning; 20 % of it is a colour-temperature
        # shift so that a plain intensity normalisation does not cancel all of it.
        common = _normalised_peak(
            _random_sinusoids(t_s, rng, (0.005, 0.15), 5) + _smooth_steps(t_s, rng, 0.1, 1.0)
        )
        tint = _normalised_peak(_random_sinusoids(t_s, rng, (0.005, 0.1), 3))
        tint_dir = np.linspace(-1.0, 1.0, channels) if channels > 1 else np.zeros(1)
        gain = (
            1.0
            + spec.illumination_drift * 0.8 * common[:, None]
            + spec.illumination_drift * 0.2 * tint[:, None] * tint_dir[None, :]
        )
    if spec.illumination_flicker_hz is not None:
        phase0 = rng.uniform(0, 2 * np.pi)
        flicker = FLICKER_RELATIVE_AMPLITUDE * np.sin(
            2 * np.pi * float(spec.illumination_flicker_hz) * t_s + phase0
        )
        gain = gain * (1.0 + flicker[:, None])
    return gain.astype(np.float32)


# --------------------------------------------------------------------------- the scene


@functools.lru_cache(maxsize=1)
def _astronaut_bgr() -> UInt8Array:
    from skimage import data

    image = np.asarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), dtype=np.uint8)  # type: ignore[no-untyped-call]
    image.flags.writeable = False
    return image


def _detect_face(image_bgr: UInt8Array) -> tuple[float, float, float, float]:
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


@functools.lru_cache(maxsize=1)
def _astronaut_face() -> tuple[float, float, float, float]:
    return _detect_face(_astronaut_bgr())


def _smooth_field(
    rng: np.random.Generator, shape_hw: tuple[int, int], grid: tuple[int, int], channels: int
) -> npt.NDArray[np.float32]:
    """Smooth random field in [-1, 1]-ish: a coarse random grid upsampled bicubically."""
    coarse = rng.uniform(-1.0, 1.0, size=(grid[0], grid[1], channels)).astype(np.float32)
    out = cv2.resize(coarse, (shape_hw[1], shape_hw[0]), interpolation=cv2.INTER_CUBIC)
    return np.asarray(out, dtype=np.float32).reshape(shape_hw[0], shape_hw[1], channels)


def _ellipse(
    shape_hw: tuple[int, int], center_xy: tuple[float, float], axes_xy: tuple[float, float]
) -> npt.NDArray[np.float32]:
    yy, xx = np.mgrid[0 : shape_hw[0], 0 : shape_hw[1]].astype(np.float32)
    d = ((xx - center_xy[0]) / axes_xy[0]) ** 2 + ((yy - center_xy[1]) / axes_xy[1]) ** 2
    return np.asarray(d <= 1.0, dtype=np.float32)


def _skin_mask(
    image_bgr: UInt8Array, face: tuple[float, float, float, float]
) -> npt.NDArray[np.float32]:
    """Soft skin mask: skin colour in YCrCb, inside the face, near the face's own skin colour.

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
    # The face region: the detected box (brow to chin), a little wider for the cheeks and
    # lower for the jaw; not higher, where hair of skin-like colour begins.
    region = _ellipse((h, w), (fx + 0.5 * fw, fy + 0.58 * fh), (0.55 * fw, 0.56 * fh))
    patch_in_box = in_box[y0:y1, x0:x1]
    if patch_in_box.size and patch_in_box.mean() < 0.6:
        in_box = np.ones_like(in_box)
    mask = in_box.astype(np.float32) * colour.astype(np.float32) * region
    sigma = max(0.8, 0.015 * fh)
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), sigma), dtype=np.float32)


@dataclass(frozen=True)
class _Scene:
    """Everything per clip that does not change from frame to frame."""

    background: npt.NDArray[np.float32]  # (H, W, C)
    # The moving layer as contiguous chunks of at most 4 channels (what cv2.warpAffine takes in
    # one call), together holding alpha*face (C), alpha (1) and alpha*face*pulse gain (C).
    layer_chunks: tuple[npt.NDArray[np.float32], ...]
    channels: int
    face_box_canvas: tuple[float, float, float, float]
    canvas_offset: float  # the canvas extends this far beyond the frame on every side


def _build_scene(spec: SyntheticClipSpec, rng: np.random.Generator) -> _Scene:
    width, height = spec.frame_size
    if spec.face_image is None:
        source, face = _astronaut_bgr(), _astronaut_face()
    else:
        source, face = spec.face_image, _detect_face(spec.face_image)
    fx, fy, fw, fh = face
    scale = _FACE_HEIGHT_FRACTION * height / fh
    # Canvas margin: enough that translation, rotation and scale never bring its edge in view.
    margin = float(np.ceil(0.25 * max(width, height) + 2 * spec.effective_motion_amplitude_px))
    canvas_w, canvas_h = int(width + 2 * margin), int(height + 2 * margin)
    # The face sits near the middle, a little high (as in a webcam or dashboard view), jittered
    # per seed so that training clips differ in framing.
    cx = 0.5 * width + rng.uniform(-0.05, 0.05) * width + margin
    cy = 0.42 * height + rng.uniform(-0.03, 0.03) * height + margin
    src_cx, src_cy = fx + 0.5 * fw, fy + 0.5 * fh
    # Resize first (INTER_AREA when shrinking avoids aliasing), then translate onto the canvas.
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = np.asarray(
        cv2.resize(source, None, fx=scale, fy=scale, interpolation=interp), dtype=np.uint8
    )
    placement = np.array(
        [[1.0, 0.0, cx - scale * src_cx], [0.0, 1.0, cy - scale * src_cy]], dtype=np.float64
    )
    size = (canvas_w, canvas_h)
    face_bgr = np.asarray(
        cv2.warpAffine(
            resized,
            placement,
            size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0.0, 0.0, 0.0, 0.0),
        ),
        dtype=np.uint8,
    )
    coverage = cv2.warpAffine(
        np.ones(resized.shape[:2], np.float32),
        placement,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
    )
    box = (cx - 0.5 * scale * fw, cy - 0.5 * scale * fh, scale * fw, scale * fh)
    bx, by, bw, bh = box

    # Head-and-shoulders silhouette: the face layer moves, the background does not.
    shape = (canvas_h, canvas_w)
    head = _ellipse(shape, (bx + 0.5 * bw, by + 0.3 * bh), (0.8 * bw, 0.9 * bh))
    neck = _ellipse(shape, (bx + 0.5 * bw, by + 1.25 * bh), (0.5 * bw, 0.5 * bh))
    torso = _ellipse(shape, (bx + 0.5 * bw, by + 2.9 * bh), (2.0 * bw, 1.35 * bh))
    alpha = np.maximum(np.maximum(head, neck), torso)
    feather = max(1.0, 0.04 * bh)
    # A tight face crop ends inside the silhouette: fade its edges too, not a hard rectangle.
    coverage = np.clip(2.0 * cv2.GaussianBlur(coverage, (0, 0), feather) - 1.0, 0.0, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather) * coverage

    skin = _skin_mask(face_bgr, box)
    # Near-saturated pixels are specular: that light never entered the skin.
    luma = face_bgr.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
    skin *= np.clip((250.0 - luma) / 30.0, 0.0, 1.0)
    # Some skin pulses more (forehead, cheeks) than other skin: +-40 %, smooth over the face.
    gain_map = 1.0 + 0.4 * _smooth_field(rng, shape, (6, 6), 1)[..., 0]
    pulse_map = skin * gain_map

    face_f = face_bgr.astype(np.float32)
    bg = _background(rng, (height, width))
    if spec.near_infrared:
        face_f = face_f @ _NIR_WEIGHTS_BGR
        face_f = face_f[..., None]
        bg = (bg @ _NIR_WEIGHTS_BGR)[..., None]
        direction = np.array([NIR_PULSE_RATIO], np.float32)
    else:
        r, g, b = BVP_DIRECTION_RGB
        direction = np.array([b / g, 1.0, r / g], np.float32)  # BGR, relative to green
    channels = face_f.shape[2]
    premultiplied = face_f * alpha[..., None]
    pulsing = premultiplied * pulse_map[..., None] * direction[None, None, :]
    layer = np.concatenate([premultiplied, alpha[..., None], pulsing], axis=2).astype(np.float32)
    chunks = tuple(np.ascontiguousarray(layer[..., i : i + 4]) for i in range(0, layer.shape[2], 4))
    return _Scene(
        background=np.ascontiguousarray(bg, dtype=np.float32),
        layer_chunks=chunks,
        channels=channels,
        face_box_canvas=box,
        canvas_offset=margin,
    )


def _background(rng: np.random.Generator, shape_hw: tuple[int, int]) -> npt.NDArray[np.float32]:
    """A static out-of-focus room: muted smooth colour gradients with a little texture."""
    base = rng.uniform(70.0, 170.0)
    tint = rng.uniform(-20.0, 20.0, size=3)
    # Mostly brightness (walls, windows, shadows), a little colour, a little texture.
    broad = 40.0 * _smooth_field(rng, shape_hw, (3, 4), 1)
    chroma = 10.0 * _smooth_field(rng, shape_hw, (3, 4), 3)
    texture = 5.0 * _smooth_field(rng, shape_hw, (18, 24), 1)
    image = base + tint + broad + chroma + texture
    return np.asarray(np.clip(image, 10.0, 240.0), dtype=np.float32)


# --------------------------------------------------------------------------- rendering


def _seed_rng(seed: int, stream: int, *extra: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, *extra)))


class _Renderer:
    """Prepared signals and scene; ``frame(k)`` renders any frame independently."""

    def __init__(self, spec: SyntheticClipSpec) -> None:
        self.spec = spec
        n = spec.n_frames
        self.timestamps_s = np.arange(n, dtype=np.float64) / float(spec.fps)
        self.scene = _build_scene(spec, _seed_rng(spec.seed, _STREAM_SCENE))
        self.ppg, self.bpm = _pulse_signals(spec, _seed_rng(spec.seed, _STREAM_PULSE))
        # Physically the skin darkens as blood volume rises; the rms green modulation is
        # pulse_amplitude / sqrt(2) for the unit-variance pulse.
        self.modulation = (-spec.pulse_amplitude / np.sqrt(2.0) * self.ppg).astype(np.float32)
        face_h = self.scene.face_box_canvas[3]
        self.dx, self.dy, self.rot_deg, self.scale = _motion_tracks(
            spec, _seed_rng(spec.seed, _STREAM_MOTION), face_h
        )
        self.gain = _illumination(spec, _seed_rng(spec.seed, _STREAM_LIGHT), self.scene.channels)
        self._still_layer: (
            tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]] | None
        ) = None

    def matrix(self, k: int) -> npt.NDArray[np.float64]:
        """Affine map from canvas to frame coordinates for frame ``k``."""
        bx, by, bw, bh = self.scene.face_box_canvas
        center = (bx + 0.5 * bw, by + 0.5 * bh)
        m = cv2.getRotationMatrix2D(center, float(self.rot_deg[k]), float(self.scale[k]))
        m[0, 2] += float(self.dx[k]) - self.scene.canvas_offset
        m[1, 2] += float(self.dy[k]) - self.scene.canvas_offset
        return np.asarray(m, dtype=np.float64)

    def face_box(self, k: int = 0) -> tuple[int, int, int, int]:
        bx, by, bw, bh = self.scene.face_box_canvas
        corners = np.array([[bx, by, 1], [bx + bw, by, 1], [bx, by + bh, 1], [bx + bw, by + bh, 1]])
        pts = corners @ self.matrix(k).T
        width, height = self.spec.frame_size
        x0, y0 = np.clip(np.floor(pts.min(axis=0)), 0, [width, height])
        x1, y1 = np.clip(np.ceil(pts.max(axis=0)), 0, [width, height])
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

    def _warped_layer(
        self, k: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The face layer in frame ``k``: (alpha*face, alpha, alpha*face*pulse gain) views."""
        moving = self.spec.effective_motion_amplitude_px > 0
        if not moving and self._still_layer is not None:
            return self._still_layer
        width, height = self.spec.frame_size
        m = self.matrix(k)
        parts: list[npt.NDArray[np.float32]] = [
            np.asarray(
                cv2.warpAffine(
                    chunk,
                    m,
                    (width, height),
                    flags=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT,
                    borderValue=(0.0, 0.0, 0.0, 0.0),
                ),
                dtype=np.float32,
            ).reshape(height, width, -1)
            for chunk in self.scene.layer_chunks
        ]
        c = self.scene.channels
        if len(parts) == 1:
            p = parts[0]
            out = (p[..., :c], p[..., c : c + 1], p[..., c + 1 :])
        else:  # colour: [B, G, R, alpha] and [pulse B, G, R]
            out = (parts[0][..., :c], parts[0][..., c : c + 1], parts[1])
        if not moving:
            self._still_layer = out
        return out

    def frame(self, k: int) -> UInt8Array:
        spec = self.spec
        c = self.scene.channels
        face, alpha, pulsing = self._warped_layer(k)
        image = self.scene.background * (1.0 - alpha)
        image += face
        image += self.modulation[k] * pulsing
        image *= self.gain[k]
        if spec.sensor_noise_std > 0:
            # Noise before rounding dithers the quantiser so a sub-level pulse survives it.
            noise = _seed_rng(spec.seed, _STREAM_NOISE, k).standard_normal(
                image.shape, dtype=np.float32
            )
            image += np.float32(spec.sensor_noise_std) * noise
        out = np.clip(np.rint(image), 0, 255).astype(np.uint8)
        if c == 1:
            out = out[..., 0]
        if spec.jpeg_quality is not None:
            ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg_quality])
            if not ok:  # pragma: no cover - OpenCV always encodes uint8 images
                raise RuntimeError("JPEG encoding failed")
            flag = cv2.IMREAD_GRAYSCALE if c == 1 else cv2.IMREAD_COLOR
            out = np.asarray(cv2.imdecode(encoded, flag), dtype=np.uint8)
        return out


def _check_spec(spec: object) -> SyntheticClipSpec:
    if not isinstance(spec, SyntheticClipSpec):
        raise TypeError(f"spec: expected a SyntheticClipSpec, got {type(spec).__name__}")
    return spec


def iter_frames(spec: SyntheticClipSpec) -> Iterator[tuple[UInt8Array, float]]:
    """Render a clip frame by frame: yields ``(frame, timestamp_s)``.

    Memory stays flat whatever the duration: only the per-frame signals (pulse, motion, light;
    a few floats per frame) and one scene are held, and every frame is rendered on demand from
    its own random stream, so the frames are identical to :func:`render_clip`'s for the same
    spec. Use :func:`render_clip` (for short clips) when the ground truth is needed too.
    """
    # Validate and prepare now, not at the first next(): a bad spec fails at the call.
    renderer = _Renderer(_check_spec(spec))
    return _stream(renderer)


def _stream(renderer: _Renderer) -> Iterator[tuple[UInt8Array, float]]:
    for k in range(renderer.spec.n_frames):
        yield renderer.frame(k), float(renderer.timestamps_s[k])


def render_clip(spec: SyntheticClipSpec = SyntheticClipSpec()) -> SyntheticClip:  # noqa: B008
    """Render a whole clip in memory with its ground truth.

    Examples
    --------
    >>> clip = render_clip(SyntheticClipSpec(duration_s=2.0, heart_rate_bpm=90.0))
    >>> clip.frames.shape
    (60, 240, 320, 3)
    """
    renderer = _Renderer(_check_spec(spec))
    width, height = spec.frame_size
    n = spec.n_frames
    shape: tuple[int, ...] = (n, height, width) if spec.near_infrared else (n, height, width, 3)
    frames = np.empty(shape, dtype=np.uint8)
    for k in range(n):
        frames[k] = renderer.frame(k)
    return SyntheticClip(
        frames=frames,
        timestamps_s=renderer.timestamps_s,
        ppg=renderer.ppg,
        bpm=renderer.bpm,
        face_box_xywh=renderer.face_box(0),
        spec=spec,
    )


def write_video(clip: SyntheticClip, path: str | os.PathLike[str], codec: str = "mp4v") -> Path:
    """Write a clip to a video file with OpenCV; returns the path.

    Parameters
    ----------
    clip
        A rendered clip (colour or near-infrared).
    path
        Output file; the container follows the suffix (``.mp4``, ``.avi``, ...). Parent
        folders are created.
    codec
        FourCC, four characters (``"mp4v"``, ``"MJPG"``, ``"XVID"``, ...). Lossy codecs blur
        the pulse as real cameras' encoders do; ``"MJPG"`` at high quality keeps most of it.
    """
    if not isinstance(clip, SyntheticClip):
        raise TypeError(f"clip: expected a SyntheticClip, got {type(clip).__name__}")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    if not isinstance(codec, str) or len(codec) != 4:
        raise ValueError(f"codec: expected a four-character FourCC string, got {codec!r}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    width, height = clip.spec.frame_size
    is_color = clip.frames.ndim == 4
    writer = cv2.VideoWriter(
        str(out), cv2.VideoWriter.fourcc(*codec), float(clip.spec.fps), (width, height), is_color
    )
    if not writer.isOpened():
        raise ValueError(
            f"codec/path: OpenCV cannot open a {codec!r} writer for {str(out)!r} (expected a "
            f"codec and container this OpenCV build supports, e.g. 'mp4v' with .mp4)"
        )
    try:
        for frame in clip.frames:
            writer.write(frame)
    finally:
        writer.release()
    if not out.exists() or out.stat().st_size == 0:
        raise RuntimeError(f"OpenCV wrote nothing to {str(out)!r} with codec {codec!r}")
    return out
