"""Writes that several processes may make at once (DDP ranks sharing a cache or a run folder):
unique temporary names, atomic replacement, nothing left behind on failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from _training_fixtures import VIDEOS  # noqa: E402

from training.data import preprocess  # noqa: E402
from training.data.preprocess import load_face_video, save_face_video  # noqa: E402
from training.distributed import main_process_first  # noqa: E402
from training.files import atomic_path  # noqa: E402
from training.logger import append_csv, read_csv  # noqa: E402


def test_atomic_path_gives_each_writer_its_own_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "frames.npy"
    with atomic_path(target) as a, atomic_path(target) as b:
        assert a != b and a.parent == b.parent == target.parent
        assert a.suffix == b.suffix == ".npy"  # np.save would append one otherwise
        a.write_text("first")
        b.write_text("second")
    assert target.read_text() == "first"  # the outer block finished last
    assert sorted(p.name for p in target.parent.iterdir()) == ["frames.npy"]


def test_atomic_path_leaves_the_target_alone_when_the_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "metrics.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def test_two_writers_of_one_cache_entry_do_not_take_each_others_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rank A is between writing its frames and renaming them when rank B saves the same entry.

    With a fixed temporary name (``frames.tmp.npy``) B renames A's file away and A's rename
    then fails (or A publishes B's half-written file); with unique names both succeed.
    """
    folder = tmp_path / "synthetic" / "syn000_0000"
    a_video, b_video = VIDEOS[0], VIDEOS[1]
    real_save = np.save
    interleaved = []

    def save_then_let_b_run(file, arr, *args, **kwargs):  # type: ignore[no-untyped-def]
        real_save(file, arr, *args, **kwargs)
        if not interleaved:
            interleaved.append(Path(file))
            save_face_video(b_video, folder)  # B runs from start to end in the middle of A

    monkeypatch.setattr(preprocess.np, "save", save_then_let_b_run)
    save_face_video(a_video, folder)
    assert interleaved and interleaved[0].name != "frames.npy"
    back = load_face_video(folder, mmap=False)
    assert back.video_id == a_video.video_id  # the last complete write wins
    np.testing.assert_array_equal(back.frames, a_video.frames)
    assert sorted(p.name for p in folder.iterdir()) == ["frames.npy", "meta.npz"]


def test_main_process_first_runs_the_block_in_a_single_process() -> None:
    ran = []
    with main_process_first():
        ran.append(1)
    assert ran == [1]


def test_metrics_csv_widens_its_header_for_later_columns(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    append_csv(path, {"epoch": 0, "train_loss": 1.5})
    append_csv(path, {"epoch": 1, "train_loss": 0.25, "val_ipr": 0.125})
    rows = read_csv(path)
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert rows[0]["val_ipr"] == "" and rows[1]["val_ipr"] == "0.125"
