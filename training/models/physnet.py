"""Modified PhysNet-3DCNN, the PPG estimator of Gideon & Stent (2021), Table 4.

Encoder: Conv3d + BatchNorm3d + ELU blocks with average pools (spatial /16, temporal /4).
Decoder: the transposed convolutions of the original PhysNet (Yu et al. 2019) are replaced by
nearest-neighbour upsampling of time x2 followed by a (3,1,1) Conv3d + BN + ELU, twice, which the
contrastive paper found removes aliasing from the output waveform. The spatial dimensions are
then collapsed with a plain mean (``AdaptiveAvgPool3d((None, 1, 1))`` in the paper; a mean
exports to ONNX with a dynamic number of frames) and a 1x1x1 convolution gives one channel.

Input ``(N, C, T, H, W)`` with ``C`` 3 (RGB) or 1 (NIR / grey), ``T`` divisible by 4 and
``H, W >= 16`` (64 x 64 is what the paper uses; 32 x 32 works); output ``(N, T)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["PhysNet", "ConvBNAct3d", "TemporalUpsample"]


class ConvBNAct3d(nn.Sequential):
    """Conv3d (no bias: BN follows) + BatchNorm3d + ELU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int, int],
        padding: tuple[int, int, int],
    ) -> None:
        super().__init__(
            nn.Conv3d(in_channels, out_channels, kernel_size, padding=padding, bias=False),
            nn.BatchNorm3d(out_channels),
            nn.ELU(inplace=True),
        )


class TemporalUpsample(nn.Module):
    """Repeat every frame ``factor`` times (nearest neighbour on T only)."""

    def __init__(self, factor: int = 2) -> None:
        super().__init__()
        self.factor = int(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=(float(self.factor), 1.0, 1.0), mode="nearest")


def _scaled(channels: int, width: float) -> int:
    return max(4, int(round(channels * width)))


class PhysNet(nn.Module):
    """The modified PhysNet of Gideon & Stent (2021), Table 4.

    Parameters
    ----------
    in_channels
        Colour channels of the input video: 3 (RGB) or 1 (NIR / grey).
    width
        Multiplier on the channel counts (32 and 64 in the paper). ``0.25`` gives a lean
        8/16-channel network for CPU deployment.
    """

    temporal_divisor: int = 4
    min_spatial: int = 16

    def __init__(self, in_channels: int = 3, width: float = 1.0) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels: expected 1 or 3, got {in_channels}")
        if not width > 0:
            raise ValueError(f"width: expected a positive multiplier, got {width}")
        self.in_channels = int(in_channels)
        self.width = float(width)
        c1, c2 = _scaled(32, width), _scaled(64, width)
        k3, p3 = (3, 3, 3), (1, 1, 1)
        self.encoder = nn.Sequential(
            ConvBNAct3d(in_channels, c1, (1, 5, 5), (0, 2, 2)),
            nn.AvgPool3d((1, 2, 2), (1, 2, 2)),
            ConvBNAct3d(c1, c2, k3, p3),
            ConvBNAct3d(c2, c2, k3, p3),
            nn.AvgPool3d((2, 2, 2), (2, 2, 2)),
            ConvBNAct3d(c2, c2, k3, p3),
            ConvBNAct3d(c2, c2, k3, p3),
            nn.AvgPool3d((2, 2, 2), (2, 2, 2)),
            ConvBNAct3d(c2, c2, k3, p3),
            ConvBNAct3d(c2, c2, k3, p3),
            nn.AvgPool3d((1, 2, 2), (1, 2, 2)),
            ConvBNAct3d(c2, c2, k3, p3),
            ConvBNAct3d(c2, c2, k3, p3),
        )
        self.decoder = nn.Sequential(
            TemporalUpsample(2),
            ConvBNAct3d(c2, c2, (3, 1, 1), (1, 0, 0)),
            TemporalUpsample(2),
            ConvBNAct3d(c2, c2, (3, 1, 1), (1, 0, 0)),
        )
        self.head = nn.Conv3d(c2, 1, (1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map video ``(N, C, T, H, W)`` to a pulse waveform ``(N, T)``."""
        check_video(x, self.in_channels, self.temporal_divisor, self.min_spatial)
        h = self.decoder(self.encoder(x))
        h = h.mean(dim=(3, 4), keepdim=True)
        y: torch.Tensor = self.head(h)
        return y.flatten(1)


def check_video(x: torch.Tensor, in_channels: int, t_divisor: int, min_spatial: int) -> None:
    """Validate a video batch; shape checks are skipped while tracing for ONNX export."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    tracing = torch.jit.is_tracing()  # type: ignore[attr-defined,no-untyped-call]
    if tracing or torch.onnx.is_in_onnx_export():
        return
    if x.ndim != 5:
        raise ValueError(f"x: expected shape (N, C, T, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"x: expected a floating-point tensor, got {x.dtype}")
    n, c, t, h, w = x.shape
    if c != in_channels:
        raise ValueError(f"x: expected {in_channels} channels, got {c} (shape {tuple(x.shape)})")
    if t % t_divisor or t == 0:
        raise ValueError(f"x: expected T divisible by {t_divisor}, got T={t}")
    if h < min_spatial or w < min_spatial:
        raise ValueError(f"x: expected H, W >= {min_spatial}, got {h}x{w}")
