"""TensorRT on a real NVIDIA GPU: build engines from the shipped ONNX model and check parity.

Skipped without TensorRT 10 and a GPU (as on the development machine and CI). On a GPU
machine run ``deploy/gpu_check.sh``, or ``pytest -m gpu tests/test_deploy_gpu.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from rppg_sdk.backends.tensorrt import TensorRTBackend, tensorrt_available

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not tensorrt_available(), reason="needs an NVIDIA GPU with TensorRT 10"),
]


@pytest.fixture(scope="module", params=["fp32", "fp16"])
def engine(request, tmp_path_factory):
    from rppg_sdk.models import bundled_model_path, bundled_sidecar

    from deploy.build_engine import EngineOptions, build_engine

    side = bundled_sidecar("physnet")
    rec = int(side["input"]["recommended_frames"])
    out = tmp_path_factory.mktemp("engines")
    opts = EngineOptions(precision=request.param, frames=(32, rec, 2 * rec),
                         timing_cache=out / "timing.cache")
    res = build_engine(bundled_model_path("physnet"), out / f"physnet_{request.param}.engine",
                       opts, sidecar=side)
    return res, rec


def test_engine_matches_onnx_runtime(engine):
    from rppg_sdk.models import bundled_model_path

    from deploy.verify import engine_parity

    res, rec = engine
    rep = engine_parity(res.engine_path, bundled_model_path("physnet"), frames=rec)
    assert rep["ok"], rep


def test_engine_accepts_every_chunk_length_of_its_profile(engine):
    res, rec = engine
    with TensorRTBackend(res.engine_path) as be:
        for t in (32, rec, 2 * rec):
            x = np.zeros((1, be.spec.channels, t, be.spec.height, be.spec.width), np.float32)
            assert be.infer(x).shape == (1, t)
        with pytest.raises(ValueError, match="T in"):
            be.infer(np.zeros((1, be.spec.channels, 4 * rec, be.spec.height, be.spec.width),
                              np.float32))


def test_corrupt_engine_is_rejected_at_construction(engine, tmp_path):
    res, _ = engine
    bad = tmp_path / "bad.engine"
    bad.write_bytes(res.engine_path.read_bytes()[:1000])
    (tmp_path / "bad.engine.json").write_text(res.metadata_path.read_text())
    # The sidecar's engine.sha256 catches it before TensorRT reads the bytes ...
    with pytest.raises(ValueError, match=r"engine\.sha256: .* out of step"):
        TensorRTBackend(bad)
    # ... and without a recorded hash, TensorRT itself refuses to deserialize it.
    from dataclasses import replace

    from rppg_sdk.backends.sidecar import read_sidecar, sidecar_path

    side = replace(read_sidecar(res.engine_path), engine=None)
    sidecar_path(bad).write_text(json.dumps(side.to_json()))
    with pytest.raises(ValueError, match="could not deserialize"):
        TensorRTBackend(bad)
