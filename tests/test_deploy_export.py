"""deploy/export_onnx.py, deploy/calibrate.py and the TensorRT operator check.

Small randomly initialised models keep these fast; the shipped models are checked in
tests/test_deploy_models.py.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")
onnx = require_module("onnx", extra="train")
ort = require_module("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402
from rppg_sdk.backends.sidecar import file_sha256, read_sidecar, sidecar_path  # noqa: E402

from deploy.calibrate import ClipReader  # noqa: E402
from deploy.calibrate import main as calibrate_main  # noqa: E402
from deploy.export_onnx import (  # noqa: E402
    ModelSpec,
    check_onnx,
    export_model,
    input_spec,
    load_model,
)
from deploy.trt_onnx_ops import MAX_OPSET, SOURCE, SUPPORTED_OPS, unsupported_nodes  # noqa: E402

TINY = {"physnet": {"width": 0.25}, "autohr": {"channels": 8}}


@pytest.fixture(scope="module", params=["physnet", "autohr"])
def exported(request, tmp_path_factory):
    name = request.param
    model, spec = load_model(None, model=name, model_kwargs=TINY[name], size=32)
    spec = replace(spec, input=replace(spec.input, recommended_frames=48))
    out = tmp_path_factory.mktemp(name) / f"{name}.onnx"
    path, sidecar = export_model(model, spec, out, log=lambda s: None)
    return name, model, spec, path, sidecar


def test_export_writes_a_valid_single_file_with_sidecar(exported):
    name, _, spec, path, sidecar = exported
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{name}.json", f"{name}.onnx"]
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert {i.domain: i.version for i in proto.opset_import}[""] == 17
    side = json.loads(sidecar_path(path).read_text())
    assert side == sidecar.to_json()
    assert read_sidecar(path) == sidecar  # what the SDK reads is what was written
    assert side["onnx"]["sha256"] == file_sha256(path)
    assert side["input"]["frames_multiple_of"] == 4 and side["input"]["recommended_frames"] == 48
    assert side["input"]["layout"] == "NCTHW" and side["output"]["layout"] == "NT"
    assert side["input"]["channels"] == 3 and side["input"]["channel_order"] == "BGR"
    assert side["input"]["height"] == side["input"]["width"] == 32
    assert side["fps_hz"] == 30.0 and side["normalization"] == "temporal"
    assert side["architecture"] == name and side["model_kwargs"] == TINY[name]
    assert side["parity"]["max_abs_error"] <= side["parity"]["bound"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["rppg_layout"] == "NCTHW" and meta["rppg_model"] == name


def test_dynamic_batch_and_frames_match_pytorch(exported):
    _, model, spec, path, _ = exported
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    for n, t in [(1, 16), (3, 92)]:
        x = rng.standard_normal((n, 3, t, 32, 32)).astype(np.float32)
        out = sess.run(None, {"video": x})[0]
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        assert out.shape == (n, t)
        np.testing.assert_allclose(out, ref, atol=1e-4 * max(1.0, np.abs(ref).max()))


def test_every_operator_of_the_exported_graph_is_supported_by_tensorrt(exported):
    _, _, _, path, _ = exported
    proto = onnx.load(str(path))
    assert unsupported_nodes(proto) == []
    ops = {n.op_type for n in proto.graph.node}
    assert ops <= SUPPORTED_OPS
    assert check_onnx(path) == sorted(ops)


def _graph(nodes, opset=17, inits=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])
    g = helper.make_graph(nodes, "g", [x], [y], initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def test_the_operator_check_rejects_what_tensorrt_cannot_parse():
    assert "opset 9" in SOURCE or "operators.md" in SOURCE
    unknown = _graph([helper.make_node("Unique", ["x"], ["y"], name="u")])
    assert [b.op_type for b in unsupported_nodes(unknown)] == ["Unique"]
    qlinear = _graph([helper.make_node("QLinearConv", ["x"], ["y"], name="q")])
    assert "support matrix" in unsupported_nodes(qlinear)[0].reason
    cubic = _graph([helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic", name="r")],
                   inits=[helper.make_tensor("s", TensorProto.FLOAT, [4], [1, 1, 2, 2])])
    assert "mode 'cubic'" in unsupported_nodes(cubic)[0].reason
    pool1d = _graph([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2], name="p")])
    assert "1D pooling" in unsupported_nodes(pool1d)[0].reason
    dyn_axes = _graph([helper.make_node("ReduceMean", ["x", "x"], ["y"], name="m")], opset=18)
    assert "axes" in unsupported_nodes(dyn_axes)[0].reason
    custom = _graph([helper.make_node("Thing", ["x"], ["y"], domain="com.acme", name="t")])
    assert "plugin" in unsupported_nodes(custom)[0].reason
    too_new = _graph([helper.make_node("Relu", ["x"], ["y"])], opset=MAX_OPSET + 1)
    assert unsupported_nodes(too_new)[0].op_type == "opset"
    ok = _graph([helper.make_node("Relu", ["x"], ["y"])])
    assert unsupported_nodes(ok) == []
    with pytest.raises(TypeError, match="ModelProto"):
        unsupported_nodes("model.onnx")  # type: ignore[arg-type]


def test_check_onnx_lists_every_unsupported_node(tmp_path):
    model = _graph([helper.make_node("Unique", ["x"], ["a"], name="u1"),
                    helper.make_node("Unique", ["a"], ["y"], name="u2")])
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ValueError, match="2 node") as info:
        check_onnx(path)
    assert "u1" in str(info.value) and "u2" in str(info.value)


def test_model_spec_validates_its_fields():
    base = {"channels": 3, "size": 64, "clip_frames": 300, "fps_hz": 30.0,
            "normalization": "temporal"}
    spec = ModelSpec(input_spec("m", **base), architecture="physnet", model_kwargs={})
    assert (spec.name, spec.clip_frames, spec.input.frames_multiple_of) == ("m", 300, 4)
    assert input_spec("m", **{**base, "channels": 1}).channel_order == "NIR"
    for bad, match in [({"channels": 2}, "channels"), ({"size": 8}, "size"),
                       ({"clip_frames": 30}, "multiple of 4"), ({"fps_hz": 0.0}, "fps_hz"),
                       ({"normalization": "zscore"}, "normalization")]:
        with pytest.raises(ValueError, match=match):
            ModelSpec(input_spec("m", **{**base, **bad}), architecture="physnet",
                      model_kwargs={})


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.pt")


def test_int8_quantization_runs_in_onnx_runtime_close_to_fp32(tmp_path):
    model, spec = load_model(None, model="physnet", model_kwargs={"width": 0.25}, size=32)
    spec = replace(spec, input=replace(spec.input, recommended_frames=32))
    path, fp32_side = export_model(model, spec, tmp_path / "p.onnx", log=lambda s: None)
    rng = np.random.default_rng(0)
    # Calibration clips with a pulse-like common signal, as normalised face chunks look.
    t = np.arange(32) / 30.0
    pulse = np.sin(2 * np.pi * 1.2 * t)[None, None, :, None, None]
    clips = (rng.standard_normal((4, 3, 32, 32, 32)) * 0.5 + pulse).astype(np.float32)
    np.save(tmp_path / "clips.npy", clips)
    q = tmp_path / "p_int8.onnx"
    assert calibrate_main(["--onnx", str(path), "--clips", str(tmp_path / "clips.npy"),
                           "--int8-output", str(q)]) == 0
    # The INT8 model's sidecar is written by the one writer and reads back valid.
    q_side = read_sidecar(q)
    assert q_side.precision == "int8" and q_side.onnx.sha256 == file_sha256(q)
    assert q_side.input == fp32_side.input and q_side.parity is None
    assert q_side.quantization is not None
    assert q_side.quantization["source_onnx_sha256"] == fp32_side.onnx.sha256
    ops = {n.op_type for n in onnx.load(str(q)).graph.node}
    assert "QLinearConv" in ops
    fp = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    i8 = ort.InferenceSession(str(q), providers=["CPUExecutionProvider"])
    x = clips[:1]
    a, b = fp.run(None, {"video": x})[0].ravel(), i8.run(None, {"video": x})[0].ravel()
    assert b.shape == a.shape
    # An untrained net's output barely varies, so judge the error against its magnitude (the
    # waveform-level cost of INT8 on the trained model is measured by deploy/verify.py).
    assert np.max(np.abs(a - b)) < 0.05 * np.max(np.abs(a))


def test_clip_reader_feeds_one_clip_per_call_and_rewinds():
    clips = np.zeros((3, 3, 8, 16, 16), np.float32)
    r = ClipReader(clips)
    got = [r.get_next() for _ in range(4)]
    assert [g is None for g in got] == [False, False, False, True]
    assert got[0]["video"].shape == (1, 3, 8, 16, 16)
    r.rewind()
    assert r.get_next() is not None
    with pytest.raises(ValueError, match="n, C, T, H, W"):
        ClipReader(clips[0])


def test_calibrate_requires_a_valid_sidecar_beside_the_model(tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"model")
    with pytest.raises(FileNotFoundError, match="beside"):
        calibrate_main(["--onnx", str(tmp_path / "x.onnx"), "--clips", "none.npy"])
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(ValueError, match=r"x\.json: top level: expected a JSON object"):
        calibrate_main(["--onnx", str(tmp_path / "x.onnx"), "--clips", "none.npy"])


def test_calibration_clips_from_a_real_face_video():
    from conftest import require_real_data

    from deploy.calibrate import calibration_clips

    video = require_real_data("evm_face", "face.mp4")
    clips = calibration_clips(f"video:{video}", frames=64, size=32, n_clips=3)
    assert clips.shape == (3, 3, 64, 32, 32) and clips.dtype == np.float32
    assert np.isfinite(clips).all()
    # "temporal" normalisation: unit standard deviation over each clip.
    assert np.allclose(clips.reshape(3, -1).std(axis=1), 1.0, atol=0.01)
    with pytest.raises(ValueError, match="1-channel"):
        calibration_clips(f"video:{video}", frames=64, size=32, channels=1, n_clips=1)
    with pytest.raises(ValueError, match="source"):
        calibration_clips("webcam", frames=64, size=32)
