"""Build a TensorRT engine from an exported ONNX model (TensorRT 10 API only).

What it does, after the EngineBuilder of NVIDIA's TensorRT samples:

- parses the ONNX file with ``trt.OnnxParser`` and reports *every* parser error (node, operator,
  description), not just the first;
- a builder config with a workspace memory-pool limit (``set_memory_pool_limit``), FP16, or INT8
  with an ``IInt8EntropyCalibrator2`` fed from sample clips and keeping a calibration cache;
- one optimization profile over batch ``N`` and frames ``T`` (min / opt / max);
- a timing cache read before and written after the build (much faster rebuilds);
- a DLA core for Jetson (FP16 or INT8 only, with GPU fallback for layers DLA cannot run);
- ``build_serialized_network`` and the engine written with its sidecar beside it
  (``<engine>.json``: the ONNX sidecar plus an ``engine`` section with the engine's SHA-256,
  TensorRT version, device, precision, profile; :mod:`rppg_sdk.backends.sidecar`).

The INT8 calibration cache of the command line is keyed by the ONNX file's SHA-256
(:func:`calibration_cache_path`): a retrained or re-exported model never reuses another
model's scales.

Command line (``nox -s build_engine -- --model physnet [--fp16 | --int8]``)::

    python -m deploy.build_engine --model physnet --fp16
    python -m deploy.build_engine --onnx python/rppg_sdk/models/physnet.onnx --int8 \
        --calib-clips build/deploy/calib_physnet.npy --dla-core 0

It exports the checkpoint to ONNX and verifies it (parity with PyTorch) first; on a machine
without TensorRT or an NVIDIA GPU it stops there with one message and exit status 3.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from rppg_sdk.backends.sidecar import (
    EngineInfo,
    ModelSidecar,
    file_sha256,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)

if TYPE_CHECKING:
    import tensorrt as trt
    from rppg_sdk.backends.tensorrt import CudaRuntime

__all__ = [
    "EXIT_NO_TENSORRT",
    "BuildResult",
    "EngineOptions",
    "OnnxParseError",
    "build_engine",
    "calibration_batches",
    "calibration_cache_path",
    "main",
    "make_calibrator",
    "parse_onnx",
]

Precision = Literal["fp32", "fp16", "int8"]
FloatArray = npt.NDArray[np.float32]

#: Exit status when the ONNX stage succeeded but no engine can be built on this machine.
EXIT_NO_TENSORRT = 3


class OnnxParseError(ValueError):
    """TensorRT's ONNX parser rejected the model; ``errors`` lists every error it reported."""

    def __init__(self, path: Path, errors: list[str]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors) or "  (the parser gave no detail)"
        super().__init__(
            f"{path}: TensorRT's ONNX parser reported {len(errors)} error(s):\n{lines}"
        )


@dataclass(frozen=True)
class EngineOptions:
    """How to build an engine.

    Parameters
    ----------
    precision
        ``"fp32"`` (TF32 off: the exact reference), ``"fp16"`` or ``"int8"`` (INT8 also
        enables FP16 for layers without an INT8 kernel, and needs calibration clips or a
        calibration cache).
    workspace_mib
        Limit of the builder's workspace memory pool (scratch for tactics), MiB. Jetson Orin Nano
        shares its 8 GB between CPU and GPU: keep this modest there.
    frames
        ``(min, opt, max)`` of ``T``; each a multiple of 4. ``opt`` is the chunk the SDK feeds.
    batch
        ``(min, opt, max)`` of ``N``.
    timing_cache
        File of the builder's timing cache (read if present, written after the build).
    calibration_cache
        File of the INT8 calibration cache (read if present: no clips needed; written after).
    dla_core
        Run on this DLA core (Jetson AGX/NX Orin have 2); ``None``: GPU only.
    gpu_fallback
        With DLA, let layers DLA cannot run fall back to the GPU (else the build fails on them).
    """

    precision: Precision = "fp16"
    workspace_mib: int = 1024
    frames: tuple[int, int, int] = (64, 300, 600)
    batch: tuple[int, int, int] = (1, 1, 1)
    timing_cache: Path | None = None
    calibration_cache: Path | None = None
    dla_core: int | None = None
    gpu_fallback: bool = True

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "fp16", "int8"):
            raise ValueError(f"precision: expected fp32, fp16 or int8, got {self.precision!r}")
        if self.workspace_mib < 1:
            raise ValueError(f"workspace_mib: expected >= 1, got {self.workspace_mib}")
        for what, (lo, opt, hi) in (("frames", self.frames), ("batch", self.batch)):
            if not 1 <= lo <= opt <= hi:
                raise ValueError(f"{what}: expected 1 <= min <= opt <= max, got {(lo, opt, hi)}")
        if any(t % 4 for t in self.frames):
            raise ValueError(f"frames: expected multiples of 4, got {self.frames}")
        if self.dla_core is not None:
            if self.dla_core < 0:
                raise ValueError(f"dla_core: expected a core index >= 0, got {self.dla_core}")
            if self.precision == "fp32":
                raise ValueError("dla_core: DLA runs FP16 or INT8 only; pick --fp16 or --int8")


@dataclass(frozen=True)
class BuildResult:
    """An engine on disk, its sidecar (``<engine>.json``) and the build time."""

    engine_path: Path
    metadata_path: Path
    sidecar: ModelSidecar
    build_s: float = 0.0


def calibration_cache_path(directory: str | Path, sidecar: ModelSidecar) -> Path:
    """Where the INT8 calibration cache of the model ``sidecar`` describes lives in ``directory``.

    Keyed by the ONNX file's SHA-256, not the model's name: TensorRT's cache holds activation
    scales of one network's weights, and a retrained model of the same name must calibrate
    anew instead of silently reusing stale scales.
    """
    return Path(directory) / f"{sidecar.name}_{sidecar.onnx.sha256[:16]}_int8.calib"


# ----------------------------------------------------------------------------- calibration


def calibration_batches(clips: FloatArray, batch_size: int, frames: int) -> list[FloatArray]:
    """Split ``(n, C, T, H, W)`` clips into contiguous float32 batches of ``batch_size`` clips of
    ``frames`` frames (TensorRT calibrates at the profile's ``opt`` shape).

    Clips longer than ``frames`` are cut to their first ``frames``; a last partial batch is
    dropped (the calibrator's batch size is fixed).
    """
    if clips.ndim != 5:
        raise ValueError(f"clips: expected (n, C, T, H, W), got shape {clips.shape}")
    if clips.shape[2] < frames:
        raise ValueError(
            f"clips: expected at least {frames} frames (the profile's opt T), got {clips.shape[2]}"
        )
    n = (clips.shape[0] // batch_size) * batch_size
    if n == 0:
        raise ValueError(f"clips: expected at least {batch_size} clips, got {clips.shape[0]}")
    return [
        np.ascontiguousarray(clips[i : i + batch_size, :, :frames], dtype=np.float32)
        for i in range(0, n, batch_size)
    ]


def make_calibrator(
    batches: Sequence[FloatArray],
    cache_path: Path | None,
    cuda: CudaRuntime | None,
) -> trt.IInt8EntropyCalibrator2:
    """An ``IInt8EntropyCalibrator2`` that feeds ``batches`` and keeps a calibration cache.

    With a readable cache, TensorRT takes the scales from it and asks for no batch (so
    ``batches`` may be empty and ``cuda`` ``None``).
    """
    import tensorrt as trt

    if cuda is None and batches:
        raise ValueError("cuda: device memory is needed to feed calibration batches")

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.batches = list(batches)
            self.cache_path = cache_path
            self.index = 0
            self.cache_reads = 0
            self.cache_writes = 0
            self._ptr = 0
            if self.batches and cuda is not None:
                self._ptr = cuda.malloc(max(b.nbytes for b in self.batches))
                self._stream = cuda.stream_create()

        def get_batch_size(self) -> int:
            return int(self.batches[0].shape[0]) if self.batches else 1

        def get_batch(self, names: list[str]) -> list[int]:
            # An empty list tells TensorRT the calibration data is used up.
            if self.index >= len(self.batches) or cuda is None:
                return []
            batch = self.batches[self.index]
            self.index += 1
            cuda.copy_to_device(self._ptr, batch, self._stream)
            cuda.stream_synchronize(self._stream)
            return [self._ptr] * len(names)

        def read_calibration_cache(self) -> bytes | None:
            if self.cache_path is not None and self.cache_path.is_file():
                self.cache_reads += 1
                return self.cache_path.read_bytes()
            return None

        def write_calibration_cache(self, cache: Any) -> None:
            if self.cache_path is not None:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                self.cache_path.write_bytes(bytes(cache))
                self.cache_writes += 1

        def free(self) -> None:
            if self._ptr and cuda is not None:
                cuda.free(self._ptr)
                cuda.stream_destroy(self._stream)
                self._ptr = 0

    return EntropyCalibrator()


# ----------------------------------------------------------------------------- building


def parse_onnx(trt_mod: Any, network: trt.INetworkDefinition, logger: trt.ILogger,
               onnx_path: Path) -> trt.OnnxParser:
    """Parse ``onnx_path`` into ``network``; :class:`OnnxParseError` lists every parser error."""
    parser: trt.OnnxParser = trt_mod.OnnxParser(network, logger)
    ok = parser.parse(onnx_path.read_bytes(), str(onnx_path))
    if not ok or parser.num_errors:
        errors = []
        for i in range(parser.num_errors):
            e = parser.get_error(i)
            errors.append(
                f"node {e.node()} {e.node_name() or ''} ({e.node_operator() or '?'}): "
                f"{e.desc()} [{e.code()}]"
            )
        raise OnnxParseError(onnx_path, errors)
    return parser


def _input_tensor(network: trt.INetworkDefinition, name: str) -> trt.ITensor:
    names = [network.get_input(i).name for i in range(network.num_inputs)]
    if name not in names:
        raise ValueError(f"ONNX model: expected an input named {name!r}, got {names}")
    return network.get_input(names.index(name))


def build_engine(
    onnx_path: str | Path,
    engine_path: str | Path,
    options: EngineOptions,
    *,
    sidecar: ModelSidecar | Mapping[str, Any],
    calibration_clips: FloatArray | None = None,
    cuda: CudaRuntime | None = None,
    log: Callable[[str], None] = print,
) -> BuildResult:
    """Build and serialise a TensorRT engine from ``onnx_path``; write its metadata beside it.

    Parameters
    ----------
    onnx_path, engine_path
        The exported model and where the engine goes (``<engine>.json`` is written too).
    options
        See :class:`EngineOptions`.
    sidecar
        The ONNX model's sidecar (:func:`rppg_sdk.backends.sidecar.read_sidecar`), or its JSON
        object (validated here); its ``onnx.sha256`` must be the ONNX file's.
    calibration_clips
        ``(n, C, T, H, W)`` normalised clips for INT8 (unless the calibration cache exists).
    cuda
        Device memory for the calibrator (default: :func:`rppg_sdk.backends.tensorrt.cuda_runtime`).

    Raises
    ------
    rppg_sdk.backends.tensorrt.TensorRTUnavailableError
        No TensorRT 10 or no GPU.
    OnnxParseError
        The parser rejected the model (every error listed).
    RuntimeError
        The builder failed (its log says why).
    ValueError
        The sidecar is invalid or describes another ONNX file (also: see ``OnnxParseError``).
    """
    from rppg_sdk.backends.tensorrt import import_tensorrt

    trt_mod = import_tensorrt()
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    side = (
        sidecar
        if isinstance(sidecar, ModelSidecar)
        else ModelSidecar.from_json(dict(sidecar), f"sidecar of {onnx_path}")
    )
    if file_sha256(onnx_path) != side.onnx.sha256:
        raise ValueError(
            f"{sidecar_path(onnx_path)}: onnx.sha256: {side.onnx.sha256[:12]}... is not the hash "
            f"of {onnx_path}: the sidecar describes another model"
        )
    input_name = side.input_name
    c, h, w = side.input.channels, side.input.height, side.input.width

    logger = trt_mod.Logger(trt_mod.Logger.WARNING)
    builder = trt_mod.Builder(logger)
    # TensorRT 10: networks are always explicit-batch; the creation flags are 0.
    network = builder.create_network(0)
    # The parser owns the weights the network refers to: keep it alive until the build is done.
    parser = parse_onnx(trt_mod, network, logger, onnx_path)
    _input_tensor(network, input_name)

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt_mod.MemoryPoolType.WORKSPACE, options.workspace_mib << 20)

    (t0, t1, t2), (n0, n1, n2) = options.frames, options.batch
    profile = builder.create_optimization_profile()
    profile.set_shape(input_name, (n0, c, t0, h, w), (n1, c, t1, h, w), (n2, c, t2, h, w))
    config.add_optimization_profile(profile)

    if options.precision == "fp32":
        # TF32 is on by default on Ampere and later: an "fp32" engine is the exact reference.
        config.clear_flag(trt_mod.BuilderFlag.TF32)
    if options.precision in ("fp16", "int8"):
        if not builder.platform_has_fast_fp16:
            log("warning: this GPU has no fast FP16; the engine may be slower than FP32")
        config.set_flag(trt_mod.BuilderFlag.FP16)
    calibrator = None
    if options.precision == "int8":
        if not builder.platform_has_fast_int8:
            log("warning: this GPU has no fast INT8")
        config.set_flag(trt_mod.BuilderFlag.INT8)
        cache = options.calibration_cache
        if cache is not None and cache.is_file():
            batches: list[FloatArray] = []
            log(f"INT8: calibration cache {cache} (no clips needed)")
        else:
            if calibration_clips is None:
                raise ValueError(
                    "int8: expected calibration clips or an existing calibration cache"
                )
            batches = calibration_batches(calibration_clips, n1, t1)
            if cuda is None:
                from rppg_sdk.backends.tensorrt import cuda_runtime

                cuda = cuda_runtime()
            log(f"INT8: entropy calibration on {len(batches)} batch(es) of {batches[0].shape}")
        calibrator = make_calibrator(batches, cache, cuda)
        # Deprecated since TensorRT 10.1 in favour of explicit (Q/DQ) quantization, but still the
        # way to calibrate a plain FP32 ONNX model, and what JetPack 6 (TensorRT 10.3) documents.
        config.int8_calibrator = calibrator
        config.set_calibration_profile(profile)

    if options.dla_core is not None:
        if options.dla_core >= builder.num_DLA_cores:
            raise ValueError(
                f"dla_core: this device has {builder.num_DLA_cores} DLA core(s), "
                f"got --dla-core {options.dla_core}"
            )
        config.default_device_type = trt_mod.DeviceType.DLA
        config.DLA_core = options.dla_core
        if options.gpu_fallback:
            config.set_flag(trt_mod.BuilderFlag.GPU_FALLBACK)

    timing_path = options.timing_cache
    timing_blob = timing_path.read_bytes() if timing_path and timing_path.is_file() else b""
    timing = config.create_timing_cache(timing_blob)
    config.set_timing_cache(timing, ignore_mismatch=False)
    log(f"timing cache: {'read ' + str(timing_path) if timing_blob else 'new'}")

    started = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    build_s = time.perf_counter() - started
    del parser
    if calibrator is not None:
        getattr(calibrator, "free", lambda: None)()
    if serialized is None:
        raise RuntimeError(
            f"TensorRT could not build an engine from {onnx_path} ({options.precision}); "
            "the builder's messages above say why"
        )
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    engine_path.write_bytes(bytes(serialized))
    if timing_path is not None:
        timing_path.parent.mkdir(parents=True, exist_ok=True)
        timing_path.write_bytes(bytes(config.get_timing_cache().serialize()))

    engine_side = replace(
        side,
        precision=options.precision,
        engine=EngineInfo(
            file=engine_path.name,
            sha256=file_sha256(engine_path),
            tensorrt=str(trt_mod.__version__),
            device=_device_name(),
            host=platform.node(),
            built_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            build_s=round(build_s, 2),
            workspace_mib=options.workspace_mib,
            profile_batch=options.batch,
            profile_frames=options.frames,
            dla_core=options.dla_core,
            gpu_fallback=options.gpu_fallback,
            source_onnx=onnx_path.name,
            calibration_cache=(
                str(options.calibration_cache) if options.calibration_cache else None
            ),
        ),
        engine_parity=None,
    )
    meta_path = write_sidecar(engine_path, engine_side)
    size_mb = engine_path.stat().st_size / 1e6
    log(f"engine {engine_path} ({size_mb:.2f} MB) built in {build_s:.1f} s")
    return BuildResult(engine_path, meta_path, engine_side, build_s)


def _device_name() -> str:
    try:
        import subprocess

        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=False,
        )
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError, IndexError):
        # Jetson has no nvidia-smi; its model is in the device tree.
        model = Path("/proc/device-tree/model")
        return model.read_text().strip("\x00\n") if model.is_file() else "unknown"


# ----------------------------------------------------------------------------- command line


def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Export a checkpoint to ONNX, verify it, and build a TensorRT engine"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--onnx", default=None, help="an exported ONNX model (sidecar beside it)")
    src.add_argument("--checkpoint", default=None,
                     help="training checkpoint (default training/checkpoints/<model>.pt)")
    p.add_argument("--model", default="physnet", help="physnet | autohr")
    p.add_argument("--random-init", action="store_true",
                   help="no checkpoint: an untrained model (development only)")
    prec = p.add_mutually_exclusive_group()
    prec.add_argument("--fp16", action="store_true", help="FP16 engine (default: FP32)")
    prec.add_argument("--int8", action="store_true", help="INT8 engine (+FP16), calibrated")
    p.add_argument("--workspace-mib", type=int, default=1024)
    p.add_argument("--frames", type=int, nargs=3, default=None, metavar=("MIN", "OPT", "MAX"),
                   help="T profile (default: 64, the training clip, twice it)")
    p.add_argument("--batch", type=int, nargs=3, default=[1, 1, 1], metavar=("MIN", "OPT", "MAX"))
    p.add_argument("--dla-core", type=int, default=None, help="Jetson DLA core (FP16/INT8)")
    p.add_argument("--no-gpu-fallback", action="store_true", help="with DLA: fail on GPU layers")
    p.add_argument("--calib-clips", default=None, help=".npy clips from deploy.calibrate")
    p.add_argument("--calib-source", default="synthetic",
                   help="without --calib-clips: synthetic | cache:DIR | video:FILE")
    p.add_argument("--calib-n", type=int, default=16, help="calibration clips")
    p.add_argument("--out-dir", default="build/deploy")
    p.add_argument("--no-parity", action="store_true", help="skip the TensorRT parity check")
    return p


def _bundled_onnx(model: str) -> Path:
    from rppg_sdk.models import bundled_model_path

    path = bundled_model_path(model)
    print(f"no checkpoint at training/checkpoints/{model}.pt: using the model shipped in the SDK, "
          f"{path}")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Export + verify the ONNX model, then build (and check) the engine; see module docstring."""
    from rppg_sdk.backends.tensorrt import (
        TensorRTUnavailableError,
        import_tensorrt,
        tensorrt_available,
    )

    args = get_args_parser().parse_args(argv)
    out_dir = Path(args.out_dir)
    precision: Precision = "int8" if args.int8 else "fp16" if args.fp16 else "fp32"

    # 1. the ONNX model: exported from the checkpoint here, or given.
    if args.onnx:
        onnx_path = Path(args.onnx)
        from deploy.export_onnx import check_onnx

        ops = check_onnx(onnx_path)
        sidecar = read_sidecar(onnx_path)
        print(f"ONNX model {onnx_path}: onnx.checker passed; TensorRT supports its {len(ops)} ops")
        checks = "onnx.checker, TensorRT operator support"
    else:
        from deploy.export_onnx import export_model, load_model

        ckpt = Path(args.checkpoint or f"training/checkpoints/{args.model}.pt")
        if not ckpt.is_file() and not args.random_init:
            if args.checkpoint:
                print(f"build_engine: no checkpoint at {ckpt}", file=sys.stderr)
                return 2
            # No training run here: the model shipped in the SDK is the next best source.
            return main([*(argv if argv is not None else sys.argv[1:]), "--onnx",
                         str(_bundled_onnx(args.model))])
        model, spec = load_model(None if args.random_init else ckpt, model=args.model)
        onnx_path, sidecar = export_model(model, spec, out_dir / f"{spec.name}.onnx")
        checks = "onnx.checker, TensorRT operator support, parity with PyTorch"

    # 2. TensorRT: stop here, with one clear message, where it cannot run.
    try:
        import_tensorrt()
        if not tensorrt_available():
            raise TensorRTUnavailableError("no NVIDIA GPU (the CUDA driver reports no device)")
    except TensorRTUnavailableError as exc:
        print(
            f"build_engine: the ONNX model {onnx_path} passed its checks ({checks}), but no "
            f"TensorRT engine can be built on this machine: {exc}. Run deploy/gpu_check.sh on a "
            "machine with an NVIDIA GPU (or a Jetson with JetPack 6) to build and check it.",
            file=sys.stderr,
        )
        return EXIT_NO_TENSORRT

    rec = int(sidecar.input.recommended_frames or 300)
    frames = tuple(args.frames or (min(64, rec), rec, 2 * rec))
    name = sidecar.name
    options = EngineOptions(
        precision=precision,
        workspace_mib=args.workspace_mib,
        frames=(int(frames[0]), int(frames[1]), int(frames[2])),
        batch=(int(args.batch[0]), int(args.batch[1]), int(args.batch[2])),
        timing_cache=out_dir / "timing.cache",
        calibration_cache=(
            calibration_cache_path(out_dir, sidecar) if precision == "int8" else None
        ),
        dla_core=args.dla_core,
        gpu_fallback=not args.no_gpu_fallback,
    )
    clips = None
    cached = options.calibration_cache is not None and options.calibration_cache.is_file()
    if precision == "int8" and not cached:
        from deploy.calibrate import calibration_clips, load_clips

        inp = sidecar.input
        clips = load_clips(args.calib_clips) if args.calib_clips else calibration_clips(
            args.calib_source, frames=options.frames[1], size=inp.height,
            channels=inp.channels, fps_hz=inp.fps_hz,
            normalization=inp.normalization, n_clips=args.calib_n)
    suffix = f"_dla{args.dla_core}" if args.dla_core is not None else ""
    result = build_engine(onnx_path, out_dir / f"{name}_{precision}{suffix}.engine", options,
                          sidecar=sidecar, calibration_clips=clips)

    # 3. parity of the engine against ONNX Runtime.
    if not args.no_parity:
        from deploy.verify import engine_parity

        rep = engine_parity(result.engine_path, onnx_path, frames=options.frames[1])
        print(f"parity TensorRT ({precision}) vs ONNX Runtime: max abs error "
              f"{rep['max_abs_error']:.3g}, correlation {rep['correlation']:.5f} "
              f"(bound {rep['bound']:.3g}): {'ok' if rep['ok'] else 'FAILED'}")
        write_sidecar(result.engine_path, replace(result.sidecar, engine_parity=rep))
        if not rep["ok"]:
            return 1
    print(json.dumps({"engine": str(result.engine_path), **asdict(options)}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
