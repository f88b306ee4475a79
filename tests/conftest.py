"""Shared test fixtures: optional dependencies and real recordings that may be absent.

Locally an absent optional package or recording skips the tests that need it, with the reason.
CI (``CI=true``) installs every extra and has ``../shared`` beside the clone, so there an absence
is a broken install and fails the test instead: a broken extra cannot turn into a green run of
skips. GPU tests are the exception and skip everywhere without a GPU (their own ``skipif``).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

#: Real recordings shared by the project, outside the repository (``../shared/data/real`` from
#: the repository root); never copied in. See ``shared/data/README.md`` for what each holds.
REAL_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def running_in_ci() -> bool:
    """Whether this is a CI run (``CI=true``, as CI services set it): nothing may be absent."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def absent(reason: str) -> NoReturn:
    """Skip the calling test (or module) for ``reason``; under CI fail with it instead."""
    if running_in_ci():
        pytest.fail(f"{reason} [CI=true: CI installs every extra and has ../shared]", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str, extra: str | None = None) -> ModuleType:
    """Import ``name``, or skip (fail under CI) naming the extra that installs it.

    ``extra`` is the ``pyproject.toml`` extra that declares the package; ``None`` for a runtime
    dependency, which every install has.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        where = f'pip install ".[{extra}]"' if extra else "a runtime dependency: pip install ."
        absent(f"{name} is not importable ({exc}); {where}")


def require_real_data(*parts: str) -> Path:
    """Path of ``REAL_DATA_DIR / parts``, or skip (fail under CI) when it is absent."""
    path = REAL_DATA_DIR.joinpath(*parts)
    if not path.exists():
        absent(f"real data not available: {path} is absent (see shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real-data folder; skips the test when it is absent."""
    return require_real_data()


@pytest.fixture(scope="session")
def wfdb_vitals_rows(real_data_dir: Path) -> list[Any]:
    """The PRV / breathing comparison of ``real/wfdb/mixedsignals`` per 60 s window (PPG against
    the ECG's R-R intervals and the respiration channel), computed once for every test module."""
    require_module("wfdb", extra="test")
    require_module("scipy", extra="test")
    if not (real_data_dir / "wfdb" / "mixedsignals.hea").exists():
        pytest.skip("wfdb/mixedsignals is absent")
    from evaluation.vitals import wfdb_rows  # noqa: PLC0415  (only the tests that need it)

    return list(wfdb_rows(real_data_dir))


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
