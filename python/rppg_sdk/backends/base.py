"""The interface every model backend implements, and the input description it carries.

A backend turns one normalised chunk of face crops, ``(1, C, T, H, W)`` float32, into one pulse
waveform ``(1, T)``. It knows nothing of faces, timestamps or heart rates: the monitor feeds it
chunks and stitches the outputs (:mod:`rppg_sdk.extractors.model`).

Two implementations: :class:`rppg_sdk.backends.onnxruntime.OnnxRuntimeBackend` (any ONNX model,
CPU or GPU through ONNX Runtime) and :class:`rppg_sdk.backends.tensorrt.TensorRTBackend` (a
serialized TensorRT 10 engine on NVIDIA GPUs). Both expose a ``spec``: a :class:`ModelInputSpec`,
the one description of a model input (the sidecar holds one, :mod:`rppg_sdk.backends.sidecar`;
``deploy/export_onnx.py`` writes one), from the model's sidecar JSON or, without one, from the
model's own input shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "NORMALIZATIONS",
    "Backend",
    "InputSpec",
    "ModelInputSpec",
    "Normalization",
    "check_chunk",
    "check_output",
]

Float32Array = npt.NDArray[np.float32]

#: How a chunk is normalised before the model sees it (must match training; see
#: :func:`rppg_sdk.extractors.model.normalize_chunk`).
Normalization = str  # one of NORMALIZATIONS

#: The input normalisations a model can be trained with (its sidecar names one).
NORMALIZATIONS = ("temporal", "standard", "none")


@dataclass(frozen=True)
class ModelInputSpec:
    """What a model expects as input: the one description of a model input.

    The sidecar (:class:`rppg_sdk.backends.sidecar.ModelSidecar`) holds one, the backends narrow
    its frame range to what the loaded model or engine accepts, and the exporter
    (``deploy/export_onnx.py``) builds one from the training configuration.

    Attributes
    ----------
    name
        Model name (from the sidecar; else the file stem).
    channels
        ``C``: 3 (colour, in ``channel_order``) or 1 (near-infrared / gray).
    height, width
        Face-crop size in pixels (64 for the shipped models).
    fps_hz
        Frame rate the model was trained at; chunks are resampled to it.
    normalization
        ``"temporal"``, ``"standard"`` or ``"none"`` (see
        :func:`rppg_sdk.extractors.model.normalize_chunk`).
    channel_order
        ``"BGR"``, ``"RGB"`` or ``"NIR"``.
    min_frames, max_frames
        Chunk lengths ``T`` the model accepts.
    frames_multiple_of
        ``T`` must be a multiple of this (pooling in time). 1 (any ``T``) is the default for a
        model with no sidecar; a sidecar always states it.
    recommended_frames
        The ``T`` the model was trained on (an engine: its profile's optimum); ``None`` when
        unknown. Inside ``[min_frames, max_frames]`` and a multiple of ``frames_multiple_of``.
    """

    name: str
    channels: int
    height: int
    width: int
    fps_hz: float = 30.0
    normalization: str = "temporal"
    channel_order: str = "BGR"
    min_frames: int = 1
    max_frames: int = 100_000
    frames_multiple_of: int = 1
    recommended_frames: int | None = None

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"channels: expected 1 or 3, got {self.channels}")
        if self.height < 1 or self.width < 1:
            raise ValueError(f"height, width: expected positive, got {self.height}x{self.width}")
        if not self.fps_hz > 0:
            raise ValueError(f"fps_hz: expected a positive frame rate, got {self.fps_hz}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization: expected one of {NORMALIZATIONS}, got {self.normalization!r}"
            )
        if self.channel_order not in ("BGR", "RGB", "NIR"):
            raise ValueError(
                f"channel_order: expected 'BGR', 'RGB' or 'NIR', got {self.channel_order!r}"
            )
        if not 1 <= self.min_frames <= self.max_frames:
            raise ValueError(
                f"min_frames, max_frames: expected 1 <= min <= max, got {self.min_frames}, "
                f"{self.max_frames}"
            )
        if self.frames_multiple_of < 1:
            raise ValueError(f"frames_multiple_of: expected >= 1, got {self.frames_multiple_of}")
        rec = self.recommended_frames
        if rec is not None and (
            not self.min_frames <= rec <= self.max_frames or rec % self.frames_multiple_of
        ):
            raise ValueError(
                f"recommended_frames: expected a multiple of {self.frames_multiple_of} in "
                f"[{self.min_frames}, {self.max_frames}], got {rec}"
            )

    @property
    def size(self) -> int:
        """Face-crop side in pixels (``height``; the shipped models are square)."""
        return self.height


#: Former name of :class:`ModelInputSpec` (it was a protocol over the same fields).
InputSpec = ModelInputSpec


@runtime_checkable
class Backend(Protocol):
    """A model runtime: normalised chunk ``(1, C, T, H, W)`` float32 -> pulse ``(1, T)``.

    Implementations must be usable from one worker thread other than the one that made them
    (the monitor runs inference off the caller's thread) and must raise ``ValueError`` for a
    chunk of the wrong shape.
    """

    @property
    def spec(self) -> ModelInputSpec: ...

    def infer(self, chunk: Float32Array) -> Float32Array:
        """Pulse ``(1, T)`` float32 of one normalised chunk ``(1, C, T, H, W)`` float32."""
        ...

    def close(self) -> None:
        """Free the runtime's resources (idempotent)."""
        ...


def check_chunk(chunk: object, spec: ModelInputSpec) -> Float32Array:
    """``chunk`` as a contiguous float32 ``(1, C, T, H, W)`` array that ``spec`` accepts.

    Every backend checks its input the same way before handing it to its runtime, so a wrong
    chunk fails with the same message whatever runs the model.

    Raises
    ------
    TypeError
        Not a numpy array.
    ValueError
        Wrong shape, or a frame count outside the model's range or not a multiple it needs.
    """
    if not isinstance(chunk, np.ndarray):
        raise TypeError(f"chunk: expected a numpy array, got {type(chunk).__name__}")
    s = spec
    if (
        chunk.ndim != 5
        or chunk.shape[0] != 1
        or chunk.shape[1] != s.channels
        or chunk.shape[3:] != (s.height, s.width)
    ):
        raise ValueError(
            f"chunk: expected shape (1, {s.channels}, T, {s.height}, {s.width}), got {chunk.shape}"
        )
    t = int(chunk.shape[2])
    if not s.min_frames <= t <= s.max_frames or t % s.frames_multiple_of:
        raise ValueError(
            f"chunk: expected T in [{s.min_frames}, {s.max_frames}] and a multiple of "
            f"{s.frames_multiple_of}, got T={t}"
        )
    return np.ascontiguousarray(chunk, dtype=np.float32)


def check_output(
    output: object, frames: int, spec: ModelInputSpec, model_path: Path
) -> Float32Array:
    """A model's output as float32 ``(1, frames)``, checked once per inference.

    A model that outputs NaN or inf (a broken export, an FP16 overflow, weights gone bad in
    training) is stopped here, naming the model, rather than surfacing later as a failed
    spectral estimate with no word of where the values came from.

    Raises
    ------
    RuntimeError
        The output is not ``frames`` samples, or holds non-finite values.
    """
    raw = np.asarray(output, dtype=np.float32)
    y = raw.reshape(1, -1)
    if y.shape[1] != frames:
        raise RuntimeError(
            f"model {spec.name!r} ({model_path}): expected an output of shape (1, {frames}), "
            f"got {raw.shape}"
        )
    finite = np.isfinite(y)
    if not finite.all():
        n_nan = int(np.isnan(y).sum())
        n_inf = int(y.size - finite.sum()) - n_nan
        raise RuntimeError(
            f"model {spec.name!r} ({model_path}) output {n_nan} NaN and {n_inf} inf value(s) "
            f"of {y.size} for a chunk of {frames} frames: the model file is broken (re-export "
            "it, or for an engine rebuild it at a higher precision)"
        )
    return y
