"""The shipped models by name, and how a backend is chosen (issue 5, "Models in the SDK")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.backends import OnnxRuntimeBackend, load_backend
from rppg_sdk.backends.tensorrt import tensorrt_available
from rppg_sdk.models import available_models, bundled_model_path
from rppg_sdk.monitor import Method
from rppg_sdk.synthetic import SyntheticClipSpec, render_clip


@pytest.mark.parametrize("name", ["physnet", "autohr"])
def test_bundled_model_by_method_name(name: str) -> None:
    assert name in available_models()
    with HeartRateMonitor(method=name) as monitor:
        assert monitor.options.method is Method.MODEL
        assert monitor.options.model == name


def test_shipped_physnet_reads_a_rendered_clip() -> None:
    """The wheel's model runs end to end on frames, offline, and gives a heart rate."""
    clip = render_clip(SyntheticClipSpec(duration_s=14.0, heart_rate_bpm=66.0, seed=3))
    readings = []
    with HeartRateMonitor(method="physnet") as monitor:
        for frame, t in zip(clip.frames, clip.timestamps_s, strict=True):
            reading = monitor.process(frame, float(t))
            if reading is not None and reading.bpm is not None:
                readings.append(reading)
        final = monitor.flush()
    if final is not None and final.bpm is not None:
        readings.append(final)
    assert readings, "the model method produced no heart rate"
    bpms = np.array([r.bpm for r in readings], dtype=float)
    assert np.all((bpms >= 42.0) & (bpms <= 240.0))


def test_options_and_keywords_together_are_rejected() -> None:
    with pytest.raises(TypeError, match="not both"):
        HeartRateMonitor(MonitorOptions(), method="pos")


def test_tensorrt_backend_needs_an_engine() -> None:
    with pytest.raises(ValueError, match="tensorrt"):
        load_backend("physnet", "tensorrt")


@pytest.mark.skipif(tensorrt_available(), reason="TensorRT and a GPU are present: no fallback")
def test_auto_falls_back_from_an_engine_to_onnx_runtime_without_a_gpu(tmp_path: Path) -> None:
    engine = tmp_path / "physnet.engine"
    engine.write_bytes(b"not an engine: never opened without TensorRT")
    sidecar = json.loads(bundled_model_path("physnet").with_suffix(".json").read_text())
    (tmp_path / "physnet.engine.json").write_text(json.dumps(sidecar))
    shutil.copy(bundled_model_path("physnet"), tmp_path / "physnet.onnx")
    backend = load_backend(engine, "auto")
    try:
        assert isinstance(backend, OnnxRuntimeBackend)
    finally:
        backend.close()
