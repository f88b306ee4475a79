"""Training clips that look like 940 nm driver-monitoring video: in-cabin scenes, one channel.

The scenes come from the SDK's cabin renderer (:mod:`rppg_sdk.synthetic.cabin`): a one-channel
8-, 10- or 12-bit sensor, an illuminator that lights every other frame (or every frame), a weak
940 nm pulse, sway, head turns, a hand over the face, heart rates that rise or fall, and scenes
without a pulse (negatives). Each clip is turned into what the SDK hands a one-channel model at
run time, with the SDK's own pieces:

1. the dark frames are dropped by :class:`rppg_sdk.illuminator.DarkFrameFilter` (``"auto"``, as
   the monitor runs it), and what came before the alternation was recognised is forgotten, as
   the monitor's extractor is reset then (here also when it is recognised on a dark frame);
2. deep frames go to 8 bits by :class:`rppg_sdk.frames.LevelScale` (the model path's
   conversion);
3. faces are cropped by :func:`training.data.preprocess.crop_faces` (the SDK's tracker, the
   path every training set uses);
4. the kept (lit) frames keep their own timestamps: a 30 fps camera with every other frame dark
   gives 15 crops a second, stored at that rate; :class:`training.data.clips.ClipDataset`
   re-times them linearly to the model's rate, as the runtime's chunker does
   (``rppg_sdk.dsp.resample_uniform``).

Honesty rules: scene seeds start at :data:`SEED_BASE` (1000; ``python -m evaluation.cabin`` uses
0-3 for tune and 100-105 for holdout), and faces are :func:`training.data.realistic.tune_faces`
only (the suite's holdout faces are never trained on).

:func:`build_nir_videos` is the ``nir`` data source: these cabin clips plus the realistic
renderer's conditions rendered grey (:class:`training.data.realistic.RealisticSetConfig` with
``channels=1``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from training.data.preprocess import FaceVideo, cached_face_video, crop_faces

__all__ = [
    "SEED_BASE",
    "CabinSetConfig",
    "build_cabin_videos",
    "build_nir_videos",
    "cabin_face_video",
    "cabin_training_scene",
    "lit_frames",
]

#: Scene ``i`` of set seed ``s`` is drawn from seed ``SEED_BASE + 1000 * s + i``; the cabin
#: evaluation's seeds (0-3 tune, 100-105 holdout) lie below it.
SEED_BASE = 1000
CACHE_VERSION = 1


@dataclass(frozen=True)
class CabinSetConfig:
    """How many in-cabin scenes, how long, and which share without a pulse.

    Parameters
    ----------
    n_scenes
        Number of scenes (each its own subject for the splits).
    duration_s
        Length of each scene.
    no_pulse_share
        Share of the scenes rendered without a pulse (every ``round(1 / share)``-th one).
    frame_size
        Rendered frame ``(width, height)`` (the cabin evaluation's 320x240 by default).
    crop_size
        Side of the stored face crops.
    seed
        Seed of the set, 0-999 (scene seeds ``1000 + 1000 * seed + i``).
    """

    n_scenes: int = 48
    duration_s: float = 30.0
    no_pulse_share: float = 0.15
    frame_size: tuple[int, int] = (320, 240)
    crop_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.n_scenes, int) or isinstance(self.n_scenes, bool):
            raise TypeError(f"n_scenes: expected an int, got {self.n_scenes!r}")
        if self.n_scenes < 1:
            raise ValueError(f"n_scenes: expected an int >= 1, got {self.n_scenes!r}")
        if not 6.0 <= float(self.duration_s) <= 600.0:
            raise ValueError(f"duration_s: expected 6-600 s, got {self.duration_s!r}")
        if not 0.0 <= float(self.no_pulse_share) <= 0.5:
            raise ValueError(f"no_pulse_share: expected 0-0.5, got {self.no_pulse_share!r}")
        object.__setattr__(self, "frame_size", tuple(int(v) for v in self.frame_size))
        if not isinstance(self.seed, int) or not 0 <= self.seed < 1000:
            raise ValueError(f"seed: expected an int 0 <= seed < 1000, got {self.seed!r}")

    def scene_seed(self, i: int) -> int:
        return SEED_BASE + 1000 * int(self.seed) + int(i)

    def has_pulse(self, i: int) -> bool:
        if self.no_pulse_share <= 0:
            return True
        every = max(2, int(round(1.0 / float(self.no_pulse_share))))
        return i % every != every - 1


def cabin_training_scene(cfg: CabinSetConfig, i: int) -> Any:
    """Scene ``i`` of the set: everything the cabin evaluation varies, drawn more widely."""
    from rppg_sdk.synthetic.cabin import CabinScene  # noqa: PLC0415

    from training.data.realistic import tune_faces  # noqa: PLC0415

    seed = cfg.scene_seed(i)
    if seed < SEED_BASE:  # pragma: no cover - guarded by CabinSetConfig
        raise ValueError(f"scene seed {seed}: training scenes must use seeds >= {SEED_BASE}")
    rng = np.random.default_rng([seed, 940, 1])
    dur = float(cfg.duration_s)
    start = float(rng.uniform(50.0, 110.0))
    # Mostly rising (exertion, stress), sometimes falling or flat.
    change = float(rng.choice([1.0, 1.0, 1.0, -1.0, 0.0])) * float(rng.uniform(5.0, 35.0))
    t0 = float(rng.uniform(0.1, 0.5)) * dur
    t1 = min(dur, t0 + float(rng.uniform(0.2, 0.5)) * dur)
    end = float(np.clip(start + change, 45.0, 150.0))
    turns = []
    for _ in range(int(rng.integers(0, 4))):
        yaw = float(rng.uniform(10.0, 45.0)) * float(rng.choice([-1.0, 1.0]))
        turns.append((float(rng.uniform(0.0, dur - 2.5)), float(rng.uniform(0.8, 2.5)), yaw))
    turns.sort()
    hand = None
    if rng.random() < 0.4:
        a = float(rng.uniform(2.0, dur - 4.0))
        hand = (a, a + float(rng.uniform(1.0, 3.0)))
    width, height = cfg.frame_size
    return CabinScene(
        duration_s=dur,
        fps=float(rng.choice([30.0, 30.0, 30.0, 60.0])),
        heart_rate_knots=((0.0, start), (t0, start), (t1, end)),
        heart_rate_variability=float(rng.uniform(0.01, 0.05)),
        frame_size=(width, height),
        bit_depth=int(rng.choice([8, 10, 12])),
        pulse=cfg.has_pulse(i),
        pulse_amplitude=float(rng.uniform(0.0007, 0.0016)),
        illuminator="alternating" if rng.random() < 0.85 else "constant",
        dark_first=bool(rng.integers(0, 2)),
        ambient_level=float(rng.uniform(0.03, 0.5)),
        ambient_drift=float(rng.uniform(0.0, 0.5)),
        head_turns=tuple(turns),
        sway_px=float(rng.uniform(0.5, 5.0)),
        hand_interval_s=hand,
        exposure=float(rng.uniform(0.5, 0.9)),
        gain=float(rng.uniform(1.0, 4.0)),
        face=str(rng.choice(tune_faces())),
        fitzpatrick=int(rng.integers(1, 7)),
        face_height_px=float(rng.uniform(0.32, 0.5)) * height,
        seed=seed,
    )


def lit_frames(
    frames: Any, timestamps_s: npt.ArrayLike
) -> tuple[list[npt.NDArray[np.uint8]], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The frames the SDK measures, as it gets them: dark frames dropped by the runtime's
    :class:`~rppg_sdk.illuminator.DarkFrameFilter` (``"auto"``; frames before the alternation
    was recognised are forgotten, as the monitor does), deep frames in 8 bits by its
    :class:`~rppg_sdk.frames.LevelScale`.

    Returns ``(uint8 frames, their timestamps, their indices in the input)``.
    """
    from rppg_sdk.frames import LevelScale  # noqa: PLC0415
    from rppg_sdk.illuminator import DarkFrameFilter  # noqa: PLC0415

    dark = DarkFrameFilter("auto")
    levels = LevelScale()
    times = np.asarray(timestamps_s, dtype=np.float64)
    kept: list[npt.NDArray[np.uint8]] = []
    idx: list[int] = []
    for k, frame in enumerate(frames):
        keep = dark.update(frame).keep
        if dark.started:  # the alternation was just recognised: the earlier frames mix both
            kept, idx = [], []  # levels (checked before ``keep``: it may start on a dark frame)
        if not keep:
            continue
        if frame.dtype != np.uint8:
            levels.update(frame)
            frame = levels.to_uint8(frame)
        kept.append(frame)
        idx.append(k)
    ind = np.asarray(idx, dtype=np.int64)
    return kept, times[ind], ind


def cabin_face_video(scene: Any, *, crop_size: int = 64, video_id: str = "cabin") -> FaceVideo:
    """Render ``scene`` and turn it into the one-channel face crops a model gets at run time
    (lit frames only, at their own times) with the truth at those times."""
    from rppg_sdk.face import FaceTrackerOptions  # noqa: PLC0415
    from rppg_sdk.synthetic.cabin import render_cabin  # noqa: PLC0415

    clip = render_cabin(scene)
    frames, times, idx = lit_frames(clip.frames, clip.timestamps_s)
    if len(frames) < 2:
        raise ValueError(f"{video_id}: fewer than 2 lit frames in the scene")
    crops, found = crop_faces(
        iter(frames), FaceTrackerOptions(crop_size=crop_size, skin_regions=False)
    )
    truth = clip.truth
    intervals = np.diff(times)
    return FaceVideo(
        frames=np.ascontiguousarray(crops),
        timestamps_s=times,
        ppg=np.asarray(truth.ppg, dtype=np.float64)[idx],
        bpm=np.asarray(truth.bpm, dtype=np.float64)[idx],
        fps_hz=float(1.0 / np.median(intervals)),
        subject_id=video_id,
        video_id=video_id,
        dataset="cabin",
        face_found=found,
    )


def _key(scene: Any, crop_size: int) -> str:
    blob = json.dumps(
        [dataclasses.asdict(scene), crop_size, CACHE_VERSION], sort_keys=True, default=str
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def build_cabin_videos(
    cfg: CabinSetConfig, *, cache_dir: str | Path | None = "cache", progress: bool = True
) -> list[FaceVideo]:
    """Render (or read back from ``cache_dir``) the ``cfg.n_scenes`` cabin clips."""
    out = []
    for i in tqdm(range(cfg.n_scenes), desc="cabin scenes", disable=not progress):
        scene = cabin_training_scene(cfg, i)
        vid = f"cabin{cfg.seed:03d}_{i:04d}_{'pulse' if scene.pulse else 'no_pulse'}"
        folder = None
        if cache_dir is not None:
            folder = Path(cache_dir) / "cabin" / f"{vid}_{_key(scene, cfg.crop_size)}"
        render = partial(cabin_face_video, scene, crop_size=cfg.crop_size, video_id=vid)
        out.append(cached_face_video(folder, render))
    return out


def build_nir_videos(
    options: Mapping[str, Any] | None,
    *,
    cache_dir: str | Path | None = "cache",
    progress: bool = True,
) -> list[FaceVideo]:
    """The ``nir`` data source: ``options["cabin"]`` (fields of :class:`CabinSetConfig`) and
    ``options["realistic"]`` (fields of :class:`~training.data.realistic.RealisticSetConfig`,
    ``channels`` forced to 1; ``null`` leaves that part out)."""
    from training.data.realistic import (  # noqa: PLC0415
        RealisticSetConfig,
        build_realistic_videos,
    )

    opts = dict(options or {})
    unknown = sorted(set(opts) - {"cabin", "realistic"})
    if unknown:
        raise ValueError(f"synthetic: the nir source takes 'cabin' and 'realistic', got {unknown}")
    videos = []
    if opts.get("cabin", {}) is not None:
        ccfg = CabinSetConfig(**dict(opts.get("cabin") or {}))
        videos += build_cabin_videos(ccfg, cache_dir=cache_dir, progress=progress)
    if opts.get("realistic") is not None:
        rcfg = RealisticSetConfig(**{**dict(opts["realistic"]), "channels": 1})
        videos += build_realistic_videos(rcfg, cache_dir=cache_dir, progress=progress)
    if not videos:
        raise ValueError("synthetic: the nir source needs 'cabin' or 'realistic' clips, got none")
    return videos
