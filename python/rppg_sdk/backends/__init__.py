"""Model runtimes behind one interface (:class:`Backend`): ONNX Runtime here, TensorRT on NVIDIA.

:func:`load_backend` picks one for a model: ``"onnxruntime"`` for an ``.onnx`` file (or a bundled
model name such as ``"physnet"``), ``"tensorrt"`` for a serialized ``.engine`` (see
:mod:`rppg_sdk.backends.tensorrt`; it needs TensorRT 10 and a GPU), ``"auto"`` by file suffix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rppg_sdk.backends.base import Backend, InputSpec, ModelInputSpec
from rppg_sdk.backends.onnxruntime import OnnxRuntimeBackend, default_threads

__all__ = [
    "Backend",
    "BackendName",
    "InputSpec",
    "ModelInputSpec",
    "OnnxRuntimeBackend",
    "load_backend",
    "resolve_model_path",
]

BackendName = Literal["auto", "onnxruntime", "tensorrt"]


def resolve_model_path(model: str | Path) -> Path:
    """A model file path, or the bundled model of that name (``"physnet"``, ``"autohr"``)."""
    if not isinstance(model, str | Path):
        raise TypeError(
            f"model: expected a path or a bundled model name, got {type(model).__name__}"
        )
    p = Path(model)
    if p.suffix in (".onnx", ".engine", ".plan") or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"model: expected a model file, {p} is absent")
        return p
    from rppg_sdk.models import bundled_model_path  # noqa: PLC0415

    return bundled_model_path(str(model))


def load_backend(
    model: str | Path, backend: BackendName = "auto", *, live: bool = False
) -> Backend:
    """Open ``model`` with the named runtime.

    Parameters
    ----------
    model
        ``.onnx`` / ``.engine`` path, or a bundled model name.
    backend
        ``"auto"`` (by suffix: ``.engine``/``.plan`` -> TensorRT, else ONNX Runtime),
        ``"onnxruntime"`` or ``"tensorrt"``.
    live
        Live use: ONNX Runtime leaves one core to the caller's thread.
    """
    path = resolve_model_path(model)
    if backend not in ("auto", "onnxruntime", "tensorrt"):
        raise ValueError(f"backend: expected 'auto', 'onnxruntime' or 'tensorrt', got {backend!r}")
    if backend == "tensorrt" or (backend == "auto" and path.suffix in (".engine", ".plan")):
        from rppg_sdk.backends.tensorrt import TensorRTBackend  # noqa: PLC0415

        return TensorRTBackend(path)
    return OnnxRuntimeBackend(path, threads=default_threads(live))
