"""Check deployed models: engine parity, and heart-rate accuracy of every variant against POS.

``engine_parity``
    A TensorRT engine (through the SDK's :class:`rppg_sdk.backends.tensorrt.TensorRTBackend`)
    against ONNX Runtime on the same clips: max abs error and correlation, with bounds that
    depend on the engine's precision.
``accuracy`` / the command line
    The same face videos scored by ``training.scoring`` (chunked, overlapped inference; the
    SDK's spectral core) for the PyTorch checkpoint, each ONNX variant in ONNX Runtime (FP32,
    INT8, a smaller input) and POS: the *relative* cost in accuracy of each deployment choice.
    Absolute accuracy of a model file comes only from the runtime itself:
    ``python -m training.evaluate --onnx FILE`` (``HeartRateMonitor``, suite + real video).

Example::

    python -m deploy.verify --checkpoint training/checkpoints/physnet.pt \
        --onnx fp32=python/rppg_sdk/models/physnet.onnx --onnx int8=build/deploy/physnet_int8.onnx \
        --synthetic-heldout --video ../shared/data/real/evm_face/face.mp4 --video-bpm 52.5 \
        --out build/deploy/verify_physnet
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from rppg_sdk.backends.sidecar import read_sidecar, sidecar_path

if TYPE_CHECKING:
    from torch import nn

# torch is imported only where a PyTorch model is involved: engine_parity runs on GPU machines
# that have ONNX Runtime and TensorRT but no torch.

__all__ = ["accuracy", "engine_parity", "main", "ort_module", "parity_bounds"]


def ort_module(onnx_path: str | Path, threads: int = 0) -> nn.Module:
    """An ONNX model in ONNX Runtime behind the ``nn.Module`` call of the PyTorch models, so the
    training evaluation code scores it exactly as it scores the checkpoint."""
    import onnxruntime as ort
    import torch
    from torch import nn

    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = int(threads)
    session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    class OrtModule(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = session.run(None, {input_name: x.detach().float().numpy()})[0]
            return torch.from_numpy(np.asarray(out))

    return OrtModule()


def parity_bounds(precision: str) -> tuple[float, float]:
    """``(relative max abs error, min correlation)`` accepted for an engine of ``precision``.

    FP32 engines are built without TF32 (different kernels and summation order still leave
    ~1e-6 relative differences); FP16 keeps ~3 decimal digits; INT8 is judged on the waveform's
    shape (correlation).
    """
    return {"fp32": (1e-3, 0.9999), "fp16": (2e-2, 0.999)}.get(precision, (0.25, 0.98))


def engine_parity(
    engine_path: str | Path,
    onnx_path: str | Path,
    *,
    frames: int,
    clips: npt.NDArray[np.float32] | None = None,
    n_clips: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """TensorRT engine against ONNX Runtime (CPU) on ``clips`` (default: random normal clips)."""
    import onnxruntime as ort
    from rppg_sdk.backends.tensorrt import TensorRTBackend

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    with TensorRTBackend(engine_path) as trt_backend:
        s, precision = trt_backend.spec, trt_backend.precision
        if clips is None:
            rng = np.random.default_rng(seed)
            clips = rng.standard_normal((n_clips, s.channels, frames, s.height, s.width)).astype(
                np.float32
            )
        err, scale, corr = 0.0, 0.0, 1.0
        for clip in clips:
            x = np.ascontiguousarray(clip[None, :, :frames], dtype=np.float32)
            ref = sess.run(None, {input_name: x})[0].reshape(1, -1)
            out = trt_backend.infer(x)
            err = max(err, float(np.max(np.abs(out - ref))))
            scale = max(scale, float(np.max(np.abs(ref))))
            with np.errstate(invalid="ignore", divide="ignore"):
                c = float(np.corrcoef(out.ravel(), ref.ravel())[0, 1])
            # A constant output has no correlation (NaN): count it as none, not as a pass.
            corr = min(corr, c if np.isfinite(c) else 0.0)
        rel, min_corr = parity_bounds(precision)
        bound = rel * max(scale, 1e-6)
        return {
            "precision": precision,
            "clips": int(len(clips)),
            "frames": int(frames),
            "max_abs_error": err,
            "max_abs_output": scale,
            "correlation": corr,
            "bound": bound,
            "min_correlation": min_corr,
            "ok": bool(corr >= min_corr and (precision == "int8" or err <= bound)),
        }


def accuracy(
    variants: dict[str, tuple[nn.Module, dict[str, Any]]],
    sets: Sequence[tuple[str, list[Any], list[Any] | None]],
    *,
    window_s: float = 10.0,
) -> dict[str, Any]:
    """Heart-rate scores of every variant (and POS) on every set of face videos.

    ``variants`` maps a label to ``(model, config)`` where the config has ``clip_frames``,
    ``size`` and ``normalization`` (``training.scoring.evaluate_videos``).
    """
    from training.scoring import evaluate_videos, summarize

    out: dict[str, Any] = {}
    for set_name, videos, masks in sets:
        res: dict[str, Any] = {}
        for label, (model, cfg) in variants.items():
            rows = evaluate_videos(model, cfg, videos, window_s=window_s, masks=masks,
                                   progress=False)
            res[label] = asdict(summarize(rows, "model"))
            for m in sorted({w.method for w in rows} - {"model"}):
                res.setdefault(m, asdict(summarize(rows, m)))
        out[set_name] = res
    return out


def _plot(results: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(results)
    labels = sorted({k for r in results.values() for k in r})
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(labels) * len(sets) / 2, 3.6))
    width = 0.8 / max(1, len(sets))
    for i, s in enumerate(sets):
        maes = [results[s].get(lab, {}).get("mae_bpm", math.nan) for lab in labels]
        ax.bar(np.arange(len(labels)) + i * width, maes, width, label=s)
    ax.set_xticks(np.arange(len(labels)) + width * (len(sets) - 1) / 2, labels, rotation=20)
    ax.set_ylabel("heart-rate MAE (bpm)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Accuracy of deployed model variants against POS")
    p.add_argument("--checkpoint", required=True, help="the trained model (PyTorch reference)")
    p.add_argument("--onnx", action="append", default=[],
                   help="LABEL=PATH of an ONNX variant (its sidecar gives its input size)")
    p.add_argument("--synthetic-heldout", action="store_true",
                   help="the held-out synthetic videos of the checkpoint's training set")
    p.add_argument("--max-videos", type=int, default=0, help="at most this many held-out videos")
    p.add_argument("--video", action="append", default=[], help="a real video file")
    p.add_argument("--video-bpm", type=float, action="append", default=[])
    p.add_argument("--window-s", type=float, default=10.0)
    p.add_argument("--cache-dir", default="cache")
    p.add_argument("--out", default="build/deploy/verify")
    args = p.parse_args(argv)

    from training.checkpoints import load_shipped_model
    from training.data.build import heldout_videos
    from training.scoring import video_from_file

    model, cfg = load_shipped_model(args.checkpoint)
    variants: dict[str, tuple[nn.Module, dict[str, Any]]] = {"torch": (model, cfg)}
    for item in args.onnx:
        label, _, path = item.partition("=")
        if not path:
            raise ValueError(f"--onnx: expected LABEL=PATH, got {item!r}")
        # Without a sidecar the variant is taken to have the checkpoint's input size.
        side = read_sidecar(path) if sidecar_path(path).is_file() else None
        size = side.input.height if side is not None else int(cfg["size"])
        variants[label] = (ort_module(path), {**cfg, "size": size})

    sets: list[tuple[str, list[Any], list[Any] | None]] = []
    if args.synthetic_heldout:
        chosen = heldout_videos(cfg, cache_dir=args.cache_dir)[: args.max_videos or None]
        sets.append(("synthetic-heldout", chosen, None))
    if len(args.video_bpm) not in (0, len(args.video)):
        raise ValueError("--video-bpm: expected one value per --video")
    for i, path in enumerate(args.video):
        bpm = args.video_bpm[i] if args.video_bpm else math.nan
        v, m = video_from_file(path, bpm, max(64, int(cfg["size"])))
        sets.append((Path(path).name, [v], [m]))
    if not sets:
        print("verify: give --synthetic-heldout and/or --video", file=sys.stderr)
        return 2

    results = accuracy(variants, sets, window_s=args.window_s)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.json").write_text(json.dumps(results, indent=2, default=str))
    _plot(results, out / "accuracy.png",
          f"{Path(args.checkpoint).stem}: deployment variants against POS (heart-rate MAE)")
    for set_name, res in results.items():
        for label, s in res.items():
            print(f"{set_name:>20} {label:>12}: windows={s['n_windows']:3d} "
                  f"MAE={s['mae_bpm']:6.2f} RMSE={s['rmse_bpm']:6.2f} r={s['pearson_r']:5.2f} "
                  f"SNR={s['snr_db']:6.2f} dB")
    print(f"wrote {out / 'accuracy.json'} and {out / 'accuracy.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
