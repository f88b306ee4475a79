"""The realistic semi-synthetic suite: fixed, seeded clips per condition, in two parts.

Every clip is drawn from its own seeded random stream, so the suite is the same on every machine.
The ``tune`` part is what the SDK's constants (confidence calibration, estimator settings) may be
fitted on; the ``holdout`` part uses *other faces and other seeds* and is only reported. Each
condition varies everything it does not test (heart rate 48-140 bpm, skin type, face size, frame
rate 15/25/30/60, exposure steps, codec), so no condition is "one face under good light".

Clips are rendered once into video files (``render_to_file``: real codecs, the way a camera
hands them over) and cached by their spec; the evaluation then reads them through
``HeartRateMonitor.process_video`` like any user's file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CONDITIONS", "SPLITS", "SuiteClip", "suite_clips"]

#: What each condition tests (the table rows of ``python -m evaluation``).
CONDITIONS: dict[str, str] = {
    "still": "frontal face, normal size, good light, mild H.264",
    "motion": "rigid drift or nodding/talking with a component inside the heart-rate band",
    "small_face": "60-110 px faces upscaled from 24-48 px sources",
    "grey_nir": "near-infrared rendered grey, saved as 3 equal channels or 1 channel",
    "flicker": "tinted illumination flicker at 0.8-3 Hz on skin and background",
    "dark_skin": "Fitzpatrick V-VI from the physical skin model",
    "low_bitrate": "H.264 at 250-500 kbps or MJPEG at low quality",
    "no_pulse": "the same kinds of clip with no pulse at all (motion, flicker, codecs)",
}
SPLITS = ("tune", "holdout")
CLIPS_PER_CONDITION = 2
#: Clips without a pulse per part: the negatives every confidence is fitted and judged on. Two
#: gave 8-22 readings per method, too few to fit a no-pulse term or to show a bound holds
#: (adding clips never changes the others: each has its own seed).
NO_PULSE_CLIPS = 6
DURATION_S = 16.0
FRAME_SIZE = (640, 480)


@dataclass(frozen=True)
class SuiteClip:
    """One clip of the suite: its name, where it belongs and the renderer's spec fields."""

    name: str
    condition: str
    split: str
    spec_kwargs: dict[str, Any]

    @property
    def key(self) -> str:
        """Content hash of the spec: the cache file name (a changed spec renders anew)."""
        blob = json.dumps(self.spec_kwargs, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _faces() -> tuple[list[str], list[str]]:
    """Faces for the two parts: disjoint where the renderer has more than one."""
    from rppg_sdk.synthetic import available_faces  # noqa: PLC0415

    faces = sorted(available_faces())
    if len(faces) < 2:
        return faces, faces
    return faces[0::2], faces[1::2]


def _draw(condition: str, split: str, i: int, faces: list[str]) -> dict[str, Any]:
    # One stream per clip: adding a condition or a clip never changes another clip.
    seed = (1000 if split == "tune" else 2000) + 100 * list(CONDITIONS).index(condition) + i
    rng = np.random.default_rng(seed)
    kw: dict[str, Any] = {
        "duration_s": DURATION_S,
        "fps": float(rng.choice([15.0, 25.0, 30.0, 30.0, 60.0])),
        "frame_size": FRAME_SIZE,
        "heart_rate_bpm": float(rng.uniform(48.0, 140.0)),
        "heart_rate_variability": float(rng.uniform(0.01, 0.05)),
        "pulse_amplitude": float(rng.uniform(0.004, 0.009)),
        "face": faces[i % len(faces)],
        "face_height_px": float(rng.uniform(140.0, 230.0)),
        "fitzpatrick": int(rng.integers(1, 5)),
        "sensor_noise_std": float(rng.uniform(1.0, 3.0)),
        "illumination_drift": float(rng.uniform(0.0, 0.1)),
        "exposure_steps": int(rng.integers(0, 3)),
        "codec": "h264",
        "bitrate_kbps": int(rng.integers(1500, 3000)),
        "motion": "still",
        "seed": seed,
    }
    if condition == "motion" or (condition == "no_pulse" and i % 2 == 0):
        kind = ["rigid", "periodic", "talking", "periodic"][i % 4]
        kw["motion"] = kind
        kw["motion_amplitude_px"] = float(rng.uniform(4.0, 14.0))
        if kind != "rigid":
            kw["motion_hz"] = float(rng.uniform(0.3, 1.6))
    if condition == "small_face":
        kw["face_height_px"] = float(rng.uniform(60.0, 110.0))
        kw["source_face_px"] = int(rng.integers(24, 49))
    if condition == "grey_nir":
        kw["near_infrared"] = True
        kw["grey_channels"] = 3 if i % 4 != 3 else 1
        kw["fitzpatrick"] = int(rng.integers(1, 7))
    if condition == "flicker" or (condition == "no_pulse" and i % 2 == 1):
        kw["flicker_hz"] = float(rng.uniform(0.8, 3.0))
        kw["flicker_amplitude"] = float(rng.uniform(0.002, 0.006))
        tint = rng.uniform(0.5, 1.5, size=3)
        kw["flicker_tint_bgr"] = tuple(float(t) for t in tint / tint.mean())
    if condition == "dark_skin":
        kw["fitzpatrick"] = int(rng.integers(5, 7))
    if condition == "low_bitrate" or (condition == "no_pulse" and i == 3):
        if i % 2 == 0:
            kw["bitrate_kbps"] = int(rng.integers(250, 500))
        else:
            kw["codec"] = "mjpeg"
            kw.pop("bitrate_kbps")
            kw["jpeg_quality"] = int(rng.integers(30, 60))
    if condition == "no_pulse":
        kw["pulse"] = False
    return kw


def suite_clips(
    splits: tuple[str, ...] = SPLITS, conditions: tuple[str, ...] = tuple(CONDITIONS)
) -> Iterator[SuiteClip]:
    """Every clip of the chosen parts and conditions, in a fixed order."""
    tune_faces, holdout_faces = _faces()
    for split in splits:
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
        faces = tune_faces if split == "tune" else holdout_faces
        for condition in conditions:
            if condition not in CONDITIONS:
                raise ValueError(
                    f"condition: expected one of {list(CONDITIONS)}, got {condition!r}"
                )
            n = NO_PULSE_CLIPS if condition == "no_pulse" else CLIPS_PER_CONDITION
            for i in range(n):
                yield SuiteClip(
                    name=f"{split}/{condition}/{i}",
                    condition=condition,
                    split=split,
                    spec_kwargs=_draw(condition, split, i, faces),
                )


def render_cached(clip: SuiteClip, cache_dir: Path) -> tuple[Path, Any]:
    """The clip's video file (rendered on first use) and its truth object."""
    from rppg_sdk.synthetic import SyntheticClipSpec, clip_truth, render_to_file  # noqa: PLC0415

    spec = SyntheticClipSpec(**clip.spec_kwargs)
    suffix = ".avi" if clip.spec_kwargs.get("codec") == "mjpeg" else ".mp4"
    path = cache_dir / f"{clip.key}{suffix}"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{np.random.default_rng().integers(1 << 30)}{suffix}")
        render_to_file(spec, tmp)
        tmp.replace(path)
    return path, clip_truth(spec)
