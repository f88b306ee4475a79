"""Trained models shipped inside the package: ``<name>.onnx`` with its ``<name>.json`` sidecar.

The files are written by ``deploy/export_onnx.py`` from the training checkpoints; the sidecar
says how to feed the model (input layout ``N, C, T, H, W``, channel order, face-crop size, frame
rate, normalisation) and carries the ONNX file's SHA-256, checked when a model is loaded; its
schema, reader and writer are :mod:`rppg_sdk.backends.sidecar`.

>>> from rppg_sdk.models import available_models, bundled_model_path
>>> "physnet" in available_models()
True
>>> bundled_model_path("physnet").name
'physnet.onnx'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["MODELS_DIR", "available_models", "bundled_model_path", "bundled_sidecar"]

#: Folder of the bundled ``.onnx`` / ``.json`` files (inside the installed package).
MODELS_DIR = Path(__file__).resolve().parent


def available_models() -> list[str]:
    """Names of the bundled models (those with both an ``.onnx`` file and a sidecar)."""
    return sorted(
        p.stem for p in MODELS_DIR.glob("*.onnx") if p.with_suffix(".json").is_file()
    )


def bundled_model_path(name: str) -> Path:
    """Path of the bundled ONNX model ``name`` (``"physnet"``, ``"autohr"``).

    Raises
    ------
    TypeError
        ``name`` is not a string.
    ValueError
        No such bundled model (the message lists the available ones).
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a model name (str), got {type(name).__name__}")
    key = name.strip().lower()
    path = MODELS_DIR / f"{key}.onnx"
    if not path.is_file() or not path.with_suffix(".json").is_file():
        raise ValueError(
            f"name: expected one of the bundled models {available_models()}, got {name!r}"
        )
    return path


def bundled_sidecar(name: str) -> dict[str, Any]:
    """The JSON sidecar of the bundled model ``name``, validated, as a JSON object.

    Read by :func:`rppg_sdk.backends.sidecar.read_sidecar` (every field and the ONNX file's
    SHA-256 checked); ``read_sidecar(bundled_model_path(name))`` gives the typed
    :class:`~rppg_sdk.backends.sidecar.ModelSidecar`.
    """
    from rppg_sdk.backends.sidecar import read_sidecar  # noqa: PLC0415

    return read_sidecar(bundled_model_path(name)).to_json()
