"""A training set that looks like the evaluation suite: the renderer's realistic conditions.

The robustness suite (:mod:`evaluation.suite`) renders each clip to a video file with a real codec
and varies what a camera varies: skin type, face size (small faces upscaled from tiny sources),
tinted light flicker inside the heart-rate band, exposure steps, low-bitrate H.264 / MJPEG, rigid
and nodding/talking motion, grey near-infrared, and clips with no pulse at all. This module draws
clips *of the same kinds* for training, with two rules that keep the suite's holdout honest:

- faces: only the suite's **tune** faces (every other face of ``available_faces()``, from the
  first), never the holdout ones;
- seeds: ``10000 + seed * 1000 + i``, away from the suite's tune (1000+) and holdout (2000+).

Each clip goes through :func:`rppg_sdk.synthetic.render_to_file` (the codec), is decoded with
OpenCV and cropped by the SDK's face tracker, exactly as the monitor will see it. Clips without a
pulse keep a PPG of zeros and a NaN heart rate: :class:`training.data.clips.ClipDataset` hands
them out as *negatives* (``"pulse": False``), which the supervised objective trains towards an
output with no dominant rhythm (:func:`training.losses.no_pulse_loss`).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training.data.preprocess import FaceVideo, cached_face_video, crop_faces

__all__ = ["CONDITIONS", "RealisticSetConfig", "build_realistic_videos", "realistic_spec"]

#: The suite's conditions a training clip may be drawn from (``grey_nir`` only for 1-channel
#: sets or when asked: an RGB camera model sees it as three equal channels).
CONDITIONS = (
    "still",
    "motion",
    "small_face",
    "flicker",
    "dark_skin",
    "low_bitrate",
    "grey_nir",
    "no_pulse",
)
SEED_BASE = 10000


@dataclass(frozen=True)
class RealisticSetConfig:
    """The realistic set: how many clips of which conditions, how long, which seed.

    Parameters
    ----------
    conditions
        Conditions to draw from, in turn (clip ``i`` has condition ``conditions[i % len]``).
    n_videos
        Number of clips (each its own subject for the splits).
    duration_s
        Length of each clip.
    frame_size
        Rendered frame ``(width, height)``.
    crop_size
        Side of the stored face crops.
    seed
        Seed of the set; clip ``i`` uses ``10000 + 1000 * seed + i``.
    channels
        3 (BGR crops) or 1: a near-infrared set for one-channel models, every condition
        rendered grey (``near_infrared``, saved as 3 equal channels or 1, as the suite's
        ``grey_nir``) and cropped to the one channel the SDK measures on grey video.
    """

    conditions: tuple[str, ...] = CONDITIONS
    n_videos: int = 32
    duration_s: float = 12.0
    frame_size: tuple[int, int] = (640, 480)
    crop_size: int = 64
    seed: int = 0
    channels: int = 3

    def __post_init__(self) -> None:
        conds = tuple(str(c) for c in self.conditions)
        bad = [c for c in conds if c not in CONDITIONS]
        if not conds or bad:
            raise ValueError(f"conditions: expected some of {CONDITIONS}, got {self.conditions!r}")
        object.__setattr__(self, "conditions", conds)
        object.__setattr__(self, "frame_size", tuple(int(v) for v in self.frame_size))
        if not isinstance(self.n_videos, int) or self.n_videos < 1:
            raise ValueError(f"n_videos: expected an int >= 1, got {self.n_videos!r}")
        if not 0 <= int(self.seed) < 1000:
            raise ValueError(f"seed: expected 0 <= seed < 1000, got {self.seed!r}")
        if self.channels not in (1, 3) or isinstance(self.channels, bool):
            raise ValueError(f"channels: expected 1 or 3, got {self.channels!r}")


def tune_faces() -> list[str]:
    """The faces the suite's tune part uses (the holdout faces are never trained on)."""
    from rppg_sdk.synthetic import available_faces  # noqa: PLC0415

    faces = sorted(available_faces())
    return faces[0::2] if len(faces) >= 2 else faces


def realistic_spec(condition: str, seed: int, face: str, cfg: RealisticSetConfig) -> Any:
    """The renderer spec of one clip of ``condition`` (the suite's ranges, this set's seed)."""
    from rppg_sdk.synthetic import SyntheticClipSpec  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    kw: dict[str, Any] = {
        "duration_s": float(cfg.duration_s),
        "fps": float(rng.choice([15.0, 25.0, 30.0, 30.0, 60.0])),
        "frame_size": tuple(cfg.frame_size),
        "heart_rate_bpm": float(rng.uniform(45.0, 150.0)),
        "heart_rate_variability": float(rng.uniform(0.01, 0.05)),
        "pulse_amplitude": float(rng.uniform(0.003, 0.009)),
        "face": face,
        "face_height_px": float(rng.uniform(140.0, 230.0)),
        "fitzpatrick": int(rng.integers(1, 5)),
        "sensor_noise_std": float(rng.uniform(1.0, 3.0)),
        "illumination_drift": float(rng.uniform(0.0, 0.1)),
        "exposure_steps": int(rng.integers(0, 3)),
        "codec": "h264",
        "bitrate_kbps": int(rng.integers(1500, 3000)),
        "motion": "still",
        "seed": int(seed),
    }
    sub = int(rng.integers(0, 4))
    if condition == "motion" or (condition == "no_pulse" and sub % 2 == 0):
        kind = ["rigid", "periodic", "talking", "periodic"][sub]
        kw["motion"] = kind
        kw["motion_amplitude_px"] = float(rng.uniform(3.0, 14.0))
        if kind != "rigid":
            kw["motion_hz"] = float(rng.uniform(0.3, 1.6))
    if condition == "small_face":
        kw["face_height_px"] = float(rng.uniform(60.0, 110.0))
        kw["source_face_px"] = int(rng.integers(24, 49))
    if condition == "grey_nir":
        kw["near_infrared"] = True
        kw["grey_channels"] = 3
        kw["fitzpatrick"] = int(rng.integers(1, 7))
    if cfg.channels == 1:  # a near-infrared set: every condition grey (one or 3 equal channels)
        kw["near_infrared"] = True
        kw["grey_channels"] = int(rng.choice([3, 3, 3, 1]))
        kw["fitzpatrick"] = int(rng.integers(1, 7))
    if condition == "flicker" or (condition == "no_pulse" and sub % 2 == 1):
        kw["flicker_hz"] = float(rng.uniform(0.7, 3.2))
        kw["flicker_amplitude"] = float(rng.uniform(0.002, 0.007))
        tint = rng.uniform(0.5, 1.5, size=3)
        kw["flicker_tint_bgr"] = tuple(float(t) for t in tint / tint.mean())
    if condition == "dark_skin":
        kw["fitzpatrick"] = int(rng.integers(5, 7))
    if condition == "low_bitrate" or (condition == "no_pulse" and sub == 3):
        if rng.random() < 0.5:
            kw["bitrate_kbps"] = int(rng.integers(250, 500))
        else:
            kw["codec"] = "mjpeg"
            kw.pop("bitrate_kbps")
            kw["jpeg_quality"] = int(rng.integers(30, 60))
    if condition == "no_pulse":
        kw["pulse"] = False
    return SyntheticClipSpec(**kw)


def _key(spec: Any, crop_size: int) -> str:
    from dataclasses import asdict  # noqa: PLC0415

    blob = json.dumps([asdict(spec), crop_size], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def render_realistic_video(
    spec: Any, *, crop_size: int, video_id: str, channels: int = 3
) -> FaceVideo:
    """Render ``spec`` through its codec to a file, decode it and crop the face (``channels=1``:
    the crops' one channel, what the SDK measures on grey video)."""
    import cv2  # noqa: PLC0415
    from rppg_sdk.face import FaceTrackerOptions  # noqa: PLC0415
    from rppg_sdk.synthetic import clip_truth, render_to_file  # noqa: PLC0415

    suffix = ".avi" if spec.codec == "mjpeg" else ".mp4"
    with tempfile.TemporaryDirectory() as tmp:
        path = render_to_file(spec, Path(tmp) / f"clip{suffix}")
        cap = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        cap.release()
    if not frames:
        raise RuntimeError(f"{video_id}: OpenCV decoded no frame of the rendered clip")
    crops, found = crop_faces(
        iter(frames), FaceTrackerOptions(crop_size=crop_size, skin_regions=False)
    )
    if channels == 1:  # the SDK takes the second of 3 equal channels (roi.SkinSource)
        crops = np.ascontiguousarray(crops[..., 1:2])
    truth = clip_truth(spec)
    n = min(crops.shape[0], truth.timestamps_s.size)
    has_pulse = bool(getattr(spec, "pulse", True))
    ppg = np.asarray(truth.ppg, dtype=np.float64)[:n] if has_pulse else np.zeros(n)
    bpm = np.asarray(truth.bpm, dtype=np.float64)[:n] if has_pulse else np.full(n, np.nan)
    return FaceVideo(
        frames=crops[:n],
        timestamps_s=np.asarray(truth.timestamps_s, dtype=np.float64)[:n],
        ppg=ppg,
        bpm=bpm,
        fps_hz=float(spec.fps),
        subject_id=video_id,
        video_id=video_id,
        dataset="realistic",
        face_found=found[:n],
    )


def build_realistic_videos(
    cfg: RealisticSetConfig, *, cache_dir: str | Path | None = "cache", progress: bool = True
) -> list[FaceVideo]:
    """Render (or read back from ``cache_dir``) the ``cfg.n_videos`` clips of the set."""
    faces = tune_faces()
    out = []
    for i in tqdm(range(cfg.n_videos), desc="realistic videos", disable=not progress):
        condition = cfg.conditions[i % len(cfg.conditions)]
        seed = SEED_BASE + 1000 * int(cfg.seed) + i
        spec = realistic_spec(condition, seed, faces[i % len(faces)], cfg)
        vid = f"real{cfg.seed:03d}_{i:04d}_{condition}"
        folder = None
        if cache_dir is not None:
            key = _key(spec, cfg.crop_size) + ("" if cfg.channels == 3 else "_c1")
            folder = Path(cache_dir) / "realistic" / f"{vid}_{key}"
        render = partial(
            render_realistic_video,
            spec, crop_size=cfg.crop_size, video_id=vid, channels=cfg.channels,
        )  # fmt: skip
        out.append(cached_face_video(folder, render))
    return out
