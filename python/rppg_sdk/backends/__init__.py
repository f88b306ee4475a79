"""Model runtimes behind one interface (:class:`Backend`): ONNX Runtime here, TensorRT on NVIDIA.

:func:`load_backend` picks one for a model: ``"onnxruntime"`` for an ``.onnx`` file (or a bundled
model name such as ``"physnet"``), ``"tensorrt"`` for a serialized ``.engine`` (see
:mod:`rppg_sdk.backends.tensorrt`; it needs TensorRT 10 and a GPU), ``"auto"`` by file suffix.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from rppg_sdk.backends.base import Backend, InputSpec, ModelInputSpec
from rppg_sdk.backends.onnxruntime import OnnxRuntimeBackend, default_threads
from rppg_sdk.backends.sidecar import ModelSidecar, onnx_for_engine, read_sidecar, write_sidecar

__all__ = [
    "Backend",
    "BackendName",
    "InputSpec",
    "ModelInputSpec",
    "ModelSidecar",
    "OnnxRuntimeBackend",
    "load_backend",
    "read_sidecar",
    "resolve_model_path",
    "write_sidecar",
]

BackendName = Literal["auto", "onnxruntime", "tensorrt"]

_log = logging.getLogger(__name__)


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
    model: str | Path,
    backend: BackendName = "auto",
    *,
    live: bool = False,
    threads: int | None = None,
) -> Backend:
    """Open ``model`` with the named runtime.

    Parameters
    ----------
    model
        ``.onnx`` / ``.engine`` path, or a bundled model name.
    backend
        ``"auto"``: a TensorRT engine (``.engine``/``.plan``) runs on TensorRT when TensorRT 10
        and an NVIDIA GPU are present, else its ONNX model (beside it, or the bundled model of
        the same name, with the hash its sidecar records) runs on ONNX Runtime; an ``.onnx``
        model runs on ONNX Runtime.
        ``"onnxruntime"`` or ``"tensorrt"`` force one (``"tensorrt"`` needs an engine).
    live
        Live use: ONNX Runtime leaves one core to the caller's thread.
    threads
        ONNX Runtime intra-op threads; ``None``: chosen from ``live`` (all cores for files, one
        left to the caller when live). TensorRT ignores it (the GPU does the work).

    Raises
    ------
    ValueError
        ``threads`` below 1, an unknown ``backend``, or a model the backend cannot run.
    """
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ValueError(f"threads: expected an int >= 1 or None, got {threads!r}")
    path = resolve_model_path(model)
    if backend not in ("auto", "onnxruntime", "tensorrt"):
        raise ValueError(f"backend: expected 'auto', 'onnxruntime' or 'tensorrt', got {backend!r}")
    is_engine = path.suffix in (".engine", ".plan")
    if backend == "tensorrt" and not is_engine:
        raise ValueError(
            f"model: backend='tensorrt' needs a serialized TensorRT engine (.engine), got {path}; "
            "build one with deploy/build_engine.py"
        )
    if is_engine and backend in ("auto", "tensorrt"):
        from rppg_sdk.backends.tensorrt import (  # noqa: PLC0415
            TensorRTBackend,
            tensorrt_available,
        )

        if backend == "tensorrt" or tensorrt_available():
            return TensorRTBackend(path)
        fallback = onnx_for_engine(path)
        _log.warning(
            "no TensorRT 10 / NVIDIA GPU here: running %s on ONNX Runtime instead of the engine %s",
            fallback,
            path,
        )
        path = fallback
    elif is_engine:
        raise ValueError(f"model: ONNX Runtime cannot run a TensorRT engine ({path})")
    if threads is None:
        threads = default_threads(live)
    return OnnxRuntimeBackend(path, threads=threads)
