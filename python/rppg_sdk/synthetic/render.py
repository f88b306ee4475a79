"""Rendering: the scene, its motion and light, and the frames, in memory or into a file."""

from __future__ import annotations

import dataclasses
import functools
import os
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from rppg_sdk.synthetic import camera
from rppg_sdk.synthetic.faces import detect_face, ellipse, face_picture, skin_mask
from rppg_sdk.synthetic.pulse import (
    _detrended,
    _random_sinusoids,
    _unit_variance,
    bpm_from_waveform,
    physiological_ppg,
)
from rppg_sdk.synthetic.skin import REFERENCE_FITZPATRICK, skin_model
from rppg_sdk.synthetic.spec import (
    VIDEO_CODECS,
    ClipTruth,
    SyntheticClip,
    SyntheticClipSpec,
)

FloatArray = npt.NDArray[np.float64]
UInt8Array = npt.NDArray[np.uint8]

#: Direction of the blood-volume pulse in normalised (R, G, B) skin colour (de Haan & van Leest
#: 2014; the vector POS and CHROM are built around), used when no ``fitzpatrick`` type is set.
BVP_DIRECTION_RGB: tuple[float, float, float] = (0.33, 0.77, 0.53)

#: NIR pulsatility relative to green, from the skin model (type II skin, 850 nm vs 540 nm):
#: haemoglobin absorbs near-infrared light far less, so the pulse is ~6x weaker there.
NIR_PULSE_RATIO: float = round(
    skin_model(REFERENCE_FITZPATRICK).pulse_nir / skin_model(REFERENCE_FITZPATRICK).pulse_rgb[1], 3
)

# NIR image from BGR: weighted to red because skin reflects strongly in the near infrared,
# much as it does in red, and looks bright and smooth there.
_NIR_WEIGHTS_BGR = np.array([0.10, 0.30, 0.60], dtype=np.float32)

# Independent random streams, one per concern, derived from the spec's seed.
(_STREAM_PULSE, _STREAM_MOTION, _STREAM_LIGHT, _STREAM_SCENE, _STREAM_NOISE, _STREAM_CAMERA) = (
    range(6)
)

# Target height of the detected face box (brow to chin) as a share of the frame height; with
# hair and chin the head then fills ~55 % of the frame, which mediapipe's short-range detector
# finds reliably.
_FACE_HEIGHT_FRACTION = 0.42


def _pulse_signals(
    spec: SyntheticClipSpec, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    n = spec.n_frames
    if not spec.pulse:
        return np.zeros(n), np.full(n, np.nan)
    if spec.ppg_waveform is not None:
        ppg = _unit_variance(_detrended(np.asarray(spec.ppg_waveform, dtype=np.float64)))
        return ppg, bpm_from_waveform(ppg, float(spec.fps), float(spec.heart_rate_bpm))
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
    if spec.motion == "talking":
        return _talking(spec, rng, t_s, amp, rot_deg, scale_amp)
    if spec.motion == "periodic":
        f_hz = rng.uniform(0.2, 0.5)
        if spec.motion_hz is not None:
            f_hz = float(spec.motion_hz)
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


def _talking(
    spec: SyntheticClipSpec,
    rng: np.random.Generator,
    t_s: FloatArray,
    amp: float,
    rot_deg: float,
    scale_amp: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """A talking head: bobbing at the syllable rate, in bursts, over slow drift."""
    f_hz = rng.uniform(1.0, 1.6) if spec.motion_hz is None else float(spec.motion_hz)
    # Syllables are no metronome: the phase wanders by about a radian, and speech comes in
    # bursts with pauses between them.
    phase = (
        2 * np.pi * f_hz * t_s
        + _random_sinusoids(t_s, rng, (0.05, 0.3), 2)
        + rng.uniform(0, 2 * np.pi)
    )
    bursts = np.clip(0.6 + 0.6 * _random_sinusoids(t_s, rng, (0.03, 0.15), 2), 0.0, 1.0)
    bob = bursts * np.sin(phase)
    bob = bob - bob[0]
    drift = [_normalised_peak(_random_sinusoids(t_s, rng, (0.02, 0.15), 3)) for _ in range(3)]
    dx = 0.4 * amp * drift[0]
    dy = amp * (0.6 * bob + 0.4 * drift[1])
    rot = rot_deg * (0.5 * bob + 0.5 * drift[2])
    scale = 1.0 + 0.5 * scale_amp * bob
    return dx, dy, rot, scale


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
    flicker_hz = spec.effective_flicker_hz
    if flicker_hz is not None:
        phase0 = rng.uniform(0, 2 * np.pi)
        flicker = float(spec.flicker_amplitude) * np.sin(2 * np.pi * flicker_hz * t_s + phase0)
        tint = np.asarray(spec.flicker_tint_bgr, dtype=np.float64)
        if channels == 1:
            tint = tint.mean(keepdims=True)
        gain = gain * (1.0 + flicker[:, None] * tint[None, :])
    return gain.astype(np.float32)


def _smooth_field(
    rng: np.random.Generator, shape_hw: tuple[int, int], grid: tuple[int, int], channels: int
) -> npt.NDArray[np.float32]:
    """Smooth random field in [-1, 1]-ish: a coarse random grid upsampled bicubically."""
    coarse = rng.uniform(-1.0, 1.0, size=(grid[0], grid[1], channels)).astype(np.float32)
    out = cv2.resize(coarse, (shape_hw[1], shape_hw[0]), interpolation=cv2.INTER_CUBIC)
    return np.asarray(out, dtype=np.float32).reshape(shape_hw[0], shape_hw[1], channels)


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


def _warp_chunks(
    chunks: Sequence[npt.NDArray[np.float32]],
    matrix: npt.NDArray[np.float64],
    frame_size: tuple[int, int],
) -> list[npt.NDArray[np.float32]]:
    """The face layer's channel chunks (OpenCV warps at most 4 channels at a time) moved by the
    2x3 affine ``matrix`` into a ``(width, height)`` frame; outside the layer is transparent."""
    width, height = frame_size
    return [
        np.asarray(
            cv2.warpAffine(
                chunk,
                matrix,
                (width, height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=(0.0, 0.0, 0.0, 0.0),
            ),
            dtype=np.float32,
        ).reshape(height, width, -1)
        for chunk in chunks
    ]


def _build_scene(spec: SyntheticClipSpec, rng: np.random.Generator) -> _Scene:
    width, height = spec.frame_size
    if spec.face_image is not None:
        source, face = spec.face_image, detect_face(spec.face_image)
    else:
        source, face = face_picture(spec.face or "astronaut")
    if spec.source_face_px is not None and spec.source_face_px < face[3]:
        # A low-resolution photo or a far camera: the face holds only this many rows of
        # pixels before it is enlarged to its size in the frame.
        shrink = spec.source_face_px / face[3]
        source = np.asarray(
            cv2.resize(source, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA),
            dtype=np.uint8,
        )
        face = (face[0] * shrink, face[1] * shrink, face[2] * shrink, face[3] * shrink)
    fx, fy, fw, fh = face
    target_h = (
        _FACE_HEIGHT_FRACTION * height if spec.face_height_px is None else spec.face_height_px
    )
    scale = float(target_h) / fh
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
    head = ellipse(shape, (bx + 0.5 * bw, by + 0.3 * bh), (0.8 * bw, 0.9 * bh))
    neck = ellipse(shape, (bx + 0.5 * bw, by + 1.25 * bh), (0.5 * bw, 0.5 * bh))
    torso = ellipse(shape, (bx + 0.5 * bw, by + 2.9 * bh), (2.0 * bw, 1.35 * bh))
    alpha = np.maximum(np.maximum(head, neck), torso)
    feather = max(1.0, 0.04 * bh)
    # A tight face crop ends inside the silhouette: fade its edges too, not a hard rectangle.
    coverage = np.clip(2.0 * cv2.GaussianBlur(coverage, (0, 0), feather) - 1.0, 0.0, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather) * coverage

    skin, all_skin = skin_mask(face_bgr, box)
    # Near-saturated pixels are specular: that light never entered the skin.
    luma = face_bgr.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
    skin *= np.clip((250.0 - luma) / 30.0, 0.0, 1.0)
    # Some skin pulses more (forehead, cheeks) than other skin: +-40 %, smooth over the face.
    gain_map = 1.0 + 0.4 * _smooth_field(rng, shape, (6, 6), 1)[..., 0]
    pulse_map = skin * gain_map

    face_f = face_bgr.astype(np.float32)
    bg = _background(rng, (height, width))
    if spec.near_infrared:
        face_f = (face_f @ _NIR_WEIGHTS_BGR)[..., None]
        bg = (bg @ _NIR_WEIGHTS_BGR)[..., None]
    if spec.fitzpatrick is None:
        if spec.near_infrared:
            direction = np.array([NIR_PULSE_RATIO], np.float32)
        else:
            r, g, b = BVP_DIRECTION_RGB
            direction = np.array([b / g, 1.0, r / g], np.float32)  # BGR, relative to green
    else:
        face_f, direction = _apply_skin_type(
            spec, face_f, luma, skin, all_skin * alpha, spec.near_infrared
        )
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


def _apply_skin_type(
    spec: SyntheticClipSpec,
    face_f: npt.NDArray[np.float32],
    luma: npt.NDArray[np.float32],
    face_skin: npt.NDArray[np.float32],
    recolour: npt.NDArray[np.float32],
    near_infrared: bool,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Give the picture's skin the skin model's colour and pulse; returns (face, direction).

    The picture's shading and texture survive as a luminance ratio to its typical skin
    luminance; the colour comes from the model. The pulse direction is the model's per-channel
    relative pulse over the reference type's green one, so ``pulse_amplitude`` keeps naming
    type-II green and darker skin pulses less.
    """
    assert spec.fitzpatrick is not None
    model = skin_model(spec.fitzpatrick)
    reference_green = skin_model(REFERENCE_FITZPATRICK).pulse_rgb[1]
    core = face_skin > 0.5
    typical = float(np.median(luma[core])) if np.any(core) else float(np.median(luma))
    shading = (luma / max(typical, 1.0))[..., None]
    if near_infrared:
        colour = np.array([model.pixel_nir], np.float32)
        direction = np.array([model.pulse_nir / reference_green], np.float32)
    else:
        colour = np.array(model.pixel_bgr, np.float32)
        r, g, b = model.pulse_rgb
        direction = np.array([b, g, r], np.float32) / np.float32(reference_green)
    weight = recolour[..., None]
    out = face_f * (1.0 - weight) + (shading * colour[None, None, :]) * weight
    return np.asarray(out, dtype=np.float32), direction


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
        channels = self.scene.channels
        light = _illumination(spec, _seed_rng(spec.seed, _STREAM_LIGHT), channels)
        exposure = camera.exposure_gains(
            n, float(spec.fps), spec.exposure_steps, channels, _seed_rng(spec.seed, _STREAM_CAMERA)
        )
        self.gain = (light * exposure).astype(np.float32)
        self._still_composite: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None
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

    def _composite(self, k: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Frame ``k`` before pulse, light and noise, and its pulsing part (contiguous)."""
        moving = self.spec.effective_motion_amplitude_px > 0
        if not moving and self._still_composite is not None:
            return self._still_composite
        face, alpha, pulsing = self._warped_layer(k)
        base = self.scene.background * (1.0 - alpha)
        base += face
        out = (base, np.ascontiguousarray(pulsing))
        if not moving:
            self._still_composite = out
        return out

    def _warped_layer(
        self, k: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The face layer in frame ``k``: (alpha*face, alpha, alpha*face*pulse gain) views."""
        moving = self.spec.effective_motion_amplitude_px > 0
        if not moving and self._still_layer is not None:
            return self._still_layer
        parts = _warp_chunks(self.scene.layer_chunks, self.matrix(k), self.spec.frame_size)
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
        base, pulsing = self._composite(k)
        image = pulsing * self.modulation[k]
        image += base
        image *= self.gain[k]
        if spec.sensor_noise_std > 0:
            # Noise before rounding dithers the quantiser so a sub-level pulse survives it.
            # Gaussian by inverse-CDF lookup of 16-bit uniforms: half the cost of
            # standard_normal, and still one independent stream per frame.
            draws = _seed_rng(spec.seed, _STREAM_NOISE, k).integers(
                0, _NOISE_LEVELS, size=image.shape, dtype=np.uint16
            )
            noise = _gaussian_table()[draws]
            noise *= np.float32(spec.sensor_noise_std)
            image += noise
        np.rint(image, out=image)
        np.clip(image, 0, 255, out=image)
        out: UInt8Array = image.astype(np.uint8)
        if c == 1:
            out = out[..., 0]
        if spec.effective_codec == "jpeg":
            out = camera.jpeg_round_trip(out, spec.effective_jpeg_quality)
        if out.ndim == 2 and spec.grey_channels == 3:
            out = np.repeat(out[..., None], 3, axis=2)
        return np.asarray(out, dtype=np.uint8)


_NOISE_LEVELS = 1 << 16


@functools.lru_cache(maxsize=1)
def _gaussian_table() -> npt.NDArray[np.float32]:
    """Standard normal quantiles at the centres of ``_NOISE_LEVELS`` equal-probability bins."""
    inv_cdf = statistics.NormalDist().inv_cdf
    levels = [inv_cdf((i + 0.5) / _NOISE_LEVELS) for i in range(_NOISE_LEVELS)]
    table = np.asarray(levels, dtype=np.float64)
    return np.asarray(table / table.std(), dtype=np.float32)


def _check_spec(spec: object) -> SyntheticClipSpec:
    if not isinstance(spec, SyntheticClipSpec):
        raise TypeError(f"spec: expected a SyntheticClipSpec, got {type(spec).__name__}")
    return spec


def iter_frames(spec: SyntheticClipSpec) -> Iterator[tuple[UInt8Array, float]]:
    """Render a clip frame by frame: yields ``(frame, timestamp_s)``.

    Memory stays flat whatever the duration: only the per-frame signals (pulse, motion, light;
    a few floats per frame) and one scene are held, and every frame is rendered on demand from
    its own random stream, so the frames are identical to :func:`render_clip`'s for the same
    spec. With a video ``codec`` the clip is streamed into a temporary file and decoded back
    with OpenCV (the file is deleted when the iterator finishes or is closed). Use
    :func:`render_clip` (for short clips) or :func:`clip_truth` when the ground truth is needed.
    """
    # Validate and prepare now, not at the first next(): a bad spec fails at the call.
    return _frames(_Renderer(_check_spec(spec)))


def _frames(renderer: _Renderer) -> Iterator[tuple[UInt8Array, float]]:
    if renderer.spec.effective_codec in VIDEO_CODECS:
        if renderer.spec.codec == "h264":
            camera._import_av()  # fail at the call, not at the first frame
        return _decoded(renderer)
    return _stream(renderer)


def _stream(renderer: _Renderer) -> Iterator[tuple[UInt8Array, float]]:
    for k in range(renderer.spec.n_frames):
        yield renderer.frame(k), float(renderer.timestamps_s[k])


def _decoded(renderer: _Renderer) -> Iterator[tuple[UInt8Array, float]]:
    spec = renderer.spec
    with tempfile.TemporaryDirectory(prefix="rppg_synthetic_") as folder:
        path = Path(folder) / f"clip{camera.CONTAINERS[spec.codec][0]}"
        _encode(renderer, path)
        capture = cv2.VideoCapture(str(path))
        try:
            for k in range(spec.n_frames):
                ok, frame = capture.read()
                if not ok:
                    raise RuntimeError(
                        f"decoding the {spec.codec!r} clip gave {k} of {spec.n_frames} frames"
                    )
                if spec.near_infrared and spec.grey_channels == 1:
                    frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                yield np.asarray(frame, dtype=np.uint8), float(renderer.timestamps_s[k])
        finally:
            capture.release()


def _encode(renderer: _Renderer, path: Path) -> Path:
    spec = renderer.spec
    codec = spec.effective_codec
    file_codec = codec if codec in VIDEO_CODECS else "ffv1"
    sink = camera.VideoSink(
        path,
        file_codec,
        float(spec.fps),
        spec.frame_size,
        color=len(spec.frame_shape) == 3,
        bitrate_kbps=spec.bitrate_kbps,
        jpeg_quality=spec.effective_jpeg_quality if codec == "mjpeg" else None,
    )
    with sink:
        for frame, _ in _stream(renderer):
            sink.write(frame)
    return path


def render_to_file(spec: SyntheticClipSpec, path: str | os.PathLike[str]) -> Path:
    """Render a clip straight into a video file, frame by frame (memory stays flat).

    The file is what a user would record: ``spec.codec`` ``"mjpeg"``, ``"h264"`` or
    ``"mp4v"`` encodes with that codec (``bitrate_kbps``, ``jpeg_quality``); ``"none"`` and
    ``"jpeg"`` write the frames losslessly (FFV1). Grey near-infrared frames are written as
    grey video (``grey_channels=1``) or as three identical channels (``3``); decoders such as
    OpenCV's hand both back as three channels. Run ``HeartRateMonitor.process_video(path)`` on
    it and compare with :func:`clip_truth`.

    Parameters
    ----------
    spec
        What to render.
    path
        Output file; its suffix must suit the codec (``.avi`` for ``"mjpeg"``, ``.avi`` or
        ``.mkv`` for the lossless codec of ``"none"`` and ``"jpeg"``, ``.mp4`` or ``.mkv`` for
        ``"h264"``, any of them for ``"mp4v"``). Parent folders are created.

    Returns
    -------
    Path
        ``path``.
    """
    renderer = _Renderer(_check_spec(spec))
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    return _encode(renderer, Path(path))


def clip_truth(spec: SyntheticClipSpec) -> ClipTruth:
    """The ground truth of ``spec``'s clip without rendering a frame (cheap for long clips).

    Returns the same ``timestamps_s``, ``bpm`` and ``ppg`` as :func:`render_clip` would.
    """
    spec = _check_spec(spec)
    ppg, bpm = _pulse_signals(spec, _seed_rng(spec.seed, _STREAM_PULSE))
    timestamps_s = np.arange(spec.n_frames, dtype=np.float64) / float(spec.fps)
    return ClipTruth(timestamps_s=timestamps_s, bpm=bpm, ppg=ppg)


def render_clip(spec: SyntheticClipSpec = SyntheticClipSpec()) -> SyntheticClip:  # noqa: B008
    """Render a whole clip in memory with its ground truth.

    Examples
    --------
    >>> clip = render_clip(SyntheticClipSpec(duration_s=2.0, heart_rate_bpm=90.0))
    >>> clip.frames.shape
    (60, 240, 320, 3)
    """
    renderer = _Renderer(_check_spec(spec))
    frames = np.empty((spec.n_frames, *spec.frame_shape), dtype=np.uint8)
    for k, (frame, _) in enumerate(_frames(renderer)):
        frames[k] = frame
    return SyntheticClip(
        frames=frames,
        timestamps_s=renderer.timestamps_s,
        ppg=renderer.ppg,
        bpm=renderer.bpm,
        face_box_xywh=renderer.face_box(0),
        spec=spec,
    )


def write_video(
    clip: SyntheticClip | SyntheticClipSpec,
    path: str | os.PathLike[str],
    codec: str = "mp4v",
    bitrate_kbps: int | None = None,
) -> Path:
    """Write a clip (or render a spec) to a video file; returns the path.

    Parameters
    ----------
    clip
        A rendered clip (colour or near-infrared), or a spec: then it is rendered frame by frame
        into the file with ``codec`` and ``bitrate_kbps`` in place of its own (see
        :func:`render_to_file`).
    path
        Output file; parent folders are created. For ``"mjpeg"``, ``"h264"`` and ``"mp4v"`` the
        suffix must suit the codec; another four-character FourCC (``"MJPG"``, ``"XVID"``) is
        handed to OpenCV's writer, which picks the container from the suffix.
    codec
        ``"mjpeg"``, ``"h264"`` (PyAV), ``"mp4v"`` or an OpenCV FourCC. Lossy codecs blur the
        pulse as real cameras' encoders do.
    bitrate_kbps
        Target bitrate for ``"h264"`` or ``"mp4v"``.
    """
    if isinstance(clip, SyntheticClipSpec):
        if codec not in VIDEO_CODECS:
            raise ValueError(f"codec: expected one of {VIDEO_CODECS} with a spec, got {codec!r}")
        jpeg = clip.jpeg_quality if codec == "mjpeg" else None
        spec = dataclasses.replace(
            clip,
            codec=codec,  # type: ignore[arg-type]  # checked against VIDEO_CODECS above
            bitrate_kbps=bitrate_kbps,
            jpeg_quality=jpeg,
        )
        return render_to_file(spec, path)
    if not isinstance(clip, SyntheticClip):
        raise TypeError(
            f"clip: expected a SyntheticClip or SyntheticClipSpec, got {type(clip).__name__}"
        )
    if not isinstance(codec, str) or (codec not in VIDEO_CODECS and len(codec) != 4):
        raise ValueError(
            f"codec: expected one of {VIDEO_CODECS} or a four-character FourCC string, "
            f"got {codec!r}"
        )
    sink = camera.VideoSink(
        path,
        codec,
        float(clip.spec.fps),
        clip.spec.frame_size,
        color=clip.frames.ndim == 4,
        bitrate_kbps=bitrate_kbps,
    )
    with sink:
        for frame in clip.frames:
            sink.write(frame)
    return sink.path
