#!/usr/bin/env bash
# TensorRT check of the shipped models on a machine with an NVIDIA GPU (or a Jetson).
#
#   bash deploy/gpu_check.sh            # from the repository root
#
# 1. shows the GPU (nvidia-smi, or the Jetson model);
# 2. makes a virtualenv that also sees the system's packages (an NGC / JetPack TensorRT stays
#    visible) and installs what is missing from wheels in .whl/ (no index needed: numpy, onnx,
#    onnxruntime, cuda-python, tensorrt-cu12 + its libs, ...), then, if TensorRT is still missing,
#    tries the package index (NVIDIA's tensorrt-cu12 wheels need pypi.nvidia.com);
# 3. for physnet and autohr, FP32 / FP16 / INT8: builds the engine with deploy/build_engine.py
#    (timing cache, INT8 entropy calibrator with its cache), rebuilds FP16 on the warm timing
#    cache, checks parity against ONNX Runtime on the CPU, times the engine (ms per second of
#    video) and runs the backend's error paths (corrupt engine, wrong chunk length);
# 4. writes gpu_check.json (and the engines' metadata) to $OUT, or build/deploy/gpu_check.
# Without the TensorRT Python bindings but with the `trtexec` tool (TensorRT's C++ install), it
# builds and times the FP32/FP16 engines with trtexec instead (no parity check then).
#
# Exit status: 0 all FP32/FP16 checks passed; 1 one failed; 2 no GPU; 3 no TensorRT 10.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-build/deploy/gpu_check}"
mkdir -p "$OUT_DIR"
say() { echo "[gpu_check] $*"; }

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
elif [ -r /proc/device-tree/model ]; then
    say "Jetson: $(tr -d '\0' </proc/device-tree/model)"
    [ -r /etc/nv_tegra_release ] && head -1 /etc/nv_tegra_release
else
    say "no NVIDIA GPU visible (nvidia-smi finds none): nothing to check here"
    exit 2
fi

PY="${PYTHON:-python3}"
VENV="${VENV:-/tmp/rppg-gpu-venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv --system-site-packages "$VENV" || { say "cannot create a virtualenv with $PY"; exit 3; }
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python --version

have() { python - "$1" <<'EOF' >/dev/null 2>&1
import importlib, sys
m = importlib.import_module(sys.argv[1])
assert sys.argv[1] != "tensorrt" or hasattr(m, "Builder")  # not just the type stubs
EOF
}
pip_local() { python -m pip install -q --disable-pip-version-check --no-index --find-links .whl "$@"; }

if [ -d .whl ]; then
    say "installing from .whl/: $(ls .whl | tr '\n' ' ')"
    # Everything at once first (dependencies resolve among the carried wheels), then one by one.
    pip_local .whl/*.whl >/dev/null 2>&1 || true
fi
for spec in numpy:numpy onnx:onnx onnxruntime:onnxruntime cuda.bindings.runtime:cuda-python \
            tensorrt:tensorrt-cu12; do
    mod="${spec%%:*}"; pkg="${spec##*:}"
    have "$mod" && continue
    if [ -d .whl ]; then pip_local "$pkg" >/dev/null 2>&1 && continue; fi
    # Last resort: the index (times out quickly where there is no network).
    timeout 300 python -m pip install -q --disable-pip-version-check --timeout 20 "$pkg" \
        >/dev/null 2>&1 || true
    if [ "$mod" = "cuda.bindings.runtime" ] && have cuda.cudart; then continue; fi
    have "$mod" || say "could not install $pkg"
done
if ! have tensorrt; then
    # No Python bindings: the TensorRT command-line tool, if the system has it, can still build
    # and time the engines (no parity check: that needs the bindings).
    TRTEXEC="$(command -v trtexec || ls /usr/src/tensorrt/bin/trtexec /opt/tensorrt/bin/trtexec 2>/dev/null | head -1)"
    if [ -n "$TRTEXEC" ]; then
        say "no TensorRT Python bindings; building with $TRTEXEC instead (no parity check)"
        status=0
        for name in physnet autohr; do
            # C, H, W and the recommended T from the sidecar.
            read -r c h w rec < <(python -c "import json; i = json.load(open('python/rppg_sdk/models/$name.json'))['input']; print(i['channels'], i['height'], i['width'], i['recommended_frames'])")
            for prec in fp32 fp16; do
                flag=""; [ "$prec" = fp16 ] && flag="--fp16"
                log="$OUT_DIR/trtexec_${name}_${prec}.log"
                if "$TRTEXEC" --onnx="python/rppg_sdk/models/$name.onnx" $flag \
                    --minShapes="video:1x${c}x32x${h}x${w}" \
                    --optShapes="video:1x${c}x${rec}x${h}x${w}" \
                    --maxShapes="video:1x${c}x$((2 * rec))x${h}x${w}" \
                    --saveEngine="$OUT_DIR/${name}_${prec}.engine" >"$log" 2>&1; then
                    say "$name $prec: built; $(grep -E 'GPU Compute Time' "$log" | tail -1)"
                else
                    say "$name $prec: trtexec FAILED (see $log)"; status=1
                fi
            done
        done
        exit $status
    fi
    say "TensorRT 10 is not installed and could not be installed (carry tensorrt_cu12*, "
    say "tensorrt_cu12_libs and tensorrt_cu12_bindings wheels in .whl/, or use an NGC TensorRT "
    say "container / JetPack 6): the engine cannot be built here"
    exit 3
fi

OUT_DIR="$OUT_DIR" python - <<'EOF'
import json
import os
import statistics
import sys
import time
import traceback
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, os.getcwd())
try:
    import rppg_sdk  # noqa: F401  (the built SDK, when installed)
except Exception:  # noqa: BLE001 - without the C++ core: the pure-Python parts are enough here
    pkg = types.ModuleType("rppg_sdk")
    pkg.__path__ = [str(Path("python/rppg_sdk").resolve())]
    sys.modules["rppg_sdk"] = pkg

from deploy.build_engine import EngineOptions, build_engine, main as build_main
from deploy.verify import engine_parity
from rppg_sdk.backends.tensorrt import TensorRTBackend, cuda_runtime, import_tensorrt
from rppg_sdk.models import bundled_model_path, bundled_sidecar

out = Path(os.environ["OUT_DIR"])
trt = import_tensorrt()
res = {"tensorrt": trt.__version__, "cuda_bindings": cuda_runtime().name, "models": {}, "errors": []}
print(f"TensorRT {trt.__version__}, CUDA bindings: {res['cuda_bindings']}")
failed = False


def pulse_clips(n, c, t, s, seed=0):
    """Calibration stand-ins: noise plus a shared pulse-like wave, like normalised face chunks
    (real calibration data: python -m deploy.calibrate --source synthetic ...)."""
    rng = np.random.default_rng(seed)
    wave = np.sin(2 * np.pi * rng.uniform(0.8, 2.5, (n, 1, 1, 1, 1)) * np.arange(t)[None, None, :, None, None] / 30)
    return (rng.standard_normal((n, c, t, s, s)) * 0.7 + wave).astype(np.float32)


for name in ("physnet", "autohr"):
    side = bundled_sidecar(name)
    onnx_path = bundled_model_path(name)
    c, s = side["input"]["channels"], side["input"]["height"]
    rec = int(side["input"]["recommended_frames"])
    fps = float(side["fps_hz"])
    for prec in ("fp32", "fp16", "int8"):
        key = f"{name}_{prec}"
        try:
            opts = EngineOptions(precision=prec, frames=(32, rec, 2 * rec), timing_cache=out / "timing.cache",
                                 calibration_cache=out / f"{name}.calib" if prec == "int8" else None)
            clips = pulse_clips(8, c, rec, s) if prec == "int8" else None
            r = build_engine(onnx_path, out / f"{key}.engine", opts, sidecar=side, calibration_clips=clips)
            row = {"build_s": r.build_s, "engine_mb": r.engine_path.stat().st_size / 1e6}
            if prec == "fp16":  # the warm timing cache makes a rebuild much faster
                r = build_engine(onnx_path, out / f"{key}.engine", opts, sidecar=side)
                row["rebuild_with_timing_cache_s"] = r.build_s
            rep = engine_parity(r.engine_path, onnx_path, frames=rec,
                                clips=pulse_clips(3, c, rec, s, seed=1))
            row["parity"] = rep
            with TensorRTBackend(r.engine_path, expected_channels=c, expected_fps_hz=fps, expected_size=s) as be:
                x = pulse_clips(1, c, rec, s, seed=2)
                be.infer(x)
                times = []
                for _ in range(20):
                    t0 = time.perf_counter(); be.infer(x); times.append(time.perf_counter() - t0)
                row["ms_per_chunk"] = 1e3 * statistics.median(times)
                row["ms_per_video_s"] = row["ms_per_chunk"] / (rec / fps)
                try:
                    be.infer(pulse_clips(1, c, 4 * rec, s))
                    row["rejects_long_chunk"] = False
                except ValueError:
                    row["rejects_long_chunk"] = True
            bad = out / f"{key}_corrupt.engine"
            bad.write_bytes(r.engine_path.read_bytes()[:4096])
            (out / f"{key}_corrupt.engine.json").write_text(r.metadata_path.read_text())
            try:
                TensorRTBackend(bad)
                row["rejects_corrupt_engine"] = False
            except ValueError:
                row["rejects_corrupt_engine"] = True
            res["models"][key] = row
            ok = rep["ok"] and row["rejects_long_chunk"] and row["rejects_corrupt_engine"]
            failed |= (not ok) and prec != "int8"
            print(f"{key:14} build {row['build_s']:6.1f} s  parity max|err| {rep['max_abs_error']:.3g} "
                  f"corr {rep['correlation']:.5f} ({'ok' if rep['ok'] else 'FAILED'})  "
                  f"{row['ms_per_video_s']:.2f} ms per s of video")
        except Exception as exc:  # keep going: report every model/precision
            failed |= prec != "int8"
            res["errors"].append({"engine": key, "error": repr(exc), "trace": traceback.format_exc()})
            print(f"{key:14} FAILED: {exc!r}")

# The command line too (ONNX given: no torch needed).
try:
    rc = build_main(["--onnx", str(bundled_model_path("physnet")), "--fp16", "--out-dir", str(out / "cli")])
    res["cli_fp16_exit_status"] = rc
    failed |= rc != 0
except SystemExit as exc:
    res["cli_fp16_exit_status"] = exc.code
    failed = True
except Exception as exc:  # e.g. no `onnx` package here: the library checks above still stand
    res["errors"].append({"engine": "cli", "error": repr(exc), "trace": traceback.format_exc()})
    print(f"command line: FAILED: {exc!r}")
    failed = True

(out / "gpu_check.json").write_text(json.dumps(res, indent=2, default=str))
print(f"results: {out / 'gpu_check.json'}")
sys.exit(1 if failed else 0)
EOF
