"""AutoHR backbone (Yu et al. 2020, Fig. 3a): stem, four blocks of two cells, head.

Stated in the paper: one stem block, four stacked blocks with two cells each, one head block;
max-pools after the first three blocks with strides 1x2x2, 2 (2x2x2) and 2 (2x2x2); cells
shared across blocks; search at 8 initial channels, doubled for the final network.

Reconstructed (the paper gives no layer table): the stem is PhysNet's first layer (Conv3d
(1,5,5) + BN + ELU) followed by a (1,2,2) average pool, so a 64 x 64 input reaches the blocks at
32 x 32 as the paper's 112 x 112 reaches them smaller; every block keeps ``channels`` channels;
the head is the aliasing-free decoder of the modified PhysNet (nearest upsampling of time x2 and
a (3,1,1) Conv3d + BN + ELU, twice, undoing the two temporal pools), a spatial mean and a 1x1x1
convolution to one channel.

Input ``(N, C, T, H, W)``, ``C`` in {1, 3}, ``T`` divisible by 4, ``H, W >= 16``; output
``(N, T)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from training.models.physnet import ConvBNAct3d, TemporalUpsample, check_video
from training.models.search_space import (
    DEFAULT_GENOTYPE,
    N_INTERMEDIATE,
    PRIMITIVES,
    FixedCell,
    Genotype,
    SearchCell,
    edges_of,
)

__all__ = ["AutoHR", "AutoHRSearch", "POOL_STRIDES"]

#: Max-pool kernel/stride after blocks 1, 2, 3 (Fig. 3a); block 4 is not followed by a pool.
POOL_STRIDES: tuple[tuple[int, int, int], ...] = ((1, 2, 2), (2, 2, 2), (2, 2, 2))
CELLS_PER_BLOCK = 2
N_BLOCKS = 4


class _Backbone(nn.Module):
    temporal_divisor = 4
    min_spatial = 16

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels: expected 1 or 3, got {in_channels}")
        if channels < 4:
            raise ValueError(f"channels: expected at least 4, got {channels}")
        self.in_channels = int(in_channels)
        self.channels = int(channels)
        self.stem = nn.Sequential(
            ConvBNAct3d(in_channels, channels, (1, 5, 5), (0, 2, 2)),
            nn.AvgPool3d((1, 2, 2), (1, 2, 2)),
        )
        self.pools = nn.ModuleList(nn.MaxPool3d(s, s) for s in POOL_STRIDES)
        self.head = nn.Sequential(
            TemporalUpsample(2),
            ConvBNAct3d(channels, channels, (3, 1, 1), (1, 0, 0)),
            TemporalUpsample(2),
            ConvBNAct3d(channels, channels, (3, 1, 1), (1, 0, 0)),
        )
        self.out = nn.Conv3d(channels, 1, 1)

    def _cells(self, block: int, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map video ``(N, C, T, H, W)`` to a pulse waveform ``(N, T)``."""
        check_video(x, self.in_channels, self.temporal_divisor, self.min_spatial)
        h = self.stem(x)
        for b in range(N_BLOCKS):
            h = self._cells(b, h)
            if b < len(self.pools):
                h = self.pools[b](h)
        h = self.head(h).mean(dim=(3, 4), keepdim=True)
        y: torch.Tensor = self.out(h)
        return y.flatten(1)


class AutoHR(_Backbone):
    """AutoHR with a fixed (searched or default) cell.

    Parameters
    ----------
    in_channels
        3 (RGB) or 1 (NIR / grey).
    genotype
        One :class:`Genotype` shared by all blocks (the paper's "Shared" setting), or four,
        one per block ("Varied"). Defaults to :data:`DEFAULT_GENOTYPE`.
    channels
        Width of every block. The paper doubles its search width of 8 to 16; 16 is the default.
    width
        Multiplier on ``channels`` (kept a multiple of 4).
    """

    def __init__(
        self,
        in_channels: int = 3,
        genotype: Genotype | Sequence[Genotype] | None = None,
        channels: int = 16,
        width: float = 1.0,
    ) -> None:
        c = max(4, 4 * int(round(channels * width / 4)))
        super().__init__(in_channels, c)
        g = DEFAULT_GENOTYPE if genotype is None else genotype
        genos = [g] * N_BLOCKS if isinstance(g, Genotype) else list(g)
        if len(genos) != N_BLOCKS or not all(isinstance(x, Genotype) for x in genos):
            raise ValueError(f"genotype: expected one Genotype or {N_BLOCKS}, got {genotype!r}")
        self.genotypes = tuple(genos)
        self.blocks = nn.ModuleList(
            nn.Sequential(*(FixedCell(c, c, c, genos[b]) for _ in range(CELLS_PER_BLOCK)))
            for b in range(N_BLOCKS)
        )

    def _cells(self, block: int, h: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.blocks[block](h)
        return y


class AutoHRSearch(_Backbone):
    """The DARTS supernet over :data:`PRIMITIVES` with PC-DARTS partial channels.

    One set of architecture parameters is shared by all eight cells: ``alphas``
    ``(n_edges, n_ops)`` operation logits and ``betas`` ``(n_edges,)`` edge-normalisation logits.
    Use :meth:`weight_parameters` and :meth:`arch_parameters` for the two optimisers of the
    bi-level search and :meth:`genotype` to derive the discrete cell.

    Parameters
    ----------
    in_channels
        3 or 1.
    channels
        Width of the supernet (8 in the paper); a multiple of ``partial_k``.
    partial_k
        PC-DARTS channel sampling ratio ``K`` (1/K of the channels go through the operations).
    primitives
        Candidate operations (default :data:`PRIMITIVES`).
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: int = 8,
        partial_k: int = 4,
        primitives: Sequence[str] = PRIMITIVES,
        width: float = 1.0,
    ) -> None:
        c = max(partial_k, partial_k * int(round(channels * width / partial_k)))
        super().__init__(in_channels, c)
        if "none" in primitives and len(primitives) < 2:
            raise ValueError("primitives: expected at least one operation besides 'none'")
        self.primitives = tuple(primitives)
        self.edges = edges_of(N_INTERMEDIATE)
        self.blocks = nn.ModuleList(
            nn.ModuleList(
                SearchCell(c, c, c, partial_k, self.primitives) for _ in range(CELLS_PER_BLOCK)
            )
            for _ in range(N_BLOCKS)
        )
        # Small random logits, as DARTS, so the first steps are not exactly tied.
        self.alphas = nn.Parameter(1e-3 * torch.randn(len(self.edges), len(self.primitives)))
        self.betas = nn.Parameter(1e-3 * torch.randn(len(self.edges)))

    def _cells(self, block: int, h: torch.Tensor) -> torch.Tensor:
        cells = self.blocks[block]
        assert isinstance(cells, nn.ModuleList)
        for cell in cells:
            h = cell(h, self.alphas, self.betas)
        return h

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture parameters (``alphas``, ``betas``)."""
        return [self.alphas, self.betas]

    def weight_parameters(self) -> Iterator[nn.Parameter]:
        """Every parameter except the architecture ones."""
        arch = {id(p) for p in self.arch_parameters()}
        return (p for p in self.parameters() if id(p) not in arch)

    def edge_scores(self) -> torch.Tensor:
        """``(n_edges, n_ops)`` derivation scores: ``softmax(beta)_edge * softmax(alpha)_op``."""
        op_w = F.softmax(self.alphas.detach(), dim=-1)
        scores = torch.empty_like(op_w)
        e = 0
        for j in range(1, N_INTERMEDIATE + 1):
            edge_w = F.softmax(self.betas.detach()[e : e + j], dim=0)
            scores[e : e + j] = edge_w[:, None] * op_w[e : e + j]
            e += j
        return scores

    def genotype(self, edges_per_node: int = 2) -> Genotype:
        """Derive the discrete cell: per node, the ``edges_per_node`` strongest incoming edges,
        each with its strongest non-``none`` operation."""
        scores = self.edge_scores()
        keep = [k for k, p in enumerate(self.primitives) if p != "none"]
        nodes = []
        e = 0
        for j in range(1, N_INTERMEDIATE + 1):
            best = []
            for i in range(j):
                row = scores[e + i, keep]
                k = int(torch.argmax(row))
                best.append((float(row[k]), i, self.primitives[keep[k]]))
            best.sort(key=lambda t: -t[0])
            nodes.append(
                tuple((i, op) for _, i, op in sorted(best[:edges_per_node], key=lambda t: t[1]))
            )
            e += j
        return Genotype(nodes=tuple(nodes))
