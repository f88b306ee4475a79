"""What a batch run measures: video files from a folder, or from a CSV / JSONL manifest.

A folder is walked recursively for video files (:data:`VIDEO_SUFFIXES`); each video's id is its
path relative to the folder. A manifest lists one video per row: a ``path`` column (relative
paths are relative to the manifest's folder), an optional ``video_id`` column, and any other
columns, which travel with the video as its metadata (subject, session, camera...) into the
summary table.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["VIDEO_SUFFIXES", "VideoItem", "discover_inputs"]

#: File suffixes a folder walk takes as videos (case-insensitive).
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class VideoItem:
    """One video of a batch.

    Attributes
    ----------
    video_id
        Stable name of the video in the outputs (relative path, or the manifest's ``video_id``).
    path
        The file.
    metadata
        The manifest's other columns for this video (strings from CSV, JSON values from JSONL).
    """

    video_id: str
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """File-name-safe, collision-free name for this video's output files."""
        digest = hashlib.sha1(self.video_id.encode()).hexdigest()[:12]
        stem = _UNSAFE.sub("_", self.video_id)[-60:].strip("_.") or "video"
        return f"{stem}-{digest}"


def discover_inputs(source: str | Path) -> list[VideoItem]:
    """The videos ``source`` names: a folder (recursive), a ``.csv`` or a ``.jsonl`` manifest.

    Raises
    ------
    FileNotFoundError
        ``source`` does not exist.
    ValueError
        A manifest without a ``path`` column, with duplicate video ids, or a file that is neither
        a folder nor a ``.csv`` / ``.jsonl`` manifest.
    """
    if not isinstance(source, str | Path):
        raise TypeError(f"source: expected a folder or manifest path, got {type(source).__name__}")
    src = Path(source)
    if not src.exists():
        raise FileNotFoundError(f"input: {src} does not exist")
    if src.is_dir():
        items = [
            VideoItem(p.relative_to(src).as_posix(), p)
            for p in sorted(src.rglob("*"))
            if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
        ]
    elif src.suffix.lower() == ".csv":
        with src.open(newline="") as f:
            items = _from_rows(src, list(csv.DictReader(f)))
    elif src.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        for n, line in enumerate(src.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{src}:{n}: expected one JSON object per line ({exc})") from exc
            if not isinstance(row, dict):
                raise ValueError(f"{src}:{n}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
        items = _from_rows(src, rows)
    else:
        raise ValueError(
            f"input: expected a folder of videos or a .csv / .jsonl manifest, got {src}"
        )
    seen: dict[str, Path] = {}
    for it in items:
        if it.video_id in seen:
            raise ValueError(
                f"input: video id {it.video_id!r} appears twice ({seen[it.video_id]}, {it.path})"
            )
        seen[it.video_id] = it.path
    return items


def _from_rows(manifest: Path, rows: list[dict[str, Any]]) -> list[VideoItem]:
    items = []
    for n, row in enumerate(rows, 1):
        raw = row.get("path")
        if raw is None or str(raw).strip() == "":
            raise ValueError(f"{manifest}: row {n} has no 'path' (columns: {sorted(row)})")
        p = Path(str(raw).strip()).expanduser()
        if not p.is_absolute():
            p = Path(os.path.normpath(manifest.parent / p))
        vid = row.get("video_id")
        video_id = str(vid) if vid not in (None, "") else str(raw).strip()
        meta = {k: v for k, v in row.items() if k not in ("path", "video_id")}
        items.append(VideoItem(video_id, p, meta))
    return items
