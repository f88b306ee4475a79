"""ONNX Runtime backend: run any ONNX model with input ``(1, C, T, H, W)`` -> output ``(1, T)``.

The model's sidecar (``<model>.json`` beside ``<model>.onnx``; read and validated by
:func:`rppg_sdk.backends.sidecar.read_sidecar`, which also checks the ONNX file's SHA-256) says
how to feed it: channels and their order, crop size, frame rate, normalisation, the chunk length
it was trained on. Without a sidecar, the model's own input shape gives the channels and crop
size (they must be fixed numbers) and the rest takes the defaults of
:class:`~rppg_sdk.backends.base.ModelInputSpec` (30 fps, ``"temporal"`` normalisation, BGR, any
``T``), which the caller may override.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk.backends.base import ModelInputSpec, check_chunk, check_output
from rppg_sdk.backends.sidecar import ModelSidecar, read_sidecar, sidecar_path

__all__ = ["OnnxRuntimeBackend", "default_threads"]

Float32Array = npt.NDArray[np.float32]


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
        ``(N, T)``, or a sidecar that is invalid or disagrees with the model.

    Attributes
    ----------
    path
        The model file.
    spec
        What a chunk must look like (:class:`ModelInputSpec`).
    sidecar
        The validated sidecar (:class:`~rppg_sdk.backends.sidecar.ModelSidecar`), ``None``
        without one.
    providers
        The ONNX Runtime execution providers in use.
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
        self.path = path
        self.sidecar: ModelSidecar | None = (
            read_sidecar(path) if sidecar_path(path).is_file() else None
        )
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
        if self.sidecar is not None and self.sidecar.input_name != inp.name:
            raise ValueError(
                f"{sidecar_path(path)}: input.name: expected the model's input "
                f"{inp.name!r}, got {self.sidecar.input_name!r}"
            )
        self.spec = self._make_spec(path, inp.shape, self.sidecar, spec_overrides or {})
        self.providers: list[str] = list(self._session.get_providers())
        self._closed = False

    @staticmethod
    def _make_spec(
        path: Path, shape: list[Any], side: ModelSidecar | None, overrides: dict[str, Any]
    ) -> ModelInputSpec:
        def fixed(i: int) -> int | None:
            return shape[i] if isinstance(shape[i], int) and shape[i] > 0 else None

        c, t, h, w = fixed(1), fixed(2), fixed(3), fixed(4)
        if side is not None:
            spec = side.input
            for what, got, want in (
                ("channels", c, spec.channels),
                ("height", h, spec.height),
                ("width", w, spec.width),
            ):
                if got is not None and got != want:
                    raise ValueError(
                        f"{path}: the model's input has {what} {got}, its sidecar "
                        f"{sidecar_path(path)} says input.{what} {want}"
                    )
        else:
            if c is None or h is None or w is None:
                raise ValueError(
                    f"{path}: without a sidecar JSON the model's input must fix C, H and W, "
                    f"got {shape}"
                )
            spec = ModelInputSpec(
                name=path.stem, channels=c, height=h, width=w,
                channel_order="BGR" if c == 3 else "NIR",
            )  # fmt: skip
        try:
            if t is not None:
                spec = replace(spec, min_frames=t, max_frames=t, recommended_frames=t)
            if overrides:
                spec = replace(spec, **overrides)
        except TypeError as exc:
            raise ValueError(f"spec_overrides: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        return spec

    def infer(self, chunk: Float32Array) -> Float32Array:
        """Pulse ``(1, T)`` float32 of a normalised chunk ``(1, C, T, H, W)`` float32.

        Raises
        ------
        TypeError, ValueError
            Not a chunk this model accepts (:func:`~rppg_sdk.backends.base.check_chunk`).
        RuntimeError
            After :meth:`close`, or the model output NaN / inf or the wrong number of samples
            (:func:`~rppg_sdk.backends.base.check_output`).
        """
        if self._closed:
            raise RuntimeError("OnnxRuntimeBackend: infer() after close()")
        x = check_chunk(chunk, self.spec)
        (y,) = self._session.run([self._output_name], {self._input_name: x})
        return check_output(y, x.shape[2], self.spec, self.path)

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
