"""The model path: Backend interface, ONNX Runtime backend, chunking and stitching.

The models are tiny ONNX graphs built here with ``onnx.helper`` (mean over the face, then a
channel mix), so the tests know exactly what a backend must return.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from rppg_sdk.backends import Backend, ModelInputSpec, OnnxRuntimeBackend, load_backend
from rppg_sdk.backends.sidecar import ModelSidecar, OnnxInfo, file_sha256, write_sidecar
from rppg_sdk.extractors.model import ChunkStitcher, ModelChunker, normalize_chunk

onnx = require_module("onnx", extra="train")
from onnx import TensorProto, helper  # noqa: E402

SIZE = 16


def make_mean_mix_model(
    path: Path,
    weights: tuple[float, ...] = (0.0, -1.0, 0.0),
    size: int = SIZE,
    fixed_t: int | None = None,
) -> Path:
    """ONNX: (1, C, T, H, W) -> mean over H, W -> weighted sum over C -> (1, T)."""
    c = len(weights)
    t_dim: int | str = fixed_t if fixed_t is not None else "frames"
    x = helper.make_tensor_value_info("video", TensorProto.FLOAT, [1, c, t_dim, size, size])
    y = helper.make_tensor_value_info("pulse", TensorProto.FLOAT, [1, t_dim])
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, c, 1], list(weights))
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("ReduceMean", ["video"], ["m"], axes=[3, 4], keepdims=0),
        helper.make_node("Mul", ["m", "w"], ["mw"]),
        helper.make_node("ReduceSum", ["mw", "axes"], ["pulse"], keepdims=0),
    ]
    graph = helper.make_graph(nodes, "mean_mix", [x], [y], initializer=[w, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mean_mix_model(tmp_path_factory.mktemp("models") / "meanmix.onnx")


def test_backend_runs_any_ncthw_model(model_path: Path) -> None:
    with OnnxRuntimeBackend(model_path) as be:
        assert isinstance(be, Backend)
        assert (be.spec.channels, be.spec.height, be.spec.width) == (3, SIZE, SIZE)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(1, 3, 40, SIZE, SIZE)).astype(np.float32)
        y = be.infer(x)
    assert y.shape == (1, 40) and y.dtype == np.float32
    np.testing.assert_allclose(y[0], -x[0, 1].mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_backend_rejects_wrong_chunks(model_path: Path) -> None:
    with OnnxRuntimeBackend(model_path) as be:
        with pytest.raises(ValueError, match=r"expected shape \(1, 3, T, 16, 16\)"):
            be.infer(np.zeros((1, 1, 10, SIZE, SIZE), np.float32))
        with pytest.raises(ValueError, match="expected shape"):
            be.infer(np.zeros((3, 10, SIZE, SIZE), np.float32))
        with pytest.raises(TypeError, match="numpy array"):
            be.infer([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="after close"):
        be.infer(np.zeros((1, 3, 10, SIZE, SIZE), np.float32))


def test_backend_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent"):
        OnnxRuntimeBackend(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="could not load"):
        OnnxRuntimeBackend(junk)


def make_sidecar(path: Path, **input_fields: object) -> ModelSidecar:
    """A complete sidecar for the ONNX file ``path`` (its hash included)."""
    fields: dict[str, object] = {
        "name": path.stem, "channels": 3, "height": SIZE, "width": SIZE, "fps_hz": 30.0,
        "normalization": "temporal", "channel_order": "BGR", "min_frames": 4,
        "frames_multiple_of": 4, "recommended_frames": 64,
    }  # fmt: skip
    fields.update(input_fields)
    return ModelSidecar(
        input=ModelInputSpec(**fields),  # type: ignore[arg-type]
        architecture="meanmix",
        model_kwargs={},
        onnx=OnnxInfo(file=path.name, sha256=file_sha256(path), opset=17),
    )


def test_sidecar_is_read_and_its_hash_checked(tmp_path: Path) -> None:
    p = make_mean_mix_model(tmp_path / "m.onnx")
    side = make_sidecar(p, name="meanmix", channel_order="RGB", fps_hz=25.0,
                        normalization="standard")
    write_sidecar(p, side)
    with OnnxRuntimeBackend(p) as be:
        s = be.spec
        assert (s.name, s.fps_hz, s.normalization, s.channel_order) == (
            "meanmix",
            25.0,
            "standard",
            "RGB",
        )
        assert (s.frames_multiple_of, s.recommended_frames) == (4, 64)
        assert be.sidecar == side
        with pytest.raises(ValueError, match="multiple of 4"):
            be.infer(np.zeros((1, 3, 10, SIZE, SIZE), np.float32))
    data = side.to_json()
    data["onnx"]["sha256"] = "0" * 64
    p.with_suffix(".json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"m\.json: onnx\.sha256"):
        OnnxRuntimeBackend(p)
    p.with_suffix(".json").write_text("{not json")
    with pytest.raises(ValueError, match=r"m\.json: expected a JSON"):
        OnnxRuntimeBackend(p)


def test_sidecar_that_disagrees_with_the_model_is_rejected(tmp_path: Path) -> None:
    p = make_mean_mix_model(tmp_path / "m.onnx")
    write_sidecar(p, make_sidecar(p, channels=1, channel_order="NIR"))
    with pytest.raises(ValueError, match="input.channels 1"):
        OnnxRuntimeBackend(p)
    data = make_sidecar(p).to_json()
    data["input"]["name"] = "frames"
    p.with_suffix(".json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"m\.json: input\.name: expected the model's input"):
        OnnxRuntimeBackend(p)


def make_nan_model(path: Path, value: float = float("nan")) -> Path:
    """ONNX: (1, 3, T, H, W) -> (1, T) of ``mean * value`` (NaN or inf for every sample)."""
    x = helper.make_tensor_value_info("video", TensorProto.FLOAT, [1, 3, "frames", SIZE, SIZE])
    y = helper.make_tensor_value_info("pulse", TensorProto.FLOAT, [1, "frames"])
    k = helper.make_tensor("k", TensorProto.FLOAT, [], [value])
    nodes = [
        helper.make_node("ReduceMean", ["video"], ["m"], axes=[1, 3, 4], keepdims=0),
        helper.make_node("Mul", ["m", "k"], ["pulse"]),
    ]
    graph = helper.make_graph(nodes, "nan_out", [x], [y], initializer=[k])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(("value", "what"), [(float("nan"), "40 NaN"), (float("inf"), "40 inf")])
def test_a_model_that_outputs_nan_or_inf_is_named(tmp_path: Path, value: float, what: str) -> None:
    p = make_nan_model(tmp_path / "broken.onnx", value)
    write_sidecar(p, make_sidecar(p, name="brokennet"))
    x = np.ones((1, 3, 40, SIZE, SIZE), np.float32)
    with load_backend(p, "onnxruntime") as be, pytest.raises(RuntimeError) as info:
        be.infer(x)
    msg = str(info.value)
    assert "'brokennet'" in msg and str(p) in msg and what in msg


def test_bundled_models_load() -> None:
    from rppg_sdk.models import available_models

    for name in available_models():
        be = load_backend(name)
        s = be.spec
        x = np.zeros((1, s.channels, 64, s.height, s.width), np.float32)
        assert be.infer(x).shape == (1, 64)
        be.close()


def test_normalize_chunk_matches_training_formula() -> None:
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(20, 8, 8, 3), dtype=np.uint8)
    out = normalize_chunk(frames, "temporal")
    assert out.shape == (1, 3, 20, 8, 8) and out.dtype == np.float32
    x = frames.transpose(3, 0, 1, 2).astype(np.float64)
    rel = x / (x.mean(axis=1, keepdims=True) + 1.0) - 1.0
    np.testing.assert_allclose(out[0], rel / (rel.std(ddof=1) + 1e-4), rtol=1e-4, atol=1e-5)
    torch = require_module("torch", extra="train")
    from training.data.clips import normalize_clip

    ref = normalize_clip(torch.from_numpy(frames).permute(3, 0, 1, 2)).numpy()
    np.testing.assert_allclose(out[0], ref, rtol=1e-4, atol=1e-4)
    for method in ("standard", "none"):
        ref = normalize_clip(torch.from_numpy(frames).permute(3, 0, 1, 2), method).numpy()
        np.testing.assert_allclose(normalize_chunk(frames, method)[0], ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="temporal"):
        normalize_chunk(frames, "zscore")


def test_stitcher_aligns_sign_and_keeps_each_sample_once() -> None:
    fs = 30.0
    t = np.arange(0, 20, 1 / fs)
    truth = np.sin(2 * np.pi * 1.2 * t)
    st = ChunkStitcher(capacity=2000)
    chunk, hop = 96, 64
    sign = 1.0
    for start in range(0, t.size - chunk + 1, hop):
        sl = slice(start, start + chunk)
        st.add(t[sl], sign * 5.0 * truth[sl])  # arbitrary scale, alternating sign per chunk
        sign = -sign
    times, values = st.window(0.0)
    assert np.all(np.diff(times) > 0)
    assert np.corrcoef(values, np.interp(times, t, truth))[0, 1] > 0.99


class _CountingBackend:
    """Wraps a backend and counts the frames it is asked to infer."""

    def __init__(self, inner: OnnxRuntimeBackend) -> None:
        self.inner = inner
        self.frames = 0
        self.threads: set[str] = set()

    @property
    def spec(self) -> ModelInputSpec:
        return self.inner.spec  # type: ignore[return-value]

    def infer(self, chunk: np.ndarray) -> np.ndarray:
        self.frames += chunk.shape[2]
        self.threads.add(threading.current_thread().name)
        return self.inner.infer(chunk)

    def close(self) -> None:
        self.inner.close()


def test_chunker_infers_each_frame_about_once(model_path: Path) -> None:
    be = _CountingBackend(OnnxRuntimeBackend(model_path))
    ch = ModelChunker(be, chunk_frames=64, overlap_frames=16, crop_shape=(SIZE, SIZE, 3))
    crop = np.full((SIZE, SIZE, 3), 120, np.uint8)
    n = 900
    for i in range(n):
        job = ch.make_job(i / 30.0) if ch.push(crop, i / 30.0) else None
        if job is not None:
            assert job.chunk.shape == (1, 3, 64, SIZE, SIZE)
            be.infer(job.chunk)
    assert 1.0 < be.frames / n < 1.4
    with pytest.raises(ValueError, match="channel"):
        ModelChunker(be, 64, 16, (SIZE, SIZE, 1))


@pytest.mark.parametrize("threads", [1, 3])
def test_load_backend_threads_reach_the_session_options(model_path: Path, threads: int) -> None:
    with load_backend(model_path, "onnxruntime", threads=threads) as be:
        opts = be._session.get_session_options()  # type: ignore[attr-defined]
        assert opts.intra_op_num_threads == threads


def test_load_backend_rejects_bad_threads(model_path: Path) -> None:
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="threads"):
            load_backend(model_path, threads=bad)  # type: ignore[arg-type]
