"""The model sidecar module (rppg_sdk.backends.sidecar): schema, path rules, hash, read/write.

No ONNX Runtime or onnx needed: the "model files" are bytes (the sidecar only hashes them).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rppg_sdk.backends.base import ModelInputSpec
from rppg_sdk.backends.sidecar import (
    FORMAT,
    SCHEMA_VERSION,
    EngineInfo,
    ModelSidecar,
    OnnxInfo,
    file_sha256,
    onnx_for_engine,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from rppg_sdk.models import available_models, bundled_model_path


def _sidecar(onnx_path: Path, **kw: Any) -> ModelSidecar:
    spec = ModelInputSpec(name="tiny", channels=3, height=32, width=32, fps_hz=30.0,
                          min_frames=4, frames_multiple_of=4, recommended_frames=64)
    base: dict[str, Any] = {
        "input": spec,
        "architecture": "physnet",
        "model_kwargs": {"width": 0.25},
        "onnx": OnnxInfo(file=onnx_path.name, sha256=file_sha256(onnx_path), opset=17,
                         dynamic_axes={"batch": 0, "frames": 2}, producer="test"),
        "training": {"data": "synthetic", "epochs": 1},
        "created_utc": "2026-01-01T00:00:00+00:00",
        "parity": {"max_abs_error": 1e-7, "bound": 1e-4},
    }
    base.update(kw)
    return ModelSidecar(**base)


def _engine_info(engine_path: Path, **kw: Any) -> EngineInfo:
    base: dict[str, Any] = {
        "file": engine_path.name, "sha256": file_sha256(engine_path), "tensorrt": "10.3.0",
        "device": "Orin", "host": "jetson", "built_utc": "2026-01-01T00:00:00+00:00",
        "build_s": 12.5, "workspace_mib": 512, "profile_batch": (1, 1, 1),
        "profile_frames": (32, 64, 128), "dla_core": None, "gpu_fallback": True,
        "source_onnx": "tiny.onnx", "calibration_cache": None,
    }  # fmt: skip
    base.update(kw)
    return EngineInfo(**base)


@pytest.fixture()
def onnx_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.onnx"
    path.write_bytes(b"pretend onnx bytes")
    return path


@pytest.fixture()
def engine_file(tmp_path: Path, onnx_file: Path) -> Path:
    path = tmp_path / "tiny_fp16.engine"
    path.write_bytes(b"pretend engine bytes")
    side = _sidecar(onnx_file, precision="fp16", engine=_engine_info(path))
    write_sidecar(path, side)
    return path


# ----------------------------------------------------------------------------- paths, hash


def test_path_rules() -> None:
    assert sidecar_path("x/physnet.onnx") == Path("x/physnet.json")
    assert sidecar_path("x/physnet_fp16.engine") == Path("x/physnet_fp16.engine.json")
    assert sidecar_path("x/m.plan") == Path("x/m.plan.json")
    assert sidecar_path(Path("a.b/m.v2.onnx")) == Path("a.b/m.v2.json")


def test_file_sha256_is_the_hash_of_the_bytes(tmp_path: Path) -> None:
    import hashlib

    p = tmp_path / "f.bin"
    data = bytes(range(256)) * 9000  # several read blocks
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- round trips


def test_round_trip_onnx(onnx_file: Path) -> None:
    side = _sidecar(onnx_file)
    path = write_sidecar(onnx_file, side)
    assert path == onnx_file.with_suffix(".json")
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT == f"rppg-sdk-model/{SCHEMA_VERSION}"
    assert data["input"]["frames_multiple_of"] == 4 and data["onnx"]["sha256"] == side.onnx.sha256
    back = read_sidecar(onnx_file)
    assert back == side and back.name == "tiny"
    assert not list(onnx_file.parent.glob(".*.tmp"))  # the temporary file was renamed


def test_round_trip_engine(engine_file: Path) -> None:
    back = read_sidecar(engine_file)
    assert back.engine is not None and back.engine.profile_frames == (32, 64, 128)
    assert back.precision == "fp16" and back.engine.dla_core is None
    assert ModelSidecar.from_json(back.to_json()) == back


@pytest.mark.parametrize("name", ["physnet", "autohr"])
def test_the_shipped_sidecars_read_and_write_back_unchanged(name: str, tmp_path: Path) -> None:
    assert name in available_models()
    onnx_path = bundled_model_path(name)
    side = read_sidecar(onnx_path)
    on_disk = json.loads(sidecar_path(onnx_path).read_text())
    assert side.to_json() == on_disk
    assert side.input.frames_multiple_of == on_disk["input"]["frames_multiple_of"] == 4


# ----------------------------------------------------------------------------- validation


def _bad(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    *parents, key = dotted.split(".")
    d = out
    for p in parents:
        d = d[p]
    if value is _DELETE:
        del d[key]
    else:
        d[key] = value
    return out


_DELETE = object()

BAD_FIELDS = [
    ("format", "rppg-sdk-model/2"),
    ("format", _DELETE),
    ("name", ""),
    ("name", 3),
    ("architecture", None),
    ("model_kwargs", []),
    ("input", "video"),
    ("input.name", 1),
    ("input.layout", "NTCHW"),
    ("input.dtype", "float16"),
    ("input.channels", 2),
    ("input.channels", 3.0),
    ("input.channels", True),
    ("input.channel_order", "GBR"),
    ("input.height", 0),
    ("input.width", _DELETE),
    ("input.frames_multiple_of", 0),
    # Once defaulted to 1 by ONNX Runtime and to 4 by TensorRT: now a sidecar must state it.
    ("input.frames_multiple_of", _DELETE),
    ("input.recommended_frames", 62),
    ("input.recommended_frames", "64"),
    ("input.extra", 1),
    ("output.layout", "TN"),
    ("output.name", _DELETE),
    ("fps_hz", 0),
    ("fps_hz", "30"),
    ("normalization", "zscore"),
    ("precision", "fp8"),
    ("onnx.sha256", "abc"),
    ("onnx.sha256", "A" * 64),
    ("onnx.opset", 0),
    ("onnx.dynamic_axes", {"frames": 7}),
    ("onnx.producer", None),
    ("training", None),
    ("created_utc", 0),
    ("parity", [1]),
    ("surprise", {}),
]


@pytest.mark.parametrize(("dotted", "value"), BAD_FIELDS)
def test_every_bad_field_is_named_with_the_file(
    onnx_file: Path, dotted: str, value: Any
) -> None:
    data = _sidecar(onnx_file).to_json()
    json_path = sidecar_path(onnx_file)
    json_path.write_text(json.dumps(_bad(data, dotted, value)))
    with pytest.raises(ValueError) as info:
        read_sidecar(onnx_file)
    msg = str(info.value)
    # "<file>: <field>: expected ..., got ..." with the field's full dotted path.
    assert msg.startswith(f"{json_path}: {dotted}"), msg


ENGINE_BAD = [
    ("engine.sha256", "0"),
    ("engine.profile", {"batch": [1, 1, 1]}),
    ("engine.profile.frames", [64, 32, 128]),
    ("engine.gpu_fallback", "yes"),
    ("engine.dla_core", -1),
    ("engine.workspace_mib", 0),
    ("engine.build_s", None),
    ("engine.calibration_cache", 3),
    ("engine.tensorrt", _DELETE),
]


@pytest.mark.parametrize(("dotted", "value"), ENGINE_BAD)
def test_every_bad_engine_field_is_named_with_the_file(
    engine_file: Path, dotted: str, value: Any
) -> None:
    json_path = sidecar_path(engine_file)
    data = json.loads(json_path.read_text())
    json_path.write_text(json.dumps(_bad(data, dotted, value)))
    with pytest.raises(ValueError) as info:
        read_sidecar(engine_file)
    assert str(info.value).startswith(f"{json_path}: {dotted}"), str(info.value)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "", "\xff\xfe"])
def test_a_corrupt_sidecar_names_its_file(onnx_file: Path, text: str) -> None:
    json_path = sidecar_path(onnx_file)
    json_path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match="^" + str(json_path).replace(".", r"\.") + ": "):
        read_sidecar(onnx_file)


def test_a_corrupt_engine_sidecar_is_a_value_error_not_a_json_error(engine_file: Path) -> None:
    # The bug: a corrupt .engine.json gave a bare JSONDecodeError with no file name.
    json_path = sidecar_path(engine_file)
    json_path.write_text(json_path.read_text()[:40])
    with pytest.raises(ValueError) as info:
        read_sidecar(engine_file)
    assert not isinstance(info.value, json.JSONDecodeError)
    assert str(json_path) in str(info.value)


def test_a_missing_sidecar_says_where_it_was_expected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"x\.json: expected the model's sidecar"):
        read_sidecar(tmp_path / "x.onnx")


# ----------------------------------------------------------------------------- hashes


def test_sha256_mismatch_of_the_onnx_file(onnx_file: Path) -> None:
    write_sidecar(onnx_file, _sidecar(onnx_file))
    onnx_file.write_bytes(b"retrained weights")
    with pytest.raises(ValueError, match=r"tiny\.json: onnx\.sha256: .* out of step"):
        read_sidecar(onnx_file)


def test_sha256_mismatch_of_the_engine_file(engine_file: Path) -> None:
    engine_file.write_bytes(b"truncated")
    with pytest.raises(ValueError, match=r"engine\.json: engine\.sha256: .* out of step"):
        read_sidecar(engine_file)


def test_write_refuses_a_sidecar_of_another_file(onnx_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.onnx"
    other.write_bytes(b"another model")
    with pytest.raises(ValueError, match=r"onnx\.sha256"):
        write_sidecar(other, _sidecar(onnx_file))
    assert not sidecar_path(other).exists()
    engine = tmp_path / "e.engine"
    engine.write_bytes(b"engine")
    with pytest.raises(ValueError, match="engine section"):
        write_sidecar(engine, _sidecar(onnx_file))
    with pytest.raises(FileNotFoundError):
        write_sidecar(tmp_path / "absent.onnx", _sidecar(onnx_file))


def test_the_dataclass_validates_what_it_holds(onnx_file: Path) -> None:
    side = _sidecar(onnx_file)
    with pytest.raises(ValueError, match="precision"):
        replace(side, precision="bf16")
    with pytest.raises(ValueError, match=r"onnx\.sha256"):
        replace(side, onnx=replace(side.onnx, sha256="xyz"))
    with pytest.raises(ValueError, match="format"):
        replace(side, schema_version=2)
    with pytest.raises(ValueError, match="recommended_frames"):
        replace(side.input, recommended_frames=66)


# ----------------------------------------------------------------------------- engine -> ONNX


def test_an_engine_finds_its_onnx_by_name_and_hash(engine_file: Path, onnx_file: Path) -> None:
    assert onnx_for_engine(engine_file) == onnx_file
    # A different ONNX file under the recorded name (re-exported since) is not the same network.
    onnx_file.write_bytes(b"re-exported")
    with pytest.raises(FileNotFoundError, match="no ONNX model to fall back to"):
        onnx_for_engine(engine_file)


def test_an_engine_of_a_bundled_model_falls_back_to_it(tmp_path: Path) -> None:
    bundled = read_sidecar(bundled_model_path("physnet"))
    engine = tmp_path / "physnet_fp16.engine"
    engine.write_bytes(b"engine")
    write_sidecar(engine, replace(bundled, engine=_engine_info(engine, source_onnx="gone.onnx")))
    assert onnx_for_engine(engine) == bundled_model_path("physnet")
