"""Architecture search (training/nas.py and its command line, training/search.py) on tiny
synthetic clips."""

from __future__ import annotations

import json

import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from training.losses import LOSSES  # noqa: E402
from training.models import AutoHR, AutoHRSearch, Genotype  # noqa: E402
from training.nas import (  # noqa: E402
    SearchConfig,
    arch_step,
    make_optimizers,
    run_search,
    synthetic_batches,
    unpack_batch,
    weight_step,
)
from training.search import main  # noqa: E402

FS = 30.0


pytestmark = pytest.mark.usefixtures("torch_seeded", "torch_one_thread")


def tiny_batches(n: int, seed: int = 0, channels: int = 3) -> list:
    return synthetic_batches(n, batch_size=2, channels=channels, frames=32, size=16, seed=seed)


def test_synthetic_batches_shapes() -> None:
    ((video, ppg, bpm),) = tiny_batches(1)
    assert video.shape == (2, 3, 32, 16, 16)
    assert ppg.shape == (2, 32) and bpm.shape == (2,)
    assert ((bpm >= 50) & (bpm <= 150)).all()


def test_one_architecture_step_changes_only_the_architecture() -> None:
    model = AutoHRSearch(3, channels=8)
    w_opt, a_opt = make_optimizers(model, SearchConfig())
    alphas, betas = model.alphas.detach().clone(), model.betas.detach().clone()
    weights = [p.detach().clone() for p in model.weight_parameters()]
    val = tiny_batches(1, seed=1)[0]
    loss = arch_step(model, a_opt, val, LOSSES["hybrid"], FS)
    assert loss == loss  # not NaN
    assert not torch.equal(model.alphas, alphas)
    assert not torch.equal(model.betas, betas)
    # BatchNorm running statistics move in a forward pass; learnable weights must not.
    for before, after in zip(weights, model.weight_parameters(), strict=True):
        assert torch.equal(before, after)


def test_one_weight_step_leaves_the_architecture_alone() -> None:
    model = AutoHRSearch(1, channels=8)
    w_opt, _ = make_optimizers(model, SearchConfig())
    alphas = model.alphas.detach().clone()
    w0 = next(iter(model.weight_parameters())).detach().clone()
    weight_step(model, w_opt, tiny_batches(1, channels=1)[0], LOSSES["mcc"], FS)
    assert torch.equal(model.alphas, alphas)
    assert not torch.equal(next(iter(model.weight_parameters())), w0)


def test_run_search_writes_genotypes_each_epoch(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    model = AutoHRSearch(3, channels=8)
    cfg = SearchConfig(epochs=2, warmup_epochs=1)
    alphas = model.alphas.detach().clone()
    # Dict batches (what training.data yields) and a validation split shorter than training.
    train = [dict(zip(("video", "ppg", "bpm"), b, strict=True)) for b in tiny_batches(2)]
    result = run_search(model, train, tiny_batches(1, seed=3), cfg, tmp_path, progress=False)
    assert len(result.genotypes) == 2 and len(result.train_loss) == 2
    assert result.val_loss[0] != result.val_loss[0]  # NaN: no architecture steps in warm-up
    assert not torch.equal(model.alphas, alphas)
    for name in (
        "genotype_epoch01.json",
        "genotype_epoch02.json",
        "genotype.json",
        "history.json",
        "arch_weights.png",
    ):
        assert (tmp_path / name).is_file()
    g = Genotype.from_json((tmp_path / "genotype.json").read_text())
    assert g == result.genotype
    assert json.loads((tmp_path / "history.json").read_text())["primitives"] == list(
        model.primitives
    )
    assert "epoch 2" in capsys.readouterr().out
    # The derived cell builds a trainable fixed network.
    net = AutoHR(3, genotype=g, channels=8)
    assert net(torch.randn(1, 3, 8, 16, 16)).shape == (1, 8)


def test_unpack_batch_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="video, ppg, bpm"):
        unpack_batch({"video": 1})
    with pytest.raises(TypeError):
        unpack_batch(torch.zeros(3))


def test_cli_help_and_synthetic_run(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "--synthetic" in capsys.readouterr().out
    rc = main(
        [
            "--synthetic",
            "--epochs",
            "1",
            "--warmup-epochs",
            "0",
            "--train-batches",
            "1",
            "--val-batches",
            "1",
            "--frames",
            "32",
            "--size",
            "16",
            "--out",
            str(tmp_path),
            "--no-progress",
        ]
    )
    assert rc == 0
    assert (tmp_path / "genotype.json").is_file()
    assert main(["--epochs", "1"]) == 2  # no data source
