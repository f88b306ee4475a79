"""The model sidecar: the JSON file beside a model that says how to feed it, in one place.

Every model file the SDK runs has a sidecar: ``x/name.onnx`` -> ``x/name.json`` (written by
``deploy/export_onnx.py``, or ``deploy/calibrate.py`` for an INT8 model), ``x/name.engine`` ->
``x/name.engine.json`` (``deploy/build_engine.py``: the ONNX sidecar plus an ``engine`` section).
This module holds its schema (:class:`ModelSidecar`, version :data:`SCHEMA_VERSION`), the path
rules (:func:`sidecar_path`, :func:`onnx_for_engine`), the file hash (:func:`file_sha256`), and
the one reader (:func:`read_sidecar`, which validates every field and the hash of the model file)
and the one writer (:func:`write_sidecar`). Both backends and every deploy script use them.

JSON layout (schema 1, ``"format": "rppg-sdk-model/1"``)::

    format, name, architecture, model_kwargs,
    input:  name ("video"), layout "NCTHW", dtype "float32", channels (1 | 3),
            channel_order ("BGR" | "RGB" | "NIR"), height, width, frames_multiple_of,
            recommended_frames (int | null)
    output: name ("pulse"), layout "NT"
    fps_hz, normalization ("temporal" | "standard" | "none"), precision ("fp32" | "fp16" | "int8"),
    onnx:   file, sha256, opset, dynamic_axes {axis name: dim}, producer
    training {...}, created_utc,
    optional: parity {...}, quantization {...}, engine {...}, engine_parity {...}

``engine``: file, sha256 (of the engine file), tensorrt, device, host, built_utc, build_s,
workspace_mib, profile {batch: [min, opt, max], frames: [min, opt, max]}, dla_core,
gpu_fallback, source_onnx, calibration_cache. ``training``, ``parity``, ``quantization`` and
``engine_parity`` are provenance and reports: JSON objects whose contents are not interpreted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rppg_sdk.backends.base import NORMALIZATIONS, ModelInputSpec

__all__ = [
    "FORMAT",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "PRECISIONS",
    "SCHEMA_VERSION",
    "EngineInfo",
    "ModelSidecar",
    "OnnxInfo",
    "file_sha256",
    "onnx_for_engine",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
]

#: Version of the sidecar schema; bump when a key is added, removed or changes meaning.
SCHEMA_VERSION = 1
#: The ``format`` value of a sidecar of this schema.
FORMAT = f"rppg-sdk-model/{SCHEMA_VERSION}"
#: Tensor names of every exported graph.
INPUT_NAME = "video"
OUTPUT_NAME = "pulse"
#: Numeric precision of a model file.
PRECISIONS = ("fp32", "fp16", "int8")

_ENGINE_SUFFIXES = (".engine", ".plan")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOP_KEYS = (
    "format", "name", "architecture", "model_kwargs", "input", "output", "fps_hz",
    "normalization", "precision", "onnx", "training", "created_utc", "parity", "quantization",
    "engine", "engine_parity",
)  # fmt: skip
_OPTIONAL_TOP_KEYS = ("parity", "quantization", "engine", "engine_parity")
_INPUT_KEYS = (
    "name", "layout", "dtype", "channels", "channel_order", "height", "width",
    "frames_multiple_of", "recommended_frames",
)  # fmt: skip


# ----------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class OnnxInfo:
    """The ``onnx`` section: the ONNX file the model is (or an engine was built from).

    Attributes
    ----------
    file
        File name of the ONNX model (beside the sidecar).
    sha256
        Hex SHA-256 of that file (checked when an ``.onnx`` model is loaded).
    opset
        ONNX opset of the default domain.
    dynamic_axes
        Axis name -> input dimension that may vary (``{"batch": 0, "frames": 2}``).
    producer
        What wrote the file (exporter and versions).
    """

    file: str
    sha256: str
    opset: int
    dynamic_axes: dict[str, int] = field(default_factory=dict)
    producer: str = ""


@dataclass(frozen=True)
class EngineInfo:
    """The ``engine`` section of an ``.engine.json``: how and where the engine was built.

    Attributes
    ----------
    file, sha256
        Engine file name and its hex SHA-256 (checked when the engine is loaded).
    tensorrt, device, host
        TensorRT version, GPU name and machine it was built on (an engine runs only there).
    built_utc, build_s
        When, and how long the build took.
    workspace_mib
        Builder workspace pool limit.
    profile_batch, profile_frames
        ``(min, opt, max)`` of the optimization profile over ``N`` and ``T``.
    dla_core, gpu_fallback
        Jetson DLA core (``None``: GPU) and whether layers may fall back to the GPU.
    source_onnx
        File name of the ONNX model it was built from (beside the engine).
    calibration_cache
        INT8 calibration cache used (``None`` for FP32/FP16).
    """

    file: str
    sha256: str
    tensorrt: str
    device: str
    host: str
    built_utc: str
    build_s: float
    workspace_mib: int
    profile_batch: tuple[int, int, int]
    profile_frames: tuple[int, int, int]
    dla_core: int | None
    gpu_fallback: bool
    source_onnx: str
    calibration_cache: str | None = None


@dataclass(frozen=True)
class ModelSidecar:
    """Everything the sidecar JSON holds (see the module docstring for its layout).

    Attributes
    ----------
    input
        The model input (:class:`~rppg_sdk.backends.base.ModelInputSpec`: channels, order,
        crop size, frame rate, normalisation, frame multiple, recommended chunk); its
        ``min_frames`` / ``max_frames`` are left wide: the model file or engine profile fixes
        them.
    architecture, model_kwargs
        How to rebuild the network in ``training.models``.
    onnx
        The ONNX file (:class:`OnnxInfo`).
    precision
        ``"fp32"``, ``"fp16"`` or ``"int8"``.
    input_name, output_name
        Graph tensor names.
    training
        Provenance (data, loss, epochs, metrics, checkpoint hash).
    created_utc
        ISO time of the export.
    parity, quantization, engine_parity
        Reports of the export, the INT8 quantization and the engine build (``None``: absent).
    engine
        Engine build information (:class:`EngineInfo`), ``.engine.json`` only.
    schema_version
        :data:`SCHEMA_VERSION` of the layout.
    """

    input: ModelInputSpec
    architecture: str
    model_kwargs: dict[str, Any]
    onnx: OnnxInfo
    precision: str = "fp32"
    input_name: str = INPUT_NAME
    output_name: str = OUTPUT_NAME
    training: dict[str, Any] = field(default_factory=dict)
    created_utc: str = ""
    parity: dict[str, Any] | None = None
    quantization: dict[str, Any] | None = None
    engine: EngineInfo | None = None
    engine_parity: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision: expected one of {PRECISIONS}, got {self.precision!r}")
        if not _SHA256.fullmatch(self.onnx.sha256):
            raise ValueError(f"onnx.sha256: expected 64 hex digits, got {self.onnx.sha256!r}")
        if self.engine is not None and not _SHA256.fullmatch(self.engine.sha256):
            raise ValueError(f"engine.sha256: expected 64 hex digits, got {self.engine.sha256!r}")
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(
                f"format: expected schema {SCHEMA_VERSION}, got {self.schema_version}"
            )

    @property
    def name(self) -> str:
        """Model name (``"physnet"``)."""
        return self.input.name

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to disk (the layout of the module docstring)."""
        s = self.input
        out: dict[str, Any] = {
            "format": FORMAT,
            "name": s.name,
            "architecture": self.architecture,
            "model_kwargs": dict(self.model_kwargs),
            "input": {
                "name": self.input_name,
                "layout": "NCTHW",
                "dtype": "float32",
                "channels": s.channels,
                "channel_order": s.channel_order,
                "height": s.height,
                "width": s.width,
                "frames_multiple_of": s.frames_multiple_of,
                "recommended_frames": s.recommended_frames,
            },
            "output": {"name": self.output_name, "layout": "NT"},
            "fps_hz": s.fps_hz,
            "normalization": s.normalization,
            "precision": self.precision,
            "onnx": {
                "file": self.onnx.file,
                "sha256": self.onnx.sha256,
                "opset": self.onnx.opset,
                "dynamic_axes": dict(self.onnx.dynamic_axes),
                "producer": self.onnx.producer,
            },
            "training": dict(self.training),
            "created_utc": self.created_utc,
        }
        for key in ("parity", "quantization"):
            if getattr(self, key) is not None:
                out[key] = dict(getattr(self, key))
        if self.engine is not None:
            e = self.engine
            out["engine"] = {
                "file": e.file,
                "sha256": e.sha256,
                "tensorrt": e.tensorrt,
                "device": e.device,
                "host": e.host,
                "built_utc": e.built_utc,
                "build_s": e.build_s,
                "workspace_mib": e.workspace_mib,
                "profile": {"batch": list(e.profile_batch), "frames": list(e.profile_frames)},
                "dla_core": e.dla_core,
                "gpu_fallback": e.gpu_fallback,
                "source_onnx": e.source_onnx,
                "calibration_cache": e.calibration_cache,
            }
        if self.engine_parity is not None:
            out["engine_parity"] = dict(self.engine_parity)
        return out

    @classmethod
    def from_json(cls, data: object, source: str | Path = "sidecar") -> ModelSidecar:
        """Validate a parsed sidecar; ``source`` (the file) is named in every error.

        Raises
        ------
        ValueError
            ``"<source>: <field>: expected ..., got ..."`` for the first bad, missing or unknown
            field.
        """
        return _Reader(str(source)).sidecar(data)


# ----------------------------------------------------------------------------- paths, hash


def sidecar_path(model_path: str | Path) -> Path:
    """``x/name.onnx`` -> ``x/name.json``; ``x/name.engine`` -> ``x/name.engine.json``."""
    p = Path(model_path)
    return p.with_suffix(".json") if p.suffix == ".onnx" else p.with_name(p.name + ".json")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_engine(path: Path) -> bool:
    return path.suffix in _ENGINE_SUFFIXES


# ----------------------------------------------------------------------------- read, write


def read_sidecar(model_path: str | Path) -> ModelSidecar:
    """The validated sidecar of ``model_path`` (an ``.onnx`` or ``.engine`` file).

    Every field is checked (type, allowed values, no unknown keys), and the hash of the model
    file against the sidecar: ``onnx.sha256`` for an ONNX model, ``engine.sha256`` for an engine
    (an engine sidecar without an ``engine`` section describes the input only).

    Raises
    ------
    FileNotFoundError
        No sidecar beside the model.
    ValueError
        The sidecar is not JSON, a field is missing, of the wrong type, unknown or out of range,
        or the model file's SHA-256 differs from the sidecar's: the message names the sidecar
        file and the field.
    """
    model_path = Path(model_path)
    path = sidecar_path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected the model's sidecar JSON beside {model_path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path}: expected a JSON model sidecar, got unparsable text ({exc})"
        ) from exc
    side = ModelSidecar.from_json(data, path)
    if _is_engine(model_path):
        what, want = "engine.sha256", side.engine.sha256 if side.engine is not None else None
    else:
        what, want = "onnx.sha256", side.onnx.sha256
    if want is not None and model_path.is_file():
        got = file_sha256(model_path)
        if got != want:
            raise ValueError(
                f"{path}: {what}: the sidecar's {want[:12]}... does not match {model_path} "
                f"({got[:12]}...): the model and its description are out of step"
            )
    return side


def write_sidecar(model_path: str | Path, sidecar: ModelSidecar) -> Path:
    """Write ``sidecar`` beside ``model_path``; returns the JSON path.

    The sidecar's hash of the model file (``onnx.sha256``, or ``engine.sha256`` for an engine)
    must match the file, so a sidecar is never written for another file. The JSON is written
    to a temporary file and renamed, so a reader never sees half a sidecar.

    Raises
    ------
    FileNotFoundError
        No model file.
    ValueError
        The sidecar's hash does not match the model file, or an engine sidecar has no
        ``engine`` section.
    """
    model_path = Path(model_path)
    path = sidecar_path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: expected the model file the sidecar describes")
    if _is_engine(model_path):
        if sidecar.engine is None:
            raise ValueError(f"{path}: engine: expected an engine section for {model_path}")
        what, want = "engine.sha256", sidecar.engine.sha256
    else:
        what, want = "onnx.sha256", sidecar.onnx.sha256
    got = file_sha256(model_path)
    if got != want:
        raise ValueError(
            f"{path}: {what}: {want[:12]}... is not the hash of {model_path} ({got[:12]}...)"
        )
    text = json.dumps(sidecar.to_json(), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def onnx_for_engine(engine_path: str | Path) -> Path:
    """The ONNX model an engine was built from, to run in ONNX Runtime where TensorRT cannot.

    The engine's sidecar names it: ``engine.source_onnx`` beside the engine, else the bundled
    model of the sidecar's ``name``; either must have the SHA-256 the sidecar records in
    ``onnx.sha256`` (the same network, not another version of it).

    Raises
    ------
    FileNotFoundError
        No engine sidecar, or no ONNX model with that hash.
    ValueError
        The engine sidecar is invalid.
    """
    engine_path = Path(engine_path)
    side = read_sidecar(engine_path)
    candidates: list[Path] = []
    if side.engine is not None and side.engine.source_onnx:
        candidates.append(engine_path.parent / side.engine.source_onnx)
    from rppg_sdk.models import available_models, bundled_model_path  # noqa: PLC0415

    if side.name in available_models():
        candidates.append(bundled_model_path(side.name))
    for onnx_path in candidates:
        if onnx_path.is_file() and file_sha256(onnx_path) == side.onnx.sha256:
            return onnx_path
    tried = ", ".join(str(c) for c in candidates) or "none"
    raise FileNotFoundError(
        f"{engine_path}: no ONNX model to fall back to (expected one with onnx.sha256 "
        f"{side.onnx.sha256[:12]}... of {sidecar_path(engine_path)}; tried: {tried})"
    )


# ----------------------------------------------------------------------------- validation


class _Reader:
    """Field-by-field checks of a parsed sidecar; every error names the file and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, expected: str, got: object) -> ValueError:
        return ValueError(f"{self.source}: {where}: expected {expected}, got {got!r}")

    def obj(self, data: object, where: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()
            ) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where or "top level", "a JSON object", type(data).__name__)
        for key in keys:
            if key not in data and key not in optional:
                field_name = f"{where}.{key}".lstrip(".")
                raise ValueError(f"{self.source}: {field_name}: expected a value, it is missing")
        unknown = sorted(set(data) - set(keys))
        if unknown:
            raise self.fail(f"{where}.{unknown[0]}".lstrip("."),
                            f"one of the known fields {list(keys)}", unknown[0])
        return data

    def string(self, d: dict[str, Any], key: str, where: str, choices: tuple[str, ...] = ()
               ) -> str:
        v = d[key]
        if not isinstance(v, str) or (choices and v not in choices):
            raise self.fail(f"{where}{key}", f"one of {list(choices)}" if choices else "a string",
                            v)
        return v

    def integer(self, d: dict[str, Any], key: str, where: str, lo: int = 0,
                nullable: bool = False) -> int | None:
        v = d[key]
        if v is None and nullable:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise self.fail(f"{where}{key}", f"an integer >= {lo}" + (" or null" * nullable), v)
        return v

    def number(self, d: dict[str, Any], key: str, where: str) -> float:
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not v == v:
            raise self.fail(f"{where}{key}", "a number", v)
        return float(v)

    def mapping(self, d: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
        v = d[key]
        if not isinstance(v, dict):
            raise self.fail(f"{where}{key}", "a JSON object", v)
        return dict(v)

    def triple(self, d: dict[str, Any], key: str, where: str) -> tuple[int, int, int]:
        v = d[key]
        if (
            not isinstance(v, list)
            or len(v) != 3
            or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in v)
            or not v[0] <= v[1] <= v[2]
        ):
            raise self.fail(f"{where}{key}", "[min, opt, max] positive integers in order", v)
        return int(v[0]), int(v[1]), int(v[2])

    def sidecar(self, data: object) -> ModelSidecar:
        top = self.obj(data, "", _TOP_KEYS, _OPTIONAL_TOP_KEYS)
        fmt = top["format"]
        if fmt != FORMAT:
            raise self.fail("format", repr(FORMAT) + " (this SDK reads sidecar schema "
                            f"{SCHEMA_VERSION}; re-export the model)", fmt)
        name = self.string(top, "name", "")
        if not name:
            raise self.fail("name", "a non-empty model name", name)
        inp = self.obj(top["input"], "input", _INPUT_KEYS)
        self.string(inp, "layout", "input.", ("NCTHW",))
        self.string(inp, "dtype", "input.", ("float32",))
        out = self.obj(top["output"], "output", ("name", "layout"))
        self.string(out, "layout", "output.", ("NT",))
        multiple = self.integer(inp, "frames_multiple_of", "input.", lo=1)
        assert multiple is not None
        fields: dict[str, Any] = {
            "name": name,
            "channels": self.integer(inp, "channels", "input.", lo=1),
            "channel_order": self.string(inp, "channel_order", "input."),
            "height": self.integer(inp, "height", "input.", lo=1),
            "width": self.integer(inp, "width", "input.", lo=1),
            "frames_multiple_of": multiple,
            "min_frames": multiple,
            "recommended_frames": self.integer(inp, "recommended_frames", "input.", lo=1,
                                               nullable=True),
            "fps_hz": self.number(top, "fps_hz", ""),
            "normalization": self.string(top, "normalization", "", NORMALIZATIONS),
        }
        if not fields["fps_hz"] > 0:
            raise self.fail("fps_hz", "a positive frame rate", top["fps_hz"])
        try:
            spec = ModelInputSpec(**fields)
        except ValueError as exc:  # its messages start with the field: say which file
            raise ValueError(f"{self.source}: input.{exc}") from exc
        onnx = self.obj(top["onnx"], "onnx", ("file", "sha256", "opset", "dynamic_axes",
                                              "producer"))
        sha = self.string(onnx, "sha256", "onnx.")
        if not _SHA256.fullmatch(sha):
            raise self.fail("onnx.sha256", "64 lowercase hex digits", sha)
        axes = self.mapping(onnx, "dynamic_axes", "onnx.")
        for axis, dim in axes.items():
            if isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim < 5:
                raise self.fail(f"onnx.dynamic_axes.{axis}", "an input dimension 0-4", dim)
        opset = self.integer(onnx, "opset", "onnx.", lo=1)
        assert opset is not None
        onnx_info = OnnxInfo(
            file=self.string(onnx, "file", "onnx."),
            sha256=sha,
            opset=opset,
            dynamic_axes=axes,
            producer=self.string(onnx, "producer", "onnx."),
        )
        optional = {
            key: (self.mapping(top, key) if top.get(key) is not None else None)
            for key in ("parity", "quantization", "engine_parity")
        }
        model_kwargs = self.mapping(top, "model_kwargs")
        return ModelSidecar(
            input=spec,
            architecture=self.string(top, "architecture", ""),
            model_kwargs=model_kwargs,
            onnx=onnx_info,
            precision=self.string(top, "precision", "", PRECISIONS),
            input_name=self.string(inp, "name", "input."),
            output_name=self.string(out, "name", "output."),
            training=self.mapping(top, "training"),
            created_utc=self.string(top, "created_utc", ""),
            parity=optional["parity"],
            quantization=optional["quantization"],
            engine=self.engine(top["engine"]) if top.get("engine") is not None else None,
            engine_parity=optional["engine_parity"],
        )

    def engine(self, data: object) -> EngineInfo:
        keys = ("file", "sha256", "tensorrt", "device", "host", "built_utc", "build_s",
                "workspace_mib", "profile", "dla_core", "gpu_fallback", "source_onnx",
                "calibration_cache")
        e = self.obj(data, "engine", keys)
        sha = self.string(e, "sha256", "engine.")
        if not _SHA256.fullmatch(sha):
            raise self.fail("engine.sha256", "64 lowercase hex digits", sha)
        profile = self.obj(e["profile"], "engine.profile", ("batch", "frames"))
        if not isinstance(e["gpu_fallback"], bool):
            raise self.fail("engine.gpu_fallback", "true or false", e["gpu_fallback"])
        cache = e["calibration_cache"]
        if cache is not None and not isinstance(cache, str):
            raise self.fail("engine.calibration_cache", "a path or null", cache)
        workspace = self.integer(e, "workspace_mib", "engine.", lo=1)
        assert workspace is not None
        return EngineInfo(
            file=self.string(e, "file", "engine."),
            sha256=sha,
            tensorrt=self.string(e, "tensorrt", "engine."),
            device=self.string(e, "device", "engine."),
            host=self.string(e, "host", "engine."),
            built_utc=self.string(e, "built_utc", "engine."),
            build_s=self.number(e, "build_s", "engine."),
            workspace_mib=workspace,
            profile_batch=self.triple(profile, "batch", "engine.profile."),
            profile_frames=self.triple(profile, "frames", "engine.profile."),
            dla_core=self.integer(e, "dla_core", "engine.", nullable=True),
            gpu_fallback=bool(e["gpu_fallback"]),
            source_onnx=self.string(e, "source_onnx", "engine."),
            calibration_cache=cache,
        )

