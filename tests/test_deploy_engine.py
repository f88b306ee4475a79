"""deploy/build_engine.py and the SDK's TensorRT backend, against a test double of ``tensorrt``.

No TensorRT or GPU here: a small fake ``tensorrt`` module (the TensorRT 10 names the builder
and backend use, nothing else) is injected through ``sys.modules``; it records what the code
asks for (flags, memory pools, profiles, calibration batches, caches) so the tests can check
the builder's logic. The real library is exercised by tests/test_deploy_gpu.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require_module

require_module("onnx", extra="train")

from rppg_sdk.backends import tensorrt as trt_backend  # noqa: E402
from rppg_sdk.backends.base import ModelInputSpec  # noqa: E402
from rppg_sdk.backends.sidecar import (  # noqa: E402
    EngineInfo,
    ModelSidecar,
    OnnxInfo,
    file_sha256,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)

from deploy.build_engine import (  # noqa: E402
    EngineOptions,
    OnnxParseError,
    build_engine,
    calibration_batches,
    calibration_cache_path,
)
from deploy.build_engine import main as build_main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _sidecar(onnx_path: Path, name: str = "tiny") -> ModelSidecar:
    """A valid sidecar of ``onnx_path`` (16x16 BGR crops, 30 fps, trained on 32 frames)."""
    spec = ModelInputSpec(name=name, channels=3, height=16, width=16, fps_hz=30.0,
                          min_frames=4, frames_multiple_of=4, recommended_frames=32)
    return ModelSidecar(input=spec, architecture="physnet", model_kwargs={},
                        onnx=OnnxInfo(file=onnx_path.name, sha256=file_sha256(onnx_path),
                                      opset=17))


def _side(onnx_path: Path) -> dict[str, Any]:
    """The sidecar as the JSON object scripts pass around (``bundled_sidecar``)."""
    return _sidecar(onnx_path).to_json()


# ----------------------------------------------------------------------------- the double


class _Enum:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def make_fake_trt(**behaviour: Any) -> types.ModuleType:
    """A fake ``tensorrt`` module; ``behaviour`` tweaks it (parse_errors, build_fails, ...)."""
    trt = types.ModuleType("tensorrt")
    trt.__version__ = "10.3.0"  # type: ignore[attr-defined]
    trt.log = []  # type: ignore[attr-defined]
    trt.built = []  # type: ignore[attr-defined]

    class Logger:
        WARNING = _Enum("WARNING")

        def __init__(self, severity: Any = None) -> None:
            self.severity = severity

    class MemoryPoolType:
        WORKSPACE = _Enum("WORKSPACE")

    class BuilderFlag:
        FP16 = _Enum("FP16")
        INT8 = _Enum("INT8")
        GPU_FALLBACK = _Enum("GPU_FALLBACK")
        TF32 = _Enum("TF32")

    class DeviceType:
        GPU = _Enum("GPU")
        DLA = _Enum("DLA")

    class TensorIOMode:
        INPUT = _Enum("INPUT")
        OUTPUT = _Enum("OUTPUT")

    class DataType:
        FLOAT = _Enum("FLOAT")
        HALF = _Enum("HALF")

    class IInt8EntropyCalibrator2:
        def __init__(self) -> None:
            pass

    class Tensor:
        def __init__(self, name: str) -> None:
            self.name = name

    class Network:
        def __init__(self, flags: int) -> None:
            self.flags = flags
            self.inputs: list[Tensor] = []

        @property
        def num_inputs(self) -> int:
            return len(self.inputs)

        def get_input(self, i: int) -> Tensor:
            return self.inputs[i]

    class ParserError:
        def __init__(self, i: int, desc: str) -> None:
            self._i, self._desc = i, desc

        def node(self) -> int:
            return self._i

        def node_name(self) -> str:
            return f"/layer{self._i}"

        def node_operator(self) -> str:
            return "Weird"

        def desc(self) -> str:
            return self._desc

        def code(self) -> str:
            return "UNSUPPORTED_NODE"

    class OnnxParser:
        def __init__(self, network: Network, logger: Logger) -> None:
            self.network = network
            errors = behaviour.get("parse_errors", [])
            self.errors = [ParserError(i, d) for i, d in enumerate(errors)]

        @property
        def num_errors(self) -> int:
            return len(self.errors)

        def get_error(self, i: int) -> ParserError:
            return self.errors[i]

        def parse(self, data: bytes, path: str) -> bool:
            trt.log.append(("parse", path, len(data)))
            self.network.inputs.append(Tensor(behaviour.get("input_name", "video")))
            return not self.errors

    class Profile:
        def __init__(self) -> None:
            self.shapes: dict[str, tuple[Any, Any, Any]] = {}

        def set_shape(self, name: str, lo: Any, opt: Any, hi: Any) -> None:
            self.shapes[name] = (tuple(lo), tuple(opt), tuple(hi))

    class TimingCache:
        def __init__(self, blob: bytes) -> None:
            self.blob = bytes(blob)

        def serialize(self) -> bytes:
            return self.blob + b"+tactics"

    class Config:
        def __init__(self) -> None:
            self.flags: set[str] = {"TF32"}  # on by default, as in TensorRT
            self.pools: dict[str, int] = {}
            self.profiles: list[Profile] = []
            self.int8_calibrator: Any = None
            self.calibration_profile: Profile | None = None
            self.default_device_type = DeviceType.GPU
            self.DLA_core = -1
            self.timing_cache: TimingCache | None = None

        def set_flag(self, flag: _Enum) -> None:
            self.flags.add(flag.name)

        def clear_flag(self, flag: _Enum) -> None:
            self.flags.discard(flag.name)

        def set_memory_pool_limit(self, pool: _Enum, size: int) -> None:
            self.pools[pool.name] = size

        def add_optimization_profile(self, p: Profile) -> int:
            self.profiles.append(p)
            return len(self.profiles) - 1

        def set_calibration_profile(self, p: Profile) -> bool:
            self.calibration_profile = p
            return True

        def create_timing_cache(self, blob: bytes) -> TimingCache:
            trt.log.append(("timing_cache_in", bytes(blob)))
            return TimingCache(blob)

        def set_timing_cache(self, cache: TimingCache, ignore_mismatch: bool) -> bool:
            self.timing_cache = cache
            return True

        def get_timing_cache(self) -> TimingCache:
            assert self.timing_cache is not None
            return self.timing_cache

    class Builder:
        platform_has_fast_fp16 = True
        platform_has_fast_int8 = True
        num_DLA_cores = 2

        def __init__(self, logger: Logger) -> None:
            self.logger = logger

        def create_network(self, flags: int = 0) -> Network:
            return Network(flags)

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network: Network, config: Config) -> bytes | None:
            calib = config.int8_calibrator
            seen: list[int] = []
            if calib is not None:
                # What TensorRT does: the cache if there is one, else every batch, then write.
                cache = calib.read_calibration_cache()
                if not cache:
                    while True:
                        ptrs = calib.get_batch([network.get_input(0).name])
                        if not ptrs:
                            break
                        seen.append(ptrs[0])
                    calib.write_calibration_cache(b"calibration-table")
            trt.built.append({"network": network, "config": config, "batch_pointers": seen})
            return None if behaviour.get("build_fails") else b"serialized-engine"

    class Runtime:
        def __init__(self, logger: Logger) -> None:
            self.logger = logger

        def deserialize_cuda_engine(self, blob: bytes) -> Any:
            if bytes(blob) != b"serialized-engine":
                return None
            return FakeEngine(behaviour.get("engine_input", (-1, 3, -1, 16, 16)))

    class FakeContext:
        def __init__(self, engine: FakeEngine) -> None:
            self.engine = engine
            self.shape: tuple[int, ...] = ()
            self.addresses: dict[str, int] = {}

        def set_input_shape(self, name: str, shape: tuple[int, ...]) -> bool:
            self.shape = tuple(shape)
            return True

        def set_tensor_address(self, name: str, ptr: int) -> bool:
            self.addresses[name] = ptr
            return True

        def get_tensor_shape(self, name: str) -> tuple[int, ...]:
            return (self.shape[0], self.shape[2])

        def execute_async_v3(self, stream: int) -> bool:
            trt.log.append(("execute", self.shape, stream))
            return True

    class FakeEngine:
        def __init__(self, input_shape: tuple[int, ...]) -> None:
            self.input_shape = input_shape
            self.num_io_tensors = 2

        def get_tensor_name(self, i: int) -> str:
            return ["video", "pulse"][i]

        def get_tensor_mode(self, name: str) -> _Enum:
            return TensorIOMode.INPUT if name == "video" else TensorIOMode.OUTPUT

        def get_tensor_shape(self, name: str) -> tuple[int, ...]:
            return self.input_shape

        def get_tensor_dtype(self, name: str) -> _Enum:
            return DataType.FLOAT

        def get_tensor_profile_shape(self, name: str, i: int) -> list[tuple[int, ...]]:
            c, h, w = self.input_shape[1], self.input_shape[3], self.input_shape[4]
            lo, opt, hi = behaviour.get("profile_frames", (8, 32, 64))
            return [(1, c, lo, h, w), (1, c, opt, h, w), (1, c, hi, h, w)]

        def create_execution_context(self) -> FakeContext:
            return FakeContext(self)

    for obj in (Logger, MemoryPoolType, BuilderFlag, DeviceType, TensorIOMode, DataType,
                IInt8EntropyCalibrator2, OnnxParser, Builder, Runtime):
        setattr(trt, obj.__name__, obj)
    return trt


class FakeCuda:
    """Host memory standing in for device memory (records what was uploaded)."""

    name = "fake"

    def __init__(self) -> None:
        self.memory: dict[int, np.ndarray] = {}
        self.uploads: list[np.ndarray] = []
        self.freed: list[int] = []
        self._next = 0x1000

    def malloc(self, nbytes: int) -> int:
        ptr, self._next = self._next, self._next + nbytes + 0x100
        self.memory[ptr] = np.zeros(nbytes, np.uint8)
        return ptr

    def free(self, ptr: int) -> None:
        self.freed.append(ptr)

    def stream_create(self) -> int:
        return 7

    def stream_destroy(self, stream: int) -> None:
        pass

    def stream_synchronize(self, stream: int) -> None:
        pass

    def copy_to_device(self, ptr: int, host: np.ndarray, stream: int) -> None:
        self.uploads.append(host.copy())
        self.memory[ptr][: host.nbytes] = np.ascontiguousarray(host).view(np.uint8).ravel()

    def copy_to_host(self, host: np.ndarray, ptr: int, stream: int) -> None:
        host.reshape(-1).view(np.uint8)[:] = self.memory[ptr][: host.nbytes]


@pytest.fixture()
def fake_trt(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    trt = make_fake_trt()
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    return trt


@pytest.fixture()
def onnx_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.onnx"
    path.write_bytes(b"\x08\x07not-really-onnx")  # the fake parser only counts the bytes
    return path


def _options(**kw: Any) -> EngineOptions:
    base: dict[str, Any] = {"precision": "fp16", "workspace_mib": 256, "frames": (8, 32, 64),
                            "batch": (1, 2, 4)}
    base.update(kw)
    return EngineOptions(**base)


# ----------------------------------------------------------------------------- builder


def test_fp16_engine_flags_pool_profile_and_metadata(fake_trt, onnx_file, tmp_path):
    engine = tmp_path / "out" / "tiny_fp16.engine"
    res = build_engine(onnx_file, engine, _options(), sidecar=_side(onnx_file), log=lambda s: None)
    built = fake_trt.built[-1]
    cfg = built["config"]
    assert built["network"].flags == 0  # TensorRT 10: no EXPLICIT_BATCH flag
    assert cfg.flags == {"FP16", "TF32"}
    assert cfg.pools == {"WORKSPACE": 256 << 20}
    assert len(cfg.profiles) == 1
    lo, opt, hi = cfg.profiles[0].shapes["video"]
    assert lo == (1, 3, 8, 16, 16) and opt == (2, 3, 32, 16, 16) and hi == (4, 3, 64, 16, 16)
    assert cfg.int8_calibrator is None and cfg.default_device_type.name == "GPU"
    assert engine.read_bytes() == b"serialized-engine"
    meta = json.loads((tmp_path / "out" / "tiny_fp16.engine.json").read_text())
    assert res.metadata_path.name == "tiny_fp16.engine.json"
    assert meta["precision"] == "fp16" and meta["engine"]["tensorrt"] == "10.3.0"
    assert meta["engine"]["profile"] == {"batch": [1, 2, 4], "frames": [8, 32, 64]}
    assert meta["input"]["channels"] == 3 and meta["fps_hz"] == 30.0
    # Written by the one writer, read back by the one reader, hashes of both files recorded.
    side = read_sidecar(engine)
    assert side == res.sidecar and side.engine is not None
    assert side.engine.sha256 == file_sha256(engine) and side.engine.source_onnx == "tiny.onnx"
    assert side.onnx.sha256 == file_sha256(onnx_file)


def test_a_sidecar_of_another_onnx_file_is_refused(fake_trt, onnx_file, tmp_path):
    other = tmp_path / "other.onnx"
    other.write_bytes(b"retrained")
    with pytest.raises(ValueError, match=r"onnx\.sha256: .* describes another model"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(), sidecar=_sidecar(other),
                     log=lambda s: None)
    bad = {**_side(onnx_file), "fps_hz": -1}
    with pytest.raises(ValueError, match=r"sidecar of .*tiny\.onnx: fps_hz"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(), sidecar=bad,
                     log=lambda s: None)
    assert not fake_trt.built


def test_fp32_sets_no_precision_flag(fake_trt, onnx_file, tmp_path):
    build_engine(onnx_file, tmp_path / "e.engine", _options(precision="fp32"),
                 sidecar=_side(onnx_file),
                 log=lambda s: None)
    assert fake_trt.built[-1]["config"].flags == set()  # and TF32 cleared


def test_int8_calibrates_on_the_clips_then_reuses_its_cache(fake_trt, onnx_file, tmp_path):
    rng = np.random.default_rng(0)
    clips = rng.standard_normal((5, 3, 40, 16, 16)).astype(np.float32)
    cache = tmp_path / "tiny.calib"
    cuda = FakeCuda()
    opts = _options(precision="int8", calibration_cache=cache)
    build_engine(onnx_file, tmp_path / "a.engine", opts,
                 sidecar=_side(onnx_file), calibration_clips=clips,
                 cuda=cuda, log=lambda s: None)
    cfg = fake_trt.built[-1]["config"]
    assert {"INT8", "FP16"} <= cfg.flags
    assert cfg.calibration_profile is cfg.profiles[0]
    # batch opt = 2 clips, T opt = 32 frames: 5 clips give 2 full batches, the 5th is dropped.
    assert len(cuda.uploads) == 2 and len(fake_trt.built[-1]["batch_pointers"]) == 2
    for i, up in enumerate(cuda.uploads):
        assert up.shape == (2, 3, 32, 16, 16)
        np.testing.assert_array_equal(up, clips[2 * i : 2 * i + 2, :, :32])
    assert cfg.int8_calibrator.get_batch_size() == 2
    assert cache.read_bytes() == b"calibration-table"
    assert cuda.freed, "the calibration buffer must be freed after the build"

    # Second build: the cache is read, no clip and no device memory are needed.
    build_engine(onnx_file, tmp_path / "b.engine", opts,
                 sidecar=_side(onnx_file), calibration_clips=None,
                 cuda=None, log=lambda s: None)
    again = fake_trt.built[-1]
    assert again["batch_pointers"] == []
    assert again["config"].int8_calibrator.cache_reads == 1


def test_int8_without_clips_or_cache_is_an_error(fake_trt, onnx_file, tmp_path):
    with pytest.raises(ValueError, match="calibration"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(precision="int8"),
                     sidecar=_side(onnx_file), log=lambda s: None)


def test_timing_cache_is_written_then_read(fake_trt, onnx_file, tmp_path):
    timing = tmp_path / "timing.cache"
    opts = _options(timing_cache=timing)
    build_engine(onnx_file, tmp_path / "a.engine", opts,
                 sidecar=_side(onnx_file), log=lambda s: None)
    assert ("timing_cache_in", b"") in fake_trt.log
    assert timing.read_bytes() == b"+tactics"
    build_engine(onnx_file, tmp_path / "b.engine", opts,
                 sidecar=_side(onnx_file), log=lambda s: None)
    assert ("timing_cache_in", b"+tactics") in fake_trt.log


def test_dla_core_with_gpu_fallback(fake_trt, onnx_file, tmp_path):
    build_engine(onnx_file, tmp_path / "e.engine", _options(dla_core=1), sidecar=_side(onnx_file),
                 log=lambda s: None)
    cfg = fake_trt.built[-1]["config"]
    assert cfg.default_device_type.name == "DLA" and cfg.DLA_core == 1
    assert "GPU_FALLBACK" in cfg.flags
    build_engine(onnx_file, tmp_path / "f.engine", _options(dla_core=0, gpu_fallback=False),
                 sidecar=_side(onnx_file), log=lambda s: None)
    assert "GPU_FALLBACK" not in fake_trt.built[-1]["config"].flags


def test_dla_core_beyond_the_device_is_an_error(fake_trt, onnx_file, tmp_path):
    with pytest.raises(ValueError, match="2 DLA core"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(dla_core=2),
                     sidecar=_side(onnx_file),
                     log=lambda s: None)


def test_every_parser_error_is_reported(monkeypatch, onnx_file, tmp_path):
    trt = make_fake_trt(parse_errors=["first problem", "second problem"])
    monkeypatch.setitem(sys.modules, "tensorrt", trt)
    with pytest.raises(OnnxParseError) as info:
        build_engine(onnx_file, tmp_path / "e.engine", _options(), sidecar=_side(onnx_file),
                     log=lambda s: None)
    msg = str(info.value)
    assert "2 error(s)" in msg and "first problem" in msg and "second problem" in msg
    assert "/layer1" in msg and len(info.value.errors) == 2
    assert not (tmp_path / "e.engine").exists()


def test_wrong_input_name_is_an_error(monkeypatch, onnx_file, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorrt", make_fake_trt(input_name="frames"))
    with pytest.raises(ValueError, match="'video'"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(), sidecar=_side(onnx_file),
                     log=lambda s: None)


def test_failed_build_raises_and_writes_nothing(monkeypatch, onnx_file, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorrt", make_fake_trt(build_fails=True))
    with pytest.raises(RuntimeError, match="could not build"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(), sidecar=_side(onnx_file),
                     log=lambda s: None)
    assert not (tmp_path / "e.engine").exists()


def test_only_type_stubs_means_unavailable(monkeypatch, onnx_file, tmp_path):
    # tensorrt-stubs installs an importable but empty `tensorrt` namespace package.
    monkeypatch.setitem(sys.modules, "tensorrt", types.ModuleType("tensorrt"))
    with pytest.raises(trt_backend.TensorRTUnavailableError, match="not installed"):
        build_engine(onnx_file, tmp_path / "e.engine", _options(), sidecar=_side(onnx_file))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"precision": "int4"}, "precision"),
        ({"frames": (8, 30, 64)}, "multiples of 4"),
        ({"frames": (64, 32, 8)}, "min <= opt <= max"),
        ({"batch": (0, 1, 1)}, "batch"),
        ({"workspace_mib": 0}, "workspace"),
        ({"precision": "fp32", "dla_core": 0}, "DLA runs FP16 or INT8"),
        ({"dla_core": -1}, "dla_core"),
    ],
)
def test_engine_options_are_validated(kw, match):
    with pytest.raises(ValueError, match=match):
        _options(**kw)


def test_calibration_batches_shapes_and_errors():
    clips = np.zeros((7, 1, 48, 8, 8), np.float32)
    batches = calibration_batches(clips, 3, 32)
    assert [b.shape for b in batches] == [(3, 1, 32, 8, 8)] * 2
    assert all(b.flags.c_contiguous for b in batches)
    with pytest.raises(ValueError, match="at least 64 frames"):
        calibration_batches(clips, 1, 64)
    with pytest.raises(ValueError, match="at least 8 clips"):
        calibration_batches(clips, 8, 32)
    with pytest.raises(ValueError, match="n, C, T, H, W"):
        calibration_batches(clips[0], 1, 32)


# ----------------------------------------------------------------------------- backend


def _engine_info(engine: Path, source_onnx: str = "tiny.onnx") -> EngineInfo:
    return EngineInfo(file=engine.name, sha256=file_sha256(engine), tensorrt="10.3.0",
                      device="test", host="test", built_utc="", build_s=0.0, workspace_mib=256,
                      profile_batch=(1, 1, 1), profile_frames=(8, 32, 64), dla_core=None,
                      gpu_fallback=True, source_onnx=source_onnx)


@pytest.fixture()
def engine_files(tmp_path: Path, onnx_file: Path) -> Path:
    engine = tmp_path / "tiny_fp16.engine"
    engine.write_bytes(b"serialized-engine")
    side = _sidecar(onnx_file)
    write_sidecar(engine, ModelSidecar(**{**side.__dict__, "precision": "fp16",
                                          "engine": _engine_info(engine)}))
    return engine


@pytest.fixture()
def gpu_double(monkeypatch: pytest.MonkeyPatch) -> FakeCuda:
    cuda = FakeCuda()
    monkeypatch.setattr(trt_backend, "cuda_device_count", lambda: 1)
    monkeypatch.setattr(trt_backend, "cuda_runtime", lambda: cuda)
    return cuda


def test_backend_runs_an_engine_through_the_name_based_api(fake_trt, gpu_double, engine_files):
    with trt_backend.TensorRTBackend(engine_files, expected_channels=3, expected_fps_hz=30.0,
                                     expected_size=16) as be:
        assert be.sidecar.input_name == "video" and be.sidecar.output_name == "pulse"
        assert (be.spec.min_frames, be.spec.max_frames) == (8, 64)
        assert be.precision == "fp16" and be.spec.normalization == "temporal"
        out = be.infer(np.ones((1, 3, 32, 16, 16), np.float32))
        assert out.shape == (1, 32)
        assert ("execute", (1, 3, 32, 16, 16), 7) in fake_trt.log
        with pytest.raises(ValueError, match=r"T in \[8, 64\]"):
            be.infer(np.ones((1, 3, 128, 16, 16), np.float32))
        with pytest.raises(ValueError, match=r"expected shape \(1, 3, T, 16, 16\)"):
            be.infer(np.ones((1, 1, 32, 16, 16), np.float32))
    assert len(gpu_double.freed) == 2
    with pytest.raises(RuntimeError, match="after close"):
        be.infer(np.ones((1, 3, 32, 16, 16), np.float32))


def test_backend_rejects_a_corrupt_engine_at_construction(fake_trt, gpu_double, engine_files):
    # Its hash no longer matches the sidecar's: caught before TensorRT sees the bytes.
    engine_files.write_bytes(b"truncated")
    with pytest.raises(ValueError, match=r"engine\.sha256: .* out of step"):
        trt_backend.TensorRTBackend(engine_files)
    # A sidecar without an engine section (hash unknown): TensorRT itself rejects the bytes.
    side = _sidecar(engine_files.with_name("tiny.onnx"))
    sidecar_path(engine_files).write_text(json.dumps(side.to_json()))
    with pytest.raises(ValueError, match="could not deserialize"):
        trt_backend.TensorRTBackend(engine_files)


@pytest.mark.parametrize("cut", [0, 1, 40])
def test_a_corrupt_engine_sidecar_names_its_file(engine_files, cut):
    # The bug: a corrupt .engine.json gave a bare JSONDecodeError with no file name (and
    # before any GPU check, so it needs no GPU double).
    meta = sidecar_path(engine_files)
    meta.write_text(meta.read_text()[:cut])
    with pytest.raises(ValueError) as info:
        trt_backend.TensorRTBackend(engine_files)
    assert not isinstance(info.value, json.JSONDecodeError)
    assert str(info.value).startswith(f"{meta}: ")


@pytest.mark.parametrize("cut", [0, 40])
def test_a_corrupt_engine_sidecar_without_tensorrt_names_its_file(monkeypatch, engine_files, cut):
    # The bug as users met it: backend="auto" without TensorRT looks for the engine's ONNX
    # model through its sidecar, and a corrupt one raised a bare JSONDecodeError.
    from rppg_sdk.backends import load_backend

    monkeypatch.setattr(trt_backend, "tensorrt_available", lambda: False)
    meta = sidecar_path(engine_files)
    meta.write_text(meta.read_text()[:cut])
    with pytest.raises(ValueError) as info:
        load_backend(engine_files, "auto")
    assert not isinstance(info.value, json.JSONDecodeError)
    assert str(info.value).startswith(f"{meta}: ")


def test_an_engine_that_outputs_nan_is_named(fake_trt, gpu_double, engine_files):
    with trt_backend.TensorRTBackend(engine_files) as be:
        # The double's "device" output buffer: what the engine would have written.
        out = gpu_double.memory[be._out_ptr]
        out[:] = np.full(out.size // 4, np.nan, np.float32).view(np.uint8)
        with pytest.raises(RuntimeError) as info:
            be.infer(np.ones((1, 3, 32, 16, 16), np.float32))
    msg = str(info.value)
    assert "'tiny'" in msg and str(engine_files) in msg and "32 NaN" in msg


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"expected_channels": 1}, "channels 3"),
        ({"expected_fps_hz": 25.0}, "30.0 fps"),
        ({"expected_size": 64}, "size 16"),
    ],
)
def test_backend_rejects_a_mismatched_engine(fake_trt, gpu_double, engine_files, kw, match):
    with pytest.raises(ValueError, match=match):
        trt_backend.TensorRTBackend(engine_files, **kw)


def test_backend_rejects_metadata_that_disagrees_with_the_engine(
    monkeypatch, gpu_double, engine_files
):
    monkeypatch.setitem(sys.modules, "tensorrt", make_fake_trt(engine_input=(-1, 1, -1, 16, 16)))
    with pytest.raises(ValueError, match=r"does not match its sidecar .*input \(channels"):
        trt_backend.TensorRTBackend(engine_files)


def test_backend_missing_files_are_clear_errors(tmp_path, engine_files):
    with pytest.raises(FileNotFoundError, match="is absent"):
        trt_backend.TensorRTBackend(tmp_path / "nope.engine")
    engine_files.with_name(engine_files.name + ".json").unlink()
    with pytest.raises(FileNotFoundError, match="sidecar"):
        trt_backend.TensorRTBackend(engine_files)


@pytest.mark.skipif(trt_backend.tensorrt_available(), reason="this machine has TensorRT and a GPU")
def test_backend_without_gpu_says_so(engine_files):
    with pytest.raises(trt_backend.TensorRTUnavailableError):
        trt_backend.TensorRTBackend(engine_files)


# ----------------------------------------------------------------------------- command line


@pytest.mark.skipif(trt_backend.tensorrt_available(), reason="this machine has TensorRT and a GPU")
def test_command_line_exports_then_stops_with_one_clear_message(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "deploy.build_engine", "--model", "physnet", "--random-init",
         "--fp16", "--out-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    err_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err_lines) == 1 and "no TensorRT engine can be built" in err_lines[0]
    assert "parity ONNX Runtime vs PyTorch" in proc.stdout
    assert (tmp_path / "physnet.onnx").is_file() and (tmp_path / "physnet.json").is_file()


def test_backend_spec_satisfies_the_sdk_backend_interface(fake_trt, gpu_double, engine_files):
    from rppg_sdk.backends.base import Backend

    with trt_backend.TensorRTBackend(engine_files) as be:
        assert isinstance(be, Backend)
        spec = be.spec
        assert isinstance(spec, ModelInputSpec)
        for field in ("name", "channels", "height", "width", "fps_hz", "normalization",
                      "channel_order", "min_frames", "max_frames", "frames_multiple_of"):
            assert getattr(spec, field) is not None
        # The engine's profile optimum, the chunk the SDK should feed.
        assert be.spec.recommended_frames == 32


def test_auto_runs_the_onnx_model_of_an_engine_without_tensorrt(monkeypatch, tmp_path):
    from rppg_sdk.backends import OnnxRuntimeBackend, load_backend
    from rppg_sdk.models import bundled_model_path

    monkeypatch.setattr(trt_backend, "tensorrt_available", lambda: False)
    bundled = read_sidecar(bundled_model_path("physnet"))
    engine = tmp_path / "physnet_fp16.engine"
    engine.write_bytes(b"serialized-engine")
    write_sidecar(engine, ModelSidecar(**{**bundled.__dict__, "precision": "fp16",
                                          "engine": _engine_info(engine, "physnet.onnx")}))
    with load_backend(engine, "auto") as be:  # physnet.onnx is not beside it: the bundled one
        assert isinstance(be, OnnxRuntimeBackend)
        assert be.path == bundled_model_path("physnet")


def _onnx_model(path: Path, weight: float) -> Path:
    """A real (tiny) ONNX model (1, 3, T, 16, 16) -> (1, T) with its sidecar."""
    onnx = require_module("onnx", extra="train")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("video", TensorProto.FLOAT, [1, 3, "frames", 16, 16])
    y = helper.make_tensor_value_info("pulse", TensorProto.FLOAT, [1, "frames"])
    w = helper.make_tensor("w", TensorProto.FLOAT, [], [weight])
    nodes = [helper.make_node("ReduceMean", ["video"], ["m"], axes=[1, 3, 4], keepdims=0),
             helper.make_node("Mul", ["m", "w"], ["pulse"])]
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    write_sidecar(path, _sidecar(path))
    return path


def test_int8_calibration_cache_is_keyed_by_the_onnx_hash(fake_trt, gpu_double, tmp_path,
                                                           monkeypatch):
    # The bug: the cache was named after the model, so a retrained model of the same name
    # silently reused the old model's INT8 scales.
    monkeypatch.setattr(trt_backend, "tensorrt_available", lambda: True)
    clips = tmp_path / "clips.npy"
    np.save(clips, np.random.default_rng(0).standard_normal((2, 3, 32, 16, 16)).astype(np.float32))
    out = tmp_path / "out"
    caches = []
    for weight in (1.0, -0.5):  # "retrained": same name, other weights
        onnx_path = _onnx_model(tmp_path / "tiny.onnx", weight)
        argv = ["--onnx", str(onnx_path), "--int8", "--calib-clips", str(clips), "--out-dir",
                str(out), "--no-parity"]
        assert build_main(argv) == 0
        assert fake_trt.built[-1]["batch_pointers"], "calibrated on the clips, not a stale cache"
        caches.append(calibration_cache_path(out, read_sidecar(onnx_path)))
        side = read_sidecar(out / "tiny_int8.engine")
        assert side.engine is not None and side.engine.calibration_cache == str(caches[-1])
    assert caches[0] != caches[1] and all(c.is_file() for c in caches)
    # The same model again: its own cache is reused, no clips needed.
    assert build_main(["--onnx", str(tmp_path / "tiny.onnx"), "--int8", "--out-dir", str(out),
                       "--no-parity"]) == 0
    assert fake_trt.built[-1]["batch_pointers"] == []


def test_gpu_check_driver_runs_end_to_end_against_the_double(monkeypatch, tmp_path):
    """The Python part of deploy/gpu_check.sh, with the TensorRT double and host 'device'
    memory: every model and precision is built, checked and timed, and the results written.
    (The double computes nothing, so parity fails and the driver exits with status 1.)"""
    import re
    import runpy

    from rppg_sdk.models import bundled_sidecar

    script = (REPO / "deploy" / "gpu_check.sh").read_text()
    tail = script[script.index('OUT_DIR="$OUT_DIR"'):]
    driver = re.search(r"python - <<'EOF'\n(.*?)\nEOF\n", tail, re.S)
    assert driver is not None
    (tmp_path / "driver.py").write_text(driver.group(1))
    rec = int(bundled_sidecar("physnet")["input"]["recommended_frames"])
    assert rec == int(bundled_sidecar("autohr")["input"]["recommended_frames"])
    monkeypatch.setitem(sys.modules, "tensorrt", make_fake_trt(
        engine_input=(-1, 3, -1, 64, 64), profile_frames=(32, rec, 2 * rec)))
    monkeypatch.setattr(trt_backend, "cuda_device_count", lambda: 1)
    monkeypatch.setattr(trt_backend, "cuda_runtime", FakeCuda)
    monkeypatch.setenv("OUT_DIR", str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(tmp_path / "driver.py"), run_name="__main__")
    assert info.value.code == 1
    res = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert res["errors"] == []
    assert sorted(res["models"]) == sorted(f"{m}_{p}" for m in ("physnet", "autohr")
                                           for p in ("fp32", "fp16", "int8"))
    for row in res["models"].values():
        assert row["rejects_long_chunk"] and row["ms_per_video_s"] > 0
        assert not row["parity"]["ok"]  # a constant output must not pass as correlated
    assert "rebuild_with_timing_cache_s" in res["models"]["physnet_fp16"]
    assert res["cli_fp16_exit_status"] == 1
