"""Shared test fixtures: where the real recordings live, and skipping cleanly without them."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Real recordings shared by the project, outside the repository (``../shared/data/real`` from
#: the repository root); never copied in. See ``shared/data/README.md`` for what each holds.
REAL_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def require_real_data(*parts: str) -> Path:
    """Path of ``REAL_DATA_DIR / parts``, or skip the calling test when it is absent."""
    path = REAL_DATA_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real-data folder; skips the test when it is absent."""
    return require_real_data()
