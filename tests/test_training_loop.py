"""training.train: the loss falls (supervised and contrastive), checkpoints resume exactly, YAML
configs with command-line overrides, one DDP step with two gloo processes, evaluation against POS
and self-supervised adaptation. Tiny models and clips keep this fast."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from training import train  # noqa: E402
from training.data import FaceVideo  # noqa: E402

FPS = 15.0  # low rate, short clips: fast, and still room for 40-250 bpm


def _video(i: int, bpm: float, n: int = 100, size: int = 16) -> FaceVideo:
    """A 'face' whose skin disc pulses along the blood-volume direction, in BGR."""
    rng = np.random.default_rng(i)
    t = np.arange(n) / FPS
    ppg = np.sin(2 * np.pi * bpm / 60 * t) + 0.3 * np.sin(4 * np.pi * bpm / 60 * t + 1.0)
    base = rng.uniform(90, 170, size=(1, size, size, 3))
    yy, xx = np.mgrid[:size, :size]
    skin = (((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size / 3) ** 2)[None, :, :, None]
    bgr = np.array([0.53, 0.77, 0.33])
    frames = base * (1 + 0.01 * skin * ppg[:, None, None, None] * bgr)
    frames = frames + rng.normal(0, 0.4, frames.shape)
    return FaceVideo(
        np.clip(frames, 0, 255).astype(np.uint8),
        t,
        ppg,
        np.full(n, bpm),
        FPS,
        f"s{i}",
        f"v{i}",
        "fixture",
        np.ones(n, bool),
    )


VIDEOS = [_video(i, 55.0 + 11.0 * i) for i in range(10)]


def _args(tmp: Path, *extra: str) -> object:
    return train.parse_args(
        [
            "--model",
            "physnet",
            "--model-kwargs",
            "{width: 0.125}",
            "--clip-frames",
            "32",
            "--fps",
            "15",
            "--size",
            "16",
            "--batch-size",
            "4",
            "--samples-per-epoch",
            "16",
            "--lr",
            "3e-3",
            "--epochs",
            "3",
            "--output-dir",
            str(tmp),
            "--no-progress",
            "--deterministic",
            "--seed",
            "1",
            "--cache-dir",
            str(tmp / "cache"),
            *extra,
        ]
    )


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "metrics.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_supervised_loss_falls_and_outputs_are_written(tmp_path: Path) -> None:
    best = train.main(_args(tmp_path, "--loss", "neg_pearson"), VIDEOS)
    rows = _rows(tmp_path)
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < losses[0] - 0.1
    # The held-out pulse is followed better too (val_loss is minus the correlation).
    assert float(rows[-1]["val_loss"]) < float(rows[0]["val_loss"]) - 0.1
    for name in ("checkpoint.pt", "best.pt", "metrics.png", "config.json"):
        assert (tmp_path / name).is_file()
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert set(ckpt) >= {"model", "optimizer", "scheduler", "epoch", "config"}
    model, cfg = train.load_shipped_model(tmp_path / "best.pt")
    assert cfg["clip_frames"] == 32 and best["epoch"] in (0, 1, 2)
    assert model(torch.zeros(1, 3, 32, 16, 16)).shape == (1, 32)


def test_contrastive_loss_falls_without_labels(tmp_path: Path) -> None:
    train.main(_args(tmp_path, "--mode", "contrastive", "--epochs", "4", "--view-s", "1.0"), VIDEOS)
    rows = _rows(tmp_path)
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < losses[0]
    assert all(float(r["val_ipr"]) < 1.0 for r in rows)
    # Model selection used IPR, the label-free metric.
    best = torch.load(tmp_path / "best.pt", weights_only=False)
    iprs = [float(r["val_ipr"]) for r in rows]
    assert best["epoch"] == int(np.argmin(iprs))


def test_resume_continues_exactly(tmp_path: Path) -> None:
    full, part = tmp_path / "full", tmp_path / "part"
    train.main(_args(full, "--epochs", "3"), VIDEOS)
    train.main(_args(part, "--epochs", "3", "--stop-epoch", "1"), VIDEOS)
    train.main(_args(part, "--epochs", "3", "--resume", str(part / "checkpoint.pt")), VIDEOS)
    a = torch.load(full / "checkpoint.pt", weights_only=False)
    b = torch.load(part / "checkpoint.pt", weights_only=False)
    assert a["epoch"] == b["epoch"] == 2
    for k, v in a["model"].items():
        torch.testing.assert_close(v, b["model"][k])
    assert [r["epoch"] for r in _rows(part)] == ["0", "1", "2"]


def test_yaml_config_with_command_line_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "model: autohr\nmodel_kwargs: {channels: 8}\nepochs: 7\nlr: 0.01\n"
        "augment: {cutout_p: 0.5}\n"
    )
    args = train.parse_args(["--config", str(cfg), "--epochs", "2"])
    assert (args.model, args.epochs, args.lr) == ("autohr", 2, 0.01)
    assert args.model_kwargs == {"channels": 8} and args.augment == {"cutout_p": 0.5}
    cfg.write_text("epoch: 3\n")
    with pytest.raises(ValueError, match="unknown option 'epoch'"):
        train.parse_args(["--config", str(cfg)])


def test_ddp_step_with_two_gloo_processes(tmp_path: Path) -> None:
    args = _args(tmp_path, "--epochs", "1", "--samples-per-epoch", "8", "--batch-size", "2")
    port = 29500 + int(np.random.default_rng().integers(100, 2000))
    train.run_distributed(args, world_size=2, port=port, videos=VIDEOS)
    rows = _rows(tmp_path)
    assert len(rows) == 1 and np.isfinite(float(rows[0]["train_loss"]))
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ckpt["config"]["world_size"] == 2
    fresh = train.build_model("physnet", 3, width=0.125)
    changed = any(
        not torch.equal(v, fresh.state_dict()[k])
        for k, v in ckpt["model"].items()
        if k.endswith("weight")
    )
    assert changed


def test_evaluate_and_adapt_on_fixture_videos(tmp_path: Path) -> None:
    from training import adapt, evaluate

    out = tmp_path / "run"
    train.main(_args(out, "--loss", "neg_pearson"), VIDEOS)
    model, cfg = train.load_shipped_model(out / "best.pt")
    rows = evaluate.evaluate_videos(model, cfg, VIDEOS[:3], window_s=3.0, progress=False)
    methods = {r.method for r in rows}
    assert methods == {"model", "pos"}
    for m in methods:
        s = evaluate.summarize(rows, m)
        assert s.n_windows == 6 and np.isfinite(s.mae_bpm) and np.isfinite(s.mcc)
    assert evaluate.summarize(rows, "pos").mae_bpm < 5.0  # POS reads the clean fixture
    unlabelled = [
        FaceVideo(
            v.frames,
            v.timestamps_s,
            np.zeros(0),
            np.zeros(0),
            v.fps_hz,
            v.subject_id,
            v.video_id,
            "x",
            v.face_found,
        )
        for v in VIDEOS[:2]
    ]
    adapted, report = adapt.adapt(
        model, cfg, unlabelled, epochs=1, samples_per_epoch=4, progress=False
    )
    assert report["ipr_after"] <= report["ipr_before"]
    assert 0.0 <= report["ipr_after"] <= 1.0
