"""Realistic training data: the suite's kinds of clip (never its holdout faces or seeds), and
no-pulse negatives that train towards an output with no rhythm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests._training_fixtures import FPS, VIDEOS, pulsing_video

torch = pytest.importorskip("torch")
from training.data.clips import ClipConfig, ClipDataset  # noqa: E402
from training.data.preprocess import FaceVideo  # noqa: E402
from training.data.realistic import (  # noqa: E402
    CONDITIONS,
    SEED_BASE,
    RealisticSetConfig,
    realistic_spec,
    tune_faces,
)
from training.engine import Objective, supervised_loss  # noqa: E402
from training.losses import no_pulse_loss  # noqa: E402


def _no_pulse(v: FaceVideo) -> FaceVideo:
    n = v.n_frames
    return FaceVideo(
        v.frames,
        v.timestamps_s,
        np.zeros(n),
        np.full(n, np.nan),
        v.fps_hz,
        "neg",
        "neg",
        "x",
        v.face_found,
    )


def test_no_pulse_loss_prefers_noise_to_a_rhythm() -> None:
    t = torch.arange(256) / 30.0
    tone = torch.sin(2 * math.pi * 1.3 * t)[None]
    noise = torch.randn(1, 256, generator=torch.Generator().manual_seed(0))
    assert float(no_pulse_loss(tone, 30.0)) > 0.5 > 0.1 > float(no_pulse_loss(noise, 30.0))


def test_negatives_are_kept_and_flagged() -> None:
    neg = _no_pulse(pulsing_video(20, 80.0))
    ds = ClipDataset(
        [VIDEOS[0], neg], ClipConfig(32, FPS, 16, "temporal"), train=True, samples_per_epoch=24
    )
    items = [ds[i] for i in range(len(ds))]
    flags = {bool(it["pulse"]) for it in items}
    assert flags == {True, False}  # a negative clip is not redrawn away for its flat PPG
    for it in items:
        if not it["pulse"]:
            assert math.isnan(float(it["bpm"])) and float(it["ppg"].abs().sum()) == 0.0


def test_supervised_loss_mixes_pulse_and_no_pulse_clips() -> None:
    t = torch.arange(64) / FPS
    y = torch.sin(2 * math.pi * 1.5 * t).repeat(4, 1)
    batch = {
        "ppg": y,
        "bpm": torch.tensor([90.0, 90.0, math.nan, math.nan]),
        "pulse": torch.tensor([True, True, False, False]),
    }
    obj = Objective(fs_hz=FPS)
    good = supervised_loss(y.clone(), batch, obj, torch.device("cpu"))  # the rhythm everywhere
    flat = y.clone()
    flat[2:] = torch.randn(2, 64, generator=torch.Generator().manual_seed(1))
    better = supervised_loss(flat, batch, obj, torch.device("cpu"))
    assert torch.isfinite(good) and float(better) < float(good)


def test_realistic_specs_keep_the_suite_holdout_out() -> None:
    from evaluation.suite import suite_clips

    cfg = RealisticSetConfig(n_videos=len(CONDITIONS))
    holdout = list(suite_clips(("holdout",)))
    held_faces = {c.spec_kwargs["face"] for c in holdout} - set(tune_faces())
    held_seeds = {c.spec_kwargs["seed"] for c in list(suite_clips())}
    for i, cond in enumerate(CONDITIONS):
        spec = realistic_spec(cond, SEED_BASE + i, tune_faces()[0], cfg)
        assert spec.face not in held_faces and spec.seed not in held_seeds
        assert (cond == "no_pulse") == (not spec.pulse)
    with pytest.raises(ValueError, match="conditions"):
        RealisticSetConfig(conditions=("sunburn",))
