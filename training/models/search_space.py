"""AutoHR search space (Yu et al. 2020): candidate operations, cells, genotypes.

What the paper states
---------------------
* A cell is a DAG of 5 nodes: one input node, three intermediate nodes B1, B2, B3 and an output
  node; every edge between input/intermediate nodes carries a candidate operation; the output
  node is the channel concatenation of the intermediate nodes (Fig. 3b).
* Nine candidate operations (Fig. 3c), including ``TDC_3x3x3_theta`` with the two values of
  theta the paper keeps, 0.2 and 1.0 (Sec. III-B), and the ``conv_3x1x1``, ``conv_5x1x1`` and
  ``conv_1x5x5`` named in Appendix C.
* Search follows DARTS (Liu et al. 2019) with the partial channel connections and edge
  normalisation of PC-DARTS (Xu et al. 2019); edge ``(i, j)`` mixes its operations with
  ``softmax(alpha^{(i,j)})``; the discrete cell keeps, for each intermediate node, the two
  incoming edges whose best non-``none`` weight is largest, each with that best operation.
* Cells are shared by all four blocks ("Shared" beat "Varied" in the ablation).

What is reconstructed here (Fig. 3c is an image the text does not spell out)
----------------------------------------------------------------------------
* The exact list of nine operations: :data:`PRIMITIVES` below = ``none``, ``skip_connect``,
  ``conv_3x3x3`` (TDC with theta = 0), ``TDC_3x3x3_0.2``, ``TDC_3x3x3_1.0``, ``conv_1x3x3``,
  ``conv_1x5x5``, ``conv_3x1x1``, ``conv_5x1x1``.
* Each convolutional operation is Conv3d/TDC + BatchNorm3d + ELU (PhysNet's layer style); the
  cell pre-processes its input with a 1x1x1 Conv+BN+ELU and fuses the concatenation of the three
  intermediate nodes back to the block width with another 1x1x1 Conv+BN+ELU (DARTS-style).
* Node B1 has only one possible incoming edge (from the input), so it keeps one edge.
* PC-DARTS details: the first ``C / K`` channels of an edge's input go through the mixed
  operation, the rest bypass it, and the two parts are concatenated and channel-shuffled
  (``K = 4`` by default); edge-normalisation weights ``beta`` are per incoming edge of a node and
  softmax-normalised over those edges; derivation ranks edges by
  ``softmax(beta)_edge * max_{op != none} softmax(alpha)_op``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from training.models.tdc import TDConv3d

__all__ = [
    "PRIMITIVES",
    "N_INTERMEDIATE",
    "Genotype",
    "DEFAULT_GENOTYPE",
    "make_op",
    "MixedOp",
    "SearchCell",
    "FixedCell",
    "edges_of",
]

#: Candidate operations on an edge (see the module docstring for what is reconstructed).
PRIMITIVES: tuple[str, ...] = (
    "none",
    "skip_connect",
    "conv_3x3x3",
    "TDC_3x3x3_0.2",
    "TDC_3x3x3_1.0",
    "conv_1x3x3",
    "conv_1x5x5",
    "conv_3x1x1",
    "conv_5x1x1",
)

#: Intermediate nodes B1, B2, B3 of a cell; node 0 is the cell input.
N_INTERMEDIATE = 3


def edges_of(n_intermediate: int = N_INTERMEDIATE) -> list[tuple[int, int]]:
    """All edges ``(src, dst)`` of the cell DAG; nodes ``1..n`` are intermediate."""
    return [(i, j) for j in range(1, n_intermediate + 1) for i in range(j)]


class Zero(nn.Module):
    """The ``none`` operation: no information flows along the edge."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ConvOp(nn.Sequential):
    """Conv3d (or TDC) + BatchNorm3d + ELU keeping the shape ("same" padding)."""

    def __init__(
        self, channels: int, kernel: tuple[int, int, int], theta: float, affine: bool = True
    ) -> None:
        super().__init__(
            TDConv3d(channels, channels, kernel, theta=theta),
            nn.BatchNorm3d(channels, affine=affine),
            nn.ELU(inplace=False),
        )


def _parse_kernel(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split("x")]
    if len(parts) != 3:
        raise ValueError(f"expected a kernel like '3x3x3', got {text!r}")
    return parts[0], parts[1], parts[2]


def make_op(name: str, channels: int, affine: bool = True) -> nn.Module:
    """Build candidate operation ``name`` (one of :data:`PRIMITIVES` or any ``conv_KxKxK`` /
    ``TDC_KxKxK_theta``) on ``channels`` channels."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name.startswith("conv_"):
        return ConvOp(channels, _parse_kernel(name[len("conv_") :]), 0.0, affine)
    if name.startswith("TDC_"):
        kernel, _, theta = name[len("TDC_") :].partition("_")
        return ConvOp(channels, _parse_kernel(kernel), float(theta), affine)
    raise ValueError(
        f"operation: expected one of {PRIMITIVES} (or conv_/TDC_ variants), got {name!r}"
    )


@dataclass(frozen=True)
class Genotype:
    """A discrete cell: for each intermediate node, its incoming ``(source_node, operation)``.

    Node 0 is the cell input; intermediate node ``j`` (1-based) may take inputs from nodes
    ``0..j-1``. The cell output concatenates the nodes in ``concat``.
    """

    nodes: tuple[tuple[tuple[int, str], ...], ...]
    concat: tuple[int, ...] = field(default=(1, 2, 3))

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ValueError("nodes: expected at least one intermediate node, got none")
        for j, edges in enumerate(self.nodes, start=1):
            if not edges:
                raise ValueError(f"nodes[{j - 1}]: expected at least one incoming edge")
            for src, op in edges:
                if not 0 <= src < j:
                    raise ValueError(f"node {j}: expected a source in 0..{j - 1}, got {src}")
                if op == "none":
                    raise ValueError(f"node {j}: 'none' cannot be a chosen operation")
                make_op(op, 4)  # validates the name
        for k in self.concat:
            if not 1 <= k <= len(self.nodes):
                raise ValueError(f"concat: expected nodes in 1..{len(self.nodes)}, got {k}")

    def to_json(self) -> str:
        return json.dumps(
            {"nodes": [[list(e) for e in n] for n in self.nodes], "concat": list(self.concat)}
        )

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        d = json.loads(text)
        nodes = tuple(tuple((int(s), str(o)) for s, o in n) for n in d["nodes"])
        return cls(nodes=nodes, concat=tuple(int(k) for k in d.get("concat", (1, 2, 3))))


#: AutoHR's searched cell (Appendix C, Fig. 5), reconstructed. Stated in the paper: the early
#: intermediate nodes (0 and 1 in the paper's numbering, B1 and B2 here) prefer temporal
#: convolutions ``conv_3x1x1`` and ``conv_5x1x1``, the last node (B3) prefers the spatial
#: ``conv_1x5x5``, and searching with TDC operators gave better cells. Reconstructed (Fig. 5 is an
#: image): which node feeds which, and where the TDC operators sit. Here B1 = conv_3x1x1(input);
#: B2 = conv_5x1x1(B1) + TDC_3x3x3_0.2(input); B3 = conv_1x5x5(B2) + TDC_3x3x3_1.0(input).
DEFAULT_GENOTYPE = Genotype(
    nodes=(
        ((0, "conv_3x1x1"),),
        ((1, "conv_5x1x1"), (0, "TDC_3x3x3_0.2")),
        ((2, "conv_1x5x5"), (0, "TDC_3x3x3_1.0")),
    )
)


def _pointwise(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 1, bias=False), nn.BatchNorm3d(cout), nn.ELU(inplace=False)
    )


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave ``groups`` channel groups (ShuffleNet), as PC-DARTS does after each edge."""
    n, c = x.shape[:2]
    rest = x.shape[2:]
    return x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


class MixedOp(nn.Module):
    """A searchable edge: softmax-weighted sum of every candidate on ``1/K`` of the channels.

    Parameters
    ----------
    channels
        Channels of the edge's input and output.
    partial_k
        PC-DARTS ``K``: only ``channels // K`` channels go through the operations; the rest
        bypass them. ``1`` is plain DARTS.
    primitives
        Candidate operation names.
    """

    def __init__(
        self, channels: int, partial_k: int = 4, primitives: Sequence[str] = PRIMITIVES
    ) -> None:
        super().__init__()
        if channels % partial_k:
            raise ValueError(
                f"channels: expected a multiple of partial_k={partial_k}, got {channels}"
            )
        self.k = int(partial_k)
        c_part = channels // self.k
        # BN without affine in the search, as DARTS does: the weights are architecture-scaled.
        self.ops = nn.ModuleList(make_op(p, c_part, affine=False) for p in primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        c_part = x.shape[1] // self.k
        xa, xb = x[:, :c_part], x[:, c_part:]
        ya = weights[0] * self.ops[0](xa)
        for w, op in zip(weights[1:], list(self.ops)[1:], strict=True):
            ya = ya + w * op(xa)
        if self.k == 1:
            return ya  # type: ignore[no-any-return]
        return channel_shuffle(torch.cat([ya, xb], dim=1), self.k)


class SearchCell(nn.Module):
    """DARTS cell with PC-DARTS partial channels and edge normalisation.

    Architecture weights are passed in (``alphas``: ``(n_edges, n_ops)`` logits; ``betas``:
    ``(n_edges,)`` logits) so that all cells can share one set ("Shared" configuration).
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        channels: int,
        partial_k: int = 4,
        primitives: Sequence[str] = PRIMITIVES,
        n_intermediate: int = N_INTERMEDIATE,
    ) -> None:
        super().__init__()
        self.n = n_intermediate
        self.edges = edges_of(n_intermediate)
        self.pre = _pointwise(c_in, channels)
        self.mixed = nn.ModuleList(MixedOp(channels, partial_k, primitives) for _ in self.edges)
        self.post = _pointwise(channels * n_intermediate, c_out)

    def forward(self, x: torch.Tensor, alphas: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        op_w = F.softmax(alphas, dim=-1)
        states = [self.pre(x)]
        e = 0
        for j in range(1, self.n + 1):
            # Edge normalisation: the incoming edges of node j compete through softmax(beta).
            edge_w = F.softmax(betas[e : e + j], dim=0)
            s = edge_w[0] * self.mixed[e](states[0], op_w[e])
            for i in range(1, j):
                s = s + edge_w[i] * self.mixed[e + i](states[i], op_w[e + i])
            states.append(s)
            e += j
        y: torch.Tensor = self.post(torch.cat(states[1:], dim=1))
        return y


class FixedCell(nn.Module):
    """The discrete cell of a :class:`Genotype`."""

    def __init__(self, c_in: int, c_out: int, channels: int, genotype: Genotype) -> None:
        super().__init__()
        self.genotype = genotype
        self.pre = _pointwise(c_in, channels)
        # Flat list of the chosen operations; plan[j] lists (op index, source node) of node j+1.
        self.plan: list[list[tuple[int, int]]] = []
        ops: list[nn.Module] = []
        for node in genotype.nodes:
            self.plan.append([])
            for src, op in node:
                self.plan[-1].append((len(ops), src))
                ops.append(make_op(op, channels))
        self.ops = nn.ModuleList(ops)
        self.post = _pointwise(channels * len(genotype.concat), c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [self.pre(x)]
        for node in self.plan:
            k0, src0 = node[0]
            s = self.ops[k0](states[src0])
            for k, src in node[1:]:
                s = s + self.ops[k](states[src])
            states.append(s)
        y: torch.Tensor = self.post(torch.cat([states[k] for k in self.genotype.concat], dim=1))
        return y
