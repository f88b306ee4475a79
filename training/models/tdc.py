"""Temporal difference convolution (TDC), AutoHR (Yu et al. 2020), eq. (1).

For a kernel with temporal extent ``k_t`` (odd) centred on frame ``t``::

    O(p0, t) = sum_{n in R_t} w(n) I(p0 + n, t)
             + sum_{t' != t} sum_{n in R_t'} w(n, t') (I(p0 + n, t') - theta * I(p0, t))

which is an ordinary 3-D convolution minus ``theta`` times a 1x1x1 convolution of the input
at the centre with the kernel ``sum_{t' != t} sum_n w(n, t')``. Because both terms are linear
in the input, they fold into one convolution whose centre tap is reduced by
``theta * kernel_diff``; that is what :class:`TDConv3d` computes, so TDC costs exactly one
Conv3d at training and inference time and exports to ONNX as one ``Conv`` node. With
``theta = 0`` the folded kernel equals the learned one bit for bit, so the layer is a plain
``nn.Conv3d`` (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TDConv3d"]


def _triple(v: int | tuple[int, int, int], name: str) -> tuple[int, int, int]:
    if isinstance(v, int):
        return (v, v, v)
    t = tuple(int(x) for x in v)
    if len(t) != 3:
        raise ValueError(f"{name}: expected an int or a 3-tuple, got {v!r}")
    return t[0], t[1], t[2]


class TDConv3d(nn.Conv3d):
    """3-D convolution with a temporal-difference term (TDC, AutoHR eq. 1).

    Parameters
    ----------
    in_channels, out_channels
        Channels in and out.
    kernel_size
        Odd sizes ``(k_t, k_h, k_w)`` (or one int); the centre tap must exist for the
        difference term. With ``k_t == 1`` there are no neighbouring frames and the layer is a
        plain convolution whatever ``theta`` is.
    theta
        Weight of the temporal-difference term, ``0 <= theta <= 1`` in the paper (values outside
        are allowed but unusual). ``0`` is a vanilla 3-D convolution.
    stride, padding, bias
        As :class:`torch.nn.Conv3d`. ``padding=None`` (default) pads ``k // 2`` ("same").
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int, int] = 3,
        theta: float = 0.6,
        stride: int | tuple[int, int, int] = 1,
        padding: int | tuple[int, int, int] | None = None,
        bias: bool = False,
    ) -> None:
        ks = _triple(kernel_size, "kernel_size")
        if any(k % 2 == 0 or k < 1 for k in ks):
            raise ValueError(f"kernel_size: expected odd sizes (a centre tap), got {ks}")
        pad = (ks[0] // 2, ks[1] // 2, ks[2] // 2) if padding is None else padding
        super().__init__(in_channels, out_channels, ks, stride=stride, padding=pad, bias=bias)
        self.theta = float(theta)

    def folded_weight(self) -> torch.Tensor:
        """The single kernel equal to conv minus ``theta`` times the temporal-difference term."""
        w = self.weight
        kt, kh, kw = w.shape[2:]
        if self.theta == 0.0 or kt == 1:
            return w
        ct, ch, cw = kt // 2, kh // 2, kw // 2
        # Sum of all taps on the neighbouring frames: the kernel applied to theta * I(p0, t).
        kernel_diff = w.sum(dim=(3, 4)).sum(dim=2) - w[:, :, ct].sum(dim=(2, 3))
        delta = torch.zeros_like(w)
        delta[:, :, ct, ch, cw] = kernel_diff
        return w - self.theta * delta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv3d(
            x,
            self.folded_weight(),
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )

    def extra_repr(self) -> str:
        base: str = super().extra_repr()  # type: ignore[no-untyped-call]
        return base + f", theta={self.theta}"
