"""The models shipped inside the package (python/rppg_sdk/models): files, sidecars, graphs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import absent, require_module
from rppg_sdk.models import MODELS_DIR, available_models, bundled_model_path, bundled_sidecar

SHIPPED = ["physnet", "autohr"]


def test_both_models_ship_with_their_sidecars():
    assert set(SHIPPED) <= set(available_models())
    for name in SHIPPED:
        path = bundled_model_path(name)
        assert path.parent == MODELS_DIR and path.with_suffix(".json").is_file()
        # Small enough for a wheel an app embeds.
        assert path.stat().st_size < 5_000_000


@pytest.mark.parametrize("name", SHIPPED)
def test_sidecar_describes_the_file_it_sits_beside(name):
    import hashlib

    side = bundled_sidecar(name)
    path = bundled_model_path(name)
    assert side["onnx"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert side["name"] == name and side["onnx"]["file"] == path.name
    inp = side["input"]
    assert inp["layout"] == "NCTHW" and inp["dtype"] == "float32"
    assert inp["channels"] in (1, 3) and inp["height"] == inp["width"] >= 16
    assert inp["recommended_frames"] % inp["frames_multiple_of"] == 0
    assert side["fps_hz"] > 0 and side["normalization"] in ("temporal", "standard", "none")
    assert side["parity"]["max_abs_error"] <= side["parity"]["bound"]
    assert side["training"], "the sidecar must say what the model was trained on"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_operator_of_a_shipped_graph_is_supported_by_tensorrt(name):
    onnx = require_module("onnx", extra="train")
    from deploy.trt_onnx_ops import NEWER_THAN_10_3, unsupported_nodes

    proto = onnx.load(str(bundled_model_path(name)))
    onnx.checker.check_model(proto, full_check=True)
    assert unsupported_nodes(proto) == []
    assert not {n.op_type for n in proto.graph.node} & NEWER_THAN_10_3  # JetPack 6 parses it
    opset = {i.domain: i.version for i in proto.opset_import}[""]
    assert opset == bundled_sidecar(name)["onnx"]["opset"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_runs_in_onnx_runtime_with_any_chunk_length(name):
    import onnxruntime as ort

    side = bundled_sidecar(name)
    inp = side["input"]
    sess = ort.InferenceSession(str(bundled_model_path(name)), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for t in (32, 64):
        x = rng.standard_normal((1, inp["channels"], t, inp["height"], inp["width"]))
        out = sess.run([side["output"]["name"]], {inp["name"]: x.astype(np.float32)})[0]
        assert out.shape == (1, t) and np.isfinite(out).all()


def test_unknown_or_bad_names_are_clear_errors():
    with pytest.raises(ValueError, match="bundled models"):
        bundled_model_path("resnet")
    with pytest.raises(TypeError, match="str"):
        bundled_model_path(3)  # type: ignore[arg-type]
    assert bundled_model_path(" PhysNet ") == bundled_model_path("physnet")


def test_models_package_imports_without_torch_or_deploy():
    code = ("import sys, rppg_sdk.models as m; m.bundled_model_path('physnet'); "
            "bad = {'torch', 'training', 'deploy', 'onnx'} & set(sys.modules); "
            "print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd="/").stdout.strip()
    assert json.loads(out.replace("'", '"')) == []


@pytest.mark.parametrize("name", SHIPPED)
def test_the_sdk_backend_reads_the_shipped_sidecar(name):
    from rppg_sdk.backends import load_backend

    side = bundled_sidecar(name)
    with load_backend(name, "onnxruntime") as be:
        s = be.spec
        assert (s.channels, s.height, s.width) == (
            side["input"]["channels"], side["input"]["height"], side["input"]["width"])
        assert s.fps_hz == side["fps_hz"] and s.normalization == side["normalization"]
        assert s.frames_multiple_of == side["input"]["frames_multiple_of"]
        t = side["input"]["recommended_frames"]
        x = np.zeros((1, s.channels, t, s.height, s.width), np.float32)
        assert be.infer(x).shape == (1, t)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_is_exported_from_the_committed_checkpoint(name):
    import hashlib
    from pathlib import Path

    ckpt = Path(__file__).resolve().parents[1] / "training" / "checkpoints" / f"{name}.pt"
    if not ckpt.is_file():
        absent(f"no checkpoint {ckpt} in this checkout")
    side = bundled_sidecar(name)
    # Re-export (python -m deploy.export_onnx --checkpoint ...) whenever the checkpoint changes.
    assert side["training"]["checkpoint_sha256"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert not str(side["training"]["data"]).startswith("none")  # not an untrained export
