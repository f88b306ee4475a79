"""TensorRT runtime backend: a serialized engine, the TensorRT 10 name-based tensor API.

``tensorrt`` and the CUDA bindings are imported only when a :class:`TensorRTBackend` is made, so
the SDK imports (and runs on ONNX Runtime) without them. Device memory and streams come from
``cuda-python`` (``cuda.bindings.runtime``, or ``cuda.cudart`` in releases before 12.6), or from
PyTorch's CUDA allocator when only torch is installed (as on JetPack images that ship it).

An engine is built for one GPU model and one TensorRT version (``deploy/build_engine.py`` writes
it with its sidecar beside it, ``<name>.engine.json``: the ONNX sidecar plus an ``engine``
section, read by :func:`rppg_sdk.backends.sidecar.read_sidecar` exactly as for ONNX Runtime).
A missing, corrupt or mismatched engine or sidecar is a ``ValueError`` / ``FileNotFoundError`` /
``RuntimeError`` at construction, never at the first frame.
"""

from __future__ import annotations

import ctypes
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from rppg_sdk.backends.base import ModelInputSpec, check_chunk, check_output
from rppg_sdk.backends.sidecar import ModelSidecar, read_sidecar, sidecar_path

if TYPE_CHECKING:
    import tensorrt as trt

__all__ = [
    "CudaRuntime",
    "TensorRTBackend",
    "TensorRTUnavailableError",
    "cuda_device_count",
    "cuda_runtime",
    "import_tensorrt",
    "tensorrt_available",
]

FloatArray = npt.NDArray[np.float32]


class TensorRTUnavailableError(RuntimeError):
    """TensorRT, the CUDA bindings or an NVIDIA GPU is missing on this machine."""


# ----------------------------------------------------------------------------- availability


def import_tensorrt() -> Any:
    """The ``tensorrt`` module, or :class:`TensorRTUnavailableError` saying why not.

    ``tensorrt-stubs`` installs a ``tensorrt`` folder holding only type stubs, which imports as an
    empty namespace package: the real library is recognised by its ``Builder`` class.
    """
    try:
        import tensorrt as trt_mod
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise TensorRTUnavailableError(
            f"the TensorRT Python package is not installed ({exc}); install TensorRT 10 "
            "(JetPack 6 on Jetson; `pip install tensorrt-cu12` from NVIDIA's index elsewhere)"
        ) from exc
    except OSError as exc:  # pragma: no cover - a wheel without its shared libraries
        raise TensorRTUnavailableError(f"the TensorRT libraries failed to load: {exc}") from exc
    if not hasattr(trt_mod, "Builder") or not hasattr(trt_mod, "Runtime"):
        raise TensorRTUnavailableError(
            "the TensorRT Python package is not installed (only its type stubs are); install "
            "TensorRT 10 (JetPack 6 on Jetson; `pip install tensorrt-cu12` from NVIDIA's index)"
        )
    version = str(getattr(trt_mod, "__version__", "0"))
    if int(version.split(".")[0] or 0) < 10:
        raise TensorRTUnavailableError(
            f"TensorRT {version} is too old: this SDK uses the TensorRT 10 name-based tensor API"
        )
    return trt_mod


def cuda_device_count() -> int:
    """Number of CUDA devices the driver reports (0 without a driver or GPU); never raises.

    Asks the driver library directly (``cuInit`` + ``cuDeviceGetCount``) so that no CUDA Python
    package is needed just to decide between backends.
    """
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll", "libcuda.dylib"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            if lib.cuInit(0) != 0:
                return 0
            count = ctypes.c_int(0)
            if lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
                return 0
            return int(count.value)
        except (AttributeError, OSError):
            return 0
    return 0


def tensorrt_available() -> bool:
    """True when TensorRT 10 imports and a CUDA GPU is present (``backend="auto"`` uses it)."""
    if cuda_device_count() < 1:
        return False
    try:
        import_tensorrt()
    except TensorRTUnavailableError:
        return False
    return True


# ----------------------------------------------------------------------------- CUDA memory


class CudaRuntime(Protocol):
    """The few CUDA runtime calls a TensorRT engine needs (device pointers are ints)."""

    name: str

    def malloc(self, nbytes: int) -> int: ...

    def free(self, ptr: int) -> None: ...

    def stream_create(self) -> int: ...

    def stream_destroy(self, stream: int) -> None: ...

    def stream_synchronize(self, stream: int) -> None: ...

    def copy_to_device(self, ptr: int, host: npt.NDArray[Any], stream: int) -> None: ...

    def copy_to_host(self, host: npt.NDArray[Any], ptr: int, stream: int) -> None: ...


class _CudaPython:
    """``cuda-python`` runtime bindings (every call returns ``(error, *results)``)."""

    name = "cuda-python"

    def __init__(self, cudart: Any) -> None:
        self._rt = cudart

    def _check(self, result: Any, what: str) -> Any:
        err = result[0] if isinstance(result, tuple) else result
        if int(err) != int(self._rt.cudaError_t.cudaSuccess):
            raise RuntimeError(f"CUDA {what} failed: {err}")
        if isinstance(result, tuple) and len(result) > 1:
            return result[1]
        return None

    def malloc(self, nbytes: int) -> int:
        return int(self._check(self._rt.cudaMalloc(int(nbytes)), "cudaMalloc"))

    def free(self, ptr: int) -> None:
        self._check(self._rt.cudaFree(ptr), "cudaFree")

    def stream_create(self) -> int:
        return int(self._check(self._rt.cudaStreamCreate(), "cudaStreamCreate"))

    def stream_destroy(self, stream: int) -> None:
        self._check(self._rt.cudaStreamDestroy(stream), "cudaStreamDestroy")

    def stream_synchronize(self, stream: int) -> None:
        self._check(self._rt.cudaStreamSynchronize(stream), "cudaStreamSynchronize")

    def copy_to_device(self, ptr: int, host: npt.NDArray[Any], stream: int) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._check(
            self._rt.cudaMemcpyAsync(ptr, host.ctypes.data, host.nbytes, kind, stream),
            "cudaMemcpyAsync (host to device)",
        )

    def copy_to_host(self, host: npt.NDArray[Any], ptr: int, stream: int) -> None:
        kind = self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._check(
            self._rt.cudaMemcpyAsync(host.ctypes.data, ptr, host.nbytes, kind, stream),
            "cudaMemcpyAsync (device to host)",
        )


class _TorchCuda:
    """PyTorch's CUDA caching allocator and streams (used only when cuda-python is absent)."""

    name = "torch"

    def __init__(self, torch: Any) -> None:
        self._torch = torch
        self._blocks: dict[int, Any] = {}
        self._streams: dict[int, Any] = {}

    def malloc(self, nbytes: int) -> int:
        t = self._torch.empty(int(nbytes), dtype=self._torch.uint8, device="cuda")
        self._blocks[int(t.data_ptr())] = t
        return int(t.data_ptr())

    def free(self, ptr: int) -> None:
        self._blocks.pop(int(ptr), None)

    def stream_create(self) -> int:
        s = self._torch.cuda.Stream()
        self._streams[int(s.cuda_stream)] = s
        return int(s.cuda_stream)

    def stream_destroy(self, stream: int) -> None:
        self._streams.pop(int(stream), None)

    def stream_synchronize(self, stream: int) -> None:
        self._streams[int(stream)].synchronize()

    def _view(self, ptr: int, host: npt.NDArray[Any]) -> Any:
        # The block holding ptr (buffers are used from their start), as bytes of host's size.
        return self._blocks[int(ptr)][: host.nbytes]

    def copy_to_device(self, ptr: int, host: npt.NDArray[Any], stream: int) -> None:
        src = self._torch.from_numpy(np.ascontiguousarray(host).view(np.uint8).reshape(-1))
        with self._torch.cuda.stream(self._streams[int(stream)]):
            self._view(ptr, host).copy_(src, non_blocking=False)

    def copy_to_host(self, host: npt.NDArray[Any], ptr: int, stream: int) -> None:
        with self._torch.cuda.stream(self._streams[int(stream)]):
            data = self._view(ptr, host).cpu().numpy()
        host.reshape(-1).view(np.uint8)[:] = data


def cuda_runtime() -> CudaRuntime:
    """The CUDA runtime bindings available: cuda-python, else PyTorch; else an error."""
    import importlib

    for module in ("cuda.bindings.runtime", "cuda.cudart"):
        try:
            return _CudaPython(importlib.import_module(module))
        except ImportError:
            continue
    try:
        # Optional fallback only: the SDK itself never needs torch (ONNX Runtime is its default).
        torch = importlib.import_module("torch")
    except ImportError:
        torch = None
    if torch is not None and torch.cuda.is_available():
        return _TorchCuda(torch)
    raise TensorRTUnavailableError(
        "no CUDA Python bindings: install cuda-python (`pip install cuda-python`) to run "
        "TensorRT engines"
    )


# ----------------------------------------------------------------------------- the backend


def _dims(d: Any) -> tuple[int, ...]:
    """A TensorRT ``Dims`` as a tuple of ints (-1 for a dynamic dimension)."""
    return tuple(int(d[i]) for i in range(len(d)))


class TensorRTBackend:
    """Run a TensorRT engine on chunks of face video.

    Parameters
    ----------
    engine_path
        A serialized engine from ``deploy/build_engine.py``; its sidecar (``<engine>.json``)
        must lie beside it.
    expected_channels, expected_fps_hz, expected_size
        Optional checks against what the caller will feed (mismatch: ``ValueError``).
    device
        CUDA device index (engines run on the current device; only 0 is supported here).

    Raises
    ------
    FileNotFoundError
        The engine or its sidecar is missing.
    TensorRTUnavailableError
        TensorRT 10, a CUDA GPU or the CUDA bindings are missing.
    ValueError
        The sidecar is invalid or its ``engine.sha256`` is not the engine's, the engine is
        corrupt or built for another TensorRT/GPU, or it does not match its sidecar or the
        expectations.

    Attributes
    ----------
    path
        The engine file.
    spec
        What a chunk must look like (:class:`ModelInputSpec`; the frame range is the engine's
        optimization profile, ``recommended_frames`` its optimum).
    sidecar
        The validated sidecar (:class:`~rppg_sdk.backends.sidecar.ModelSidecar`).
    precision
        ``"fp32"``, ``"fp16"`` or ``"int8"`` (from the sidecar).
    """

    def __init__(
        self,
        engine_path: str | Path,
        *,
        expected_channels: int | None = None,
        expected_fps_hz: float | None = None,
        expected_size: int | None = None,
        device: int = 0,
    ) -> None:
        self._closed = True
        path = Path(engine_path)
        if not path.is_file():
            raise FileNotFoundError(
                f"engine_path: expected a TensorRT engine file, {path} is absent"
            )
        if not sidecar_path(path).is_file():
            raise FileNotFoundError(
                f"engine sidecar: expected {sidecar_path(path)} beside the engine "
                "(written by deploy/build_engine.py)"
            )
        self.path = path
        self.sidecar: ModelSidecar = read_sidecar(path)
        self.precision = self.sidecar.precision
        if device != 0:
            raise ValueError(f"device: only CUDA device 0 is supported, got {device}")
        if cuda_device_count() < 1:
            raise TensorRTUnavailableError("no NVIDIA GPU (CUDA driver reports no device)")
        trt_mod = import_tensorrt()
        self._cuda = cuda_runtime()

        self._logger = trt_mod.Logger(trt_mod.Logger.WARNING)
        self._runtime = trt_mod.Runtime(self._logger)
        engine = self._runtime.deserialize_cuda_engine(path.read_bytes())
        if engine is None:
            raise ValueError(
                f"{path}: TensorRT could not deserialize the engine (corrupt, or built with "
                f"another TensorRT version or GPU; this is TensorRT {trt_mod.__version__}): "
                "rebuild it with deploy/build_engine.py on this device"
            )
        self._engine: trt.ICudaEngine = engine
        self.spec = self._read_spec(trt_mod)
        s = self.spec
        for what, want, got in (
            ("channels", expected_channels, s.channels),
            ("size", expected_size, s.height),
        ):
            if want is not None and int(want) != got:
                raise ValueError(f"{path}: engine expects {what} {got}, the caller feeds {want}")
        if expected_fps_hz is not None and abs(float(expected_fps_hz) - s.fps_hz) > 1e-6:
            raise ValueError(
                f"{path}: engine was trained at {s.fps_hz} fps, "
                f"the caller expects {expected_fps_hz}"
            )
        context = self._engine.create_execution_context()
        if context is None:
            raise RuntimeError(f"{path}: could not create an execution context (GPU memory?)")
        self._context: trt.IExecutionContext = context
        self._stream = self._cuda.stream_create()
        self._in_ptr = self._cuda.malloc(4 * s.channels * s.max_frames * s.height * s.width)
        self._out_ptr = self._cuda.malloc(4 * s.max_frames)
        self._closed = False

    def _read_spec(self, trt_mod: Any) -> ModelInputSpec:
        eng, side = self._engine, self.sidecar
        meta_path = sidecar_path(self.path)
        names = [eng.get_tensor_name(i) for i in range(eng.num_io_tensors)]
        inputs = [n for n in names if eng.get_tensor_mode(n) == trt_mod.TensorIOMode.INPUT]
        outputs = [n for n in names if eng.get_tensor_mode(n) == trt_mod.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"engine: expected one input and one output tensor, got inputs {inputs} "
                f"and outputs {outputs}"
            )
        self._input_name, self._output_name = inputs[0], outputs[0]
        if side.input_name != self._input_name:
            raise ValueError(
                f"{meta_path}: input.name: expected the engine's input {self._input_name!r}, "
                f"got {side.input_name!r}"
            )
        spec_in = (side.input.channels, side.input.height, side.input.width)
        shape = _dims(eng.get_tensor_shape(self._input_name))
        if len(shape) != 5:
            raise ValueError(f"engine: expected a 5-D (N, C, T, H, W) input, got {shape}")
        if (shape[1], shape[3], shape[4]) != spec_in:
            raise ValueError(
                f"engine input (C, H, W) = {(shape[1], shape[3], shape[4])} does not match its "
                f"sidecar {meta_path}: input (channels, height, width) = {spec_in}"
            )
        if eng.get_tensor_dtype(self._input_name) != trt_mod.DataType.FLOAT:
            raise ValueError(
                f"engine: expected a float32 input, got {eng.get_tensor_dtype(self._input_name)}"
            )
        lo, opt, hi = (_dims(d) for d in eng.get_tensor_profile_shape(self._input_name, 0))
        if lo[0] > 1:
            raise ValueError(
                f"engine: its profile needs batch >= {lo[0]}; chunks come one at a time"
            )
        try:
            return replace(
                side.input, min_frames=int(lo[2]), max_frames=int(hi[2]),
                recommended_frames=int(opt[2]),
            )  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"{self.path}: engine profile T {lo[2]}..{hi[2]}: {exc}") from exc

    def infer(self, chunk: FloatArray) -> FloatArray:
        """Pulse ``(1, T)`` of a normalised chunk ``(1, C, T, H, W)`` float32.

        Raises
        ------
        TypeError, ValueError
            Not a chunk this engine accepts.
        RuntimeError
            After :meth:`close`, a failed execution, or an output with NaN / inf values.
        """
        if self._closed:
            raise RuntimeError("TensorRTBackend: infer() after close()")
        host_in = check_chunk(chunk, self.spec)
        ctx = self._context
        if not ctx.set_input_shape(self._input_name, host_in.shape):
            raise ValueError(f"chunk: TensorRT rejected the input shape {host_in.shape}")
        ctx.set_tensor_address(self._input_name, self._in_ptr)
        ctx.set_tensor_address(self._output_name, self._out_ptr)
        out_shape = _dims(ctx.get_tensor_shape(self._output_name))
        host_out = np.empty(out_shape, dtype=np.float32)
        self._cuda.copy_to_device(self._in_ptr, host_in, self._stream)
        if not ctx.execute_async_v3(self._stream):
            raise RuntimeError("TensorRT execute_async_v3 failed")
        self._cuda.copy_to_host(host_out, self._out_ptr, self._stream)
        self._cuda.stream_synchronize(self._stream)
        return check_output(host_out, host_in.shape[2], self.spec, self.path)

    def close(self) -> None:
        """Free the device buffers, stream and engine (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._cuda.free(self._in_ptr)
        self._cuda.free(self._out_ptr)
        self._cuda.stream_destroy(self._stream)
        del self._context
        del self._engine

    def __enter__(self) -> TensorRTBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
