"""The examples under examples/ run as a user runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import require_module

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_driver_monitoring_example_prints_events() -> None:
    require_module("skimage", extra="demo")  # the cabin renderer's face
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "driver_monitoring.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout
    assert run.returncode == 0, run.stdout + run.stderr
    # The hand (13.5-15 s) and the second head turn (22.5-24 s) take the face away and back,
    # and each return continues the stream (no warm-up).
    assert re.search(r"1[34]\.0 s  quality \w+ -> no_face", out), out
    assert not re.search(r"no_face -> warming_up", out), out
    assert "warm-ups after a face loss: 0" in out
    dropped = int(re.search(r"dark frames dropped: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert 400 <= dropped <= 460  # every other frame of 30 s at 30 fps is dark
