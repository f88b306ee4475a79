"""Calibration clips for INT8, and ONNX Runtime INT8 static quantization.

INT8 scales come from the activations the model sees on real inputs, so calibration clips go
through exactly the path of runtime chunks: face crops from the SDK's tracker, resized to the
model's side, normalised with ``training.data.clips.normalize_clip`` as the sidecar says (read
with :func:`rppg_sdk.backends.sidecar.read_sidecar`).

Sources (:func:`calibration_clips`):

``"synthetic"``
    Semi-synthetic faces with a known pulse rendered by ``rppg_sdk.synthetic`` and cropped by
    the SDK's tracker (``training.data.synthetic``), cached under ``cache/``.
``"cache:<folder>"``
    Face videos already preprocessed by ``training.data.preprocess`` (one sub-folder each).
``"video:<file>"``
    A video file, cropped with the SDK's face tracker.

The same clips feed TensorRT's entropy calibrator (:mod:`deploy.build_engine`) and ONNX Runtime's
``quantize_static`` (:func:`quantize_int8`). Save them once with ``--save clips.npy``.

Examples
--------
::

    python -m deploy.calibrate --onnx python/rppg_sdk/models/physnet.onnx --source synthetic \
        --n-clips 16 --save build/deploy/calib_physnet.npy \
        --int8-output build/deploy/physnet_int8.onnx
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rppg_sdk.backends.sidecar import INPUT_NAME, OnnxInfo, file_sha256, read_sidecar, write_sidecar

__all__ = [
    "ClipReader",
    "calibration_clips",
    "load_clips",
    "quantize_int8",
    "video_clips",
]

FloatArray = npt.NDArray[np.float32]


def video_clips(
    videos: Sequence[Any],
    *,
    frames: int,
    size: int,
    fps_hz: float,
    normalization: str,
    n_clips: int,
    seed: int = 0,
) -> FloatArray:
    """``(n, C, frames, size, size)`` float32 normalised clips from ``FaceVideo`` recordings.

    Windows are taken evenly from all videos (evaluation-mode ``ClipDataset``, no augmentation),
    then ``n_clips`` of them are drawn without replacement.
    """
    import torch

    from training.data.clips import ClipConfig, ClipDataset

    ds = ClipDataset(
        list(videos),
        ClipConfig(int(frames), float(fps_hz), int(size), normalization),  # type: ignore[arg-type]
        train=False,
        labelled=False,
        stride_frames=max(4, int(frames) // 2),
    )
    rng = np.random.default_rng(seed)
    take = rng.choice(len(ds), size=min(int(n_clips), len(ds)), replace=False)
    clips = [ds[int(i)]["video"] for i in sorted(take)]
    out: FloatArray = torch.stack(clips).numpy().astype(np.float32, copy=False)
    return out


def calibration_clips(
    source: str,
    *,
    frames: int,
    size: int,
    channels: int = 3,
    fps_hz: float = 30.0,
    normalization: str = "temporal",
    n_clips: int = 16,
    cache_dir: str | Path = "cache",
    seed: int = 0,
) -> FloatArray:
    """Normalised calibration clips ``(n, C, T, H, W)`` from ``source`` (see module docstring)."""
    from training.data.preprocess import FaceVideo, load_face_video

    videos: list[FaceVideo]
    if source == "synthetic":
        from training.data.synthetic import SyntheticSetConfig, build_synthetic_videos

        n_videos = max(2, min(8, n_clips // 2))
        cfg = SyntheticSetConfig(
            n_videos=n_videos,
            duration_s=max(12.0, 2.0 * frames / fps_hz),
            fps_hz=fps_hz,
            crop_size=size,
            near_infrared=channels == 1,
            seed=7919 + seed,  # not the training set's seed: calibration data is held out
        )
        videos = build_synthetic_videos(cfg, cache_dir=cache_dir)
    elif source.startswith("cache:"):
        root = Path(source[len("cache:"):])
        folders = sorted(p.parent for p in root.rglob("meta.npz"))
        if not folders:
            raise FileNotFoundError(f"source: no preprocessed face videos (meta.npz) under {root}")
        videos = [load_face_video(f) for f in folders]
    elif source.startswith("video:"):
        videos = [_face_video_from_file(Path(source[len("video:"):]), size)]
    else:
        raise ValueError(
            f"source: expected 'synthetic', 'cache:<folder>' or 'video:<file>', got {source!r}"
        )
    if {v.channels for v in videos} != {channels}:
        raise ValueError(
            f"source: expected {channels}-channel videos, "
            f"got {sorted({v.channels for v in videos})}"
        )
    return video_clips(
        videos,
        frames=frames,
        size=size,
        fps_hz=fps_hz,
        normalization=normalization,
        n_clips=n_clips,
        seed=seed,
    )


def _face_video_from_file(path: Path, size: int) -> Any:
    """Crop the faces of a video file with the SDK's tracker (as ``FaceVideo``)."""
    import cv2
    from rppg_sdk.face import FaceTrackerOptions

    from training.data.preprocess import FaceVideo, crop_faces

    if not path.is_file():
        raise FileNotFoundError(f"video: expected a file, {path} does not exist")
    cap = cv2.VideoCapture(str(path))
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0

    def frames() -> Iterator[npt.NDArray[np.uint8]]:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield np.asarray(frame, dtype=np.uint8)

    try:
        crops, found = crop_faces(frames(), FaceTrackerOptions(crop_size=size, skin_regions=False))
    finally:
        cap.release()
    n = crops.shape[0]
    return FaceVideo(
        frames=crops,
        timestamps_s=np.arange(n) / fps,
        ppg=np.empty(0),
        bpm=np.empty(0),
        fps_hz=fps,
        subject_id=path.stem,
        video_id=path.stem,
        dataset="file",
        face_found=found,
    )


def load_clips(path: str | Path) -> FloatArray:
    """Clips saved with ``--save`` (``.npy``, ``(n, C, T, H, W)`` float32)."""
    arr: FloatArray = np.asarray(np.load(path), dtype=np.float32)
    if arr.ndim != 5:
        raise ValueError(f"{path}: expected (n, C, T, H, W) clips, got shape {arr.shape}")
    return arr


class ClipReader:
    """``onnxruntime.quantization.CalibrationDataReader`` over clips, one per batch.

    (Duck-typed: ONNX Runtime only calls ``get_next``; ``rewind`` allows a second pass.)
    """

    def __init__(self, clips: FloatArray, input_name: str = INPUT_NAME) -> None:
        if clips.ndim != 5:
            raise ValueError(f"clips: expected (n, C, T, H, W), got shape {clips.shape}")
        self.clips = clips
        self.input_name = input_name
        self._i = 0

    def get_next(self) -> dict[str, FloatArray] | None:
        if self._i >= len(self.clips):
            return None
        x = self.clips[self._i : self._i + 1]
        self._i += 1
        return {self.input_name: np.ascontiguousarray(x)}

    def rewind(self) -> None:
        self._i = 0


def quantize_int8(
    onnx_path: str | Path,
    output: str | Path,
    clips: FloatArray,
    *,
    per_channel: bool = True,
    input_name: str = INPUT_NAME,
) -> Path:
    """ONNX Runtime INT8 static quantization (QOperator: QLinearConv etc.) calibrated on ``clips``.

    The model is first shape-inferred and optimised (``quant_pre_process``), the recommended
    first step; activations are uint8 with per-tensor MinMax scales, weights int8 per channel.
    The result runs in ONNX Runtime only (TensorRT's parser has no QLinearConv: TensorRT gets
    INT8 from its own calibrator instead).
    """
    import tempfile

    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(onnx_path), str(pre))
        quantize_static(
            str(pre),
            str(output),
            ClipReader(clips, input_name),
            quant_format=QuantFormat.QOperator,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
        )
    return output


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Calibration clips and ONNX Runtime INT8 models")
    p.add_argument("--onnx", required=True, help="FP32 model with its sidecar beside it")
    p.add_argument("--source", default="synthetic", help="synthetic | cache:DIR | video:FILE")
    p.add_argument("--n-clips", type=int, default=16)
    p.add_argument("--frames", type=int, default=0, help="T per clip (default: the sidecar's)")
    p.add_argument("--cache-dir", default="cache")
    p.add_argument("--save", default=None, help="write the clips here (.npy)")
    p.add_argument("--clips", default=None, help="use clips saved before instead of --source")
    p.add_argument("--int8-output", default=None, help="write an ORT INT8 model here")
    args = p.parse_args(argv)

    side = read_sidecar(args.onnx)
    inp = side.input
    if args.clips:
        clips = load_clips(args.clips)
    else:
        clips = calibration_clips(
            args.source,
            frames=int(args.frames or inp.recommended_frames or 0),
            size=inp.height,
            channels=inp.channels,
            fps_hz=inp.fps_hz,
            normalization=inp.normalization,
            n_clips=args.n_clips,
            cache_dir=args.cache_dir,
        )
    print(f"calibration clips: {clips.shape} from {args.clips or args.source}")
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        np.save(args.save, clips)
        print(f"saved {args.save}")
    if args.int8_output:
        out = quantize_int8(args.onnx, args.int8_output, clips, input_name=side.input_name)
        q_side = replace(
            side,
            precision="int8",
            onnx=OnnxInfo(
                file=out.name,
                sha256=file_sha256(out),
                opset=side.onnx.opset,
                dynamic_axes=side.onnx.dynamic_axes,
                producer=side.onnx.producer,
            ),
            parity=None,
            quantization={
                "tool": "onnxruntime.quantization.quantize_static (QOperator, per-channel "
                "int8 weights, uint8 activations, MinMax)",
                "calibration": f"{len(clips)} clips {list(clips.shape[1:])} from "
                f"{args.clips or args.source}",
                "runtime": "ONNX Runtime only (TensorRT's parser has no QLinearConv)",
                "source_onnx_sha256": side.onnx.sha256,
            },
        )
        side_path = write_sidecar(out, q_side)
        print(f"ONNX Runtime INT8 model: {out} (sidecar {side_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
