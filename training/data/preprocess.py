"""Raw video -> 64x64 face clips with the stable-box rule, cached on disk.

The face tracking is the SDK's own (:class:`rppg_sdk.face.FaceTracker`): the same detector, the
same +50 % box that moves only when the face leaves it (Gideon & Stent 2021, section 3.1), and the
same area-averaged crop that the runtime feeds its models. Training on any other crop would teach
the models a different input from the one they meet in the product.

A preprocessed recording is a :class:`FaceVideo`: crops ``(T, S, S, C)`` uint8 in the tracker's
channel order (BGR, or one near-infrared channel), their timestamps, the contact PPG resampled to
those timestamps, and the heart rate per frame when the dataset has one. On disk it is a folder
``<cache>/<key>/`` with ``frames.npy`` (memory-mapped when read back) and ``meta.npz``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rppg_sdk.face import FaceTracker, FaceTrackerOptions
from tqdm import tqdm

from training.data.records import VideoRecord, iter_frames
from training.files import atomic_path

__all__ = [
    "FaceVideo",
    "cached_face_video",
    "crop_faces",
    "load_face_video",
    "preprocess_record",
    "save_face_video",
]

FloatArray = npt.NDArray[np.float64]
CACHE_VERSION = 1


@dataclass
class FaceVideo:
    """A recording as face crops with per-frame ground truth.

    Attributes
    ----------
    frames
        ``(T, S, S, C)`` uint8 crops, BGR (``C = 3``) or near-infrared (``C = 1``).
    timestamps_s
        ``(T,)`` frame times in seconds.
    ppg
        ``(T,)`` contact PPG at the frame times (NaN where the sensor had no data), or empty.
    bpm
        ``(T,)`` heart rate at the frame times when known, or empty.
    fps_hz
        Nominal frame rate.
    subject_id, video_id, dataset
        Names; ``subject_id`` drives the splits.
    face_found
        ``(T,)`` bool: the tracker held a face on the frame (frames without one repeat the
        nearest crop so the clip stays evenly sampled).
    """

    frames: npt.NDArray[np.uint8]
    timestamps_s: FloatArray
    ppg: FloatArray
    bpm: FloatArray
    fps_hz: float
    subject_id: str
    video_id: str
    dataset: str
    face_found: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        t = self.frames.shape[0]
        if self.frames.ndim != 4 or self.frames.dtype != np.uint8:
            raise ValueError(
                f"frames: expected (T, S, S, C) uint8, got {self.frames.shape} {self.frames.dtype}"
            )
        for name in ("timestamps_s", "face_found"):
            if getattr(self, name).shape != (t,):
                raise ValueError(f"{name}: expected shape ({t},), got {getattr(self, name).shape}")
        for name in ("ppg", "bpm"):
            if getattr(self, name).size not in (0, t):
                raise ValueError(
                    f"{name}: expected 0 or {t} samples, got {getattr(self, name).size}"
                )

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def channels(self) -> int:
        return int(self.frames.shape[3])


def crop_faces(
    frames: Iterable[npt.NDArray[np.uint8]],
    options: FaceTrackerOptions | None = None,
    *,
    total: int | None = None,
    desc: str = "faces",
    return_masks: bool = False,
) -> Any:
    """Track the face through ``frames`` and return the stable-box crops.

    Frames where the tracker holds no face get the nearest held crop (later frames before the
    first detection, earlier ones after a loss), flagged ``False`` in the returned mask. A video
    with no face at all raises ``ValueError``.

    Returns ``(crops (T, S, S, C) uint8, found (T,) bool)``, plus the tracker's skin masks
    ``(T, S, S)`` float32 (all ones where it had none) with ``return_masks=True`` (which needs
    ``options.skin_regions``).
    """
    opts = options or FaceTrackerOptions(crop_size=64, skin_regions=return_masks)
    crops: list[npt.NDArray[np.uint8] | None] = []
    masks: list[npt.NDArray[np.float32] | None] = []
    with FaceTracker(opts) as tracker:
        for frame in tqdm(frames, total=total, desc=desc, leave=False, disable=total is None):
            obs = tracker.update(frame)
            crops.append(None if obs is None else obs.crop)
            masks.append(None if obs is None else obs.skin_mask)
    found = np.array([c is not None for c in crops], dtype=bool)
    if not found.any():
        raise ValueError("no face was found in any frame")
    idx = np.flatnonzero(found)
    # Nearest held crop for the gaps (a hold, not an invention): the first held crop before the
    # first detection, the last held one after a loss.
    prev = idx[np.clip(np.searchsorted(idx, np.arange(len(crops)), side="right") - 1, 0, None)]
    out = np.stack([crops[i] for i in prev])  # type: ignore[misc]
    if not return_masks:
        return out, found
    size = out.shape[1]
    ones = np.ones((size, size), np.float32)
    mask_arr = np.stack([m if (m := masks[i]) is not None else ones for i in prev])
    return out, found, mask_arr


def _interp_truth(t_frames: FloatArray, t_src: FloatArray, v_src: FloatArray) -> FloatArray:
    """Linear interpolation onto the frame times; NaN outside the sensor's span."""
    if v_src.size < 2:
        return np.zeros(0)
    order = np.argsort(t_src, kind="stable")
    t_src, v_src = t_src[order], v_src[order]
    keep = np.concatenate([[True], np.diff(t_src) > 0])
    out = np.interp(t_frames, t_src[keep], v_src[keep])
    out[(t_frames < t_src[0] - 1e-6) | (t_frames > t_src[-1] + 1e-6)] = np.nan
    return out


def preprocess_record(
    record: VideoRecord,
    options: FaceTrackerOptions | None = None,
    *,
    cache_dir: str | Path | None = None,
    drop_dark_frames: bool = False,
) -> FaceVideo:
    """Face crops and per-frame truth for one recording, from the cache when it is there.

    The cache key covers the record's identity, its files' sizes and modification times and the
    tracker options, so a changed file or option is recomputed rather than served stale.
    """
    opts = options or FaceTrackerOptions(crop_size=64, skin_regions=False)
    key = None
    if cache_dir is not None:
        key = _cache_key(record, opts, drop_dark_frames)
        folder = Path(cache_dir) / key
        if (folder / "meta.npz").is_file():
            return load_face_video(folder)
    frames_ts = list(iter_frames(record, drop_dark_frames=drop_dark_frames))
    if not frames_ts:
        raise ValueError(f"{record.video_id}: expected frames, got none")
    t = np.array([ts for _, ts in frames_ts], dtype=np.float64)
    crops, found = crop_faces(
        (f for f, _ in frames_ts), opts, total=len(frames_ts), desc=record.video_id
    )
    video = FaceVideo(
        frames=crops,
        timestamps_s=t,
        ppg=_interp_truth(t, record.ppg_timestamps_s, record.ppg),
        bpm=_interp_truth(t, record.bpm_timestamps_s, record.bpm),
        fps_hz=float(record.fps_hz),
        subject_id=record.subject_id,
        video_id=record.video_id,
        dataset=record.dataset,
        face_found=found,
    )
    if cache_dir is not None and key is not None:
        save_face_video(video, Path(cache_dir) / key)
    return video


def cached_face_video(folder: Path | None, render: Callable[[], FaceVideo]) -> FaceVideo:
    """The face video cached in ``folder``; rendered by ``render`` and saved there first when it
    is not (read back either way, so a first run trains on the same memory-mapped frames as a
    later one). ``folder`` ``None``: rendered, not cached."""
    if folder is None:
        return render()
    if not (folder / "meta.npz").is_file():
        save_face_video(render(), folder)
    return load_face_video(folder)


def save_face_video(video: FaceVideo, folder: str | Path) -> Path:
    """Write ``frames.npy`` + ``meta.npz`` into ``folder``, each atomically under a unique
    temporary name (several DDP ranks may write the same entry; readers look for ``meta.npz``,
    written last)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "frames.npy") as tmp:
        np.save(tmp, np.ascontiguousarray(video.frames))
    with atomic_path(folder / "meta.npz") as tmp:
        np.savez(
            tmp,
            timestamps_s=video.timestamps_s,
            ppg=video.ppg,
            bpm=video.bpm,
            face_found=video.face_found,
            info=np.array(
                json.dumps(
                    {
                        "fps_hz": video.fps_hz,
                        "subject_id": video.subject_id,
                        "video_id": video.video_id,
                        "dataset": video.dataset,
                        "version": CACHE_VERSION,
                    }
                )
            ),
        )
    return folder


def load_face_video(folder: str | Path, *, mmap: bool = True) -> FaceVideo:
    """Read a folder written by :func:`save_face_video` (frames memory-mapped by default)."""
    folder = Path(folder)
    if not (folder / "meta.npz").is_file() or not (folder / "frames.npy").is_file():
        raise FileNotFoundError(f"{folder}: expected frames.npy and meta.npz")
    with np.load(folder / "meta.npz") as meta:
        info = json.loads(str(meta["info"]))
        return FaceVideo(
            frames=np.load(folder / "frames.npy", mmap_mode="r" if mmap else None),
            timestamps_s=meta["timestamps_s"],
            ppg=meta["ppg"],
            bpm=meta["bpm"],
            fps_hz=float(info["fps_hz"]),
            subject_id=str(info["subject_id"]),
            video_id=str(info["video_id"]),
            dataset=str(info["dataset"]),
            face_found=meta["face_found"],
        )


def _cache_key(record: VideoRecord, opts: FaceTrackerOptions, drop_dark: bool) -> str:
    files = [record.video_path] if record.video_path is not None else list(record.frame_paths)
    h = hashlib.sha1()
    h.update(
        json.dumps(
            [CACHE_VERSION, record.dataset, record.video_id, asdict(opts), drop_dark]
        ).encode()
    )
    for f in files:
        assert f is not None
        st = Path(f).stat()
        h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(np.ascontiguousarray(record.ppg).tobytes())
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in record.video_id)
    return f"{record.dataset}_{safe}_{h.hexdigest()[:12]}"
