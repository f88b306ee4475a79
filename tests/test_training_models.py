"""Models in training/models: shapes, gradients, TDC, the search space and ONNX export."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")
nn = torch.nn

from training.models import (  # noqa: E402
    DEFAULT_GENOTYPE,
    MODELS,
    PRIMITIVES,
    AutoHR,
    AutoHRSearch,
    Genotype,
    PhysNet,
    TDConv3d,
    build_model,
)
from training.models.saliency import (  # noqa: E402
    ResNet18Layer1,
    SaliencyFrontEnd,
    saliency_grid,
    saliency_loss,
    saliency_sparsity,
    saliency_temporal,
)
from training.models.search_space import MixedOp, channel_shuffle, make_op  # noqa: E402

# Small models and clips: the point is shapes and wiring, not capacity.
SMALL = {
    "physnet": {"width": 0.125},
    "autohr": {"channels": 8},
    "autohr_search": {"channels": 8},
}


pytestmark = pytest.mark.usefixtures("torch_seeded", "torch_one_thread")


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize(("in_channels", "frames"), [(3, 8), (1, 12), (3, 20)])
def test_models_map_video_to_pulse_with_gradients(name: str, in_channels: int, frames: int) -> None:
    model = build_model(name, in_channels, **SMALL[name])
    x = torch.randn(2, in_channels, frames, 16, 16, requires_grad=True)
    y = model(x)
    assert y.shape == (2, frames)
    assert torch.isfinite(y).all()
    y.pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_physnet_full_size_and_width_option() -> None:
    full, lean = PhysNet(3), PhysNet(3, width=0.25)
    n_full = sum(p.numel() for p in full.parameters())
    n_lean = sum(p.numel() for p in lean.parameters())
    assert n_lean < n_full / 8  # conv weights scale with width squared
    with torch.no_grad():
        assert lean.eval()(torch.randn(1, 3, 16, 64, 64)).shape == (1, 16)


def test_physnet_follows_table4_layout() -> None:
    m = PhysNet(3)
    convs = [mod for mod in m.modules() if isinstance(mod, nn.Conv3d)]
    # 9 encoder convs, 2 decoder (3,1,1) convs, the 1x1x1 head; no transposed convolutions.
    assert [c.kernel_size for c in convs[:1]] == [(1, 5, 5)]
    assert all(c.kernel_size == (3, 3, 3) for c in convs[1:9])
    assert [c.kernel_size for c in convs[9:11]] == [(3, 1, 1), (3, 1, 1)]
    assert convs[-1].kernel_size == (1, 1, 1) and convs[-1].out_channels == 1
    assert not any(isinstance(mod, nn.ConvTranspose3d) for mod in m.modules())
    assert not any(isinstance(mod, nn.AdaptiveAvgPool3d) for mod in m.modules())


@pytest.mark.parametrize(
    ("kwargs", "x_shape", "match"),
    [
        ({}, (2, 3, 10, 32, 32), "divisible by 4"),
        ({}, (2, 1, 8, 32, 32), "3 channels"),
        ({}, (2, 3, 8, 8, 8), "H, W"),
        ({}, (3, 8, 32, 32), "shape"),
    ],
)
def test_models_reject_bad_input(kwargs: dict, x_shape: tuple, match: str) -> None:
    for name in ("physnet", "autohr"):
        model = build_model(name, 3, **SMALL[name], **kwargs)
        with pytest.raises(ValueError, match=match):
            model(torch.randn(*x_shape))


def test_build_model_rejects_unknown_names_and_channels() -> None:
    with pytest.raises(ValueError, match="physnet"):
        build_model("resnet")
    with pytest.raises(ValueError, match="1 or 3"):
        build_model("physnet", in_channels=2)
    with pytest.raises(TypeError):
        build_model(3)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- TDC


@pytest.mark.parametrize("kernel", [(3, 3, 3), (5, 1, 1), (3, 1, 3)])
def test_tdc_theta_zero_is_exactly_conv3d(kernel: tuple[int, int, int]) -> None:
    tdc = TDConv3d(4, 6, kernel, theta=0.0, bias=True)
    conv = nn.Conv3d(4, 6, kernel, padding=tuple(k // 2 for k in kernel), bias=True)
    conv.load_state_dict(tdc.state_dict())
    x = torch.randn(2, 4, 7, 9, 9)
    assert torch.equal(tdc(x), conv(x))


def test_tdc_matches_paper_equation() -> None:
    """Eq. (1) of AutoHR evaluated literally: neighbouring-frame taps see I - theta * I(p0, t)."""
    theta = 0.7
    tdc = TDConv3d(1, 1, 3, theta=theta, padding=0)
    x = torch.randn(1, 1, 3, 3, 3)
    w = tdc.weight[0, 0]
    centre = x[0, 0, 1, 1, 1]
    expected = (w[1] * x[0, 0, 1]).sum()
    for t in (0, 2):
        expected = expected + (w[t] * (x[0, 0, t] - theta * centre)).sum()
    got = tdc(x)[0, 0, 0, 0, 0]
    assert torch.allclose(got, expected, atol=1e-5)


def test_tdc_difference_term_changes_output_and_is_trained() -> None:
    x = torch.randn(1, 2, 6, 5, 5)
    a = TDConv3d(2, 3, 3, theta=0.0)
    b = TDConv3d(2, 3, 3, theta=1.0)
    b.load_state_dict(a.state_dict())
    assert not torch.allclose(a(x), b(x))
    b(x).sum().backward()
    assert b.weight.grad is not None and b.weight.grad.abs().sum() > 0
    # A purely spatial kernel has no neighbouring frames: theta does not matter.
    s0, s1 = TDConv3d(2, 3, (1, 3, 3), theta=0.0), TDConv3d(2, 3, (1, 3, 3), theta=1.0)
    s1.load_state_dict(s0.state_dict())
    assert torch.equal(s0(x), s1(x))


def test_tdc_rejects_even_kernels() -> None:
    with pytest.raises(ValueError, match="odd"):
        TDConv3d(1, 1, (2, 3, 3))


# ----------------------------------------------------------------------------- search space


def test_search_space_has_the_papers_nine_operations() -> None:
    assert len(PRIMITIVES) == 9
    for name in (
        "none",
        "skip_connect",
        "TDC_3x3x3_0.2",
        "TDC_3x3x3_1.0",
        "conv_1x5x5",
        "conv_3x1x1",
        "conv_5x1x1",
        "conv_3x3x3",
    ):
        assert name in PRIMITIVES
    x = torch.randn(1, 4, 6, 8, 8)
    for name in PRIMITIVES:
        assert make_op(name, 4)(x).shape == x.shape
    with pytest.raises(ValueError, match="operation"):
        make_op("conv3", 4)


def test_channel_shuffle_is_a_permutation() -> None:
    x = torch.arange(8.0).view(1, 8, 1, 1, 1)
    y = channel_shuffle(x, 4).flatten()
    assert sorted(y.tolist()) == list(range(8))
    assert y.tolist() == [0, 2, 4, 6, 1, 3, 5, 7]


def test_mixed_op_uses_a_partial_channel_slice() -> None:
    op = MixedOp(8, partial_k=4)
    assert all(getattr(m, "in_channels", 2) == 2 for m in op.modules() if isinstance(m, nn.Conv3d))
    w = torch.zeros(len(PRIMITIVES))
    w[PRIMITIVES.index("none")] = 1.0
    x = torch.randn(1, 8, 4, 6, 6)
    y = op(x, w)
    # With only 'none' weighted, the sampled quarter is zero and the rest passes through.
    assert y.shape == x.shape
    assert int((y.abs().sum(dim=(0, 2, 3, 4)) == 0).sum()) == 2


def test_genotype_round_trips_and_validates() -> None:
    g = Genotype.from_json(DEFAULT_GENOTYPE.to_json())
    assert g == DEFAULT_GENOTYPE
    with pytest.raises(ValueError, match="source"):
        Genotype(nodes=(((1, "conv_3x1x1"),),))
    with pytest.raises(ValueError, match="none"):
        Genotype(nodes=(((0, "none"),),))


def test_default_genotype_reflects_the_papers_description() -> None:
    ops = [[op for _, op in node] for node in DEFAULT_GENOTYPE.nodes]
    assert any(op in ("conv_3x1x1", "conv_5x1x1") for op in ops[0] + ops[1])
    assert "conv_1x5x5" in ops[2]
    assert any(op.startswith("TDC_") for node in ops for op in node)


def test_supernet_derives_a_genotype_from_its_weights() -> None:
    net = AutoHRSearch(3, channels=8)
    with torch.no_grad():
        net.alphas.zero_()
        net.betas.zero_()
        net.alphas[:, PRIMITIVES.index("none")] = 10.0  # 'none' never chosen
        net.alphas[:, PRIMITIVES.index("conv_1x5x5")] = 5.0
        net.betas[3] = 5.0  # node B3 favours its edge from the input
    g = net.genotype()
    assert [len(n) for n in g.nodes] == [1, 2, 2]
    assert all(op == "conv_1x5x5" for node in g.nodes for _, op in node)
    assert 0 in [src for src, _ in g.nodes[2]]
    assert set(map(id, net.arch_parameters())).isdisjoint(map(id, net.weight_parameters()))
    fixed = AutoHR(3, genotype=g, channels=8)
    assert fixed(torch.randn(1, 3, 8, 16, 16)).shape == (1, 8)


def test_autohr_accepts_varied_genotypes() -> None:
    m = AutoHR(1, genotype=[DEFAULT_GENOTYPE] * 4, channels=8)
    assert m(torch.randn(1, 1, 8, 16, 16)).shape == (1, 8)
    with pytest.raises(ValueError, match="Genotype"):
        AutoHR(3, genotype=[DEFAULT_GENOTYPE] * 3)


# ----------------------------------------------------------------------------- saliency


def test_uniform_saliency_is_the_identity_warp() -> None:
    sal = torch.full((2, 1, 31, 31), 1.0 / 31**2)
    grid = saliency_grid(sal, (20, 24), padding=30, fwhm=13.0)
    frames = torch.rand(2, 3, 20, 24)
    out = torch.nn.functional.grid_sample(frames, grid, align_corners=True)
    assert torch.allclose(out, frames, atol=1e-3)


def test_peaked_saliency_pulls_samples_towards_the_peak() -> None:
    sal = torch.full((1, 1, 31, 31), 1e-4)
    sal[0, 0, 5, 25] = 1.0  # upper right
    sal = sal / sal.sum()
    grid = saliency_grid(sal, (32, 32), padding=30, fwhm=13.0)
    centre = grid[0, 16, 16]
    assert centre[0] > 0.1 and centre[1] < -0.1  # x to the right, y upwards


@pytest.mark.parametrize("in_channels", [1, 3])
def test_saliency_front_end_wraps_a_backbone(in_channels: int) -> None:
    model = build_model("physnet", in_channels, saliency=True, width=0.125)
    assert isinstance(model, SaliencyFrontEnd)
    x = torch.rand(2, in_channels, 8, 32, 32)
    out = model.forward_with_saliency(x)
    assert out.pulse.shape == (2, 8)
    assert out.frames.shape == x.shape
    assert out.saliency.shape == (2, 8, 31, 31)
    assert torch.allclose(out.saliency.sum(dim=(2, 3)), torch.ones(2, 8), atol=1e-4)
    (out.pulse.sum() + saliency_loss(out.saliency)).backward()
    assert model.saliency_head.weight.grad is not None
    assert model.saliency_head.weight.grad.abs().sum() > 0


def test_saliency_regularisers() -> None:
    g = 8
    uniform = torch.full((1, 4, g, g), 1.0 / g**2)
    peaked = torch.full((1, 4, g, g), 1e-6)
    peaked[..., 2, 3] = 1.0
    peaked = peaked / peaked.sum(dim=(2, 3), keepdim=True)
    assert saliency_sparsity(peaked) < saliency_sparsity(uniform)
    assert saliency_temporal(uniform) == 0
    moving = peaked.clone()
    moving[:, 1::2] = peaked[:, 1::2].roll(2, dims=-1)
    assert saliency_temporal(moving) > 0


def test_saliency_weights_load_from_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = ResNet18Layer1(3)
    state = {
        k: torch.randn_like(v) if v.is_floating_point() else v for k, v in src.state_dict().items()
    }
    state["fc.weight"] = torch.randn(10, 512)  # extra keys of a full ResNet-18 are ignored
    path = tmp_path / "resnet18.pt"
    torch.save(state, path)
    rgb = ResNet18Layer1(3)
    rgb.load_weights(path)
    assert torch.equal(rgb.conv1.weight, state["conv1.weight"])
    grey = ResNet18Layer1(1)
    grey.load_weights(path)
    assert torch.allclose(grey.conv1.weight, state["conv1.weight"].sum(1, keepdim=True))
    del state["layer1.1.conv2.weight"]
    torch.save(state, path)
    with pytest.raises(ValueError, match="layer1.1.conv2.weight"):
        ResNet18Layer1(3).load_weights(path)
    with pytest.raises(FileNotFoundError):
        ResNet18Layer1(3).load_weights(tmp_path / "absent.pt")


# ----------------------------------------------------------------------------- ONNX


@pytest.mark.parametrize(
    ("name", "saliency"), [("physnet", False), ("autohr", False), ("physnet", True)]
)
def test_onnx_export_with_dynamic_frames_matches_torch(name: str, saliency: bool) -> None:
    ort = require_module("onnxruntime")
    require_module("onnx", extra="train")
    model = build_model(name, 3, saliency=saliency, **SMALL[name])
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        model.train()
        for _ in range(3):
            model(torch.randn(2, 3, 8, 16, 16) * 2 + 0.5)
    model.eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(1, 3, 8, 16, 16),),
            buf,
            dynamo=False,
            opset_version=17,
            input_names=["video"],
            output_names=["pulse"],
            dynamic_axes={"video": {0: "batch", 2: "frames"}, "pulse": {0: "batch", 1: "frames"}},
        )
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for frames in (8, 20):
        x = torch.randn(2, 3, frames, 16, 16)
        with torch.no_grad():
            ref = model(x).numpy()
        got = sess.run(None, {"video": x.numpy()})[0]
        assert got.shape == (2, frames)
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)
