"""The runtime install (``pip install rppg-sdk``) carries what the SDK runs on and nothing more.

``pyproject.toml`` is checked on every run. The slow tests build the wheel once, install it
without extras into a fresh virtual environment (its own site-packages: no
``--system-site-packages``; pip's cache is reused), and run the SDK there (a C++ build and a PyPI
install, 2-4 minutes): ``pytest -m slow tests/test_install.py``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]

#: Import names of what the demo and training extras install: none may come with the runtime.
NOT_IN_RUNTIME = ("skimage", "tqdm", "torch")
#: Distribution names the runtime requirements may not name (matplotlib included: mediapipe
#: 0.10.21 requires it itself, so it is importable, but not through rppg-sdk's own list).
DEMO_AND_TRAIN_DISTS = ("scikit-image", "tqdm", "matplotlib", "torch", "onnx")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def _runtime_dependencies() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return [_name(r) for r in tomllib.load(f)["project"]["dependencies"]]


def test_runtime_dependencies_name_no_demo_or_training_package() -> None:
    runtime = _runtime_dependencies()
    assert "mediapipe" in runtime and "onnxruntime" in runtime
    assert not set(runtime) & set(DEMO_AND_TRAIN_DISTS)


def test_the_one_opencv_declared_is_the_one_mediapipe_requires() -> None:
    # mediapipe pulls its own OpenCV; declaring another would put two in one cv2/ folder.
    opencv = [n for n in _runtime_dependencies() if n.startswith("opencv")]
    mediapipe_opencv = [
        n for n in map(_name, importlib.metadata.requires("mediapipe") or []) if "opencv" in n
    ]
    assert opencv == mediapipe_opencv == ["opencv-contrib-python"]


def _env() -> dict[str, str]:
    """This process's environment without what would leak the test's own packages in."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=1800)


def _check(proc: subprocess.CompletedProcess[str]) -> str:
    tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{proc.args} failed:\n{tail}"
    return proc.stdout


@pytest.fixture(scope="module")
def runtime_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bin/`` of a fresh venv holding the wheel and its runtime dependencies only."""
    work = tmp_path_factory.mktemp("install")
    # A build folder of its own: the checkout's build/ belongs to the editable install.
    _check(
        _run(
            [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w",
             str(work / "dist"), "-C", f"build-dir={work / 'build'}"],
            work,
        )
    )
    (wheel,) = (work / "dist").glob("rppg_sdk-*.whl")
    _check(_run([sys.executable, "-m", "venv", str(work / "venv")], work))
    bin_dir = work / "venv" / "bin"
    _check(_run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], work))
    return bin_dir


def _python(bin_dir: Path, code: str, cwd: Path) -> dict[str, Any]:
    """Run ``code`` in the runtime venv; it prints one JSON object as its last line."""
    out = _check(_run([str(bin_dir / "python"), "-c", code], cwd))
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_monitor_runs_without_demo_or_training_packages(runtime_bin: Path, tmp_path: Path) -> None:
    code = f"""
import importlib.util, json, sys
import numpy as np
import rppg_sdk
from rppg_sdk import HeartRateMonitor, MonitorOptions
import rppg_sdk.cli, rppg_sdk.plots, rppg_sdk.synthetic  # importable: their extras load lazily
OPTIONAL = {{"skimage", "tqdm", "torch", "matplotlib", "training", "deploy"}}
def loaded():
    return sorted({{m.split(".")[0] for m in sys.modules}} & OPTIONAL)
on_import = loaded()
rng = np.random.default_rng(0)
with HeartRateMonitor(MonitorOptions()) as monitor:
    for i in range(60):
        monitor.process(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), i / 30.0)
print(json.dumps({{
    "file": rppg_sdk.__file__,
    "importable": [m for m in {NOT_IN_RUNTIME!r} if importlib.util.find_spec(m) is not None],
    "on_import": on_import,
    "after_frames": loaded(),
}}))
"""
    got = _python(runtime_bin, code, tmp_path)
    assert str(got["file"]).startswith(str(runtime_bin.parent))  # the wheel, not the checkout
    assert got["importable"] == []
    assert got["on_import"] == []
    # `import mediapipe` imports matplotlib itself (its drawing utilities); nothing else may load.
    assert got["after_frames"] in ([], ["matplotlib"])


@pytest.mark.slow
def test_runtime_requirements_name_no_demo_or_training_package(
    runtime_bin: Path, tmp_path: Path
) -> None:
    code = """
import importlib.metadata as md, json, re
def names(dist, extra_free=True):
    reqs = md.requires(dist) or []
    return [re.split(r"[<>=!~;\\[ ]", r, maxsplit=1)[0].lower() for r in reqs
            if not extra_free or "extra ==" not in r]
print(json.dumps({
    "rppg": names("rppg-sdk"),
    "mediapipe": names("mediapipe"),
    "installed": sorted(d.metadata["Name"].lower() for d in md.distributions()),
}))
"""
    got = _python(runtime_bin, code, tmp_path)
    rppg, installed = got["rppg"], got["installed"]
    assert rppg and not set(rppg) & set(DEMO_AND_TRAIN_DISTS)
    # Whatever demo package is installed came with mediapipe, not with rppg-sdk.
    for dist in set(installed) & set(DEMO_AND_TRAIN_DISTS):
        assert dist in got["mediapipe"], f"{dist} is installed and mediapipe does not need it"


@pytest.mark.slow
def test_one_opencv_with_a_gui_so_live_can_open_a_window(runtime_bin: Path, tmp_path: Path) -> None:
    code = """
import importlib.metadata as md, json
import cv2
gui = [l.split(":", 1)[1].strip() for l in cv2.getBuildInformation().splitlines()
       if l.strip().startswith("GUI:")]
print(json.dumps({
    "opencv": sorted(d.metadata["Name"].lower() for d in md.distributions()
                     if d.metadata["Name"].lower().startswith("opencv")),
    "gui": gui,
}))
"""
    got = _python(runtime_bin, code, tmp_path)
    # Two OpenCV distributions share one cv2/ folder and the last installed wins: one only.
    assert got["opencv"] == ["opencv-contrib-python"]
    assert got["gui"] and got["gui"] != ["NONE"]


@pytest.mark.slow
def test_measure_runs_on_the_runtime_install(runtime_bin: Path, tmp_path: Path) -> None:
    video = tmp_path / "noise.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(60):
        writer.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    writer.release()
    out = tmp_path / "readings.json"
    proc = _run(
        [str(runtime_bin / "rppg-sdk"), "measure", str(video), "--json", str(out), "--no-progress"],
        tmp_path,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert json.loads(out.read_text())["video"] == str(video)
