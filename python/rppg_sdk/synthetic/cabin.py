"""In-cabin 940 nm near-infrared video, as a driver-monitoring camera records it.

A driver-monitoring system (DMS) films the driver with a monochrome global-shutter sensor behind a
940 nm band-pass filter, lit by 940 nm LEDs beside the lens (invisible, so usable at night). Many
systems pulse the illuminator on every other frame and keep the frames in between to measure (or
subtract) the ambient light; the "dark" frames then hold only sunlight leaking through the
filter. The sensor's raw data is linear and 10 or 12 bits deep, handed over in ``uint16``.

:func:`render_cabin` renders such a clip from a :class:`CabinScene`; :func:`iter_cabin_frames`
streams it frame by frame with flat memory; :func:`cabin_truth` gives the truth without frames;
:func:`write_cabin_video` records it to a file and :func:`read_cabin_video` reads it back.
The face, its skin mask and the pulsing layer come from the semi-synthetic renderer
(:mod:`rppg_sdk.synthetic.render`); this module adds the cabin's physics:

1. **Pulse at 940 nm.** Haemoglobin absorbs little near-infrared light, so the pulse is weak:
   ``pulse_amplitude`` (default :data:`NIR_940_PULSE_AMPLITUDE`, 0.1 % peak, about a sixth of a
   typical green-channel pulse) is the relative modulation of the skin's pixel values. The
   two-layer skin model (:mod:`rppg_sdk.synthetic.skin`) gives 850 nm a sixth of green's pulse
   (:data:`~rppg_sdk.synthetic.NIR_PULSE_RATIO`); at 940 nm oxy-haemoglobin absorbs about 12 %
   more than at 850 nm (Prahl's tabulation: 1214 vs 1058 cm^-1/M) and water more, so the pulse
   is about as weak; published NIR rPPG work (van Gastel et al. 2015, "Motion robust remote-PPG
   in infrared", IEEE TBME; Wang et al. 2020, DIS, IEEE TBME; Nowara et al. 2018, MR-NIRP /
   SparsePPG, CVPRW) finds the NIR pulse several times weaker than green's. Skin tone barely
   matters at 940 nm: melanin absorbs little there; the skin model's NIR pulse differs by 2 %
   between Fitzpatrick types I and VI, which this renderer keeps (``fitzpatrick``).
2. **Heart-rate trajectory.** ``heart_rate_knots`` ``((t_s, bpm), ...)`` is interpolated
   linearly (constant beyond its ends), with slow wander and respiratory sinus arrhythmia of
   ``heart_rate_variability`` on top; beats are placed by integrating the rate, each a systolic
   and a broader dicrotic Gaussian (the renderer's beat shape).
3. **Head.** Slow sway (``sway_px``) and head turns (``head_turns``: a mirror check turns the
   head by ``yaw_deg`` and back): a turn narrows the face (``cos(yaw)``), moves it sideways and
   dims it (the skin faces the illuminator less).
4. **Hand.** ``hand_interval_s`` brings a hand up over the face (0.3 s in, 0.3 s out): skin too,
   bright in NIR, with its own weaker, later pulse.
5. **Light.** Lit frames get the illuminator plus the ambient light; with
   ``illuminator="alternating"`` every other frame (the first one when ``dark_first``) gets the
   ambient light alone, ``ambient_level`` of the illuminator's on average, drifting slowly by
   ``ambient_drift`` (sun, shade, tunnels).
6. **Sensor.** Linear response: ``exposure`` of full scale for a white reflector (a 255 pixel
   of the face picture) under the illuminator; shot noise from ``full_well_electrons / gain``
   electrons at full scale, read noise ``read_noise_electrons`` times ``gain``; quantised to
   ``bit_depth`` bits (8: ``uint8``; 10-16: ``uint16`` holding values below ``2**bit_depth``).

Everything random is drawn from ``seed`` (and the frame index for the noise), so a frame can be
rendered on its own and the same scene gives the same clip.
"""

from __future__ import annotations

import fractions
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk.synthetic._checks import _check_bool, _check_int, _check_real
from rppg_sdk.synthetic.faces import available_faces
from rppg_sdk.synthetic.pulse import _random_sinusoids
from rppg_sdk.synthetic.render import _build_scene, _seed_rng, _warp_chunks
from rppg_sdk.synthetic.skin import REFERENCE_FITZPATRICK, skin_model
from rppg_sdk.synthetic.spec import SyntheticClipSpec

__all__ = [
    "BIT_DEPTHS",
    "NIR_940_PULSE_AMPLITUDE",
    "CabinClip",
    "CabinScene",
    "CabinTruth",
    "cabin_truth",
    "iter_cabin_frames",
    "read_cabin_video",
    "render_cabin",
    "write_cabin_video",
]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]

#: Default relative pulse modulation (peak) of the skin's pixel values at 940 nm: 0.1 %, about a
#: sixth of the renderer's default green pulse (0.6 %), as the skin model's 850 nm ratio gives.
NIR_940_PULSE_AMPLITUDE: float = 0.001

#: Bit depths a cabin camera can deliver: 8 in ``uint8``, the others in ``uint16``.
BIT_DEPTHS: tuple[int, ...] = (8, 10, 12, 14, 16)

# Streams of randomness, per concern (independent of the colour renderer's streams).
_STREAM_PULSE, _STREAM_HEAD, _STREAM_LIGHT, _STREAM_SCENE, _STREAM_NOISE, _STREAM_HAND = range(
    100, 106
)
# The renderer's two-Gaussian beat (positions and widths in beat fractions; pulse.py's fit).
_SYSTOLIC_MU, _SYSTOLIC_SIGMA = 0.18, 0.08
_DICROTIC_MU, _DICROTIC_SIGMA, _DICROTIC_AMPLITUDE = 0.43, 0.22, 1.2
# A hand takes this long to come up to the face and to go down again.
_HAND_MOVE_S = 0.3
# A head turn: this share of its duration turning out, holding, turning back.
_TURN_RAMP = 0.3
# Share of the face box a hand must cover, or the yaw beyond which the face is not "visible".
_OCCLUDED_SHARE = 0.3
_VISIBLE_MAX_YAW_DEG = 35.0
# Share of the illuminator's light on the driver that reaches the seat and cabin behind.
_BACKGROUND_LIGHT = 0.4


@dataclass(frozen=True)
class CabinScene:
    """What to render: a driver in front of a 940 nm DMS camera. Validated on construction.

    Parameters
    ----------
    duration_s
        Clip length in seconds (``round(duration_s * fps)`` frames).
    fps
        Frame rate in Hz (DMS cameras run 30-60 fps).
    heart_rate_knots
        ``((t_s, bpm), ...)``: the heart rate at these times, linear in between and constant
        beyond (30-220 bpm). ``((0, 70), (10, 70), (25, 100))`` holds 70 bpm for 10 s and rises
        to 100 bpm at 25 s.
    heart_rate_variability
        Relative standard deviation of the natural wander around the trajectory, 0-0.2.
    frame_size
        ``(width, height)`` in pixels, each 64-4096.
    bit_depth
        8 (``uint8`` frames) or 10, 12, 14, 16 (``uint16`` frames, values below
        ``2**bit_depth``).
    pulse
        ``False`` renders the same clip without a pulse (a control).
    pulse_amplitude
        Peak relative modulation of the skin's pixel values at 940 nm, 0-0.05 (default
        :data:`NIR_940_PULSE_AMPLITUDE`), for Fitzpatrick type II; other types scale by the
        skin model's near-infrared pulse (within 2 %).
    illuminator
        ``"alternating"`` (every other frame lit by ambient light only) or ``"constant"``.
    dark_first
        With ``"alternating"``: whether frame 0 is a dark frame.
    ambient_level
        Mean ambient light as a share of the illuminator's on the skin, 0-2.
    ambient_drift
        Relative amplitude of the ambient light's slow changes, 0-1.
    head_turns
        ``((start_s, duration_s, yaw_deg), ...)``: head turns (|yaw| <= 80 degrees; positive
        turns to the image's right) that return to the front within ``duration_s``.
    sway_px
        Largest slow translation of the head in pixels (the driver's sway, road bumps).
    hand_interval_s
        ``(start_s, end_s)`` during which a hand covers the face, or None.
    exposure
        Share of full scale a white reflector reaches under the illuminator, 0.05-1.
    gain
        Analog gain, 1-64: multiplies the signal electrons' noise and the read noise.
    full_well_electrons
        Electrons at full scale at unit gain (shot noise), 100-1e6.
    read_noise_electrons
        Read noise in electrons at unit gain, 0-100.
    face
        One of :func:`~rppg_sdk.synthetic.available_faces` (None: the astronaut).
    fitzpatrick
        Skin type 1-6 (the skin model's NIR brightness and pulse).
    face_height_px
        Face box height in pixels; None: 0.42 of the frame height.
    seed
        Non-negative int: the same scene renders the same clip.
    """

    duration_s: float = 20.0
    fps: float = 30.0
    heart_rate_knots: tuple[tuple[float, float], ...] = ((0.0, 72.0),)
    heart_rate_variability: float = 0.02
    frame_size: tuple[int, int] = (320, 240)
    bit_depth: int = 10
    pulse: bool = True
    pulse_amplitude: float = NIR_940_PULSE_AMPLITUDE
    illuminator: Literal["alternating", "constant"] = "alternating"
    dark_first: bool = False
    ambient_level: float = 0.1
    ambient_drift: float = 0.3
    head_turns: tuple[tuple[float, float, float], ...] = ()
    sway_px: float = 3.0
    hand_interval_s: tuple[float, float] | None = None
    exposure: float = 0.8
    gain: float = 1.0
    full_well_electrons: float = 10_000.0
    read_noise_electrons: float = 3.0
    face: str | None = None
    fitzpatrick: int = 3
    face_height_px: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        _check_real("duration_s", self.duration_s, 0.0, 24 * 3600.0)
        fps = _check_real("fps", self.fps, 1.0, 1000.0)
        if self.n_frames < 2:
            raise ValueError(
                f"duration_s * fps: expected at least 2 frames, got {self.duration_s!r} s at "
                f"{fps:g} fps"
            )
        knots = self.heart_rate_knots
        if not isinstance(knots, tuple | list) or not knots:
            raise TypeError(
                f"heart_rate_knots: expected a non-empty tuple of (t_s, bpm) pairs, got {knots!r}"
            )
        checked: list[tuple[float, float]] = []
        for i, knot in enumerate(knots):
            if not isinstance(knot, tuple | list) or len(knot) != 2:
                raise TypeError(f"heart_rate_knots[{i}]: expected a (t_s, bpm) pair, got {knot!r}")
            t = _check_real(f"heart_rate_knots[{i}].t_s", knot[0], 0.0, 24 * 3600.0)
            b = _check_real(f"heart_rate_knots[{i}].bpm", knot[1], 30.0, 220.0)
            if checked and t <= checked[-1][0]:
                raise ValueError(
                    f"heart_rate_knots: expected increasing times, got {t!r} after "
                    f"{checked[-1][0]!r}"
                )
            checked.append((t, b))
        object.__setattr__(self, "heart_rate_knots", tuple(checked))
        _check_real("heart_rate_variability", self.heart_rate_variability, 0.0, 0.2)
        size = self.frame_size
        if not isinstance(size, tuple | list) or len(size) != 2:
            raise TypeError(f"frame_size: expected a (width, height) tuple, got {size!r}")
        w = _check_int("frame_size[0]", size[0], 64, 4096)
        h = _check_int("frame_size[1]", size[1], 64, 4096)
        object.__setattr__(self, "frame_size", (w, h))
        _check_int("bit_depth", self.bit_depth, 8, 16)
        if self.bit_depth not in BIT_DEPTHS:
            raise ValueError(f"bit_depth: expected one of {BIT_DEPTHS}, got {self.bit_depth!r}")
        _check_bool("pulse", self.pulse)
        _check_real("pulse_amplitude", self.pulse_amplitude, 0.0, 0.05)
        if self.illuminator not in ("alternating", "constant"):
            raise ValueError(
                f"illuminator: expected 'alternating' or 'constant', got {self.illuminator!r}"
            )
        _check_bool("dark_first", self.dark_first)
        _check_real("ambient_level", self.ambient_level, 0.0, 2.0)
        _check_real("ambient_drift", self.ambient_drift, 0.0, 1.0)
        turns = self.head_turns
        if not isinstance(turns, tuple | list):
            raise TypeError(
                f"head_turns: expected a tuple of (start_s, duration_s, yaw_deg), got {turns!r}"
            )
        checked_turns: list[tuple[float, float, float]] = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, tuple | list) or len(turn) != 3:
                raise TypeError(
                    f"head_turns[{i}]: expected (start_s, duration_s, yaw_deg), got {turn!r}"
                )
            start = _check_real(f"head_turns[{i}].start_s", turn[0], 0.0, 24 * 3600.0)
            dur = _check_real(f"head_turns[{i}].duration_s", turn[1], 0.1, 600.0)
            yaw = _check_real(f"head_turns[{i}].yaw_deg", turn[2], -80.0, 80.0)
            checked_turns.append((start, dur, yaw))
        object.__setattr__(self, "head_turns", tuple(checked_turns))
        _check_real("sway_px", self.sway_px, 0.0, 0.1 * h)
        if self.hand_interval_s is not None:
            hand = self.hand_interval_s
            if not isinstance(hand, tuple | list) or len(hand) != 2:
                raise TypeError(f"hand_interval_s: expected (start_s, end_s) or None, got {hand!r}")
            a = _check_real("hand_interval_s[0]", hand[0], 0.0, 24 * 3600.0)
            b = _check_real("hand_interval_s[1]", hand[1], 0.0, 24 * 3600.0)
            if not b > a:
                raise ValueError(f"hand_interval_s: expected start_s < end_s, got {hand!r}")
            object.__setattr__(self, "hand_interval_s", (a, b))
        _check_real("exposure", self.exposure, 0.05, 1.0)
        _check_real("gain", self.gain, 1.0, 64.0)
        _check_real("full_well_electrons", self.full_well_electrons, 100.0, 1e6)
        _check_real("read_noise_electrons", self.read_noise_electrons, 0.0, 100.0)
        if self.face is not None and self.face not in available_faces():
            raise ValueError(
                f"face: expected one of {available_faces()} or None, got {self.face!r}"
            )
        _check_int("fitzpatrick", self.fitzpatrick, 1, 6)
        if self.face_height_px is not None:
            _check_real("face_height_px", self.face_height_px, 16.0, 0.9 * h)
        _check_int("seed", self.seed, 0, 2**63 - 1)

    @property
    def n_frames(self) -> int:
        """Number of frames: ``duration_s * fps`` rounded half up."""
        return int(math.floor(float(self.duration_s) * float(self.fps) + 0.5))

    @property
    def dtype(self) -> type[np.unsignedinteger[Any]]:
        """``numpy.uint8`` for 8-bit scenes, ``numpy.uint16`` otherwise."""
        return np.uint8 if self.bit_depth == 8 else np.uint16

    @property
    def full_scale(self) -> int:
        """The largest pixel value: ``2**bit_depth - 1``."""
        return (1 << self.bit_depth) - 1


@dataclass(frozen=True, eq=False)
class CabinTruth:
    """Per-frame truth of a cabin scene (all arrays ``(T,)`` unless noted).

    Attributes
    ----------
    timestamps_s
        Frame times, ``k / fps``.
    bpm
        Instantaneous heart rate (NaN without pulse).
    ppg
        The blood-volume pulse driving the skin (unit variance; zeros without pulse).
    illuminated
        Whether the illuminator lit the frame (False: a dark frame).
    face_box_xywh
        ``(T, 4)`` int face box (brow to chin) in each frame, clipped to the frame.
    yaw_deg
        Head yaw.
    hand_cover
        Share of the face box the hand covers, 0-1.
    """

    timestamps_s: FloatArray
    bpm: FloatArray
    ppg: FloatArray
    illuminated: npt.NDArray[np.bool_]
    face_box_xywh: npt.NDArray[np.int64]
    yaw_deg: FloatArray
    hand_cover: FloatArray

    @property
    def face_visible(self) -> npt.NDArray[np.bool_]:
        """Frames whose face is neither covered (30 % of its box) nor turned past 35 degrees."""
        out: npt.NDArray[np.bool_] = (self.hand_cover < _OCCLUDED_SHARE) & (
            np.abs(self.yaw_deg) <= _VISIBLE_MAX_YAW_DEG
        )
        return out

    def mean_bpm(self, start_s: float, end_s: float) -> float:
        """True mean heart rate of the frames with ``start_s <= t < end_s`` (NaN without
        pulse); raises ``ValueError`` when no frame lies there."""
        inside = (self.timestamps_s >= start_s) & (self.timestamps_s < end_s)
        if not np.any(inside):
            raise ValueError(
                f"[start_s, end_s): expected a window holding frames, got [{start_s}, {end_s})"
            )
        return float(np.mean(self.bpm[inside]))


@dataclass(frozen=True, eq=False)
class CabinClip:
    """A rendered cabin clip: ``frames`` ``(T, H, W)`` uint8 or uint16, its ``truth`` and the
    ``scene`` that made it."""

    frames: npt.NDArray[Any]
    truth: CabinTruth
    scene: CabinScene

    @property
    def timestamps_s(self) -> FloatArray:
        """Frame times in seconds (``truth.timestamps_s``)."""
        return self.truth.timestamps_s


# --------------------------------------------------------------------------- signals


def _bpm_trajectory(scene: CabinScene, t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    knots = np.asarray(scene.heart_rate_knots, dtype=np.float64)
    base = np.interp(t_s, knots[:, 0], knots[:, 1])
    var = float(scene.heart_rate_variability)
    if var == 0:
        return np.asarray(base, dtype=np.float64)
    slow = _random_sinusoids(t_s, rng, (0.01, 0.12), 4)
    resp = np.sqrt(2.0) * np.sin(2 * np.pi * rng.uniform(0.2, 0.33) * t_s + rng.uniform(0, 6.3))
    return np.asarray(
        base * np.maximum(1.0 + var * (np.sqrt(0.6) * slow + np.sqrt(0.4) * resp), 0.3),
        dtype=np.float64,
    )


def _beats(phase: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Two-Gaussian beats at a cardiac phase given in beats; unit variance."""
    beat = np.floor(phase).astype(np.int64)
    beat -= int(beat[0]) - 1
    frac = phase - np.floor(phase)
    n_beats = int(beat[-1]) + 3
    amplitude = 1.0 + 0.04 * rng.standard_normal(n_beats + 1)
    dicrotic = _DICROTIC_AMPLITUDE * (1.0 + 0.1 * rng.standard_normal(n_beats + 1))
    wave = np.zeros(phase.size)
    for offset in (-1, 0, 1):
        k = np.clip(beat - offset, 0, n_beats)
        x = frac + offset
        wave += amplitude[k] * (
            np.exp(-0.5 * ((x - _SYSTOLIC_MU) / _SYSTOLIC_SIGMA) ** 2)
            + dicrotic[k] * np.exp(-0.5 * ((x - _DICROTIC_MU) / _DICROTIC_SIGMA) ** 2)
        )
    wave -= wave.mean()
    std = float(wave.std())
    return wave / std if std > 0 else wave


def _pulse(scene: CabinScene, t_s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(ppg, bpm, cardiac phase in beats) per frame."""
    n = t_s.size
    if not scene.pulse:
        return np.zeros(n), np.full(n, np.nan), np.zeros(n)
    rng = _seed_rng(scene.seed, _STREAM_PULSE)
    bpm = _bpm_trajectory(scene, t_s, rng)
    fps = float(scene.fps)
    phase = rng.uniform(0.0, 1.0) + (np.cumsum(bpm) - 0.5 * bpm) / (60.0 * fps)
    return _beats(phase, rng), bpm, phase


def _yaw(scene: CabinScene, t_s: FloatArray) -> FloatArray:
    yaw = np.zeros(t_s.size)
    for start, dur, deg in scene.head_turns:
        u = (t_s - start) / dur
        ramp = _TURN_RAMP
        # Smooth out, hold, smooth back: a cosine ramp over a share of the turn each way.
        up = np.clip(u / ramp, 0.0, 1.0)
        down = np.clip((1.0 - u) / ramp, 0.0, 1.0)
        shape = np.minimum(0.5 - 0.5 * np.cos(np.pi * up), 0.5 - 0.5 * np.cos(np.pi * down))
        yaw += deg * np.where((u >= 0) & (u <= 1), shape, 0.0)
    return yaw


def _sway(scene: CabinScene, t_s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    rng = _seed_rng(scene.seed, _STREAM_HEAD)
    amp = float(scene.sway_px)
    if amp == 0:
        z = np.zeros(t_s.size)
        return z, z.copy(), z.copy()
    out = []
    for _ in range(3):
        x = _random_sinusoids(t_s, rng, (0.03, 0.4), 4)
        x = x - x[0]
        peak = float(np.max(np.abs(x)))
        out.append(x / peak if peak > 0 else x)
    # dx, dy in pixels; roll in degrees (a degree or two).
    return amp * out[0], 0.6 * amp * out[1], 1.5 * out[2]


def _ambient(scene: CabinScene, t_s: FloatArray) -> FloatArray:
    rng = _seed_rng(scene.seed, _STREAM_LIGHT)
    level = float(scene.ambient_level)
    drift = _random_sinusoids(t_s, rng, (0.01, 0.2), 4)
    peak = float(np.max(np.abs(drift))) if drift.size else 0.0
    drift = drift / peak if peak > 0 else drift
    return np.asarray(np.maximum(level * (1.0 + scene.ambient_drift * drift), 0.0), np.float64)


def _illuminated(scene: CabinScene) -> npt.NDArray[np.bool_]:
    n = scene.n_frames
    if scene.illuminator == "constant":
        return np.ones(n, bool)
    k = np.arange(n)
    lit: npt.NDArray[np.bool_] = (k % 2 == 1) if scene.dark_first else (k % 2 == 0)
    return lit


def _hand_presence(scene: CabinScene, t_s: FloatArray) -> FloatArray:
    """0 (down) .. 1 (over the face) per frame."""
    if scene.hand_interval_s is None:
        return np.zeros(t_s.size)
    a, b = scene.hand_interval_s
    up = np.clip((t_s - a) / _HAND_MOVE_S, 0.0, 1.0)
    down = np.clip((b - t_s) / _HAND_MOVE_S, 0.0, 1.0)
    p = np.minimum(up, down)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * p), np.float64)


# --------------------------------------------------------------------------- rendering


class _Cabin:
    """Prepared scene and per-frame signals; ``frame(k)`` renders any frame on its own."""

    def __init__(self, scene: CabinScene) -> None:
        if not isinstance(scene, CabinScene):
            raise TypeError(f"scene: expected a CabinScene, got {type(scene).__name__}")
        self.scene = scene
        n = scene.n_frames
        width, height = scene.frame_size
        self.t_s = np.arange(n, dtype=np.float64) / float(scene.fps)
        self.ppg, self.bpm, phase = _pulse(scene, self.t_s)
        self.yaw = _yaw(scene, self.t_s)
        self.dx, self.dy, self.roll = _sway(scene, self.t_s)
        self.lit = _illuminated(scene)
        self.ambient = _ambient(scene, self.t_s)
        self.hand = _hand_presence(scene, self.t_s)
        # The face layer of the colour renderer, grey (its near-infrared path), with the skin
        # model's NIR brightness for the skin type; the canvas margin must hold the sway and
        # the sideways shift of a turned head.
        face_h = scene.face_height_px if scene.face_height_px is not None else 0.42 * height
        max_yaw = max((abs(t[2]) for t in scene.head_turns), default=0.0)
        shift_budget = scene.sway_px + 0.45 * face_h * math.sin(math.radians(max_yaw))
        spec = SyntheticClipSpec(
            duration_s=1.0,
            fps=scene.fps,
            frame_size=scene.frame_size,
            near_infrared=True,
            fitzpatrick=scene.fitzpatrick,
            face=scene.face,
            face_height_px=scene.face_height_px,
            seed=scene.seed,
            motion="rigid",
            motion_amplitude_px=min(max(shift_budget, 1.0), 0.25 * height),
        )
        self.layer = _build_scene(spec, _seed_rng(scene.seed, _STREAM_SCENE))
        # The layer's pulsing part is scaled by the skin model's pulse direction relative to
        # type-II green; make the modulation give pulse_amplitude at type-II 940 nm instead
        # (other types keep the model's small near-infrared difference).
        reference_green = skin_model(REFERENCE_FITZPATRICK).pulse_rgb[1]
        reference_nir = skin_model(REFERENCE_FITZPATRICK).pulse_nir
        per_unit = float(scene.pulse_amplitude) * reference_green / reference_nir
        self.modulation = (-per_unit / math.sqrt(2.0) * self.ppg).astype(np.float32)
        # A hand pulses too, later (farther from the heart) and more weakly.
        lag = int(round(0.15 * scene.fps))
        self.hand_modulation = (
            -0.5 * float(scene.pulse_amplitude) / math.sqrt(2.0) * np.roll(self.ppg, lag)
        ).astype(np.float32)
        self.hand_level = float(skin_model(scene.fitzpatrick).pixel_nir) * 0.95
        rng = _seed_rng(scene.seed, _STREAM_HAND)
        self.hand_side = float(rng.choice([-1.0, 1.0]))
        self.hand_texture = (
            1.0
            + 0.04
            * np.asarray(
                cv2.resize(
                    rng.uniform(-1, 1, size=(12, 16)).astype(np.float32),
                    (width, height),
                    interpolation=cv2.INTER_CUBIC,
                ),
                np.float32,
            )
        ).astype(np.float32)
        self._noise_table: Float32Array | None = None
        del phase

    # ----------------------------------------------------------------- geometry

    def matrix(self, k: int) -> npt.NDArray[np.float64]:
        """Affine map from the layer's canvas to frame ``k``: sway, roll and yaw (the face
        narrows by ``cos(yaw)`` about its centre and moves sideways with the head's turn)."""
        bx, by, bw, bh = self.layer.face_box_canvas
        cx, cy = bx + 0.5 * bw, by + 0.5 * bh
        yaw = math.radians(float(self.yaw[k]))
        roll = math.radians(float(self.roll[k]))
        squash = np.array([[math.cos(yaw), 0.0], [0.0, 1.0]])
        rot = np.array([[math.cos(roll), math.sin(roll)], [-math.sin(roll), math.cos(roll)]])
        a = rot @ squash
        # The head turns about the neck, behind the face: the face's centre swings sideways.
        shift_x = 0.45 * bh * math.sin(yaw) + float(self.dx[k])
        t = np.array([cx + shift_x, cy + float(self.dy[k])]) - a @ np.array([cx, cy])
        off = self.layer.canvas_offset
        return np.array(
            [[a[0, 0], a[0, 1], t[0] - off], [a[1, 0], a[1, 1], t[1] - off]], dtype=np.float64
        )

    def face_box(self, k: int) -> tuple[int, int, int, int]:
        bx, by, bw, bh = self.layer.face_box_canvas
        corners = np.array([[bx, by, 1], [bx + bw, by, 1], [bx, by + bh, 1], [bx + bw, by + bh, 1]])
        pts = corners @ self.matrix(k).T
        width, height = self.scene.frame_size
        x0, y0 = np.clip(np.floor(pts.min(axis=0)), 0, [width, height])
        x1, y1 = np.clip(np.ceil(pts.max(axis=0)), 0, [width, height])
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

    def hand_mask(self, k: int) -> Float32Array | None:
        """The hand's coverage (0-1) in frame ``k``, or None when it is down."""
        p = float(self.hand[k])
        if p <= 0:
            return None
        width, height = self.scene.frame_size
        x, y, w, h = self.face_box(k)
        # From below the frame, off to one side, up to the face's centre (a palm over nose and
        # mouth, fingers up across an eye and the cheek).
        cx = x + 0.5 * w + self.hand_side * (1.0 - p) * 0.6 * w + self.hand_side * 0.1 * w
        cy = y + 0.7 * h + (1.0 - p) * (height - y)
        mask = np.zeros((height, width), np.float32)
        palm = (int(round(0.42 * w)), int(round(0.38 * h)))
        cv2.ellipse(mask, (int(round(cx)), int(round(cy))), palm, 0.0, 0.0, 360.0, (1.0,), -1)
        for i in range(4):
            fx = cx + (i - 1.5) * 0.2 * w
            fy = cy - 0.55 * h
            finger = (int(round(0.08 * w)), int(round(0.3 * h)))
            angle = (i - 1.5) * 6.0
            cv2.ellipse(mask, (int(round(fx)), int(round(fy))), finger, angle, 0, 360, (1.0,), -1)
        blurred = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.02 * h))
        return np.asarray(blurred, np.float32)

    # ----------------------------------------------------------------- pixels

    def radiance(self, k: int) -> Float32Array:
        """Frame ``k``'s scene under the illuminator alone, in 8-bit picture units (a white
        reflector is 255), before the light level, the sensor and the hand's pulse."""
        warped = _warp_chunks(self.layer.layer_chunks, self.matrix(k), self.scene.frame_size)
        layer = warped[0] if len(warped) == 1 else np.concatenate(warped, axis=2)
        face, alpha, pulsing = layer[..., 0], layer[..., 1], layer[..., 2]
        # A turned face meets the illuminator's light obliquely (Lambertian): dimmer.
        shade = np.float32(math.cos(math.radians(float(self.yaw[k]))) ** 0.5)
        # The cabin behind the driver is farther from the LEDs beside the lens (inverse square).
        image = self.layer.background[..., 0] * (_BACKGROUND_LIGHT * (1.0 - alpha))
        image += shade * (face + pulsing * self.modulation[k])
        return np.asarray(image, np.float32)

    def frame(self, k: int) -> npt.NDArray[Any]:
        scene = self.scene
        image = self.radiance(k)
        hand = self.hand_mask(k)
        if hand is not None:
            skin = self.hand_level * self.hand_texture * (1.0 + self.hand_modulation[k])
            image = image * (1.0 - hand) + skin * hand
        light = float(self.ambient[k]) + (1.0 if self.lit[k] else 0.0)
        # Linear sensor: share of full scale, then electrons (shot noise) and read noise.
        signal = image * np.float32(light * scene.exposure / 255.0)
        electrons_fs = float(scene.full_well_electrons) / float(scene.gain)
        noise_rng = _seed_rng(scene.seed, _STREAM_NOISE, k)
        std = np.sqrt(
            np.maximum(signal, 0.0) / np.float32(electrons_fs)
            + np.float32((scene.read_noise_electrons / scene.full_well_electrons) ** 2)
        )
        noisy = signal + std * noise_rng.standard_normal(signal.shape, dtype=np.float32)
        out = np.rint(noisy * np.float32(scene.full_scale))
        np.clip(out, 0, scene.full_scale, out=out)
        result: npt.NDArray[Any] = out.astype(scene.dtype)
        return result

    def truth(self) -> CabinTruth:
        n = self.scene.n_frames
        boxes = np.array([self.face_box(k) for k in range(n)], dtype=np.int64)
        cover = np.zeros(n)
        for k in np.flatnonzero(self.hand > 0):
            mask = self.hand_mask(int(k))
            x, y, w, h = (int(v) for v in boxes[k])
            if mask is not None and w > 0 and h > 0:
                cover[k] = float(np.mean(mask[y : y + h, x : x + w] > 0.5))
        return CabinTruth(
            timestamps_s=self.t_s,
            bpm=self.bpm,
            ppg=self.ppg,
            illuminated=self.lit,
            face_box_xywh=boxes,
            yaw_deg=self.yaw,
            hand_cover=cover,
        )


def iter_cabin_frames(scene: CabinScene) -> Iterator[tuple[npt.NDArray[Any], float]]:
    """Render a cabin clip frame by frame: yields ``(frame, timestamp_s)`` with flat memory.

    Frames are ``(H, W)`` ``uint8`` (``bit_depth=8``) or ``uint16``; identical to
    :func:`render_cabin`'s.
    """
    cabin = _Cabin(scene)  # validate now, not at the first next()
    return _stream(cabin)


def _stream(cabin: _Cabin) -> Iterator[tuple[npt.NDArray[Any], float]]:
    for k in range(cabin.scene.n_frames):
        yield cabin.frame(k), float(cabin.t_s[k])


def cabin_truth(scene: CabinScene) -> CabinTruth:
    """The truth of ``scene``'s clip (rates, pulse, lit frames, face boxes, yaw, hand) without
    rendering its frames."""
    return _Cabin(scene).truth()


def render_cabin(scene: CabinScene = CabinScene()) -> CabinClip:  # noqa: B008
    """Render a whole cabin clip in memory with its truth.

    Examples
    --------
    >>> clip = render_cabin(CabinScene(duration_s=1.0, bit_depth=12))
    >>> clip.frames.shape, clip.frames.dtype.name, bool(clip.truth.illuminated[1])
    ((30, 240, 320), 'uint16', False)
    """
    cabin = _Cabin(scene)
    frames = np.empty((scene.n_frames, scene.frame_size[1], scene.frame_size[0]), scene.dtype)
    for k in range(scene.n_frames):
        frames[k] = cabin.frame(k)
    return CabinClip(frames=frames, truth=cabin.truth(), scene=scene)


# --------------------------------------------------------------------------- files

_FORMATS = (".npz", ".mkv", ".mp4")


def write_cabin_video(
    clip: CabinClip | CabinScene, path: str | os.PathLike[str], *, crf: int = 18
) -> Path:
    """Record a cabin clip (or render a scene frame by frame) into a file.

    The suffix picks the format:

    - ``.npz``: the frames (any bit depth, exact), their timestamps and, for a rendered clip,
      the truth's arrays; numpy only.
    - ``.mkv``: lossless FFV1 in Matroska, ``gray16le`` for 10-16-bit frames (the values kept
      exactly) or ``gray`` for 8-bit; needs PyAV.
    - ``.mp4``: H.264 grey (``yuv420p`` with flat chroma, CRF ``crf``), 8 bits as car video
      recorders keep it: deeper frames are shifted down to their top 8 bits; needs PyAV.

    Returns ``path``. Read it back with :func:`read_cabin_video`.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"path: expected a suffix in {_FORMATS}, got {out.name!r}")
    _check_int("crf", crf, 0, 51)
    if isinstance(clip, CabinScene):
        scene = clip
        frames: Iterator[npt.NDArray[Any]] = (f for f, _ in iter_cabin_frames(scene))
        truth: CabinTruth | None = None
    elif isinstance(clip, CabinClip):
        scene = clip.scene
        frames = iter(clip.frames)
        truth = clip.truth
    else:
        raise TypeError(f"clip: expected a CabinClip or CabinScene, got {type(clip).__name__}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npz":
        stack = np.stack(list(frames)) if truth is None else np.asarray(clip.frames)  # type: ignore[union-attr]
        extra: dict[str, Any] = {}
        if truth is not None:
            extra = {
                "bpm": truth.bpm,
                "ppg": truth.ppg,
                "illuminated": truth.illuminated,
                "face_box_xywh": truth.face_box_xywh,
            }
        t_s = np.arange(scene.n_frames, dtype=np.float64) / float(scene.fps)
        np.savez_compressed(
            out, frames=stack, timestamps_s=t_s, bit_depth=np.int64(scene.bit_depth), **extra
        )
        return out
    av = _import_av()
    container = av.open(str(out), mode="w")
    try:
        rate = fractions.Fraction(float(scene.fps)).limit_denominator(1001)
        deep = scene.bit_depth > 8
        if suffix == ".mkv":
            stream = container.add_stream("ffv1", rate=rate)
            stream.pix_fmt = "gray16le" if deep else "gray"
            fmt = stream.pix_fmt
        else:
            stream = container.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(int(crf)), "preset": "veryfast"}
            fmt = "gray"
        stream.width, stream.height = scene.frame_size
        for frame in frames:
            data = frame
            if suffix == ".mp4" and deep:
                data = (frame >> (scene.bit_depth - 8)).astype(np.uint8)
            video = av.VideoFrame.from_ndarray(np.ascontiguousarray(data), format=fmt)
            if suffix == ".mp4":
                video = video.reformat(format="yuv420p")
            for packet in stream.encode(video):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    return out


def read_cabin_video(
    path: str | os.PathLike[str], fps: float | None = None
) -> Iterator[tuple[npt.NDArray[Any], float]]:
    """Frames of a file :func:`write_cabin_video` wrote: yields ``(frame, timestamp_s)``.

    ``.npz`` and ``.mkv`` give the frames exactly (``uint16`` for deep ones); ``.mp4`` gives the
    decoded 8-bit luma. Timestamps are the stored ones (``.npz``) or the stream's presentation
    times (``fps`` overrides them with ``k / fps``).
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    src = Path(path)
    suffix = src.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"path: expected a suffix in {_FORMATS}, got {src.name!r}")
    if not src.is_file():
        raise FileNotFoundError(f"path: no such file {str(src)!r}")
    if fps is not None:
        _check_real("fps", fps, 1.0, 1000.0)
    return _read(src, suffix, fps)


def _read(src: Path, suffix: str, fps: float | None) -> Iterator[tuple[npt.NDArray[Any], float]]:
    if suffix == ".npz":
        with np.load(src) as data:
            frames, t_s = data["frames"], data["timestamps_s"]
        for k in range(frames.shape[0]):
            yield frames[k], float(k / fps if fps is not None else t_s[k])
        return
    av = _import_av()
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        for k, video in enumerate(container.decode(stream)):
            if suffix == ".mkv":
                fmt = "gray16le" if video.format.name.startswith("gray16") else "gray"
            else:
                fmt = "gray"
            frame = video.to_ndarray(format=fmt)
            if fps is not None or video.pts is None or video.time_base is None:
                ts = k / float(fps if fps is not None else stream.average_rate or 30.0)
            else:
                ts = float(video.pts * video.time_base)
            yield frame, ts


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'writing and reading cabin video files needs PyAV: pip install "rppg-sdk[demo]"'
        ) from exc
    return av
