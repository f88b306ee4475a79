"""The models' accuracy is measured one way: exported to ONNX and read by ``HeartRateMonitor``.

A fixed rendered H.264 clip goes through ``HeartRateMonitor.process_video`` (the shipped chunker,
stitcher, spectral estimator) with the shipped model, and with the *same architecture untrained*
(random initialisation, exported by the same deploy code, ``deploy.export_onnx.export_model``).
The bound on the mean absolute error is one the shipped model meets and the untrained networks
miss, so the test shows the number measures the weights, not the pipeline around them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.models import bundled_sidecar
from rppg_sdk.synthetic import SyntheticClipSpec, clip_truth, render_to_file

pytest.importorskip("torch")

from _model_fixtures import export_untrained  # noqa: E402

#: MAE bound over the clip's readings (bpm).
MAE_BOUND_BPM = 5.0
SPEC = SyntheticClipSpec(
    duration_s=12.0,
    fps=30.0,
    frame_size=(320, 240),
    heart_rate_bpm=96.0,
    face_height_px=120.0,
    codec="h264",
    bitrate_kbps=2000,
    seed=7,
)


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_to_file(SPEC, tmp_path_factory.mktemp("clip") / "clip.mp4")


def _mae(path: Path, opts: MonitorOptions) -> float:
    truth = clip_truth(SPEC)
    with HeartRateMonitor(opts) as monitor:
        readings = [r for r in monitor.process_video(path) if r.bpm is not None]
    assert len(readings) >= 3, "the monitor gave too few heart rates to score"
    errs = [
        abs(r.bpm - truth.mean_bpm(r.window_end_s - r.window_s, r.window_end_s)) for r in readings
    ]
    return float(np.mean(errs))


def test_shipped_physnet_meets_the_bound_through_the_monitor(clip_path: Path) -> None:
    mae = _mae(clip_path, MonitorOptions(method="physnet", model_threads=1))
    assert mae < MAE_BOUND_BPM, f"shipped PhysNet: MAE {mae:.2f} bpm"


@pytest.mark.parametrize("seed", [0, 1])
def test_untrained_physnet_misses_the_bound(clip_path: Path, tmp_path: Path, seed: int) -> None:
    kwargs = bundled_sidecar("physnet")["model_kwargs"]
    path = export_untrained(tmp_path / "untrained.onnx", seed=seed, model_kwargs=kwargs)
    mae = _mae(clip_path, MonitorOptions(method="model", model=str(path), model_threads=1))
    assert mae >= MAE_BOUND_BPM, f"untrained PhysNet (seed {seed}): MAE {mae:.2f} bpm"
