"""A training set of semi-synthetic face videos with known pulse, from :mod:`rppg_sdk.synthetic`.

Each video is rendered by the SDK's renderer (one implementation: the demo, the tests and training
all use it) with random physiology and nuisances: heart rate, pulse amplitude, illumination drift,
head motion, sensor noise and compression. Its frames then go through the SDK's face tracker
(:func:`training.data.preprocess.crop_faces`), exactly as real video does, and the result is cached
on disk. A video is its own "subject" for the subject-wise splits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training.data.preprocess import FaceVideo, cached_face_video, crop_faces

__all__ = ["SyntheticSetConfig", "build_synthetic_videos", "random_spec", "render_face_video"]


@dataclass(frozen=True)
class SyntheticSetConfig:
    """How many videos, how long, and the ranges their random parameters are drawn from.

    Parameters
    ----------
    n_videos
        Number of videos (each its own subject).
    duration_s, fps_hz
        Length and frame rate of each video.
    frame_size
        Rendered frame ``(width, height)``; the face tracker crops it.
    crop_size
        Side of the face crops stored (the clip dataset resizes to the model's input).
    bpm_range
        Heart rates are uniform in this range (the issue's 45-180 bpm).
    amplitude_range
        Pulse amplitude along the blood-volume direction (0.3-1 %).
    motion_share, drift_share, jpeg_share
        Share of videos with head motion, illumination drift and JPEG compression.
    noise_std_range
        Sensor noise standard deviation in grey levels.
    near_infrared
        Render one near-infrared channel instead of BGR.
    face_variants
        Give each video a recoloured / mirrored face (:func:`_face_variant`) instead of the
        renderer's default face.
    seed
        Seed of the whole set; video ``i`` uses ``seed * 100003 + i``.
    spec_overrides
        Fixed values for any ``SyntheticClipSpec`` field (applied after the random draw).
    """

    n_videos: int = 48
    duration_s: float = 20.0
    fps_hz: float = 30.0
    frame_size: tuple[int, int] = (160, 160)
    crop_size: int = 64
    bpm_range: tuple[float, float] = (45.0, 180.0)
    amplitude_range: tuple[float, float] = (0.003, 0.01)
    motion_share: float = 0.3
    drift_share: float = 0.5
    jpeg_share: float = 0.3
    noise_std_range: tuple[float, float] = (0.5, 3.0)
    near_infrared: bool = False
    face_variants: bool = True
    seed: int = 0
    spec_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.n_videos, int) or self.n_videos < 1:
            raise ValueError(f"n_videos: expected an int >= 1, got {self.n_videos!r}")
        if not float(self.duration_s) > 0:
            raise ValueError(f"duration_s: expected a positive duration, got {self.duration_s!r}")
        lo, hi = self.bpm_range
        if not 20 <= float(lo) <= float(hi) <= 300:
            raise ValueError(f"bpm_range: expected 20 <= low <= high <= 300, got {self.bpm_range}")
        object.__setattr__(self, "frame_size", tuple(int(v) for v in self.frame_size))
        object.__setattr__(self, "bpm_range", tuple(float(v) for v in self.bpm_range))
        object.__setattr__(self, "amplitude_range", tuple(float(v) for v in self.amplitude_range))
        object.__setattr__(self, "noise_std_range", tuple(float(v) for v in self.noise_std_range))


def random_spec(cfg: SyntheticSetConfig, index: int) -> Any:
    """The ``rppg_sdk.synthetic.SyntheticClipSpec`` of video ``index`` of the set."""
    from rppg_sdk import synthetic as syn

    seed = int(cfg.seed) * 100003 + int(index)
    rng = np.random.default_rng(seed)
    fields = {f.name for f in dataclasses.fields(syn.SyntheticClipSpec)}
    kw: dict[str, Any] = {
        "duration_s": float(cfg.duration_s),
        "fps": float(cfg.fps_hz),
        "heart_rate_bpm": float(rng.uniform(*cfg.bpm_range)),
        "frame_size": tuple(cfg.frame_size),
        "pulse_amplitude": float(rng.uniform(*cfg.amplitude_range)),
        "sensor_noise_std": float(rng.uniform(*cfg.noise_std_range)),
        "near_infrared": bool(cfg.near_infrared),
        "seed": seed,
    }
    kw.update(_nuisances(syn, rng, cfg))
    if cfg.face_variants:
        kw["face_image"] = _face_variant(rng)
    kw.update(cfg.spec_overrides)
    return syn.SyntheticClipSpec(**{k: v for k, v in kw.items() if k in fields})


def _nuisances(syn: Any, rng: np.random.Generator, cfg: SyntheticSetConfig) -> dict[str, Any]:
    """Random drift / motion / compression, in whatever types the renderer's spec declares."""
    out: dict[str, Any] = {}
    spec_fields = {f.name: f for f in dataclasses.fields(syn.SyntheticClipSpec)}
    if "heart_rate_variability" in spec_fields:
        out["heart_rate_variability"] = float(rng.uniform(0.0, 0.05))
    if "illumination_drift" in spec_fields:
        out["illumination_drift"] = (
            float(rng.uniform(0.0, 0.1)) if rng.random() < cfg.drift_share else 0.0
        )
    moving = rng.random() < cfg.motion_share
    if "motion" in spec_fields:
        kinds = _motion_kinds(syn)
        out["motion"] = (
            kinds[int(rng.integers(1, len(kinds)))] if moving and len(kinds) > 1 else kinds[0]
        )
    if "motion_amplitude_px" in spec_fields:
        out["motion_amplitude_px"] = float(rng.uniform(1.0, 6.0)) if moving else 0.0
    if "jpeg_quality" in spec_fields:
        out["jpeg_quality"] = int(rng.integers(60, 95)) if rng.random() < cfg.jpeg_share else None
    return out


def _motion_kinds(syn: Any) -> list[Any]:
    """The renderer's motion kinds, the still one first (read from the spec's annotation)."""
    ann = str(syn.SyntheticClipSpec.__annotations__.get("motion", ""))
    kinds = [k for k in ("still", "rigid", "periodic") if f"'{k}'" in ann]
    return kinds or ["still"]


def _face_variant(rng: np.random.Generator) -> np.ndarray:
    """The astronaut's face (the one face the renderer has offline) with a random skin tone,
    contrast and side: per-channel gains, a gamma and a mirror, so the models do not learn one
    face's colours."""
    from skimage import data as skdata

    img = skdata.astronaut()[:, :, ::-1].astype(np.float32) / 255.0  # RGB -> BGR
    gains = rng.uniform(0.75, 1.2, size=3).astype(np.float32)
    img = np.clip(img * gains, 0.0, 1.0) ** float(rng.uniform(0.8, 1.25))
    if rng.random() < 0.5:
        img = img[:, ::-1]
    return np.ascontiguousarray(np.round(img * 255.0).astype(np.uint8))


def render_face_video(spec: Any, *, crop_size: int = 64, video_id: str = "synthetic") -> FaceVideo:
    """Render one clip with the SDK and crop its face with the SDK's tracker."""
    from rppg_sdk import synthetic as syn
    from rppg_sdk.face import FaceTrackerOptions

    clip = syn.render_clip(spec)
    frames = clip.frames
    crops, found = crop_faces(
        iter(frames), FaceTrackerOptions(crop_size=crop_size, skin_regions=False)
    )
    n = crops.shape[0]
    return FaceVideo(
        frames=crops,
        timestamps_s=np.asarray(clip.timestamps_s, dtype=np.float64)[:n],
        ppg=np.asarray(clip.ppg, dtype=np.float64)[:n],
        bpm=np.asarray(clip.bpm, dtype=np.float64)[:n],
        fps_hz=float(spec.fps),
        subject_id=video_id,
        video_id=video_id,
        dataset="synthetic",
        face_found=found,
    )


def _spec_key(spec: Any, crop_size: int) -> str:
    d = {
        k: (v.tolist() if isinstance(v, np.ndarray) else v)
        for k, v in dataclasses.asdict(spec).items()
        if not isinstance(v, np.ndarray) or v.size < 64
    }
    face = getattr(spec, "face_image", None)
    if isinstance(face, np.ndarray):
        d["face_image"] = hashlib.sha1(np.ascontiguousarray(face).tobytes()).hexdigest()
    wave = getattr(spec, "ppg_waveform", None)
    if isinstance(wave, np.ndarray):
        d["ppg_waveform"] = hashlib.sha1(np.ascontiguousarray(wave).tobytes()).hexdigest()
    blob = json.dumps([d, crop_size], sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


def build_synthetic_videos(
    cfg: SyntheticSetConfig, *, cache_dir: str | Path | None = "cache", progress: bool = True
) -> list[FaceVideo]:
    """Render (or read back from ``cache_dir``) the ``cfg.n_videos`` videos of the set."""
    out = []
    for i in tqdm(range(cfg.n_videos), desc="synthetic videos", disable=not progress):
        spec = random_spec(cfg, i)
        vid = f"syn{cfg.seed:03d}_{i:04d}"
        folder = None
        if cache_dir is not None:
            folder = Path(cache_dir) / "synthetic" / f"{vid}_{_spec_key(spec, cfg.crop_size)}"
        render = partial(render_face_video, spec, crop_size=cfg.crop_size, video_id=vid)
        out.append(cached_face_video(folder, render))
    return out
