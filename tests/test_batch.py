"""``rppg-sdk batch``: a folder of short rendered clips (one corrupt, one faceless) on the local
process pool and on a real local Ray; identical to ``rppg-sdk measure``; resumed after a kill;
long videos in segments against one pass."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from conftest import absent, require_module
from rppg_sdk import MonitorOptions
from rppg_sdk.batch import BatchConfig, discover_inputs, run_batch
from rppg_sdk.batch.engines import LocalEngine
from rppg_sdk.batch.segments import WHOLE, plan_segments
from rppg_sdk.cli import main

pq = require_module("pyarrow.parquet", extra="batch")
require_module("av", extra="demo")  # the renderer's codecs
from rppg_sdk.synthetic import SyntheticClipSpec, clip_truth, render_to_file  # noqa: E402

SIZE = (128, 96)  # small frames: the face is ~60 px tall, enough for the detector and POS
CLIPS = {"a.avi": (66.0, 1), "sub/b.avi": (78.0, 2), "sub/deeper/c.avi": (90.0, 3)}
# measure's CSV columns the Parquet rows must reproduce (CSV rounds as HeartRateReading.as_dict).
COMPARED = {"timestamp_s": 4, "status": None, "bpm": 2, "confidence": 3, "snr_db": 2}


def _spec(bpm: float, seed: int, duration_s: float = 12.0, motion: str = "still") -> Any:
    return SyntheticClipSpec(
        duration_s=duration_s, frame_size=SIZE, heart_rate_bpm=bpm, codec="mjpeg",
        jpeg_quality=90, motion=motion, motion_amplitude_px=3.0 if motion != "still" else 0.0,
        seed=seed,
    )  # fmt: skip


def _faceless(path: Path, seconds: float = 8.0) -> None:
    """Grey noise: a video without a face."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, SIZE)
    rng = np.random.default_rng(0)
    for _ in range(int(seconds * 30)):
        w.write(rng.integers(90, 110, (SIZE[1], SIZE[0], 3), dtype=np.uint8))
    w.release()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    for name, (bpm, seed) in CLIPS.items():
        render_to_file(_spec(bpm, seed), root / name)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 50)
    _faceless(root / "empty_room.avi")
    (root / "notes.txt").write_text("not a video: the folder walk skips it")
    return root


@pytest.fixture(scope="module")
def engine() -> Any:
    """One local pool for the tests that call the Python API (spawning a pool takes seconds)."""
    with LocalEngine(2) as eng:
        yield eng


@pytest.fixture(scope="module")
def local_out(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive through the CLI on the local engine (two worker processes)."""
    out = tmp_path_factory.mktemp("local") / "out"
    code = main(["batch", str(archive), "--out", str(out), "--workers", "2", "--no-progress"])
    assert code == 0
    return out


def _readings(out: Path) -> Any:
    t = pq.read_table(out / "readings")
    return t.sort_by([("video_id", "ascending"), ("timestamp_s", "ascending")])


def _summary(out: Path) -> dict[str, dict[str, Any]]:
    return {r["video_id"]: r for r in pq.read_table(out / "summary.parquet").to_pylist()}


def test_local_engine_records_every_video_and_equals_measure(
    archive: Path, local_out: Path, tmp_path: Path
) -> None:
    summary = _summary(local_out)
    assert set(summary) == set(CLIPS) | {"broken.mp4", "empty_room.avi"}
    assert summary["broken.mp4"]["status"] == "corrupt"
    assert "could not open" in summary["broken.mp4"]["reason"]
    assert summary["empty_room.avi"]["status"] == "faceless"
    manifest = json.loads((local_out / "manifest.json").read_text())
    assert manifest["state"] == "finished" and manifest["engine"] == "local"
    assert manifest["counts"] == {"ok": 3, "corrupt": 1, "faceless": 1}
    table = _readings(local_out)
    assert {"video_id", "timestamp_s", "bpm", "confidence", "status", "snr_db", "method",
            "model_sha256", "sdk_version", "options_hash"} <= set(table.column_names)  # fmt: skip
    rows = table.to_pylist()
    assert {r["options_hash"] for r in rows} == {manifest["options_hash"]}
    assert {r["status"] for r in rows if r["video_id"] == "empty_room.avi"} == {"no_face"}
    for vid, (bpm, seed) in CLIPS.items():
        # The same file through `rppg-sdk measure`: the same readings, row for row.
        c, j = tmp_path / "m.csv", tmp_path / "m.json"
        code = main(["measure", str(archive / vid), "--csv", str(c), "--json", str(j),
                     "--no-progress"])  # fmt: skip
        assert code == 0
        want = list(csv.DictReader(c.open()))
        got = [r for r in rows if r["video_id"] == vid]
        assert len(got) == len(want) == len(json.loads(j.read_text())["readings"]) >= 10
        for g, w in zip(got, want, strict=True):
            for col, nd in COMPARED.items():
                v = g[col]
                v = "" if v is None else str(round(v, nd) if nd is not None else v)
                assert v == w[col], (vid, col, g, w)
        # And the number is right: the summary's median against the clip's truth.
        truth = clip_truth(_spec(bpm, seed)).mean_bpm(0.0, 12.0)
        assert abs(summary[vid]["median_bpm"] - truth) < 3.0, (vid, summary[vid], truth)
        assert summary[vid]["status"] == "ok" and summary[vid]["n_confident"] >= 3


def test_ray_engine_equals_local_engine(archive: Path, local_out: Path, tmp_path: Path) -> None:
    try:
        import ray
    except ImportError as exc:
        absent(f'Ray is not importable ({exc}); pip install ".[batch]"')
    # No address: the run starts a local Ray with 2 CPUs (no dashboard) and stops it after.
    code = main(["batch", str(archive), "--out", str(tmp_path / "ray"), "--engine", "ray",
                 "--workers", "2", "--no-progress"])  # fmt: skip
    assert code == 0
    assert not ray.is_initialized()
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["workers"] == 2
    assert _readings(tmp_path / "ray").equals(_readings(local_out))
    drop = ("wall_s", "path")
    ray_sum, local_sum = _summary(tmp_path / "ray"), _summary(local_out)
    for vid in local_sum:
        assert {k: v for k, v in ray_sum[vid].items() if k not in drop} == {
            k: v for k, v in local_sum[vid].items() if k not in drop
        }


def test_killed_run_resumes_without_redoing_or_half_files(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "rppg_sdk.cli", "batch", str(archive), "--out", str(out),
           "--workers", "1", "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "videos").glob("*.json"))) < 2:  # the corrupt one, then one more
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # a crash: no clean-up runs in any of its processes
        proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "videos").glob("*.json")}
    assert 2 <= len(finished) < 5
    # What a crash in the middle of a write leaves: a temporary file beside a real one.
    (out / "readings" / ".x.parquet.123.tmp").write_bytes(b"PAR1 half")
    assert main(["batch", str(archive), "--out", str(out), "--workers", "2", "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_skipped"] == len(finished)
    assert sum(manifest["counts"].values()) == 5 - len(finished)
    for name, mtime in finished.items():  # the finished videos were not measured again
        assert (out / "videos" / name).stat().st_mtime_ns == mtime
    assert not list(out.rglob("*.tmp"))
    assert len(_summary(out)) == 5
    for p in (out / "readings").glob("*.parquet"):
        pq.read_table(p)  # every file whole


def test_rerun_with_other_options_is_refused(
    archive: Path, local_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["batch", str(archive), "--out", str(local_out), "--method", "chrom"])
    assert code == 2
    assert "other options" in capsys.readouterr().err


def test_segments_of_a_long_video_equal_one_pass(tmp_path: Path, engine: LocalEngine) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    render_to_file(_spec(84.0, 5, duration_s=40.0, motion="rigid"), folder / "long.avi")
    outs = {}
    for seg in (None, 12.0):
        cfg = BatchConfig(folder, tmp_path / f"out{seg}", segment_s=seg, workers=2,
                          progress=False)  # fmt: skip
        rep = run_batch(cfg, engine=engine)
        assert rep.counts == {"ok": 1}
        outs[seg] = _readings(tmp_path / f"out{seg}").to_pylist()
    assert _summary(tmp_path / "out12.0")["long.avi"]["segments"] == 3
    assert _summary(tmp_path / "outNone")["long.avi"]["segments"] == 1
    one, split = outs[None], outs[12.0]
    assert [r["timestamp_s"] for r in split] == [r["timestamp_s"] for r in one]
    assert len(one) == 39
    rated = [(a, b) for a, b in zip(one, split, strict=True) if a["bpm"] is not None]
    worst = max(abs(a["bpm"] - b["bpm"]) for a, b in rated)
    print(f"segmented against one pass: largest bpm difference {worst:.4f}")
    for a, b in zip(one, split, strict=True):
        # Segments start two analysis windows early. What outlives that warm-up: the face box
        # and the motion anchor, set where a pass last re-aligned its box, shift confidence in
        # the 4th decimal (see rppg_sdk.batch.segments).
        assert a["status"] == b["status"]
        assert a["bpm"] == pytest.approx(b["bpm"], abs=0.05), (a, b)
        assert a["confidence"] == pytest.approx(b["confidence"], abs=0.01), (a, b)


def test_segment_plan_lines_up_with_the_readings() -> None:
    segs = plan_segments(1200, 30.0, segment_s=12.0, warmup_s=20.0, update_interval_s=1.0,
                         align_frames=10)  # fmt: skip
    assert [(s.first_frame, s.end_frame, s.keep_from_s, s.keep_until_s) for s in segs] == [
        (0, 360, 0.0, 12.0),
        (0, 720, 12.0, 24.0),
        (120, None, 24.0, None),
    ]
    # 29.97 fps: no frame lies on a whole second, so no segment could restart the readings'
    # schedule; the video is measured in one piece. Short videos too.
    assert plan_segments(36000, 29.97, segment_s=60, warmup_s=20, update_interval_s=1) == [WHOLE]
    assert plan_segments(500, 30.0, segment_s=12.0, warmup_s=20, update_interval_s=1) == [WHOLE]
    with pytest.raises(ValueError, match="segment_s"):
        plan_segments(500, 30.0, segment_s=-1.0, warmup_s=20, update_interval_s=1)


def test_manifests_carry_metadata_into_the_summary(
    archive: Path, tmp_path: Path, engine: LocalEngine
) -> None:
    man = tmp_path / "m.csv"
    rel = os.path.relpath(archive / "a.avi", tmp_path)
    man.write_text(f"path,video_id,subject\n{rel},s1-a,S01\n{archive / 'broken.mp4'},,S02\n")
    items = discover_inputs(man)
    assert [i.video_id for i in items] == ["s1-a", str(archive / "broken.mp4")]
    assert items[0].path == archive / "a.avi" and items[0].metadata == {"subject": "S01"}
    jl = tmp_path / "m.jsonl"
    jl.write_text(json.dumps({"path": str(archive / "a.avi"), "session": 3}) + "\n")
    assert discover_inputs(jl)[0].metadata == {"session": 3}
    out = tmp_path / "out"
    rep = run_batch(BatchConfig(man, out, progress=False), engine=engine)
    assert rep.counts == {"ok": 1, "corrupt": 1}
    assert {r["video_id"]: r["meta_subject"] for r in _summary(out).values()} == {
        "s1-a": "S01",
        str(archive / "broken.mp4"): "S02",
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("file\nx.mp4\n")
    with pytest.raises(ValueError, match="'path'"):
        discover_inputs(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text(f"path,video_id\n{rel},x\n{rel},x\n")
    with pytest.raises(ValueError, match="twice"):
        discover_inputs(dup)


def test_dry_run_counts_videos_hours_and_machine_time(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["batch", str(archive), "--out", str(out), "--dry-run", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    # 3 x 12 s clips and 8 s of grey: 44 s, 0.01 h; the broken file cannot be opened.
    assert "5 videos, 0.01 h of video" in text and "1 cannot be opened" in text
    assert "estimated machine time" in text and "on 2 workers" in text
    assert not out.exists()  # a dry run writes nothing


def test_bad_arguments_are_messages(archive: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main(["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["batch", str(archive), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "workers" in capsys.readouterr().err
    args = ["batch", str(archive), "--out", str(tmp_path / "o"), "--address", "x:1"]
    assert main(args) == 2
    assert "--engine ray" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
    with pytest.raises(ValueError, match="callback"):
        run_batch(BatchConfig(archive, tmp_path / "o", MonitorOptions(callback=print)))
