"""DDP as users launch it: ``torchrun --standalone --nproc_per_node=2`` (gloo on CPU) runs the
real trainer for one optimiser step; the two ranks must hold identical parameters afterwards,
different from where they started, and only rank 0 may render the shared synthetic cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import require_module

torch = require_module("torch", extra="train")
require_module("mediapipe")  # the synthetic set goes through the SDK's face tracker
require_module("skimage", extra="demo")  # the renderer's default face

from _training_fixtures import TINY_ARGS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# Runs on every rank: the trainer as `python -m training.train` runs it, plus two recorders (the
# weights as built, before DDP's broadcast, and every synthetic video this rank renders) and a
# dump of this rank's parameters when training ends.
DRIVER = """
import sys
from pathlib import Path

import torch

import training.data.synthetic as synthetic
import training.trainer as trainer
from training.train import parse_args

renders = []
render = synthetic.render_face_video


def counting_render(*a, **k):
    renders.append(k.get("video_id"))
    return render(*a, **k)


synthetic.render_face_video = counting_render
initial = {}
build = trainer.build_model


def recording_build(*a, **k):
    model = build(*a, **k)
    initial.update({n: p.detach().clone() for n, p in model.named_parameters()})
    return model


trainer.build_model = recording_build
args = parse_args(sys.argv[1:])
result = trainer.fit(args)
final = {n: p.detach().clone() for n, p in result.model.named_parameters()}
out = Path(args.output_dir)
out.mkdir(parents=True, exist_ok=True)
torch.save(
    {"initial": initial, "final": final, "renders": renders, "world_size": result.world_size},
    out / f"rank{result.rank}.pt",
)
"""


def test_two_torchrun_ranks_hold_identical_weights_after_one_step(tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    run, cache = tmp_path / "run", tmp_path / "cache"
    n_videos = 4
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(driver),
        *TINY_ARGS,
        "--data",
        "synthetic",
        "--synthetic",
        f"{{n_videos: {n_videos}, duration_s: 3.0, face_variants: false}}",
        "--folds",
        "2",
        "--epochs",
        "1",
        # 4 clips over 2 ranks in batches of 2: one optimiser step per rank.
        "--samples-per-epoch",
        "4",
        "--batch-size",
        "2",
        "--threads",
        "1",
        "--output-dir",
        str(run),
        "--cache-dir",
        str(cache),
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    r0 = torch.load(run / "rank0.pt", weights_only=False)
    r1 = torch.load(run / "rank1.pt", weights_only=False)
    assert r0["world_size"] == r1["world_size"] == 2
    # Rank 0 rendered the cache; rank 1 waited at the barrier and read it.
    assert len(r0["renders"]) == n_videos and r1["renders"] == []
    assert len(list((cache / "synthetic").glob("*/meta.npz"))) == n_videos
    # Seeds differ per rank, so the replicas were built different: equal weights after the
    # step are DDP's doing (broadcast, then all-reduced gradients), not a coincidence.
    assert any(not torch.equal(r0["initial"][k], v) for k, v in r1["initial"].items())
    assert r0["final"].keys() == r1["final"].keys()
    for k, v in r0["final"].items():
        assert torch.equal(v, r1["final"][k]), f"{k} differs between the ranks"
    assert any(not torch.equal(v, r0["initial"][k]) for k, v in r0["final"].items())
    ckpt = torch.load(run / "checkpoint.pt", weights_only=False)
    assert ckpt["config"]["world_size"] == 2 and ckpt["epoch"] == 0
    for k, v in ckpt["model"].items():
        if k in r0["final"]:
            assert torch.equal(v, r0["final"][k])
