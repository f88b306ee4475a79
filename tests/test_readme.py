"""README.md's two set-up commands are what CI runs, word for word."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line.strip() for block in blocks[:2] for line in block.strip().splitlines()]


def test_ci_runs_the_readme_setup_and_test_commands_verbatim() -> None:
    setup, test = _readme_commands()[:2]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert setup in ci_lines
    assert test in ci_lines
    assert ci_lines.index(setup) < ci_lines.index(test)
    assert "rppg-sdk demo" in setup and "pytest" in test


def test_readme_setup_installs_the_extras_that_the_demo_and_tests_need() -> None:
    setup = _readme_commands()[0]
    named = re.search(r'"\.\[([a-z,]+)\]"', setup)
    assert named, f"no .[extras] install in {setup!r}"
    extras = set(named.group(1).split(","))
    with (ROOT / "pyproject.toml").open("rb") as f:
        declared = set(tomllib.load(f)["project"]["optional-dependencies"])
    # demo: `rppg-sdk demo` renders and plots; test and train: the tests and what they import.
    assert {"demo", "test", "train"} <= extras <= declared
