"""The ONNX operators TensorRT 10's ONNX parser supports, kept in the repository with its source.

Source: the operator support matrix of the ONNX-TensorRT parser, ``docs/operators.md`` in
https://github.com/onnx/onnx-tensorrt (the TensorRT 10.15 GA edition: "TensorRT 10.15 supports
operators in the inclusive range of opset 9 to opset 24"). The rows marked ``Y`` are listed
here; the restrictions that can matter for the models of this project are in
:data:`RESTRICTIONS` and checked by :func:`unsupported_nodes`.

Older TensorRT 10 releases support a subset: JetPack 6.x ships TensorRT 10.3, whose matrix
already has every operator the exported PhysNet and AutoHR graphs use (Conv, Elu, AveragePool,
MaxPool, Resize, ReduceMean, BatchNormalization, Flatten, Reshape, Shape, Gather, Concat, ...);
the operators in :data:`NEWER_THAN_10_3` are the ones our graphs must avoid for those devices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

__all__ = [
    "MAX_OPSET",
    "MIN_OPSET",
    "NEWER_THAN_10_3",
    "RESTRICTIONS",
    "SOURCE",
    "SUPPORTED_OPS",
    "Unsupported",
    "unsupported_nodes",
]

SOURCE = (
    "https://github.com/onnx/onnx-tensorrt/blob/release/10.15-GA/docs/operators.md "
    "(ONNX-TensorRT operator support matrix, TensorRT 10.15)"
)
#: Inclusive range of ONNX opsets (default domain) that TensorRT 10's parser accepts.
MIN_OPSET = 9
MAX_OPSET = 24

#: Operators marked "Y" in the support matrix (default ONNX domain).
SUPPORTED_OPS: frozenset[str] = frozenset(
    """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool
    BatchNormalization BlackmanWindow Cast CastLike Ceil Celu Clip Concat Constant
    ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DeformConv DepthToSpace DequantizeLinear
    Div Dropout Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherElements
    GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual
    GridSample GroupNormalization GRU HammingWindow HannWindow HardSigmoid HardSwish Hardmax
    Identity If ImageScaler InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less
    LessOrEqual Log LogSoftmax Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean
    MeanVarianceNormalization Min Mish Mod Mul Neg NonMaxSuppression NonZero Not OneHot Or Pad
    ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal RandomNormalLike RandomUniform
    RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax
    ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize
    ReverseSequence RMSNormalization RNN RoiAlign RotaryEmbedding Round STFT ScaledTanh Scan
    Scatter ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax
    Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh TensorScatter
    ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze Upsample Where Xor
    """.split()
)

#: Supported in 10.15 but added after TensorRT 10.3 (JetPack 6): avoid them in shipped graphs.
NEWER_THAN_10_3: frozenset[str] = frozenset(
    {"Attention", "RMSNormalization", "RotaryEmbedding", "TensorScatter"}
)

#: The matrix's restrictions for operators our models use, in words (checked below).
RESTRICTIONS: dict[str, str] = {
    "AveragePool": "2D or 3D pooling only; dilations empty or all ones",
    "MaxPool": "2D or 3D pooling only; no Indices output; dilations empty or all ones",
    "Resize": "modes nearest/linear; no antialias; transformation modes half_pixel, "
    "pytorch_half_pixel, tf_half_pixel_for_nn, asymmetric, align_corners",
    "ReduceMean": "axes must be an initializer (or the opset < 18 attribute)",
    "ReduceSum": "axes must be an initializer (or a constant)",
    "ScatterND": "reduction must be none",
    "QuantizeLinear": "y_zero_point must be 0",
    "DequantizeLinear": "x_zero_point must be 0",
}

_RESIZE_COORD = {
    "half_pixel",
    "pytorch_half_pixel",
    "tf_half_pixel_for_nn",
    "asymmetric",
    "align_corners",
}


@dataclass(frozen=True)
class Unsupported:
    """One node TensorRT's ONNX parser would reject."""

    node: str
    op_type: str
    reason: str


def _attr(node: onnx.NodeProto, name: str) -> object | None:
    for a in node.attribute:
        if a.name == name:
            value: object = onnx.helper.get_attribute_value(a)
            return value
    return None


def unsupported_nodes(model: onnx.ModelProto) -> list[Unsupported]:
    """Nodes of an ``onnx.ModelProto`` that TensorRT 10's ONNX parser does not support.

    Checks the opset range, the operator list and the restrictions above that can be read from
    the graph alone (pool rank, resize modes, constant reduce axes, zero points).

    Parameters
    ----------
    model
        An ``onnx.ModelProto`` (e.g. from ``onnx.load``).

    Returns
    -------
    list of Unsupported
        Empty when the whole graph is supported.
    """
    if not isinstance(model, onnx.ModelProto):
        raise TypeError(f"model: expected an onnx.ModelProto, got {type(model).__name__}")
    graph = model.graph
    bad: list[Unsupported] = []
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx") and not MIN_OPSET <= imp.version <= MAX_OPSET:
            bad.append(
                Unsupported(
                    "<model>", "opset", f"opset {imp.version} outside {MIN_OPSET}..{MAX_OPSET}"
                )
            )
    initializers = {t.name: t for t in graph.initializer}
    constants = {
        out: node for node in graph.node if node.op_type == "Constant" for out in node.output
    }

    def is_const(name: str) -> bool:
        return name in initializers or name in constants

    def const_value(name: str) -> object | None:
        if name in initializers:
            return numpy_helper.to_array(initializers[name])
        if name in constants:
            return _attr(constants[name], "value")
        return None

    for node in _all_nodes(graph.node):
        name, op = node.name or "<unnamed>", node.op_type
        if node.domain not in ("", "ai.onnx"):
            bad.append(Unsupported(name, op, f"custom domain {node.domain!r} needs a plugin"))
            continue
        if op not in SUPPORTED_OPS:
            bad.append(Unsupported(name, op, "not in TensorRT's ONNX operator support matrix"))
            continue
        if op in ("AveragePool", "MaxPool"):
            kernel = _attr(node, "kernel_shape")
            rank = len(kernel) if isinstance(kernel, list) else 0
            if rank not in (2, 3):
                bad.append(Unsupported(name, op, f"{rank}D pooling (2D/3D only)"))
            dil = _attr(node, "dilations")
            if isinstance(dil, list) and any(d != 1 for d in dil):
                bad.append(Unsupported(name, op, "dilations other than 1"))
            if op == "MaxPool" and len(node.output) > 1 and node.output[1]:
                bad.append(Unsupported(name, op, "Indices output"))
        elif op == "Resize":
            mode = _attr(node, "mode")
            mode = mode.decode() if isinstance(mode, bytes) else (mode or "nearest")
            coord = _attr(node, "coordinate_transformation_mode")
            coord = coord.decode() if isinstance(coord, bytes) else (coord or "half_pixel")
            if mode not in ("nearest", "linear"):
                bad.append(Unsupported(name, op, f"mode {mode!r}"))
            if coord not in _RESIZE_COORD:
                bad.append(Unsupported(name, op, f"coordinate_transformation_mode {coord!r}"))
            if _attr(node, "antialias"):
                bad.append(Unsupported(name, op, "antialias"))
        elif op == "ScatterND" and (_attr(node, "reduction") or b"none") not in (b"none", "none"):
            bad.append(Unsupported(name, op, "reduction other than none"))
        elif op.startswith("Reduce") and len(node.input) > 1 and node.input[1]:
            if not is_const(node.input[1]):
                bad.append(Unsupported(name, op, "axes input is not an initializer/constant"))
        elif op in ("QuantizeLinear", "DequantizeLinear") and len(node.input) > 2:
            zp = const_value(node.input[2]) if node.input[2] else None
            if zp is not None and bool((np.asarray(zp) != 0).any()):
                bad.append(Unsupported(name, op, "non-zero zero point (TensorRT: symmetric only)"))
    return bad


def _all_nodes(nodes: Iterable[onnx.NodeProto]) -> Iterator[onnx.NodeProto]:
    """Nodes including those inside If/Loop/Scan subgraphs."""
    for node in nodes:
        yield node
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(a.g.node)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    yield from _all_nodes(g.node)
