"""Face videos and clip datasets from a run's data options (what every script starts from).

:func:`load_videos` turns a data source into cached :class:`FaceVideo` lists; in a distributed
run rank 0 renders or preprocesses first and the other ranks wait at a barrier, then read its
cache (two ranks writing one cache entry at once is what this prevents). :func:`split_videos`
makes the subject-wise train / validation / test split, :func:`build_datasets` the clip datasets,
and :func:`heldout_videos` the test fold of the configuration stored with a trained model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training.augment import AugmentConfig
from training.data.clips import ClipConfig, ClipDataset
from training.data.preprocess import FaceVideo, load_face_video, preprocess_record
from training.data.records import LOADERS, folder_records, load_dataset
from training.data.splits import subject_kfold
from training.distributed import is_main_process, main_process_first

__all__ = [
    "DATA_SOURCES",
    "build_datasets",
    "heldout_videos",
    "load_preprocessed",
    "load_videos",
    "split_videos",
]

#: ``synthetic`` renders a set; ``realistic`` renders the evaluation suite's kinds of clip through
#: real codecs (:mod:`training.data.realistic`, options in ``synthetic``); ``nir`` is one-channel
#: 940 nm video: in-cabin scenes and the realistic conditions rendered grey
#: (:func:`training.data.cabin.build_nir_videos`, options in ``synthetic``); ``preprocessed`` reads
#: face videos already cached (every folder holding a ``meta.npz`` below ``data_path``);
#: ``folder`` is unlabelled video files; the rest are the real datasets of
#: :mod:`training.data.records`.
DATA_SOURCES = ("synthetic", "realistic", "nir", "preprocessed", "folder", *sorted(LOADERS))


def load_preprocessed(root: str | Path) -> list[FaceVideo]:
    """Every face video saved by :func:`training.data.preprocess.save_face_video` below ``root``."""
    folders = sorted(p.parent for p in Path(root).rglob("meta.npz"))
    if not folders:
        raise FileNotFoundError(f"data_path: expected preprocessed face videos under {root}")
    return [load_face_video(f) for f in folders]


def load_videos(
    data: str,
    *,
    data_path: str | Path | None = None,
    cache_dir: str | Path | None = "cache",
    fps_hz: float = 30.0,
    size: int = 64,
    synthetic: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> list[FaceVideo]:
    """The face videos of ``data`` (one of :data:`DATA_SOURCES`), from the cache when there.

    Parameters
    ----------
    data
        Source name.
    data_path
        Dataset root (every source but ``synthetic``).
    cache_dir
        Where face crops are cached (``None``: no cache).
    fps_hz, size
        Frame rate of a synthetic set (and the nominal rate of ``folder`` videos); crop side
        (at least 64) for preprocessed real video.
    synthetic
        Fields of :class:`training.data.synthetic.SyntheticSetConfig`.
    progress
        Progress bars (rank 0 only).
    """
    key = str(data).lower().replace("_", "-")
    if key not in DATA_SOURCES:
        raise ValueError(f"data: expected one of {list(DATA_SOURCES)}, got {data!r}")
    if key not in ("synthetic", "realistic", "nir") and not data_path:
        raise ValueError(f"data_path: expected the {data} root folder, got {data_path!r}")
    show = progress and is_main_process()
    with main_process_first():
        if key == "synthetic":
            from training.data.synthetic import SyntheticSetConfig, build_synthetic_videos

            cfg = SyntheticSetConfig(**{"fps_hz": float(fps_hz), **dict(synthetic or {})})
            return build_synthetic_videos(cfg, cache_dir=cache_dir, progress=show)
        if key == "realistic":
            from training.data.realistic import RealisticSetConfig, build_realistic_videos

            rcfg = RealisticSetConfig(**dict(synthetic or {}))
            return build_realistic_videos(rcfg, cache_dir=cache_dir, progress=show)
        if key == "nir":  # one-channel 940 nm: cabin scenes + grey realistic clips
            from training.data.cabin import build_nir_videos

            return build_nir_videos(synthetic, cache_dir=cache_dir, progress=show)
        assert data_path is not None
        if key == "preprocessed":
            return load_preprocessed(data_path)
        from rppg_sdk.face import FaceTrackerOptions

        records = (
            folder_records(data_path, fps_hz=float(fps_hz))
            if key == "folder"
            else load_dataset(key, data_path)
        )
        opts = FaceTrackerOptions(crop_size=max(64, int(size)), skin_regions=False)
        return [
            preprocess_record(r, opts, cache_dir=cache_dir)
            for r in tqdm(records, desc="preprocess", disable=not show)
        ]


def split_videos(
    videos: Sequence[FaceVideo],
    *,
    folds: int,
    fold: int,
    val_share: float,
    seed: int,
    contrastive: bool = False,
) -> tuple[list[FaceVideo], list[FaceVideo], list[FaceVideo]]:
    """``(train, val, test)`` videos by subject.

    The test side is fold ``fold`` of ``folds``; validation is ``val_share`` of the remaining
    subjects. Contrastive training needs no labels, so (as in the paper) the validation videos
    join training and validation is the training videos themselves (label-free IPR selection).
    """
    vids = list(videos)
    subjects = [v.subject_id for v in vids]
    train_idx, test_idx = subject_kfold(subjects, folds, fold, seed=seed)
    train_subjects = sorted({subjects[i] for i in train_idx})
    rng = np.random.default_rng(seed + 1)
    n_val = max(1, int(round(val_share * len(train_subjects)))) if len(train_subjects) > 1 else 0
    val_subjects = set(rng.permutation(train_subjects)[:n_val].tolist())
    tr = [vids[i] for i in train_idx if contrastive or subjects[i] not in val_subjects]
    va = [vids[i] for i in train_idx if subjects[i] in val_subjects] or tr
    te = [vids[i] for i in test_idx]
    return tr, (tr if contrastive else va), te


def build_datasets(
    videos: Sequence[FaceVideo],
    clip: ClipConfig,
    *,
    folds: int = 5,
    fold: int = 0,
    val_share: float = 0.2,
    seed: int = 0,
    contrastive: bool = False,
    samples_per_epoch: int = 0,
    augment: Mapping[str, Any] | None = None,
) -> tuple[ClipDataset, ClipDataset, ClipDataset]:
    """``(train, val, test)`` clip datasets from :func:`split_videos`: random augmented clips
    for training (unlabelled when contrastive), fixed windows for validation and testing."""
    tr, va, te = split_videos(
        videos, folds=folds, fold=fold, val_share=val_share, seed=seed, contrastive=contrastive
    )
    train_ds = ClipDataset(
        tr,
        clip,
        train=True,
        samples_per_epoch=samples_per_epoch or None,
        augment=AugmentConfig(**dict(augment or {})),
        labelled=not contrastive,
        seed=seed,
    )
    val_ds = ClipDataset(va, clip, train=False, labelled=True)
    test_ds = ClipDataset(te, clip, train=False, labelled=True)
    return train_ds, val_ds, test_ds


def heldout_videos(
    config: Mapping[str, Any],
    *,
    cache_dir: str | Path | None = "cache",
    data: str | None = None,
    data_path: str | Path | None = None,
    folds: int | None = None,
    fold: int | None = None,
    progress: bool = True,
) -> list[FaceVideo]:
    """The test fold of the data a model was trained on (``config``: the options stored in its
    checkpoint), or of another dataset split the same way (``data``, ``data_path``)."""
    videos = load_videos(
        data or str(config.get("data", "synthetic")),
        data_path=data_path if data else config.get("data_path"),
        cache_dir=cache_dir,
        fps_hz=float(config.get("fps", 30.0)),
        size=int(config.get("size", 64)),
        synthetic=config.get("synthetic") or {},
        progress=progress,
    )
    _, _, test = split_videos(
        videos,
        folds=int(folds if folds is not None else config.get("folds", 5)),
        fold=int(fold if fold is not None else config.get("fold", 0)),
        val_share=float(config.get("val_share", 0.2)),
        seed=int(config.get("seed", 0)),
        contrastive=config.get("mode") == "contrastive",
    )
    return test
