"""What a batch run writes: Parquet tables (pyarrow) and JSON records, each file atomically.

``OUT/readings/<key>.parquet``
    One row per reading of one video (:func:`readings_schema`); the folder reads as one table
    (``pyarrow.dataset.dataset(OUT / "readings")``, ``pandas.read_parquet(OUT / "readings")``).
``OUT/videos/<key>.json``
    One video's summary: status (``ok``, ``faceless``, ``corrupt``, ``unreadable``, ``error``),
    reason, counts, median heart rate, metadata. Written after the readings: its presence marks
    the video finished (what a resumed run skips).
``OUT/summary.parquet``
    Those summaries as one table, rewritten at the end of every run.
``OUT/manifest.json``
    The run: input, options and their hash, SDK version, model hash, engine, counts, timings.

Every file is written to a temporary name in the same folder and renamed (``os.replace``), so a
crash or Ctrl-C leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rppg_sdk.options import MonitorOptions

__all__ = [
    "atomic_write",
    "model_sha256",
    "options_hash",
    "options_record",
    "readings_schema",
    "readings_table",
    "require_pyarrow",
    "summary_schema",
    "summary_table",
    "write_json",
    "write_parquet",
]

TMP_SUFFIX = ".tmp"


def require_pyarrow() -> Any:
    """pyarrow, or ``ImportError`` naming the extra that installs it (checked before a run
    starts, not after its first video)."""
    return _pa()


def _pa() -> Any:
    try:
        import pyarrow as pa  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            f"rppg-sdk batch writes Parquet with pyarrow ({exc}); pip install 'rppg-sdk[batch]'"
        ) from exc
    return pa


def _readings_schema() -> Any:
    pa = _pa()
    return pa.schema(
        [
            ("video_id", pa.string()),
            ("timestamp_s", pa.float64()),
            ("bpm", pa.float64()),
            ("confidence", pa.float64()),
            ("status", pa.string()),
            ("snr_db", pa.float64()),
            ("irrelevant_power_ratio", pa.float64()),
            ("raw_bpm", pa.float64()),
            ("method", pa.string()),
            ("window_s", pa.float64()),
            ("input_channels", pa.int8()),
            ("face_x", pa.int32()),
            ("face_y", pa.int32()),
            ("face_w", pa.int32()),
            ("face_h", pa.int32()),
            ("model_sha256", pa.string()),
            ("sdk_version", pa.string()),
            ("options_hash", pa.string()),
        ]
    )


def _summary_base_schema() -> Any:
    pa = _pa()
    return pa.schema(
        [
            ("video_id", pa.string()),
            ("path", pa.string()),
            ("status", pa.string()),
            ("reason", pa.string()),
            ("duration_s", pa.float64()),
            ("fps_hz", pa.float64()),
            ("segments", pa.int32()),
            ("n_readings", pa.int32()),
            ("n_rated", pa.int32()),
            ("n_confident", pa.int32()),
            ("median_bpm", pa.float64()),
            ("last_bpm", pa.float64()),
            ("mean_confidence", pa.float64()),
            ("wall_s", pa.float64()),
            ("method", pa.string()),
            ("model_sha256", pa.string()),
            ("sdk_version", pa.string()),
            ("options_hash", pa.string()),
        ]
    )


def readings_schema() -> Any:
    """The ``pyarrow.Schema`` of ``readings/*.parquet``: one row per reading."""
    return _readings_schema()


def summary_schema() -> Any:
    """The ``pyarrow.Schema`` of ``summary.parquet`` before its ``meta_<key>`` columns."""
    return _summary_base_schema()


def readings_table(rows: list[dict[str, Any]], provenance: dict[str, Any]) -> Any:
    """A ``pyarrow.Table`` of :func:`readings_schema` from reading rows and the columns every
    row shares (``video_id``, ``model_sha256``, ``sdk_version``, ``options_hash``)."""
    pa = _pa()
    schema = _readings_schema()
    cols = {f.name: [r.get(f.name, provenance.get(f.name)) for r in rows] for f in schema}
    return pa.Table.from_pydict(cols, schema=schema)


def summary_table(records: Iterable[dict[str, Any]]) -> Any:
    """The per-video summary table; each manifest metadata key becomes a ``meta_<key>`` string
    column."""
    pa = _pa()
    recs = list(records)
    base = _summary_base_schema()
    meta_keys = sorted({k for r in recs for k in (r.get("metadata") or {})})
    fields = list(base) + [pa.field(f"meta_{k}", pa.string()) for k in meta_keys]
    cols: dict[str, list[Any]] = {f.name: [r.get(f.name) for r in recs] for f in base}
    for k in meta_keys:
        cols[f"meta_{k}"] = [
            None if (v := (r.get("metadata") or {}).get(k)) is None else str(v) for r in recs
        ]
    return pa.Table.from_pydict(cols, schema=pa.schema(fields))


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:  # on disk before the rename makes it visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet(table: Any, path: Path) -> Path:
    """Write a ``pyarrow.Table`` to ``path`` atomically."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    return atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_json(obj: Any, path: Path) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=1, default=_plain)
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def options_record(options: MonitorOptions) -> dict[str, Any]:
    """``options`` as plain JSON values (nested option dataclasses as dicts, enums as values)."""
    if options.callback is not None or not isinstance(options.backend, str):
        raise ValueError(
            "options: a batch run sends its options to worker processes; pass backend by name "
            "('auto', 'onnxruntime', 'tensorrt') and no callback"
        )
    rec: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        v = getattr(options, f.name)
        rec[f.name] = _plain(v)
    return rec


def options_hash(options: MonitorOptions) -> str:
    """A short hash of every option that shapes the readings (with the model's content)."""
    rec = options_record(options)
    rec["model_sha256"] = model_sha256(options)
    text = json.dumps(rec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def model_sha256(options: MonitorOptions) -> str | None:
    """SHA-256 of the model file a model method runs (``None`` for classical methods)."""
    from rppg_sdk.extractors import Method  # noqa: PLC0415

    if options.method is not Method.MODEL or options.model is None:
        return None
    from rppg_sdk.models import available_models, bundled_model_path  # noqa: PLC0415

    name = str(options.model)
    path = bundled_model_path(name) if name.lower() in available_models() else Path(name)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _plain(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.value
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return repr(v)
