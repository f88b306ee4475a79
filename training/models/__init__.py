"""rPPG video models: every one maps video ``(N, C, T, H, W)`` (float) to a pulse ``(N, T)``.

Use :func:`build_model` with one of the names in :data:`MODELS`:

``"physnet"``
    The modified PhysNet-3DCNN of Gideon & Stent (2021), Table 4 (:class:`PhysNet`).
``"autohr"``
    AutoHR (Yu et al. 2020) with a fixed cell, by default the reconstructed searched cell
    :data:`DEFAULT_GENOTYPE` (:class:`AutoHR`).
``"autohr_search"``
    The AutoHR DARTS supernet with PC-DARTS partial channels (:class:`AutoHRSearch`).

``build_model(name, in_channels, saliency=True, ...)`` wraps the model in the contrastive
paper's saliency sampler (:class:`SaliencyFrontEnd`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from training.models.autohr import AutoHR, AutoHRSearch
from training.models.physnet import PhysNet
from training.models.search_space import DEFAULT_GENOTYPE, PRIMITIVES, Genotype
from training.models.tdc import TDConv3d

__all__ = [
    "MODELS",
    "AutoHR",
    "AutoHRSearch",
    "DEFAULT_GENOTYPE",
    "Genotype",
    "PRIMITIVES",
    "PhysNet",
    "TDConv3d",
    "build_model",
]

#: Model names accepted by :func:`build_model` and their classes.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "physnet": PhysNet,
    "autohr": AutoHR,
    "autohr_search": AutoHRSearch,
}


def build_model(
    name: str,
    in_channels: int = 3,
    *,
    saliency: bool = False,
    saliency_weights: str | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a model by name.

    Parameters
    ----------
    name
        One of :data:`MODELS` (``"physnet"``, ``"autohr"``, ``"autohr_search"``).
    in_channels
        Video channels: 3 (RGB) or 1 (NIR / grey).
    saliency
        Wrap the model in :class:`training.models.saliency.SaliencyFrontEnd`.
    saliency_weights
        Optional path of ResNet-18 weights (a ``state_dict`` with torchvision key names) for
        the saliency network; random initialisation when ``None``.
    **kwargs
        Passed to the model class (``width`` for all; ``genotype``, ``channels`` for AutoHR;
        ``channels``, ``partial_k``, ``primitives`` for the supernet).

    Returns
    -------
    torch.nn.Module
        Maps ``(N, in_channels, T, H, W)`` float video to ``(N, T)`` pulse; ``T`` must be
        divisible by 4.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a str, got {type(name).__name__}")
    key = name.lower()
    if key not in MODELS:
        raise ValueError(f"name: expected one of {sorted(MODELS)}, got {name!r}")
    model = MODELS[key](in_channels=in_channels, **kwargs)
    if saliency:
        from training.models.saliency import SaliencyFrontEnd

        model = SaliencyFrontEnd(model, in_channels=in_channels, weights_path=saliency_weights)
    return model
