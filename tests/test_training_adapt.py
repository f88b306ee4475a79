"""training.adaptation: contrastive adaptation without labels lowers the IPR on held-out video,
and the report says which weights were kept and what they score."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from _training_fixtures import VIDEOS, unlabelled  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from training.adaptation import adapt, match_channels  # noqa: E402
from training.data.clips import ClipConfig, ClipDataset  # noqa: E402
from training.engine import mean_ipr  # noqa: E402
from training.logger import read_csv  # noqa: E402
from training.models import build_model  # noqa: E402

CFG = {"clip_frames": 32, "fps": 15.0, "size": 16, "normalization": "temporal", "view_s": 1.0}

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_adaptation_lowers_ipr_on_heldout_clips_from_an_untrained_start(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("physnet", 3, width=0.125)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    videos = [unlabelled(v) for v in VIDEOS]
    # Interleaved so both sides span the fixture's heart rates; the held-out half is never
    # trained on nor used to select the epoch.
    train_videos, heldout = videos[0::2], videos[1::2]
    adapted, report = adapt(
        model,
        CFG,
        train_videos,
        heldout=heldout,
        epochs=3,
        lr=3e-3,
        samples_per_epoch=16,
        out_dir=tmp_path,
        progress=False,
    )
    # The figure that could fail: an untrained network's output is mostly out-of-band noise;
    # after adaptation on other videos the held-out output is far more pulse-like.
    assert report["heldout_ipr_after"] < 0.5 * report["heldout_ipr_before"]

    # The report tells the truth about the kept weights: the lowest IPR of the start and the
    # epochs in metrics.csv, from the epoch it names, and the returned model scores exactly that.
    rows = read_csv(tmp_path / "metrics.csv")
    iprs = [float(r["val_ipr"]) for r in rows]
    assert len(iprs) == 3
    candidates = [report["ipr_before"], *iprs]
    assert report["ipr_selected"] == pytest.approx(min(candidates), rel=1e-5)
    assert report["selected_epoch"] == candidates.index(min(candidates)) - 1
    eval_loader = DataLoader(
        ClipDataset(train_videos, ClipConfig(32, 15.0, 16), train=False, labelled=False),
        batch_size=4,
    )
    assert mean_ipr(adapted, eval_loader, 15.0) == pytest.approx(report["ipr_selected"], rel=1e-5)
    changed = any(not torch.equal(v, start[k]) for k, v in adapted.state_dict().items())
    assert changed == report["weights_changed"] == (report["selected_epoch"] >= 0)


def test_adapt_rejects_too_little_video() -> None:
    model = build_model("physnet", 3, width=0.125)
    with pytest.raises(ValueError, match="clips per epoch"):
        adapt(model, CFG, [unlabelled(VIDEOS[0])], epochs=1, batch_size=64, progress=False)


def test_match_channels_between_grey_and_colour() -> None:
    v = VIDEOS[0]
    grey = match_channels(v, 1)
    assert grey.channels == 1 and grey.n_frames == v.n_frames
    back = match_channels(grey, 3)
    assert back.channels == 3
    assert (back.frames[..., 0] == back.frames[..., 2]).all()
    assert match_channels(v, 3) is v
    assert math.isclose(float(grey.frames.mean()), float(v.frames.mean()), abs_tol=1.0)


def test_whole_frame_videos_read_skin_close_ups_like_skin_roi_frame(tmp_path: Path) -> None:
    """Skin close-ups (no face): each frame resized whole, one subject per recording name."""
    import cv2
    import numpy as np

    from training.adapt import whole_frame_videos

    rng = np.random.default_rng(0)
    for name in ("video1_forehead", "video1_cheek", "video2_forehead"):
        path = tmp_path / "country" / f"{name}.avi"
        path.parent.mkdir(exist_ok=True)
        w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (40, 30))
        for _ in range(20):
            w.write(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))
        w.release()
    videos = whole_frame_videos(tmp_path, 16)
    assert [v.frames.shape for v in videos] == [(20, 16, 16, 3)] * 3
    assert sorted({v.subject_id for v in videos}) == ["country/video1", "country/video2"]
    assert all(v.fps_hz == 15.0 and v.ppg.size == 0 for v in videos)
