"""One-channel 940 nm training clips (training/data/cabin.py) and the 3 -> 1 channel start.

The clips must be what the SDK hands a one-channel model at run time: the lit frames only (the
runtime's dark-frame filter), 8-bit, face-cropped by the SDK's tracker, one channel, at their
own times; negatives without a pulse; never an evaluation seed or a holdout face.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor
from rppg_sdk.synthetic.cabin import CabinScene, render_cabin

pytest.importorskip("torch")

from evaluation.cabin import SPLIT_SEEDS  # noqa: E402
from training.data.cabin import (  # noqa: E402
    SEED_BASE,
    CabinSetConfig,
    build_nir_videos,
    cabin_face_video,
    cabin_training_scene,
    lit_frames,
)
from training.data.clips import ClipConfig, ClipDataset  # noqa: E402
from training.data.preprocess import FaceVideo  # noqa: E402
from training.data.realistic import tune_faces  # noqa: E402

SHORT = CabinSetConfig(n_scenes=8, duration_s=6.0, no_pulse_share=0.25)


def test_scenes_never_use_an_evaluation_seed_or_a_holdout_face() -> None:
    cfg = CabinSetConfig(n_scenes=40, seed=3)
    scenes = [cabin_training_scene(cfg, i) for i in range(cfg.n_scenes)]
    evaluation_seeds = {s for seeds in SPLIT_SEEDS.values() for s in seeds}
    assert all(s.seed >= SEED_BASE and s.seed not in evaluation_seeds for s in scenes)
    assert {s.face for s in scenes} <= set(tune_faces())
    # The set varies what the cabin evaluation varies.
    assert {s.bit_depth for s in scenes} == {8, 10, 12}
    assert {s.illuminator for s in scenes} == {"alternating", "constant"}
    assert any(s.head_turns for s in scenes) and any(s.hand_interval_s for s in scenes)
    assert any(s.heart_rate_knots[-1][1] > s.heart_rate_knots[0][1] + 5 for s in scenes)
    negatives = [s for s in scenes if not s.pulse]
    assert 0.1 <= len(negatives) / len(scenes) <= 0.2
    with pytest.raises(ValueError, match="seed"):
        CabinSetConfig(seed=1000)
    with pytest.raises(ValueError, match="no_pulse_share"):
        CabinSetConfig(no_pulse_share=0.9)


def test_lit_frames_are_what_the_monitor_measures() -> None:
    scene = CabinScene(duration_s=3.0, bit_depth=12, dark_first=True, sway_px=0.0, seed=SEED_BASE)
    clip = render_cabin(scene)
    frames, times, idx = lit_frames(clip.frames, clip.timestamps_s)
    lit = clip.truth.illuminated
    # Only lit frames; from the recognised alternation on, every lit frame.
    assert lit[idx].all()
    assert np.array_equal(idx, np.flatnonzero(lit)[-idx.size :])
    assert idx.size >= lit.sum() - 4
    assert np.allclose(times, clip.timestamps_s[idx])
    # 12-bit frames in 8-bit units, as the model path converts them.
    assert all(f.dtype == np.uint8 for f in frames)
    scaled = clip.frames[idx[0]].astype(np.float64) * 255.0 / 4095.0
    assert np.abs(frames[0].astype(np.float64) - scaled).max() <= 0.5 + 1e-9
    # The monitor drops the same frames as dark (from the frame where it recognises the
    # alternation, the one before the first kept frame or that frame itself).
    with HeartRateMonitor() as monitor:
        for frame, ts in zip(clip.frames, clip.timestamps_s, strict=True):
            monitor.process(frame, float(ts))
        dropped = monitor.dark_frames_dropped
    assert int((~lit)[idx[0] :].sum()) <= dropped <= int((~lit)[idx[0] - 1 :].sum())


@pytest.fixture(scope="module")
def videos() -> list[FaceVideo]:
    # A drawn scene held still (the pulse's sign is checked on it) and a drawn negative.
    still = dataclasses.replace(
        cabin_training_scene(SHORT, 2), head_turns=(), hand_interval_s=None, sway_px=0.0
    )
    return [
        cabin_face_video(still, video_id="v2"),
        cabin_face_video(cabin_training_scene(SHORT, 3), video_id="v3"),
    ]


def test_cabin_face_video_is_one_channel_lit_and_labelled(videos: list[FaceVideo]) -> None:
    pulse_scene = cabin_training_scene(SHORT, 2)
    negative_scene = cabin_training_scene(SHORT, 3)
    assert pulse_scene.pulse and not negative_scene.pulse
    pos, neg = videos
    assert pos.channels == 1 and pos.frames.shape[1:] == (64, 64, 1)
    lit_rate = pulse_scene.fps / (2 if pulse_scene.illuminator == "alternating" else 1)
    assert pos.fps_hz == pytest.approx(lit_rate)
    assert np.isfinite(pos.bpm).all() and np.std(pos.ppg) > 0.5
    assert pos.face_found.mean() > 0.9
    assert not np.any(neg.ppg) and np.isnan(neg.bpm).all()
    # The skin darkens with blood: the crops' mean follows the PPG with a negative sign.
    from scipy.signal import butter, filtfilt

    b, a = butter(2, [0.7 / (pos.fps_hz / 2), 3.5 / (pos.fps_hz / 2)], "band")
    skin = pos.frames[:, 20:44, 20:44, 0].astype(np.float64).mean(axis=(1, 2))
    assert np.corrcoef(filtfilt(b, a, skin), filtfilt(b, a, pos.ppg))[0, 1] < -0.3
    # Through the training clips: 1-channel model inputs at the model rate; the negative is one.
    ds = ClipDataset(videos, ClipConfig(clip_frames=32, fs_hz=30.0, size=32), train=False)
    items = [ds[i] for i in range(len(ds))]
    assert items[0]["video"].shape == (1, 32, 32, 32)
    assert {bool(it["pulse"]) for it in items} == {True, False}


def test_nir_source_builds_and_caches(tmp_path: Path) -> None:
    opts = {"cabin": dataclasses.asdict(CabinSetConfig(n_scenes=1, duration_s=6.0))}
    first = build_nir_videos(opts, cache_dir=tmp_path, progress=False)
    again = build_nir_videos(opts, cache_dir=tmp_path, progress=False)
    assert len(first) == 1 and np.array_equal(first[0].frames, again[0].frames)
    with pytest.raises(ValueError, match="cabin"):
        build_nir_videos({"colour": {}}, cache_dir=None)


def test_folded_one_channel_physnet_answers_grey_as_the_shipped_one() -> None:
    import torch

    from training.checkpoints import load_init_weights, load_shipped_model
    from training.models import build_model

    shipped, cfg = load_shipped_model("training/checkpoints/physnet.pt")
    one = build_model("physnet", 1, **cfg["model_kwargs"])
    load_init_weights(one, "training/checkpoints/physnet.pt")
    one.eval()
    x = torch.randn(1, 1, 32, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = shipped(x.repeat(1, 3, 1, 1, 1))
        assert torch.allclose(one(x), ref, atol=1e-5)
        # Not by accident: one channel of the kernels alone answers differently.
        first = one.encoder[0][0].weight
        first.copy_(shipped.state_dict()["encoder.0.0.weight"][:, 1:2])
        assert not torch.allclose(one(x), ref, atol=1e-3)
    # Another architecture still refuses to load.
    wide = build_model("physnet", 1, width=0.5)
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_init_weights(wide, "training/checkpoints/physnet.pt")


def test_realistic_set_for_one_channel_renders_every_condition_grey() -> None:
    from training.data.realistic import CONDITIONS, RealisticSetConfig, realistic_spec

    cfg = RealisticSetConfig(channels=1)
    specs = [realistic_spec(c, 10000 + i, "astronaut", cfg) for i, c in enumerate(CONDITIONS)]
    assert all(s.near_infrared for s in specs)
    colour = realistic_spec("motion", 10001, "astronaut", RealisticSetConfig())
    assert not colour.near_infrared
    with pytest.raises(ValueError, match="channels"):
        RealisticSetConfig(channels=2)
