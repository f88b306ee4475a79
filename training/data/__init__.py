"""Data for training: dataset loaders, face preprocessing, clip datasets, splits, synthetic video.

- :mod:`training.data.records`: the on-disk formats of UBFC-rPPG, PURE, COHFACE and MR-NIRP-Car
  (and plain folders of unlabelled videos) as :class:`VideoRecord` lists.
- :mod:`training.data.preprocess`: raw video -> face crops with the SDK's stable-box face tracker,
  cached on disk (:class:`FaceVideo`).
- :mod:`training.data.clips`: a torch ``Dataset`` of W-second clips with PPG and heart-rate labels.
- :mod:`training.data.synthetic`: a training set rendered by ``rppg_sdk.synthetic``.
- :mod:`training.data.splits`: subject-wise k-fold splits.
- :mod:`training.data.build`: face videos and clip datasets from a run's options (rank 0 first).
"""

from training.data.clips import ClipConfig, ClipDataset, normalize_clip
from training.data.preprocess import (
    FaceVideo,
    crop_faces,
    load_face_video,
    preprocess_record,
    save_face_video,
)
from training.data.records import (
    VideoRecord,
    folder_records,
    iter_frames,
    load_cohface,
    load_dataset,
    load_mr_nirp_car,
    load_pure,
    load_ubfc_rppg,
    read_frames,
)
from training.data.splits import subject_kfold

__all__ = [
    "ClipConfig",
    "ClipDataset",
    "FaceVideo",
    "VideoRecord",
    "crop_faces",
    "folder_records",
    "iter_frames",
    "load_cohface",
    "load_dataset",
    "load_face_video",
    "load_mr_nirp_car",
    "load_pure",
    "load_ubfc_rppg",
    "normalize_clip",
    "preprocess_record",
    "read_frames",
    "save_face_video",
    "subject_kfold",
]
