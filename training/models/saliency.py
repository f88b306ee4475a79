"""Saliency-based sampler front end (Gideon & Stent 2021, Sec. 3.2, after Recasens et al. 2018).

For every frame a small saliency network (ResNet-18 truncated after ``layer1``, Table 5, written
here in plain PyTorch because torchvision is not available) and a 1x1 convolution give a
saliency logit map, which is resized to a ``g x g`` grid and softmax-normalised over the frame.
The sampler of Recasens et al. then moves every output pixel towards salient input pixels: its
sampling coordinate is the saliency- and Gaussian-weighted mean of the coordinates around it
(computed on a replication-padded grid with a separable Gaussian), the coordinate grid is
upsampled to the frame size and the frame is resampled with ``grid_sample``. A uniform saliency
map gives the identity warp. The warped clip goes to any backbone (PhysNet, AutoHR, ...).

Two optional regularisers from the paper shape the maps: sparsity (Eq. 1, the mean entropy of
each frame's map; low = concentrated) and temporal consistency (Eq. 2, mean squared change of
each pixel between consecutive frames); ``L_saliency = w_s L_sparsity + w_t L_temporal``.

Paper vs this file: Table 5 lists three BasicBlocks although ResNet-18's ``layer1`` has two; the
default here is two (so torchvision ResNet-18 ImageNet weights load directly) and ``n_blocks``
changes it. The weights are loaded from a ``state_dict`` file when given (torchvision key names;
for 1-channel input the RGB filters of ``conv1`` are summed), and are random otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BasicBlock",
    "ResNet18Layer1",
    "SaliencyFrontEnd",
    "SaliencyOutput",
    "saliency_grid",
    "saliency_loss",
    "saliency_sparsity",
    "saliency_temporal",
]


class BasicBlock(nn.Module):
    """ResNet BasicBlock with identity shortcut (3x3 conv, BN, ReLU, 3x3 conv, BN, add, ReLU)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        y: torch.Tensor = self.relu(out + x)
        return y


class ResNet18Layer1(nn.Module):
    """ResNet-18 up to and including ``layer1`` (``conv2_x``), with torchvision's key names.

    Parameters
    ----------
    in_channels
        3 (RGB) or 1.
    n_blocks
        BasicBlocks in ``layer1`` (ResNet-18: 2; the paper's Table 5 shows 3).
    """

    out_channels = 64

    def __init__(self, in_channels: int = 3, n_blocks: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential(*(BasicBlock(64) for _ in range(n_blocks)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        return y

    def load_weights(self, path: str | Path) -> None:
        """Load ``conv1``/``bn1``/``layer1`` weights from a torchvision-style ``state_dict``.

        Raises
        ------
        FileNotFoundError
            ``path`` does not exist.
        ValueError
            The file lacks a key this network needs or a tensor has the wrong shape.
        """
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"saliency weights: expected a state_dict file, got {p}")
        state = torch.load(p, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        own = self.state_dict()
        picked = {}
        for key, ref in own.items():
            if key not in state:
                raise ValueError(f"saliency weights: {p} has no {key!r} (torchvision names)")
            val = state[key]
            if key == "conv1.weight" and val.shape[1] == 3 and ref.shape[1] == 1:
                val = val.sum(dim=1, keepdim=True)  # RGB filters -> one grey channel
            if val.shape != ref.shape:
                raise ValueError(
                    f"saliency weights: {key!r} expected shape {tuple(ref.shape)}, "
                    f"got {tuple(val.shape)}"
                )
            picked[key] = val
        self.load_state_dict(picked)


def _gaussian_1d(half_width: int, fwhm: float) -> torch.Tensor:
    x = torch.arange(-half_width, half_width + 1, dtype=torch.float32)
    return torch.exp(-4.0 * math.log(2.0) * x**2 / fwhm**2)


def saliency_grid(
    saliency: torch.Tensor, out_hw: tuple[int, int], padding: int, fwhm: float
) -> torch.Tensor:
    """Recasens et al.'s sampling grid from saliency maps.

    Parameters
    ----------
    saliency
        ``(B, 1, g, g)`` non-negative maps (each summing to 1).
    out_hw
        Size ``(H, W)`` of the sampled frames.
    padding
        Replication padding of the map and half-width of the Gaussian (Recasens: 30 for g=31).
    fwhm
        Full width at half maximum of the Gaussian, in grid cells (Recasens: 13).

    Returns
    -------
    torch.Tensor
        ``(B, H, W, 2)`` ``grid_sample`` coordinates in ``[-1, 1]`` (``align_corners=True``).
    """
    b, _, g, g2 = saliency.shape
    if g != g2 or g < 2:
        raise ValueError(
            f"saliency: expected square maps (B, 1, g, g), got {tuple(saliency.shape)}"
        )
    dev, dt = saliency.device, saliency.dtype
    s = F.pad(saliency, (padding,) * 4, mode="replicate")
    size = g + 2 * padding
    # Coordinates of the padded cells in units where the unpadded grid spans [0, 1].
    coord = (torch.arange(size, device=dev, dtype=dt) - padding) / (g - 1)
    kern = _gaussian_1d(padding, fwhm).to(device=dev, dtype=dt)
    kx = kern.view(1, 1, 1, -1)
    ky = kern.view(1, 1, -1, 1)

    def blur(m: torch.Tensor) -> torch.Tensor:
        # Separable Gaussian, valid convolution: (size x size) -> (g x g).
        return F.conv2d(F.conv2d(m, kx), ky)

    stack = torch.cat([s, s * coord.view(1, 1, 1, -1), s * coord.view(1, 1, -1, 1)], dim=1)
    blurred = blur(stack.reshape(b * 3, 1, size, size)).reshape(b, 3, g, g)
    denom = blurred[:, :1].clamp_min(1e-12)
    xy = (blurred[:, 1:] / denom) * 2.0 - 1.0  # channel 0: x (width), 1: y (height)
    xy = xy.clamp(-1.0, 1.0)
    xy = F.interpolate(xy, size=out_hw, mode="bilinear", align_corners=True)
    return xy.permute(0, 2, 3, 1)


def saliency_sparsity(saliency: torch.Tensor) -> torch.Tensor:
    """Eq. 1: ``-1/(N D) sum_i sum_j s log s`` over ``(B, D, g, g)`` maps, batch-averaged."""
    b, d = saliency.shape[:2]
    s = saliency.reshape(b, d, -1)
    n_pix = s.shape[-1]
    ent = -(s * torch.log(s.clamp_min(1e-12))).sum(dim=(1, 2)) / (n_pix * d)
    return ent.mean()


def saliency_temporal(saliency: torch.Tensor) -> torch.Tensor:
    """Eq. 2: ``1/(N (D-1)) sum_i sum_j (s_{i+1} - s_i)^2``, batch-averaged (0 when D == 1)."""
    b, d = saliency.shape[:2]
    if d < 2:
        return saliency.sum() * 0.0
    s = saliency.reshape(b, d, -1)
    n_pix = s.shape[-1]
    return ((s[:, 1:] - s[:, :-1]) ** 2).sum(dim=(1, 2)).div(n_pix * (d - 1)).mean()


def saliency_loss(saliency: torch.Tensor, w_s: float = 1.0, w_t: float = 1.0) -> torch.Tensor:
    """Eq. 3: ``w_s L_sparsity + w_t L_temporal`` (the paper uses 1 and 1)."""
    return w_s * saliency_sparsity(saliency) + w_t * saliency_temporal(saliency)


@dataclass(frozen=True)
class SaliencyOutput:
    """What :meth:`SaliencyFrontEnd.forward_with_saliency` returns.

    Attributes
    ----------
    pulse
        ``(N, T)`` backbone output on the warped clip.
    frames
        ``(N, C, T, H, W)`` the warped clip the backbone saw.
    saliency
        ``(N, T, g, g)`` per-frame saliency maps (each frame sums to 1).
    """

    pulse: torch.Tensor
    frames: torch.Tensor
    saliency: torch.Tensor


class SaliencyFrontEnd(nn.Module):
    """Wrap a backbone with the saliency sampler: video -> warped video -> backbone -> ``(N, T)``.

    Parameters
    ----------
    backbone
        Any module mapping ``(N, C, T, H, W)`` to ``(N, T)``.
    in_channels
        Channels of the video (3 or 1).
    weights_path
        Optional ResNet-18 ``state_dict`` file for the saliency network (random when ``None``).
    grid_size, padding, fwhm
        Saliency grid side, its replication padding and the Gaussian's FWHM, in grid cells
        (Recasens et al.: 31, 30, 13).
    saliency_input_size
        Frames are resized (area) to this side before the saliency network; ``None`` keeps them.
    n_blocks
        BasicBlocks in the saliency network's ``layer1``.
    """

    def __init__(
        self,
        backbone: nn.Module,
        in_channels: int = 3,
        weights_path: str | Path | None = None,
        grid_size: int = 31,
        padding: int = 30,
        fwhm: float = 13.0,
        saliency_input_size: int | None = None,
        n_blocks: int = 2,
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels: expected 1 or 3, got {in_channels}")
        if grid_size < 2 or padding < 0 or not fwhm > 0:
            raise ValueError(
                f"grid_size, padding, fwhm: expected >= 2, >= 0, > 0, got "
                f"{grid_size}, {padding}, {fwhm}"
            )
        self.backbone = backbone
        self.in_channels = int(in_channels)
        self.saliency_net = ResNet18Layer1(in_channels, n_blocks)
        if weights_path is not None:
            self.saliency_net.load_weights(weights_path)
        self.saliency_head = nn.Conv2d(ResNet18Layer1.out_channels, 1, 1)
        self.grid_size = int(grid_size)
        self.padding = int(padding)
        self.fwhm = float(fwhm)
        self.saliency_input_size = saliency_input_size

    def sample(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Warp a clip by its saliency: ``(N, C, T, H, W)`` -> (warped clip, ``(N, T, g, g)``)."""
        if not isinstance(x, torch.Tensor) or x.ndim != 5:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected a (N, C, T, H, W) tensor, got {shape}")
        n, c, t, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels, got {c}")
        frames = x.permute(0, 2, 1, 3, 4).reshape(n * t, c, h, w)
        small = frames
        if self.saliency_input_size is not None:
            small = F.interpolate(frames, size=(self.saliency_input_size,) * 2, mode="area")
        logits = self.saliency_head(self.saliency_net(small))
        g = self.grid_size
        logits = F.interpolate(logits, size=(g, g), mode="bilinear", align_corners=False)
        sal = F.softmax(logits.reshape(n * t, g * g), dim=1).reshape(n * t, 1, g, g)
        grid = saliency_grid(sal, (h, w), self.padding, self.fwhm)
        warped = F.grid_sample(frames, grid, mode="bilinear", align_corners=True)
        warped = warped.reshape(n, t, c, h, w).permute(0, 2, 1, 3, 4)
        return warped, sal.reshape(n, t, g, g)

    def forward_with_saliency(self, x: torch.Tensor) -> SaliencyOutput:
        """Pulse, warped clip and saliency maps (for the regularisers and for inspection)."""
        warped, sal = self.sample(x)
        return SaliencyOutput(self.backbone(warped), warped, sal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map video ``(N, C, T, H, W)`` to a pulse waveform ``(N, T)``."""
        return self.forward_with_saliency(x).pulse
