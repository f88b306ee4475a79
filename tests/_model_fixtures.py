"""Model files for the end-to-end model tests (not a test module): the same architecture as a
shipped model, untrained, exported by the deploy code the shipped files come from."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def export_untrained(
    path: Path,
    *,
    seed: int,
    model: str = "physnet",
    model_kwargs: dict[str, Any] | None = None,
    in_channels: int = 3,
) -> Path:
    """Export a randomly initialised ``model`` (``torch.manual_seed(seed)``) to ``path`` with
    :func:`deploy.export_onnx.export_model` (ONNX, parity, sidecar); returns the file."""
    import torch  # noqa: PLC0415

    import training.models  # noqa: F401, PLC0415
    from deploy.export_onnx import export_model, load_model  # noqa: PLC0415

    # Seeded after every import: the first import of the model code draws from torch's
    # generator, so seeding before it gave other weights in a fresh process than in a suite.
    torch.manual_seed(seed)
    net, spec = load_model(
        None, model=model, model_kwargs=model_kwargs, in_channels=in_channels, name="untrained"
    )
    out, _ = export_model(net, spec, path, log=lambda *_: None)
    return Path(out)
