"""Loaders for the on-disk formats of public rPPG datasets.

Each loader walks a dataset's root folder and returns :class:`VideoRecord` objects: where the
frames are, when each frame was taken, and the contact PPG with its own timestamps. Nothing is
decoded here except the (small) ground-truth files; frames are read later by
:func:`read_frames` and turned into face clips by :mod:`training.data.preprocess`.

Formats (as distributed by their authors):

UBFC-rPPG (DATASET_2)
    ``<root>/subject<N>/vid.avi`` and ``ground_truth.txt`` with three whitespace-separated rows:
    PPG, heart rate (bpm) and time (s), one column per video frame. DATASET_1's
    ``gtdump.xmp`` (CSV rows ``time_ms, hr_bpm, spo2, ppg``) is read too.
PURE
    ``<root>/NN-MM/NN-MM.json`` (subject NN, setup MM) beside a folder of
    ``Image<timestamp_ns>.png`` frames, either ``<root>/NN-MM/NN-MM/`` or ``<root>/NN-MM/`` itself.
    The JSON holds ``"/FullPackage"`` (``Timestamp`` in ns, ``Value.waveform``,
    ``Value.pulseRate``) and ``"/Image"`` (``Timestamp`` per frame).
COHFACE
    ``<root>/<subject>/<session>/data.avi`` beside ``data.hdf5`` holding ``pulse`` and ``time``
    (s, 256 Hz). Needs :mod:`h5py` (imported only when a COHFACE record is read).
MR-NIRP-Car
    Reconstructed from public loaders (the authors' site was not reachable here):
    ``<root>/<SubjectK_condition>/NIR/Frame#####.pgm`` (8- or 16-bit, near-infrared, possibly one
    level deeper as ``NIR/NIR/`` after unzipping), ``RGB/Frame#####.pgm`` (Bayer or 3-channel)
    and ``PulseOX/pulseOx.mat`` (MATLAB, variables ``pulseOxRecord`` and ``pulseOxTime``; the
    time origin is taken as arbitrary and the unit as seconds). Frames are assumed evenly spaced at
    ``fps_hz`` (30) over the pulse-oximeter span. The NIR camera of this rig alternates lit and
    dark frames in some recordings; frames darker than half the median brightness are dropped
    when ``drop_dark_frames`` is set. Needs :mod:`scipy`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "VideoRecord",
    "iter_frames",
    "load_cohface",
    "folder_records",
    "load_dataset",
    "load_mr_nirp_car",
    "load_pure",
    "load_ubfc_rppg",
    "read_frames",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VideoRecord:
    """One recording: where its frames are and its contact-sensor ground truth.

    Attributes
    ----------
    dataset, subject_id, video_id
        Names; ``subject_id`` drives subject-wise splits.
    video_path
        A container file (avi/mp4) to decode, or ``None`` when frames are images.
    frame_paths
        Image files in time order (empty for a container).
    frame_timestamps_s
        Time of each frame in seconds, or ``None`` to take ``i / fps_hz`` (container frames).
    ppg, ppg_timestamps_s
        Contact PPG samples and their times in seconds, on the same clock as the frames.
    bpm, bpm_timestamps_s
        The sensor's own heart-rate readings when the dataset has them (else empty).
    fps_hz
        Nominal frame rate.
    near_infrared
        Frames are single-channel near-infrared.
    """

    dataset: str
    subject_id: str
    video_id: str
    video_path: Path | None
    frame_paths: tuple[Path, ...]
    frame_timestamps_s: FloatArray | None
    ppg: FloatArray
    ppg_timestamps_s: FloatArray
    bpm: FloatArray = field(default_factory=lambda: np.zeros(0))
    bpm_timestamps_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    fps_hz: float = 30.0
    near_infrared: bool = False

    def __post_init__(self) -> None:
        if self.ppg.shape != self.ppg_timestamps_s.shape or self.ppg.ndim != 1:
            raise ValueError(
                f"{self.video_id}: expected ppg and ppg_timestamps_s of one equal length, got "
                f"{self.ppg.shape} and {self.ppg_timestamps_s.shape}"
            )
        if self.video_path is None and not self.frame_paths:
            raise ValueError(f"{self.video_id}: expected a video file or image frames, got neither")


def _require_dir(root: str | Path, name: str) -> Path:
    p = Path(root)
    if not p.is_dir():
        raise FileNotFoundError(f"{name}: expected a dataset folder, got {str(p)!r} (not a folder)")
    return p


# ----------------------------------------------------------------------------- UBFC-rPPG


def _read_ubfc_truth(folder: Path) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(ppg, bpm, time_s) from ground_truth.txt (DATASET_2) or gtdump.xmp (DATASET_1)."""
    gt2 = folder / "ground_truth.txt"
    if gt2.is_file():
        rows = [
            np.array(line.split(), dtype=np.float64)
            for line in gt2.read_text().splitlines()
            if line.strip()
        ]
        if len(rows) < 3 or len({r.size for r in rows[:3]}) != 1:
            raise ValueError(f"{gt2}: expected 3 rows (ppg, bpm, time_s) of equal length")
        return rows[0], rows[1], rows[2]
    gt1 = folder / "gtdump.xmp"
    if gt1.is_file():
        arr = np.loadtxt(gt1, delimiter=",", dtype=np.float64, ndmin=2)
        if arr.shape[1] < 4:
            raise ValueError(f"{gt1}: expected columns time_ms, bpm, spo2, ppg; got {arr.shape[1]}")
        return arr[:, 3], arr[:, 1], arr[:, 0] / 1000.0
    raise FileNotFoundError(f"{folder}: expected ground_truth.txt or gtdump.xmp")


def load_ubfc_rppg(root: str | Path) -> list[VideoRecord]:
    """Records of UBFC-rPPG: ``subject*/vid.avi`` + ``ground_truth.txt``."""
    base = _require_dir(root, "UBFC-rPPG")
    out = []
    for folder in sorted(base.glob("subject*"), key=lambda p: _natural_key(p.name)):
        video = folder / "vid.avi"
        if not video.is_file():
            continue
        ppg, bpm, t = _read_ubfc_truth(folder)
        # The truth has one sample per frame; its time column is the frames' clock.
        t = t - t[0]
        out.append(
            VideoRecord(
                "ubfc-rppg",
                folder.name,
                folder.name,
                video,
                (),
                t.copy(),
                ppg,
                t,
                bpm,
                t.copy(),
                30.0,
            )
        )
    if not out:
        raise FileNotFoundError(f"UBFC-rPPG: no subject*/vid.avi under {str(base)!r}")
    return out


# ----------------------------------------------------------------------------- PURE


def load_pure(root: str | Path) -> list[VideoRecord]:
    """Records of PURE: ``NN-MM/NN-MM.json`` + ``Image<ns>.png`` frames."""
    base = _require_dir(root, "PURE")
    out = []
    for js in sorted(base.glob("*/*.json")) + sorted(base.glob("*.json")):
        name = js.stem
        if not re.fullmatch(r"\d+-\d+", name):
            continue
        candidates = [js.parent / name, js.parent] if js.parent != base else [base / name]
        frames: list[Path] = []
        for c in candidates:
            frames = sorted(c.glob("Image*.png"), key=lambda p: _natural_key(p.name))
            if frames:
                break
        if not frames:
            continue
        doc = json.loads(js.read_text())
        pkgs = doc.get("/FullPackage")
        if not pkgs:
            raise ValueError(f"{js}: expected a '/FullPackage' list with the pulse oximeter data")
        t_ppg_ns = np.array([p["Timestamp"] for p in pkgs], dtype=np.float64)
        ppg = np.array([p["Value"]["waveform"] for p in pkgs], dtype=np.float64)
        bpm = np.array([p["Value"]["pulseRate"] for p in pkgs], dtype=np.float64)
        # Frame times: from the JSON when it lists them, else from the file names.
        imgs = doc.get("/Image")
        if imgs and len(imgs) == len(frames):
            t_img_ns = np.array([p["Timestamp"] for p in imgs], dtype=np.float64)
        else:
            t_img_ns = np.array([float(re.sub(r"\D", "", p.stem)) for p in frames])
        t0 = t_img_ns[0]
        t_ppg = (t_ppg_ns - t0) * 1e-9
        # The authors note the first two oximeter samples are corrupt.
        ppg, t_ppg, bpm = ppg[2:], t_ppg[2:], bpm[2:]
        subject = name.split("-")[0]
        out.append(
            VideoRecord(
                "pure",
                subject,
                name,
                None,
                tuple(frames),
                (t_img_ns - t0) * 1e-9,
                ppg,
                t_ppg,
                bpm,
                t_ppg.copy(),
                30.0,
            )
        )
    if not out:
        raise FileNotFoundError(
            f"PURE: no NN-MM/NN-MM.json with Image*.png frames under {str(base)!r}"
        )
    return out


# ----------------------------------------------------------------------------- COHFACE


def load_cohface(root: str | Path) -> list[VideoRecord]:
    """Records of COHFACE: ``<subject>/<session>/data.avi`` + ``data.hdf5`` (pulse, time)."""
    base = _require_dir(root, "COHFACE")
    try:
        import h5py  # only COHFACE needs HDF5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("COHFACE ground truth is HDF5: install h5py to read it") from exc
    out = []
    for video in sorted(base.glob("*/*/data.avi"), key=lambda p: _natural_key(str(p))):
        h5 = video.with_suffix(".hdf5")
        if not h5.is_file():
            continue
        with h5py.File(h5, "r") as f:
            ppg = np.asarray(f["pulse"], dtype=np.float64).ravel()
            t = np.asarray(f["time"], dtype=np.float64).ravel()
        subject = video.parent.parent.name
        out.append(
            VideoRecord(
                "cohface",
                subject,
                f"{subject}/{video.parent.name}",
                video,
                (),
                None,
                ppg,
                t - t[0],
                fps_hz=20.0,
            )
        )
    if not out:
        raise FileNotFoundError(f"COHFACE: no */*/data.avi with data.hdf5 under {str(base)!r}")
    return out


# ----------------------------------------------------------------------------- MR-NIRP-Car


def load_mr_nirp_car(
    root: str | Path,
    *,
    modality: str = "NIR",
    fps_hz: float = 30.0,
) -> list[VideoRecord]:
    """Records of MR-NIRP-Car: ``<clip>/{NIR,RGB}/Frame*.pgm`` + ``PulseOX/pulseOx.mat``.

    Parameters
    ----------
    modality
        ``"NIR"`` (single channel) or ``"RGB"``.
    fps_hz
        Frame rate assumed for the image sequence (the files carry no times).
    """
    if modality not in ("NIR", "RGB"):
        raise ValueError(f"modality: expected 'NIR' or 'RGB', got {modality!r}")
    base = _require_dir(root, "MR-NIRP-Car")
    from scipy.io import loadmat  # MATLAB v5 files

    out = []
    for clip in sorted(
        (p for p in base.rglob("*") if p.is_dir() and (p / modality).is_dir()),
        key=lambda p: _natural_key(str(p)),
    ):
        frames = sorted(clip.glob(f"{modality}/**/Frame*.pgm"), key=lambda p: _natural_key(p.name))
        mats = [m for m in clip.glob("PulseOX/**/*.mat") if m.stem.lower() == "pulseox"]
        if not frames or not mats:
            continue
        mat = loadmat(str(mats[0]))
        if "pulseOxRecord" not in mat or "pulseOxTime" not in mat:
            raise ValueError(f"{mats[0]}: expected variables pulseOxRecord and pulseOxTime")
        ppg = np.asarray(mat["pulseOxRecord"], dtype=np.float64).ravel()
        t = np.asarray(mat["pulseOxTime"], dtype=np.float64).ravel()
        t = t - t[0]
        m = re.match(r"(subject\s*\d+)", clip.name, flags=re.IGNORECASE)
        subject = m.group(1).replace(" ", "").lower() if m else clip.name
        out.append(
            VideoRecord(
                "mr-nirp-car",
                subject,
                clip.name,
                None,
                tuple(frames),
                np.arange(len(frames)) / fps_hz,
                ppg,
                t,
                fps_hz=fps_hz,
                near_infrared=modality == "NIR",
            )
        )
    if not out:
        raise FileNotFoundError(
            f"MR-NIRP-Car: no <clip>/{modality}/Frame*.pgm with PulseOX/pulseOx.mat under "
            f"{str(base)!r}"
        )
    return out


LOADERS = {
    "ubfc-rppg": load_ubfc_rppg,
    "pure": load_pure,
    "cohface": load_cohface,
    "mr-nirp-car": load_mr_nirp_car,
}


def load_dataset(name: str, root: str | Path) -> list[VideoRecord]:
    """Records of dataset ``name`` (one of :data:`LOADERS`) under ``root``."""
    key = name.lower().replace("_", "-")
    if key not in LOADERS:
        raise ValueError(f"dataset: expected one of {sorted(LOADERS)}, got {name!r}")
    return LOADERS[key](root)


# ----------------------------------------------------------------------------- frames


def iter_frames(
    record: VideoRecord, *, drop_dark_frames: bool = False
) -> Iterator[tuple[npt.NDArray[np.uint8], float]]:
    """Yield ``(frame, timestamp_s)``: BGR ``(H, W, 3)`` or grey ``(H, W)`` uint8 frames."""
    if record.video_path is not None:
        cap = cv2.VideoCapture(str(record.video_path))
        if not cap.isOpened():
            raise OSError(f"{record.video_path}: OpenCV could not open the video")
        fps = cap.get(cv2.CAP_PROP_FPS) or record.fps_hz
        i = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                ts = record.frame_timestamps_s
                t = float(ts[i]) if ts is not None and i < ts.size else i / fps
                yield _as_uint8(frame, record.near_infrared), t
                i += 1
        finally:
            cap.release()
        return
    ts = record.frame_timestamps_s
    median_level: float | None = None
    for i, path in enumerate(record.frame_paths):
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise OSError(f"{path}: OpenCV could not read the image")
        img = _as_uint8(img, record.near_infrared, hash((record.dataset, record.video_id)))
        if drop_dark_frames:
            level = float(img.mean())
            if median_level is None:
                sample = record.frame_paths[: min(31, len(record.frame_paths))]
                levels = [
                    float(
                        _as_uint8(
                            cv2.imread(str(p), cv2.IMREAD_UNCHANGED),
                            record.near_infrared,
                            hash((record.dataset, record.video_id)),
                        ).mean()
                    )
                    for p in sample
                ]
                median_level = float(np.median(levels))
            if level < 0.5 * median_level:
                continue
        yield img, float(ts[i]) if ts is not None else i / record.fps_hz


def read_frames(
    record: VideoRecord, *, drop_dark_frames: bool = False
) -> tuple[npt.NDArray[np.uint8], FloatArray]:
    """All frames of ``record`` in memory: ``(frames (T, H, W[, 3]) uint8, timestamps_s (T,))``."""
    frames, times = [], []
    for f, t in iter_frames(record, drop_dark_frames=drop_dark_frames):
        frames.append(f)
        times.append(t)
    if not frames:
        raise ValueError(f"{record.video_id}: expected at least one frame, got none")
    return np.stack(frames), np.asarray(times, dtype=np.float64)


_WIDE_SCALE: dict[int, float] = {}


def _as_uint8(img: npt.NDArray[np.generic], grey: bool, key: int = 0) -> npt.NDArray[np.uint8]:
    if img.dtype == np.uint16:
        # 10-16 bit sensors (MR-NIRP): map the range the first frame uses onto 0-255 with ONE
        # scale per recording (a per-frame scale would modulate the brightness, i.e. the pulse).
        if key not in _WIDE_SCALE:
            _WIDE_SCALE[key] = 255.0 / max(1.25 * float(np.percentile(img, 99.9)), 1.0)
        img = np.clip(img.astype(np.float32) * _WIDE_SCALE[key], 0, 255).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if grey and img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if not grey and img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img


def _natural_key(s: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def folder_records(root: str | Path, *, fps_hz: float = 30.0) -> list[VideoRecord]:
    """Unlabelled records: every video file directly in ``root`` (or below it), one subject each.

    For self-supervised adaptation on footage from a target camera; there is no PPG.
    """
    base = _require_dir(root, "videos")
    files = sorted(
        (p for p in base.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES),
        key=lambda p: _natural_key(str(p)),
    )
    if not files:
        raise FileNotFoundError(f"videos: no {'/'.join(VIDEO_SUFFIXES)} files under {str(base)!r}")
    empty = np.zeros(0)
    return [
        VideoRecord(
            "folder",
            str(p.relative_to(base).with_suffix("")),
            str(p.relative_to(base)),
            p,
            (),
            None,
            empty,
            empty.copy(),
            fps_hz=fps_hz,
        )
        for p in files
    ]
