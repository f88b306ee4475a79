"""The saliency sampler trained as the contrastive paper trains it: its sparsity (Eq. 1) and
temporal (Eq. 2) regularisers are part of the training loss when the model wears the sampler."""

from __future__ import annotations

import pytest

from tests._training_fixtures import FPS, VIDEOS

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from training.data.clips import ClipConfig, ClipDataset  # noqa: E402
from training.engine import Objective, supervised_loss, train_one_epoch  # noqa: E402
from training.models import build_model  # noqa: E402
from training.models.saliency import saliency_loss  # noqa: E402


def _one_batch_loss(weights: tuple[float, float]) -> tuple[float, float, float]:
    torch.manual_seed(0)
    model = build_model("physnet", 3, width=0.125, saliency=True)
    ds = ClipDataset(
        VIDEOS[:2], ClipConfig(32, FPS, 16, "temporal"), train=True, samples_per_epoch=4
    )
    loader = DataLoader(ds, batch_size=4)
    batch = next(iter(loader))
    obj = Objective(fs_hz=FPS, saliency_weights=weights)
    with torch.no_grad():
        model.train()
        out = model.forward_with_saliency(batch["video"])
        sup = float(supervised_loss(out.pulse, batch, obj, torch.device("cpu")))
        reg = float(saliency_loss(out.saliency, *weights))
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # the reported loss is the pre-step one
    stats = train_one_epoch(model, opt, loader, torch.device("cpu"), 0, obj)
    return stats["train_loss"], sup, reg


def test_saliency_regularisers_are_in_the_training_loss() -> None:
    loss, sup, reg = _one_batch_loss((5.0, 2.0))
    assert reg > 0 and loss == pytest.approx(sup + reg, rel=1e-4)
    loss0, sup0, _ = _one_batch_loss((0.0, 0.0))
    assert loss0 == pytest.approx(sup0, rel=1e-4) and loss > loss0
