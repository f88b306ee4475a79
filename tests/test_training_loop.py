"""training.train / training.trainer: the loss falls (supervised and contrastive), checkpoints
resume exactly, YAML configs with command-line overrides, and scoring against POS. Tiny models
and clips keep this fast. DDP: test_training_ddp.py; adaptation: test_training_adapt.py."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from _training_fixtures import TINY_ARGS, VIDEOS  # noqa: E402

from training import train  # noqa: E402
from training.checkpoints import load_shipped_model  # noqa: E402


def _args(tmp: Path, *extra: str) -> object:
    return train.parse_args(
        [*TINY_ARGS, "--output-dir", str(tmp), "--cache-dir", str(tmp / "cache"), *extra]
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
    model, cfg = load_shipped_model(tmp_path / "best.pt")
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


def test_scoring_model_and_pos_on_the_same_crops(tmp_path: Path) -> None:
    from training import scoring

    out = tmp_path / "run"
    train.main(_args(out, "--loss", "neg_pearson"), VIDEOS)
    model, cfg = load_shipped_model(out / "best.pt")
    rows = scoring.evaluate_videos(model, cfg, VIDEOS[:3], window_s=3.0, progress=False)
    methods = {r.method for r in rows}
    assert methods == {"model", "pos"}
    for m in methods:
        s = scoring.summarize(rows, m)
        assert s.n_windows == 6 and np.isfinite(s.mae_bpm) and np.isfinite(s.mcc)
    assert scoring.summarize(rows, "pos").mae_bpm < 5.0  # POS reads the clean fixture
