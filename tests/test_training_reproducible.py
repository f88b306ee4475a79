"""One command from data to shipped files: training stops by epochs, the same run twice gives the
same weights, and ``--release-name`` exports (ONNX + parity + sidecar) and writes the model card."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests._training_fixtures import TINY_ARGS, VIDEOS

torch = pytest.importorskip("torch")
from training import train  # noqa: E402


def _weights_sha256(path: Path) -> str:
    state = torch.load(path, map_location="cpu", weights_only=False)["model"]
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _run(out: Path, *extra: str) -> dict[str, object]:
    args = train.parse_args(
        [
            *TINY_ARGS,
            "--epochs",
            "2",
            "--output-dir",
            str(out),
            "--cache-dir",
            str(out / "c"),
            *extra,
        ]
    )
    return train.main(args, VIDEOS)


def test_the_same_run_twice_gives_the_same_weights(tmp_path: Path) -> None:
    _run(tmp_path / "a")
    _run(tmp_path / "b")
    a, b = (_weights_sha256(tmp_path / d / "best.pt") for d in ("a", "b"))
    assert a == b
    # ... and the check can fail: another seed trains other weights.
    _run(tmp_path / "c", "--seed", "2")
    assert _weights_sha256(tmp_path / "c" / "best.pt") != a
    rows = (tmp_path / "a" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 2  # stopped by epochs: header + 2 epochs


def test_release_exports_checks_parity_and_writes_the_card(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run(out, "--release-name", "tiny", "--evaluate", "", "--evaluate-real", "")
    rel = out / "release"
    onnx, side, card = rel / "tiny.onnx", rel / "tiny.json", rel / "tiny.md"
    assert onnx.is_file() and side.is_file() and card.is_file()
    meta = json.loads(side.read_text())
    assert (
        meta["name"] == "tiny"
        and meta["onnx"]["sha256"] == hashlib.sha256(onnx.read_bytes()).hexdigest()
    )
    assert meta["parity"]["max_abs_error"] <= meta["parity"]["bound"]
    text = card.read_text()
    assert meta["onnx"]["sha256"] in text
    assert hashlib.sha256((out / "best.pt").read_bytes()).hexdigest() in text
    assert "seed | 1" in text and "2 epochs" in text
