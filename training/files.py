"""Atomic file writes with unique temporary names, safe when several processes write one cache.

A DDP run starts one process per rank, and two of them may write the same cache entry or
checkpoint. A fixed temporary name (``frames.tmp.npy``) lets one process rename the other's
half-written file, or find its own gone; a name from :func:`tempfile.mkstemp` in the target's
folder cannot collide, and :func:`os.replace` within one folder is atomic, so a reader sees the
old file or the new one, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a fresh, unique temporary path beside ``target``; move it onto ``target`` on success.

    The temporary file keeps ``target``'s suffix (``np.save`` and ``np.savez`` append one when it
    is missing). If the block raises, the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
