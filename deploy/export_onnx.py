"""Export a trained PhysNet / AutoHR checkpoint to ONNX, check it, and write its JSON sidecar.

Steps (each printed):

1. rebuild the model from the checkpoint (``training.checkpoints.load_shipped_model``), or a
   randomly initialised one with ``--random-init`` (development only);
2. ``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``: one self-contained file at
   opset 17; the dynamo exporter writes opset 18 and may split weights into a ``.data`` file),
   dynamic batch ``N`` and frames ``T``, batch norm folded into the convolutions;
3. ``onnx.checker.check_model(full_check=True)`` and a check that TensorRT's ONNX parser supports
   every node (:mod:`deploy.trt_onnx_ops`);
4. parity with PyTorch in ONNX Runtime on two shapes (the training clip and a different ``N, T``,
   which exercises the dynamic axes): the max abs error is printed and bounded;
5. the sidecar ``<name>.json`` beside ``<name>.onnx`` (see :func:`make_sidecar`).

Examples
--------
::

    python -m deploy.export_onnx --checkpoint training/checkpoints/physnet.pt \
        --output python/rppg_sdk/models/physnet.onnx
    python -m deploy.export_onnx --random-init --model autohr --output build/deploy/autohr.onnx
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from rppg_sdk.backends.base import ModelInputSpec
from rppg_sdk.backends.sidecar import (
    INPUT_NAME,
    OUTPUT_NAME,
    ModelSidecar,
    OnnxInfo,
    file_sha256,
    write_sidecar,
)

from deploy.trt_onnx_ops import unsupported_nodes

if TYPE_CHECKING:
    from torch import nn

# torch is imported inside the functions that need it: checking an exported file, its sidecar
# and the TensorRT build (deploy/gpu_check.sh) run where only ONNX Runtime is installed.

__all__ = [
    "FRAMES_MULTIPLE_OF",
    "OPSET",
    "ModelSpec",
    "ParityReport",
    "check_onnx",
    "check_parity",
    "export_model",
    "export_onnx",
    "input_spec",
    "load_model",
    "main",
    "make_sidecar",
]

#: Opset of the TorchScript exporter in torch 2.13; TensorRT 10 parses opsets 9-24.
OPSET = 17
#: Parity bound: max |onnx - torch| <= PARITY_ATOL * max(1, max |torch|).
PARITY_ATOL = 1e-4
#: ``T`` of every chunk must be a multiple of this: PhysNet and AutoHR halve time twice.
FRAMES_MULTIPLE_OF = 4


def input_spec(
    name: str,
    *,
    channels: int,
    size: int,
    clip_frames: int,
    fps_hz: float,
    normalization: str,
) -> ModelInputSpec:
    """The input of a model trained on ``(channels, clip_frames, size, size)`` clips at
    ``fps_hz``: BGR face crops (the tracker's order) for 3 channels, near-infrared for 1."""
    return ModelInputSpec(
        name=name,
        channels=channels,
        height=size,
        width=size,
        fps_hz=fps_hz,
        normalization=normalization,
        channel_order="BGR" if channels == 3 else "NIR",
        min_frames=FRAMES_MULTIPLE_OF,
        frames_multiple_of=FRAMES_MULTIPLE_OF,
        recommended_frames=clip_frames,
    )


@dataclass(frozen=True)
class ModelSpec:
    """What the exporter knows of a trained model: its input, and how to rebuild it.

    Parameters
    ----------
    input
        The model input (:class:`rppg_sdk.backends.base.ModelInputSpec`, see
        :func:`input_spec`); ``recommended_frames`` is the training clip ``T``.
    architecture
        Name in ``training.models.MODELS``.
    model_kwargs
        Constructor arguments (``width``, ...).
    training
        Provenance: data, mode, loss, epochs, best metrics (free-form).
    """

    input: ModelInputSpec
    architecture: str
    model_kwargs: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = self.input
        if s.height != s.width or s.height < 16:
            raise ValueError(f"size: expected square crops >= 16 pixels, got {s.height}x{s.width}")
        if s.recommended_frames is None:
            raise ValueError("recommended_frames: expected the training clip length, got None")

    @property
    def name(self) -> str:
        return self.input.name

    @property
    def clip_frames(self) -> int:
        """The training clip ``T`` (the recommended chunk)."""
        return int(self.input.recommended_frames or 0)


@dataclass(frozen=True)
class ParityReport:
    """ONNX Runtime against PyTorch on the same inputs."""

    shapes: list[list[int]]
    max_abs_error: float
    max_abs_output: float
    bound: float

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= self.bound


# ----------------------------------------------------------------------------- model


def load_model(
    checkpoint: str | Path | None,
    *,
    model: str = "physnet",
    model_kwargs: dict[str, Any] | None = None,
    in_channels: int = 3,
    size: int | None = None,
    name: str | None = None,
) -> tuple[nn.Module, ModelSpec]:
    """Rebuild a model (eval mode, CPU) and its :class:`ModelSpec`.

    Parameters
    ----------
    checkpoint
        A checkpoint written by ``training.train`` (``best.pt``, ``checkpoint.pt`` or its
        ``--ship-to`` file), or ``None`` for a randomly initialised ``model`` (development).
    model, model_kwargs, in_channels
        Used only without a checkpoint.
    size
        Input side to export at; default: the training size. A smaller side than the training
        one is the "smaller input" lean variant (the models are fully convolutional up to a
        spatial mean); measure its accuracy cost with ``deploy.verify``.
    name
        Model name in the sidecar (default: the architecture).
    """
    import torch

    if checkpoint is None:
        from training.models import build_model

        kwargs = dict(model_kwargs or {})
        net = build_model(model, in_channels, **kwargs).eval()
        cfg: dict[str, Any] = {
            "model": model,
            "model_kwargs": kwargs,
            "in_channels": in_channels,
            "size": size or 64,
            "clip_frames": 300,
            "fps": 30.0,
            "normalization": "temporal",
        }
        training_info: dict[str, Any] = {"data": "none (random initialisation, development only)"}
    else:
        from training.checkpoints import load_shipped_model

        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint: expected a file, {path} does not exist")
        net, cfg = load_shipped_model(path, device="cpu")
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        training_info = {
            k: cfg.get(k)
            for k in (
                "data",
                "data_path",
                "mode",
                "loss",
                "epochs",
                "batch_size",
                "lr",
                "seed",
                "init_weights",
                "neg_weight",
                "augment",
            )
            if k in cfg
        }
        training_info["synthetic"] = cfg.get("synthetic") or {}
        training_info["epoch"] = ckpt.get("epoch")
        metrics = ckpt.get("metrics") or (ckpt.get("best") or {}).get("metrics")
        if isinstance(metrics, dict):
            training_info["metrics"] = {
                k: v for k, v in metrics.items() if isinstance(v, (int, float, str))
            }
        training_info["checkpoint_sha256"] = file_sha256(path)
    net = net.eval()
    arch = str(cfg.get("model", model)).lower()
    spec = ModelSpec(
        input=input_spec(
            name or arch,
            channels=int(cfg.get("in_channels", in_channels)),
            size=int(size or cfg.get("size", 64)),
            clip_frames=int(cfg.get("clip_frames", 300)),
            fps_hz=float(cfg.get("fps", 30.0)),
            normalization=str(cfg.get("normalization", "temporal")),
        ),
        architecture=arch,
        model_kwargs=dict(cfg.get("model_kwargs") or {}),
        training={**training_info, "trained_size": int(cfg.get("size", 64))},
    )
    return net, spec


# ----------------------------------------------------------------------------- export


def export_onnx(
    model: nn.Module,
    path: str | Path,
    spec: ModelSpec,
    *,
    example_frames: int | None = None,
    opset: int = OPSET,
    dynamic: bool = True,
) -> Path:
    """Export ``model`` to one ONNX file with dynamic batch and frames (``dynamic=True``).

    Returns the path written. The graph's input is ``"video"`` ``(N, C, T, H, W)`` float32 and its
    output ``"pulse"`` ``(N, T)``; ``H`` and ``W`` are fixed to the input's crop size.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    s = spec.input
    t = int(example_frames or min(spec.clip_frames, 64))
    x = torch.randn(1, s.channels, t, s.height, s.width)
    axes = (
        {INPUT_NAME: {0: "batch", 2: "frames"}, OUTPUT_NAME: {0: "batch", 1: "frames"}}
        if dynamic
        else None
    )
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter is deprecated in torch 2.13 but is the one that writes a single
        # opset-17 file with dynamic T for these models; silence its notice, not real errors.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        tracer_warning: type[Warning] = getattr(torch.jit, "TracerWarning", UserWarning)
        warnings.simplefilter("ignore", category=tracer_warning)
        torch.onnx.export(
            model.eval(),
            (x,),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            do_constant_folding=True,
        )
    proto = onnx.load(str(path))
    # Model-level metadata travels inside the file too (the sidecar is the reference).
    for k, v in {"rppg_model": s.name, "rppg_layout": "NCTHW", "rppg_fps_hz": str(s.fps_hz),
                 "rppg_channel_order": s.channel_order,
                 "rppg_normalization": s.normalization}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.doc_string = f"rppg-sdk {spec.name}: video (N,C,T,H,W) -> pulse (N,T)"
    onnx.save(proto, str(path))
    return path


def check_onnx(path: str | Path) -> list[str]:
    """``onnx.checker`` (full check) and the TensorRT operator check; returns the op types.

    Raises
    ------
    onnx.checker.ValidationError
        The model is not valid ONNX.
    ValueError
        A node is one TensorRT's ONNX parser does not support (all of them are listed).
    """
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    bad = unsupported_nodes(proto)
    if bad:
        lines = "\n".join(f"  {b.node} ({b.op_type}): {b.reason}" for b in bad)
        raise ValueError(f"{path}: {len(bad)} node(s) TensorRT's ONNX parser rejects:\n{lines}")
    return sorted({n.op_type for n in proto.graph.node})


def check_parity(
    model: nn.Module,
    path: str | Path,
    spec: ModelSpec,
    *,
    shapes: Sequence[tuple[int, int]] | None = None,
    seed: int = 0,
    atol: float = PARITY_ATOL,
) -> ParityReport:
    """Run the ONNX file in ONNX Runtime (CPU) and PyTorch on the same random clips.

    ``shapes`` are ``(N, T)`` pairs; default: the training clip and ``(2, 64)``.
    """
    import onnxruntime as ort
    import torch

    shapes = list(shapes or [(1, spec.clip_frames), (2, 64)])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    err, scale = 0.0, 0.0
    c, h, w = spec.input.channels, spec.input.height, spec.input.width
    for n, t in shapes:
        x = rng.standard_normal((n, c, t, h, w)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        out = sess.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
        if out.shape != ref.shape:
            raise AssertionError(f"ONNX output shape {out.shape} != PyTorch {ref.shape}")
        err = max(err, float(np.max(np.abs(out - ref))))
        scale = max(scale, float(np.max(np.abs(ref))))
    return ParityReport(
        shapes=[[n, c, t, h, w] for n, t in shapes],
        max_abs_error=err,
        max_abs_output=scale,
        bound=atol * max(1.0, scale),
    )


# ----------------------------------------------------------------------------- sidecar


def make_sidecar(
    spec: ModelSpec,
    onnx_path: str | Path,
    *,
    parity: ParityReport | None = None,
    precision: str = "fp32",
    opset: int = OPSET,
) -> ModelSidecar:
    """The sidecar of an exported model (:class:`rppg_sdk.backends.sidecar.ModelSidecar`):
    its input, architecture, the ONNX file's hash, opset and producer, parity, provenance."""
    import torch

    onnx_path = Path(onnx_path)
    return ModelSidecar(
        input=spec.input,
        architecture=spec.architecture,
        model_kwargs=dict(spec.model_kwargs),
        onnx=OnnxInfo(
            file=onnx_path.name,
            sha256=file_sha256(onnx_path),
            opset=opset,
            dynamic_axes={"batch": 0, "frames": 2},
            producer=f"torch {torch.__version__} (TorchScript exporter), onnx {onnx.__version__}",
        ),
        precision=precision,
        training=dict(spec.training),
        created_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        parity=(
            None
            if parity is None
            else {"reference": "pytorch", "runtime": "onnxruntime-cpu", **asdict(parity)}
        ),
    )


# ----------------------------------------------------------------------------- pipeline


def export_model(
    model: nn.Module,
    spec: ModelSpec,
    output: str | Path,
    *,
    opset: int = OPSET,
    log: Any = print,
) -> tuple[Path, ModelSidecar]:
    """Export, check, verify parity and write the sidecar. Returns ``(onnx_path, sidecar)``.

    Raises
    ------
    AssertionError
        Parity with PyTorch is outside the bound.
    """
    path = export_onnx(model, output, spec, opset=opset)
    ops = check_onnx(path)
    log(f"exported {path} ({path.stat().st_size / 1e6:.2f} MB, opset {opset}); "
        f"onnx.checker passed; ops all supported by TensorRT: {', '.join(ops)}")
    parity = check_parity(model, path, spec)
    log(f"parity ONNX Runtime vs PyTorch on {parity.shapes}: max abs error "
        f"{parity.max_abs_error:.3g} (bound {parity.bound:.3g}, max |output| "
        f"{parity.max_abs_output:.3g})")
    if not parity.ok:
        raise AssertionError(
            f"parity: max abs error {parity.max_abs_error:.3g} exceeds {parity.bound:.3g}"
        )
    sidecar = make_sidecar(spec, path, parity=parity, opset=opset)
    side = write_sidecar(path, sidecar)
    log(f"sidecar {side}")
    return path, sidecar


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Export an rPPG checkpoint to ONNX + JSON sidecar")
    p.add_argument("--checkpoint", default=None, help="training checkpoint (.pt)")
    p.add_argument("--random-init", action="store_true",
                   help="no checkpoint: export a randomly initialised --model (development)")
    p.add_argument("--model", default="physnet", help="architecture without a checkpoint")
    p.add_argument("--model-kwargs", default="{}", help="JSON, e.g. '{\"width\": 0.5}'")
    p.add_argument("--name", default=None, help="model name in the sidecar (default: arch)")
    p.add_argument("--size", type=int, default=None, help="input side (default: training size)")
    p.add_argument("--output", default=None, help="ONNX path (default build/deploy/<name>.onnx)")
    p.add_argument("--opset", type=int, default=OPSET)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if args.checkpoint is None and not args.random_init:
        print("export_onnx: give --checkpoint PATH, or --random-init for an untrained model",
              file=sys.stderr)
        return 2
    model, spec = load_model(
        args.checkpoint,
        model=args.model,
        model_kwargs=json.loads(args.model_kwargs),
        size=args.size,
        name=args.name,
    )
    out = Path(args.output or f"build/deploy/{spec.name}.onnx")
    export_model(model, spec, out, opset=args.opset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
