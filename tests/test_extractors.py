"""Pulse extractors on their own: the classical extractor and the model extractor behind the
``PulseExtractor`` protocol, and the one ``Method`` enum."""

from __future__ import annotations

import numpy as np
import pytest
from rppg_sdk import dsp
from rppg_sdk.backends import ModelInputSpec
from rppg_sdk.extractors import (
    ClassicalExtractor,
    Method,
    ModelExtractor,
    PulseExtractor,
    make_extractor,
    pulse_from_traces,
)
from rppg_sdk.roi import SkinObservation

FPS = 30.0
HZ = 1.25  # 75 bpm


def _obs(crop: np.ndarray, moved: bool = False) -> SkinObservation:
    return SkinObservation(crop=crop, skin_weights=None, box_xywh=(0, 0, 32, 32), moved=moved)


def _crops(n: int, channels: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Crops of skin whose colour pulses at ``HZ`` (BGR; green strongest), with sensor noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FPS
    base = np.array([110.0, 140.0, 190.0])[:channels]
    depth = np.array([0.003, 0.01, 0.0015])[:channels]
    out = []
    for k in range(n):
        c = base * (1 + depth * np.sin(2 * np.pi * HZ * t[k]))
        noise = rng.normal(0, 2.0, (32, 32, channels))
        out.append(np.clip(c + noise, 0, 255).round().astype(np.uint8))
    return out


def _peak_hz(pulse: np.ndarray, fs: float) -> float:
    return float(dsp.estimate_heart_rate(pulse, fs).bpm) / 60.0


def test_method_is_the_one_spelling() -> None:
    assert [m.value for m in Method] == ["pos", "chrom", "green", "mono", "model"]
    assert [m for m in Method if m.is_classical] == [
        Method.POS, Method.CHROM, Method.GREEN, Method.MONO,
    ]  # fmt: skip
    for m in ("pos", Method.CHROM, "green", "mono"):
        ext = make_extractor(m)
        assert isinstance(ext, ClassicalExtractor) and ext.method_name == Method(m).value
    with pytest.raises(ValueError, match="backend"):
        make_extractor(Method.MODEL)
    with pytest.raises(ValueError, match="method"):
        make_extractor("ica")
    with pytest.raises(ValueError, match="method"):
        pulse_from_traces(np.ones((100, 3)), FPS, "ica")


@pytest.mark.parametrize("method", ["pos", "chrom", "green"])
def test_classical_extractor_gives_the_pulse_window(method: str) -> None:
    ext: PulseExtractor = ClassicalExtractor(Method(method))
    crops = _crops(300)
    for i, c in enumerate(crops):
        ext.push(_obs(c, moved=i in (0, 100, 200)), i / FPS)
    end = (len(crops) - 1) / FPS
    w = ext.pulse_window(end, 8.0, 5.0)
    assert w is not None
    assert w.method_name == method and w.input_channels == 3
    assert w.end_s == pytest.approx(end) and w.span_s == pytest.approx(8.0, abs=1 / FPS)
    assert w.box_moves == 2  # frames 100 and 200: frame 0 lies before the newest 8 s
    assert w.traces is not None and w.traces.shape == (w.pulse.size, 3)
    # The traces are the un-detrended means: the skin's colour, BGR.
    np.testing.assert_allclose(w.traces.mean(axis=0), [110, 140, 190], atol=1.5)
    assert abs(_peak_hz(w.pulse, w.fs_hz) - HZ) < 0.05


def test_classical_extractor_waits_for_min_window_and_forgets_on_reset() -> None:
    ext = ClassicalExtractor(Method.POS)
    for i, c in enumerate(_crops(120)):
        ext.push(_obs(c), i / FPS)
    assert ext.pulse_window(119 / FPS, 10.0, 5.0) is None  # 4 s of data
    assert ext.pulse_window(119 / FPS, 10.0, 3.0) is not None
    ext.reset()
    assert ext.pulse_window(119 / FPS, 10.0, 3.0) is None


def test_classical_one_channel_fallback() -> None:
    ext = ClassicalExtractor(Method.POS)
    for i, c in enumerate(_crops(240, channels=1)):
        ext.push(_obs(c), i / FPS)
    w = ext.pulse_window(239 / FPS, 10.0, 5.0)
    assert w is not None and ext.method_name == "mono" == w.method_name
    assert w.input_channels == 1 and w.traces is not None and w.traces.shape[1] == 1
    assert abs(_peak_hz(w.pulse, w.fs_hz) - HZ) < 0.05
    colour = ClassicalExtractor(Method.MONO)
    colour.push(_obs(_crops(1)[0]), 0.0)
    assert colour.method_name == "green"


class _MeanBackend:
    """A fake model: minus the chunk's mean over pixels and channels (GREEN-like)."""

    def __init__(self) -> None:
        self.spec = ModelInputSpec(name="mean", channels=3, height=32, width=32)
        self.calls = 0

    def infer(self, chunk: np.ndarray) -> np.ndarray:
        self.calls += 1
        return -chunk.mean(axis=(1, 3, 4)).astype(np.float32)

    def close(self) -> None:
        pass


def test_model_extractor_stitches_chunks_into_the_pulse_window() -> None:
    backend = _MeanBackend()
    ext: PulseExtractor = make_extractor(
        Method.MODEL,
        backend=backend,
        chunk_frames=64,
        overlap_frames=16,  # type: ignore[arg-type]
    )
    assert isinstance(ext, ModelExtractor)
    for i, c in enumerate(_crops(330)):
        ext.push(_obs(c), i / FPS)
    w = ext.pulse_window(329 / FPS, 10.0, 5.0)  # VIDEO use: waits for the chunks in flight
    assert w is not None and backend.calls >= 6
    assert w.method_name == backend.spec.name and w.input_channels == 3
    assert w.fs_hz == backend.spec.fps_hz and np.all(np.diff(w.times_s) > 0)
    assert abs(_peak_hz(w.pulse, w.fs_hz) - HZ) < 0.05
    # The confidence's evidence, read classically from the same skin, on the model's grid.
    n = w.pulse.shape[0]
    assert w.traces is not None and w.traces.shape == (n, 3)
    assert w.classical is not None and w.classical.shape == (n,)
    assert abs(_peak_hz(w.classical, w.fs_hz) - HZ) < 0.05
    ext.reset()
    assert ext.pulse_window(329 / FPS, 10.0, 5.0) is None
    ext.close()
    ext.close()  # idempotent
