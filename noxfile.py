"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench` (and training/deploy ones).

Each session builds the package into its own virtualenv, so what passes here is what a user
installing the wheel gets.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint"]

# The CPU build of torch that lies on this machine's disk; an unpinned torch pulls a CUDA build.
TORCH = "torch==2.13.0"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (slow tests excluded; pass `-- -m slow` to run those)."""
    session.install(TORCH)
    session.install(".[test,train]")
    args = session.posargs or ["-m", "not slow and not gpu"]
    session.run("pytest", *args)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over everything, mypy (strict) over the runtime package."""
    session.install(TORCH)
    session.install(".[lint,train]", "tensorrt-stubs")
    session.run("ruff", "check", "python", "tests", "training", "deploy", "benchmarks", "noxfile.py")
    session.run("mypy", "python/rppg_sdk")


@nox.session
def bench(session: nox.Session) -> None:
    """Speed of the C++ core against the numpy/scipy way of doing the same job (ratios)."""
    session.install(".[test]")
    session.run("python", "benchmarks/bench_core.py", *session.posargs)
