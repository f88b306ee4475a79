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


@pytest.fixture
def torch_seeded() -> None:
    """Seed torch's global generator (tests of models and losses use it)."""
    import torch  # noqa: PLC0415  (only the training tests need torch)

    torch.manual_seed(0)


@pytest.fixture(scope="module")
def torch_one_thread():  # type: ignore[no-untyped-def]
    """One torch thread for a module: on tiny tensors threads only add overhead, and they
    thrash when the CI runner is busy."""
    import torch  # noqa: PLC0415

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
