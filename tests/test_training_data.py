"""training.data: every dataset loader on a small fixture in its exact on-disk format, the face
preprocessing cache, the clip dataset and the subject-wise splits."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from training.data import (  # noqa: E402
    ClipConfig,
    ClipDataset,
    FaceVideo,
    folder_records,
    load_cohface,
    load_dataset,
    load_face_video,
    load_mr_nirp_car,
    load_pure,
    load_ubfc_rppg,
    preprocess_record,
    read_frames,
    save_face_video,
    subject_kfold,
)

FPS = 30.0


def _frames(n: int, h: int = 24, w: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(40, 200, size=(n, h, w, 3), dtype=np.uint8)


def _write_avi(path: Path, frames: np.ndarray, fps: float = FPS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    # MJPG in AVI is what every OpenCV build can write and read back.
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert vw.isOpened()
    for f in frames:
        vw.write(f)
    vw.release()


def test_ubfc_rppg_dataset2_layout(tmp_path: Path) -> None:
    n = 12
    for s in (1, 3):
        folder = tmp_path / f"subject{s}"
        _write_avi(folder / "vid.avi", _frames(n, seed=s))
        t = np.arange(n) / FPS + 5.0  # the file's clock need not start at 0
        ppg = np.sin(2 * np.pi * 1.2 * t)
        bpm = np.full(n, 72.0 + s)
        (folder / "ground_truth.txt").write_text(
            "\n".join(" ".join(f"{v:.6e}" for v in row) for row in (ppg, bpm, t)) + "\n"
        )
    (tmp_path / "subject2").mkdir()  # no video: skipped, not an error
    recs = load_ubfc_rppg(tmp_path)
    assert [r.subject_id for r in recs] == ["subject1", "subject3"]
    r = recs[1]
    assert r.ppg.shape == (n,) and r.ppg_timestamps_s[0] == 0.0
    np.testing.assert_allclose(r.bpm, 75.0)
    frames, ts = read_frames(r)
    assert frames.shape == (n, 24, 32, 3) and frames.dtype == np.uint8
    np.testing.assert_allclose(ts, np.arange(n) / FPS, atol=1e-6)
    assert load_dataset("UBFC_rPPG", tmp_path)[0].video_id == "subject1"


def test_pure_layout_with_nested_frames(tmp_path: Path) -> None:
    n = 10
    t0_ns = 1392643993642815000
    folder = tmp_path / "06-02"
    (folder / "06-02").mkdir(parents=True)
    img_ts = [t0_ns + int(i * 33_333_333) for i in range(n)]
    for ts, f in zip(img_ts, _frames(n), strict=True):
        cv2.imwrite(str(folder / "06-02" / f"Image{ts}.png"), f)
    pkg_ts = [t0_ns + int(i * 16_666_666) for i in range(2 * n + 2)]
    doc = {
        "/FullPackage": [
            {
                "Timestamp": ts,
                "Value": {
                    "waveform": 100 + i,
                    "pulseRate": 70,
                    "o2saturation": 98,
                    "signalStrength": 4,
                },
            }
            for i, ts in enumerate(pkg_ts)
        ],
        "/Image": [{"Timestamp": ts, "Value": {"height": 24, "width": 32}} for ts in img_ts],
    }
    (folder / "06-02.json").write_text(json.dumps(doc))
    (rec,) = load_pure(tmp_path)
    assert (rec.subject_id, rec.video_id) == ("06", "06-02")
    # The first two oximeter samples are dropped (corrupt, per the dataset's authors).
    assert rec.ppg.shape == (2 * n,) and rec.ppg[0] == 102
    assert rec.frame_timestamps_s is not None
    np.testing.assert_allclose(rec.frame_timestamps_s[1], 0.033333333, atol=1e-6)
    frames, ts = read_frames(rec)
    assert frames.shape == (n, 24, 32, 3)
    np.testing.assert_array_equal(frames[3], _frames(n)[3])  # PNG is lossless


def test_cohface_layout(tmp_path: Path) -> None:
    h5py = require_module("h5py", extra="train")  # COHFACE ground truth is HDF5
    n = 8
    for subj, sess in (("1", "0"), ("2", "1")):
        folder = tmp_path / subj / sess
        _write_avi(folder / "data.avi", _frames(n), fps=20.0)
        with h5py.File(folder / "data.hdf5", "w") as f:
            t = np.arange(256) / 256.0
            f["pulse"] = np.sin(2 * np.pi * t)
            f["time"] = t
            f["respiration"] = np.zeros(256)
    recs = load_cohface(tmp_path)
    assert [r.video_id for r in recs] == ["1/0", "2/1"]
    assert recs[0].ppg.shape == (256,)
    frames, ts = read_frames(recs[1])
    assert frames.shape[0] == n
    np.testing.assert_allclose(ts[1], 1 / 20.0, atol=1e-6)


def test_mr_nirp_car_layout_nir_with_dark_frames(tmp_path: Path) -> None:
    scipy_io = require_module("scipy.io", extra="train")
    n = 12
    clip = tmp_path / "Subject3_garage_small_motion_940"
    nir = clip / "NIR" / "NIR"  # the zip unpacks one folder deeper
    nir.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        level = 600 if i % 2 == 0 else 30  # a lit frame, then a dark one
        img = (level + rng.integers(0, 20, size=(24, 32))).astype(np.uint16)
        cv2.imwrite(str(nir / f"Frame{i:05d}.pgm"), img)
    (clip / "PulseOX").mkdir()
    t = 7.3e5 + np.arange(60) / 60.0
    scipy_io.savemat(
        str(clip / "PulseOX" / "pulseOx.mat"),
        {"pulseOxRecord": np.sin(2 * np.pi * t)[None, :], "pulseOxTime": t[None, :]},
    )
    (rec,) = load_mr_nirp_car(tmp_path)
    assert rec.subject_id == "subject3" and rec.near_infrared
    assert rec.ppg_timestamps_s[0] == 0.0 and rec.ppg.shape == (60,)
    frames, _ = read_frames(rec)
    assert frames.shape == (n, 24, 32) and frames.dtype == np.uint8
    lit, ts = read_frames(rec, drop_dark_frames=True)
    assert lit.shape[0] == n // 2 and lit.mean() > 3 * frames[1::2].mean()
    np.testing.assert_allclose(np.diff(ts), 2 / FPS)  # kept frames keep their true times


def test_loaders_explain_a_wrong_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="UBFC-rPPG"):
        load_ubfc_rppg(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_pure(tmp_path / "missing")
    with pytest.raises(ValueError, match="expected one of"):
        load_dataset("vipl-hr", tmp_path)


def _face_frames(n: int) -> np.ndarray:
    """A still face (scikit-image's astronaut, public domain) on a grey frame, BGR."""
    skimage_data = require_module("skimage.data", extra="demo")
    face = cv2.cvtColor(skimage_data.astronaut()[0:220, 120:330], cv2.COLOR_RGB2BGR)
    frame = np.full((260, 300, 3), 90, np.uint8)
    frame[20:240, 45:255] = face
    return np.repeat(frame[None], n, axis=0)


def test_preprocess_uses_the_sdk_tracker_and_caches(tmp_path: Path) -> None:
    n = 15
    video = tmp_path / "clips" / "a.avi"
    _write_avi(video, _face_frames(n))
    (rec,) = folder_records(tmp_path / "clips")
    assert rec.ppg.size == 0 and rec.subject_id == "a"
    cache = tmp_path / "cache"
    fv = preprocess_record(rec, cache_dir=cache)
    assert fv.frames.shape == (n, 64, 64, 3) and fv.face_found.all()
    # The crop is the face: far from the flat grey background.
    assert float(fv.frames.std()) > 20
    entries = list(cache.iterdir())
    assert len(entries) == 1 and (entries[0] / "frames.npy").is_file()
    again = preprocess_record(rec, cache_dir=cache)
    assert isinstance(again.frames, np.memmap)  # read back, not recomputed
    np.testing.assert_array_equal(np.asarray(again.frames), fv.frames)


def test_preprocess_rejects_a_video_without_a_face(tmp_path: Path) -> None:
    _write_avi(tmp_path / "v" / "blank.avi", np.full((6, 64, 64, 3), 128, np.uint8))
    (rec,) = folder_records(tmp_path / "v")
    with pytest.raises(ValueError, match="no face"):
        preprocess_record(rec)


def _pulse_video(i: int, bpm: float, n: int = 240, size: int = 32) -> FaceVideo:
    t = np.arange(n) / FPS
    ppg = np.sin(2 * np.pi * bpm / 60 * t)
    base = np.random.default_rng(i).uniform(80, 180, size=(1, size, size, 3))
    frames = base * (1 + 0.01 * ppg[:, None, None, None])
    return FaceVideo(
        frames.astype(np.uint8),
        t,
        ppg,
        np.full(n, bpm),
        FPS,
        f"s{i}",
        f"v{i}",
        "fixture",
        np.ones(n, bool),
    )


def test_face_video_round_trip(tmp_path: Path) -> None:
    v = _pulse_video(0, 70.0, n=20)
    back = load_face_video(save_face_video(v, tmp_path / "v0"))
    np.testing.assert_array_equal(np.asarray(back.frames), v.frames)
    np.testing.assert_allclose(back.ppg, v.ppg)
    assert (back.subject_id, back.fps_hz) == ("s0", FPS)


def test_clip_dataset_training_items_are_reproducible_and_labelled() -> None:
    vids = [_pulse_video(i, 60.0 + 10 * i) for i in range(3)]
    ds = ClipDataset(vids, ClipConfig(64, FPS, 16), train=True, samples_per_epoch=5, seed=3)
    a, b = ds[2], ds[2]
    assert a["video"].shape == (3, 64, 16, 16) and a["ppg"].shape == (64,)
    torch.testing.assert_close(a["video"], b["video"])
    assert abs(float(a["ppg"].mean())) < 1e-5 and abs(float(a["ppg"].std()) - 1) < 1e-3
    true = 60.0 + 10 * a["video_index"]
    assert abs(float(a["bpm"]) - true) < 1e-3
    ds.set_epoch(1)
    assert not torch.equal(ds[2]["video"], a["video"]) or ds[2]["start"] != a["start"]


def test_clip_dataset_windows_cover_each_video() -> None:
    vids = [_pulse_video(0, 70.0, n=200), _pulse_video(1, 90.0, n=120)]
    ds = ClipDataset(vids, ClipConfig(64, FPS, 32), train=False)
    assert [(v, s) for v, s in ds.windows] == [(0, 0), (0, 64), (0, 128), (1, 0)]
    item = ds[3]
    assert float(item["bpm"]) == pytest.approx(90.0)
    with pytest.raises(ValueError, match="long enough"):
        ClipDataset([_pulse_video(0, 70.0, n=40)], ClipConfig(64, FPS, 32), train=False)


def test_clip_config_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        ClipConfig(clip_frames=30)
    with pytest.raises(ValueError, match="normalization"):
        ClipConfig(normalization="zscore")  # type: ignore[arg-type]


def test_subject_kfold_keeps_subjects_apart() -> None:
    subjects = ["a", "a", "b", "c", "c", "d", "e", "f"]
    seen_test: set[str] = set()
    for fold in range(3):
        tr, te = subject_kfold(subjects, 3, fold, seed=1)
        assert not {subjects[i] for i in tr} & {subjects[i] for i in te}
        assert sorted(np.concatenate([tr, te]).tolist()) == list(range(len(subjects)))
        seen_test |= {subjects[i] for i in te}
    assert seen_test == set(subjects)
    np.testing.assert_array_equal(
        subject_kfold(subjects, 3, 0, seed=1)[1], subject_kfold(subjects, 3, 0, seed=1)[1]
    )
    with pytest.raises(ValueError, match="n_folds"):
        subject_kfold(subjects, 7, 0)


def test_synthetic_set_is_rendered_by_the_sdk_tracked_and_cached(tmp_path: Path) -> None:
    require_module("skimage", extra="demo")  # the renderer's default face
    from training.data.synthetic import SyntheticSetConfig, build_synthetic_videos, random_spec

    cfg = SyntheticSetConfig(
        n_videos=2, duration_s=2.0, frame_size=(96, 96), seed=4, bpm_range=(60.0, 150.0)
    )
    specs = [random_spec(cfg, i) for i in range(2)]
    assert specs[0].heart_rate_bpm != specs[1].heart_rate_bpm
    assert random_spec(cfg, 1).heart_rate_bpm == specs[1].heart_rate_bpm  # reproducible
    vids = build_synthetic_videos(cfg, cache_dir=tmp_path, progress=False)
    assert [v.subject_id for v in vids] == ["syn004_0000", "syn004_0001"]
    for v, s in zip(vids, specs, strict=True):
        assert v.frames.shape == (60, 64, 64, 3) and v.face_found.all()
        assert np.nanmean(v.bpm) == pytest.approx(s.heart_rate_bpm, rel=0.1)
        assert v.ppg.shape == (60,) and np.isfinite(v.ppg).all()
    again = build_synthetic_videos(cfg, cache_dir=tmp_path, progress=False)
    assert isinstance(again[0].frames, np.memmap)
