"""ONNX Runtime backend: run any ONNX model with input ``(1, C, T, H, W)`` -> output ``(1, T)``.

The model's sidecar JSON (``<model>.json`` beside ``<model>.onnx``, written by
``deploy/export_onnx.py``) says how to feed it: channels and their order, crop size, frame rate,
normalisation, the chunk length it was trained on, and the ONNX file's SHA-256 (checked here, so a
sidecar never describes another file). Without a sidecar, the model's own input shape gives the
channels and crop size (they must be fixed numbers) and the rest takes the defaults of
:class:`~rppg_sdk.backends.base.ModelInputSpec` (30 fps, ``"temporal"`` normalisation, BGR),
which the caller may override.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk.backends.base import ModelInputSpec, check_chunk

__all__ = ["OnnxRuntimeBackend", "read_sidecar", "sidecar_path"]

Float32Array = npt.NDArray[np.float32]


def sidecar_path(model_path: str | Path) -> Path:
    """``x/name.onnx`` -> ``x/name.json``."""
    return Path(model_path).with_suffix(".json")


def read_sidecar(model_path: str | Path) -> dict[str, Any] | None:
    """The parsed sidecar beside ``model_path``, ``None`` when there is none.

    Raises
    ------
    ValueError
        The sidecar is not valid JSON, or its SHA-256 does not match the model file.
    """
    path = sidecar_path(model_path)
    if not path.is_file():
        return None
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path}: expected a JSON model sidecar, got unparsable text ({exc})"
        ) from exc
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    want = (meta.get("onnx") or {}).get("sha256")
    if want:
        h = hashlib.sha256()
        with open(model_path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != want:
            raise ValueError(
                f"{path}: the sidecar's sha256 {want[:12]}... does not match {model_path} "
                f"({h.hexdigest()[:12]}...): the model and its description are out of step"
            )
    return meta


class OnnxRuntimeBackend:
    """Run an ONNX pulse model with ONNX Runtime.

    Parameters
    ----------
    model_path
        An ``.onnx`` file with one input ``(N, C, T, H, W)`` float32 and one output ``(N, T)``.
    spec_overrides
        Fields of :class:`ModelInputSpec` to set regardless of the sidecar (e.g.
        ``{"normalization": "none"}``).
    threads
        Intra-op threads (``None``: all cores). Live use leaves one core to the camera thread.
    providers
        ONNX Runtime execution providers (``None``: CUDA when available, then CPU).

    Raises
    ------
    FileNotFoundError
        No such model file.
    ValueError
        Not a loadable ONNX model, or one whose input/output is not ``(N, C, T, H, W)`` ->
        ``(N, T)``, or a sidecar that disagrees with the model.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        spec_overrides: dict[str, Any] | None = None,
        threads: int | None = None,
        providers: list[str] | None = None,
    ) -> None:
        import onnxruntime as ort  # noqa: PLC0415  (heavy; only when a model is used)

        self._closed = True
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"model_path: expected an ONNX model file, {path} is absent")
        meta = read_sidecar(path)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads: expected >= 1 or None, got {threads}")
            so.intra_op_num_threads = int(threads)
            so.inter_op_num_threads = 1
        available = ort.get_available_providers()
        if providers is None:
            providers = [
                p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available
            ]
        try:
            self._session = ort.InferenceSession(str(path), sess_options=so, providers=providers)
        except Exception as exc:  # noqa: BLE001  (ORT raises its own exception types)
            raise ValueError(f"{path}: ONNX Runtime could not load the model ({exc})") from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"{path}: expected one input and one output, got {len(inputs)} and {len(outputs)}"
            )
        inp, out = inputs[0], outputs[0]
        if len(inp.shape) != 5 or inp.type != "tensor(float)":
            raise ValueError(
                f"{path}: expected a float32 input (N, C, T, H, W), got {inp.type} {inp.shape}"
            )
        if len(out.shape) != 2:
            raise ValueError(f"{path}: expected an output (N, T), got {out.shape}")
        self._input_name, self._output_name = inp.name, out.name
        self.spec = self._make_spec(path, inp.shape, meta, spec_overrides or {})
        self.providers: list[str] = list(self._session.get_providers())
        self.metadata: dict[str, Any] = meta or {}
        self._closed = False

    @staticmethod
    def _make_spec(
        path: Path, shape: list[Any], meta: dict[str, Any] | None, overrides: dict[str, Any]
    ) -> ModelInputSpec:
        def fixed(i: int) -> int | None:
            return shape[i] if isinstance(shape[i], int) and shape[i] > 0 else None

        c, t, h, w = fixed(1), fixed(2), fixed(3), fixed(4)
        fields: dict[str, Any] = {"name": path.stem}
        if meta is not None:
            mi = meta.get("input") or {}
            try:
                fields.update(
                    name=str(meta.get("name", path.stem)),
                    channels=int(mi["channels"]),
                    height=int(mi["height"]),
                    width=int(mi["width"]),
                    fps_hz=float(meta.get("fps_hz", 30.0)),
                    normalization=str(meta.get("normalization", "temporal")),
                    frames_multiple_of=int(mi.get("frames_multiple_of", 1)),
                    recommended_frames=(
                        int(mi["recommended_frames"]) if mi.get("recommended_frames") else None
                    ),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{sidecar_path(path)}: missing or bad input field {exc}") from exc
            fields["channel_order"] = str(
                mi.get("channel_order", "BGR" if fields["channels"] == 3 else "NIR")
            )
            if mi.get("layout", "NCTHW") != "NCTHW":
                raise ValueError(
                    f"{sidecar_path(path)}: expected input layout NCTHW, got {mi.get('layout')!r}"
                )
            for what, got, want in (
                ("channels", c, fields["channels"]),
                ("height", h, fields["height"]),
                ("width", w, fields["width"]),
            ):
                if got is not None and got != want:
                    raise ValueError(
                        f"{path}: the model's input has {what} {got}, its sidecar says {want}"
                    )
        else:
            if c is None or h is None or w is None:
                raise ValueError(
                    f"{path}: without a sidecar JSON the model's input must fix C, H and W, "
                    f"got {shape}"
                )
            fields.update(channels=c, height=h, width=w, channel_order="BGR" if c == 3 else "NIR")
        if t is not None:
            fields.update(min_frames=t, max_frames=t, recommended_frames=t)
        else:
            fields.setdefault("min_frames", max(1, int(fields.get("frames_multiple_of", 1))))
        spec = ModelInputSpec(**fields)
        if overrides:
            try:
                spec = replace(spec, **overrides)
            except TypeError as exc:
                raise ValueError(f"spec_overrides: {exc}") from exc
        return spec

    def infer(self, chunk: Float32Array) -> Float32Array:
        """Pulse ``(1, T)`` float32 of a normalised chunk ``(1, C, T, H, W)`` float32."""
        if self._closed:
            raise RuntimeError("OnnxRuntimeBackend: infer() after close()")
        s = self.spec
        x = check_chunk(chunk, s)
        t = x.shape[2]
        (y,) = self._session.run([self._output_name], {self._input_name: x})
        y = np.asarray(y, dtype=np.float32).reshape(1, -1)
        if y.shape[1] != t:
            raise ValueError(f"model output: expected (1, {t}), got {y.shape}")
        return y

    def close(self) -> None:
        """Drop the session (idempotent)."""
        if not self._closed:
            self._closed = True
            del self._session

    def __enter__(self) -> OnnxRuntimeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_threads(live: bool) -> int:
    """Inference threads: all cores for files; one core left to the camera thread when live."""
    n = os.cpu_count() or 1
    return max(1, n - 1) if live else n
