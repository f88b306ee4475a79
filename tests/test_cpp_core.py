"""The C++ core on its own: CMake build, its ctest suite, install, and a find_package consumer.

This is the path a C++ driver-monitoring stack takes (no Python at run time). Eigen comes from
the `cmeel-eigen` wheel, as in the Python build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str | Path, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def cmake() -> str:
    exe = shutil.which("cmake")
    if exe is None:
        pytest.fail("cmake is required (pip install cmake, or the system package)")
    return exe


@pytest.fixture(scope="module")
def eigen_prefix() -> str:
    return _run(sys.executable, "-m", "cmeel", "cmake").strip()


def test_cpp_build_ctest_install_and_consumer(
    cmake: str, eigen_prefix: str, tmp_path: Path
) -> None:
    build, prefix = tmp_path / "build", tmp_path / "install"
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    _run(cmake, "-S", ROOT, "-B", build, *gen, f"-DCMAKE_PREFIX_PATH={eigen_prefix}",
         f"-DCMAKE_INSTALL_PREFIX={prefix}", "-DRPPG_BUILD_FUZZERS=ON")
    _run(cmake, "--build", build, "-j", "2")
    out = _run("ctest", "--output-on-failure", cwd=build)
    assert "100% tests passed" in out
    assert "fuzz_corpus_buffers" in out  # the fuzz corpus replays in ctest
    # A fixed number of fuzz inputs per part (no sanitizers here: `nox -s sanitize` adds them;
    # a broken contract still aborts).
    for part in ("spectral", "resample", "buffers"):
        proc = subprocess.run(
            [str(build / "rppg_fuzz_core"), "-runs=300", "-seed=1"],
            capture_output=True, text=True, timeout=600, env={**os.environ, "RPPG_FUZZ_PART": part},
        )
        assert proc.returncode == 0, f"fuzzing {part}:\n{proc.stdout}\n{proc.stderr}"
    _run(cmake, "--install", build)
    assert (prefix / "include" / "rppg" / "rppg.hpp").exists()

    consumer = tmp_path / "consumer"
    # No Eigen on this prefix path: the installed package must not need it.
    _run(cmake, "-S", ROOT / "csrc" / "examples" / "consumer", "-B", consumer, *gen,
         f"-DCMAKE_PREFIX_PATH={prefix}")
    _run(cmake, "--build", consumer)
    exe = consumer / "estimate_hr"
    printed = _run(exe, "95")  # exits non-zero when off by 1 bpm or more
    bpm = float(printed.split("heart rate:")[1].split("bpm")[0])
    assert abs(bpm - 95.0) < 1.0
