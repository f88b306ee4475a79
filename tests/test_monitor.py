"""HeartRateMonitor end to end: semi-synthetic clips with a known heart rate, and a real face.

Each condition is rendered once per module (``rppg_sdk.synthetic``, 320x240, 20 s at 30 fps) and
measured with the default method. Accuracy is the mean absolute error of the readings whose
10 s window is full, against the true mean heart rate over that window.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require_module, require_real_data
from rppg_sdk.monitor import (
    DEFAULT_METHOD,
    HeartRateMonitor,
    HeartRateReading,
    MonitorOptions,
    ReadingStatus,
    RunningMode,
)
from rppg_sdk.reading import ResetReason  # dms

require_module("skimage", extra="demo")  # the renderer's default face
from rppg_sdk import synthetic  # noqa: E402

DURATION_S = 20.0
WINDOW_S = 10.0
SIZE = (320, 240)

#: Conditions of the issue: name -> SyntheticClipSpec fields (heart rates spread over the band).
CONDITIONS: dict[str, dict[str, Any]] = {
    "still": {"heart_rate_bpm": 72.0},
    "motion_rigid": {"motion": "rigid", "motion_amplitude_px": 12.0, "heart_rate_bpm": 84.0},
    # Nodding of 8 px at 320x240 (about 5 % of the face). The face-ellipse ROI keeps it near
    # 0.4 bpm; the landmark mask (skin_roi="landmarks") errs by 2-5 bpm here.
    "motion_periodic": {"motion": "periodic", "motion_amplitude_px": 8.0, "heart_rate_bpm": 66.0},
    "lighting": {"illumination_drift": 0.2, "heart_rate_bpm": 95.0},
    "compression": {"jpeg_quality": 70, "heart_rate_bpm": 58.0},
    "near_infrared": {"near_infrared": True, "heart_rate_bpm": 78.0},
    "gray": {"heart_rate_bpm": 105.0},  # colour clip turned gray below
}


def _spec(**kw: Any) -> Any:
    return synthetic.SyntheticClipSpec(
        duration_s=DURATION_S, fps=30.0, frame_size=SIZE, seed=0, **kw
    )


@pytest.fixture(scope="module")
def clips() -> dict[str, Any]:
    out = {name: synthetic.render_clip(_spec(**kw)) for name, kw in CONDITIONS.items()}
    out["no_pulse"] = synthetic.render_clip(_spec(pulse=False))
    return out


def _frames(name: str, clip: Any) -> np.ndarray:
    if name == "gray":
        # A gray camera: BT.601 luma of the colour frames, one channel.
        return np.round(clip.frames @ np.array([0.114, 0.587, 0.299])).astype(np.uint8)
    return clip.frames


def measure(
    frames: np.ndarray, timestamps_s: np.ndarray, options: MonitorOptions | None = None
) -> list[HeartRateReading]:
    """Every reading a monitor issues over a clip, in order (either running mode)."""
    opts = options or MonitorOptions()
    if opts.running_mode is RunningMode.LIVE_STREAM:
        seen: list[HeartRateReading] = []
        opts = replace(opts, callback=seen.append)
        with HeartRateMonitor(opts) as m:
            for i, (frame, ts) in enumerate(zip(frames, timestamps_s, strict=True)):
                m.process_async(frame, float(ts))
                if i % 30 == 29:
                    # Frames come much faster than a camera's here; a live monitor drops what
                    # it cannot handle in real time, so let it catch up once per second.
                    m.flush()
            m.flush()
        return seen
    readings: list[HeartRateReading] = []
    with HeartRateMonitor(opts) as m:
        for frame, ts in zip(frames, timestamps_s, strict=True):
            r = m.process(frame, float(ts))
            if r is not None:
                readings.append(r)
    return readings


def errors(readings: list[HeartRateReading], clip: Any) -> np.ndarray:
    full = [r for r in readings if r.bpm is not None and r.window_s >= WINDOW_S - 0.1]
    assert full, "no reading over a full window"
    truth = np.array([clip.mean_bpm(r.window_end_s - r.window_s, r.window_end_s) for r in full])
    return np.array([r.bpm for r in full]) - truth


@pytest.fixture(scope="module")
def results(clips: dict[str, Any]) -> dict[str, list[HeartRateReading]]:
    return {name: measure(_frames(name, c), c.timestamps_s) for name, c in clips.items()}


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_accuracy_and_confidence_per_condition(
    name: str, clips: dict[str, Any], results: dict[str, list[HeartRateReading]]
) -> None:
    err = errors(results[name], clips[name])
    conf = np.array([r.confidence for r in results[name] if r.window_s >= WINDOW_S - 0.1])
    print(
        f"{name}: MAE {np.mean(np.abs(err)):.2f} bpm (max {np.max(np.abs(err)):.2f}) over "
        f"{err.size} readings; confidence median {np.median(conf):.2f} min {conf.min():.2f}"
    )
    assert np.mean(np.abs(err)) <= 2.0
    assert np.median(conf) > 0.6


def test_overall_accuracy(
    clips: dict[str, Any], results: dict[str, list[HeartRateReading]]
) -> None:
    all_err = np.concatenate([errors(results[n], clips[n]) for n in CONDITIONS])
    print(
        f"overall MAE {np.mean(np.abs(all_err)):.2f} bpm over {all_err.size} readings "
        f"({DEFAULT_METHOD.value})"
    )
    assert np.mean(np.abs(all_err)) <= 1.5


def test_no_pulse_gives_low_confidence(results: dict[str, list[HeartRateReading]]) -> None:
    rated = [r for r in results["no_pulse"] if r.bpm is not None]
    conf = np.array([r.confidence for r in rated])
    print(f"no pulse: confidence median {np.median(conf):.2f} max {conf.max():.2f}")
    assert rated and np.all(conf < 0.3)
    assert all(r.status is ReadingStatus.LOW_QUALITY for r in rated)


def test_face_roi_beats_the_landmark_mask_under_nodding() -> None:
    # The default face ellipse against the face mesh's forehead-and-cheek mask, on stronger
    # nodding than the conditions above: the small mask, updated every few detections, lets
    # hair and brows move across its edges (a motion artefact); the ellipse barely does.
    clip = synthetic.render_clip(
        _spec(motion="periodic", motion_amplitude_px=12.0, heart_rate_bpm=66.0)
    )
    mae = {}
    for roi in ("face", "landmarks"):
        readings = measure(clip.frames, clip.timestamps_s, MonitorOptions(skin_roi=roi))
        mae[roi] = float(np.mean(np.abs(errors(readings, clip))))
    print(f"12 px nodding, MAE by skin_roi: {mae}")
    assert mae["face"] <= 2.0
    assert mae["face"] < mae["landmarks"]


def test_one_channel_frames_use_the_channel_itself(
    results: dict[str, list[HeartRateReading]],
) -> None:
    for name in ("near_infrared", "gray"):
        assert {r.method for r in results[name]} == {"mono"}


def test_readings_come_every_update_interval(results: dict[str, list[HeartRateReading]]) -> None:
    ts = np.array([r.timestamp_s for r in results["still"]])
    np.testing.assert_allclose(np.diff(ts), 1.0, atol=1 / 30 + 1e-9)
    statuses = [r.status for r in results["still"]]
    assert statuses[-1] is ReadingStatus.OK
    # The first heart rate comes once min_window_s (5 s) of face data is in.
    first = next(r for r in results["still"] if r.bpm is not None)
    assert 4.9 <= first.timestamp_s <= 6.1
    assert first.waveform.size > 0 and first.waveform_fs_hz > 0


def test_face_leaving_and_coming_back_recovers_without_reset(clips: dict[str, Any]) -> None:
    clip = clips["still"]
    frames = clip.frames.copy()
    gone = (clip.timestamps_s >= 8.0) & (clip.timestamps_s < 10.0)
    frames[gone] = 90  # nobody in front of the camera: a flat gray frame
    # dms: losses up to face_loss_bridge_s are bridged (tests/test_face_box.py); 2 s is longer
    # than the 1 s bridge here, so the history starts anew.
    readings = measure(frames, clip.timestamps_s, MonitorOptions(face_loss_bridge_s=1.0))
    by_time = {round(r.timestamp_s): r for r in readings}
    assert by_time[9].status is ReadingStatus.NO_FACE and by_time[9].bpm is None
    # Back at 10 s: warming up again, then heart rates from the new face data only.
    assert by_time[12].status is ReadingStatus.WARMING_UP
    assert by_time[12].reset_reason is ResetReason.FACE_LOST
    late = [r for r in readings if r.timestamp_s >= 16.0]
    assert late and all(r.bpm is not None for r in late)
    for r in late:
        assert abs(r.bpm - clip.mean_bpm(r.timestamp_s - r.window_s, r.timestamp_s)) < 3.0


def test_jitter_and_dropped_frames_are_resampled(clips: dict[str, Any]) -> None:
    clip = clips["still"]
    rng = np.random.default_rng(0)
    keep = rng.random(clip.timestamps_s.size) > 0.15  # 15 % of frames dropped
    ts = clip.timestamps_s + rng.uniform(-0.004, 0.004, clip.timestamps_s.size)  # 4 ms jitter
    readings = measure(clip.frames[keep], ts[keep])
    err = errors(readings, clip)
    print(f"jitter + 15 % dropped frames: MAE {np.mean(np.abs(err)):.2f} bpm")
    assert np.mean(np.abs(err)) <= 2.0


def test_no_timestamps_use_the_fps_option(clips: dict[str, Any]) -> None:
    clip = clips["still"]
    readings: list[HeartRateReading] = []
    with HeartRateMonitor(MonitorOptions(fps=30.0)) as m:
        for frame in clip.frames:
            r = m.process(frame)
            if r is not None:
                readings.append(r)
    assert abs(readings[-1].timestamp_s - (clip.timestamps_s[-1])) < 1.0
    assert np.mean(np.abs(errors(readings, clip))) <= 2.0


def test_live_stream_works_off_the_callers_thread(clips: dict[str, Any]) -> None:
    clip = clips["still"]
    seen: list[tuple[str, HeartRateReading]] = []

    def callback(r: HeartRateReading) -> None:
        seen.append((threading.current_thread().name, r))

    opts = MonitorOptions(running_mode="live_stream", callback=callback)
    with HeartRateMonitor(opts) as m:
        for i, (frame, ts) in enumerate(zip(clip.frames, clip.timestamps_s, strict=True)):
            assert m.process_async(frame, float(ts)) is None
            if i % 30 == 29:
                m.flush()  # faster than real time here: let the worker catch up (see measure)
        last = m.flush()
    assert seen and all(name != threading.current_thread().name for name, _ in seen)
    assert last is not None and last.bpm is not None and last is seen[-1][1]
    assert abs(last.bpm - clip.mean_bpm(DURATION_S - WINDOW_S, DURATION_S)) < 2.0


def test_video_mode_returns_each_reading_once_and_drops_no_frame(
    clips: dict[str, Any], results: dict[str, list[HeartRateReading]]
) -> None:
    # process() hands out a reading only on the frame that produced it: one per update
    # interval, each a new object, and the same readings the callback sees.
    clip = clips["still"]
    seen: list[HeartRateReading] = []
    returned = measure(clip.frames, clip.timestamps_s, MonitorOptions(callback=seen.append))
    assert len(returned) == len(seen) and all(a is b for a, b in zip(returned, seen, strict=True))
    assert len({id(r) for r in returned}) == len(returned)
    assert len(returned) == int(np.floor(clip.timestamps_s[-1] + 1e-9))  # 1 s, 2 s, ...
    assert [r.bpm for r in returned] == [r.bpm for r in results["still"]]


def test_process_video_reads_a_file(clips: dict[str, Any], tmp_path: Path) -> None:
    clip = clips["compression"]
    path = tmp_path / "clip.avi"
    synthetic.write_video(clip, path)
    with HeartRateMonitor() as m:
        readings = list(m.process_video(path))
        again = list(m.process_video(path))  # a second file: the monitor resets itself
    assert [r.timestamp_s for r in readings] == [r.timestamp_s for r in again]
    err = errors(readings, clip)
    print(f"video file ({path.suffix}): MAE {np.mean(np.abs(err)):.2f} bpm")
    assert np.mean(np.abs(err)) <= 2.5


def test_real_face_clip() -> None:
    path = require_real_data("evm_face", "face.mp4")
    with HeartRateMonitor() as m:
        readings = [r for r in m.process_video(path) if r.bpm is not None]
    print("real clip (truth 52.5 +- 3):", [round(r.bpm, 1) for r in readings])
    assert readings
    assert all(abs(r.bpm - 52.5) <= 3.0 for r in readings)
    assert readings[-1].confidence > 0.6


@pytest.fixture(scope="module")
def green_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_monitor_backend import make_mean_mix_model

    # The model mirrors GREEN: minus the green channel's relative change, averaged over the face.
    return make_mean_mix_model(tmp_path_factory.mktemp("m") / "green.onnx", size=64)


def _counting(backend: Any) -> tuple[Any, Callable[[], tuple[int, set[str]]]]:
    frames = [0]
    threads: set[str] = set()
    inner = backend.infer

    def infer(chunk: np.ndarray) -> np.ndarray:
        frames[0] += chunk.shape[2]
        threads.add(threading.current_thread().name)
        return inner(chunk)

    backend.infer = infer
    return backend, lambda: (frames[0], threads)


@pytest.mark.parametrize("mode", list(RunningMode))
def test_model_method_through_onnx_runtime(
    clips: dict[str, Any], green_model: Path, mode: RunningMode
) -> None:
    from rppg_sdk.backends import OnnxRuntimeBackend

    clip = clips["still"]
    backend, stats = _counting(OnnxRuntimeBackend(green_model))
    opts = MonitorOptions(
        method="model",
        backend=backend,
        running_mode=mode,
        callback=lambda _r: None,
        model_chunk_frames=64,
        model_overlap_frames=16,
    )
    readings = measure(clip.frames, clip.timestamps_s, opts)
    inferred, threads = stats()
    backend.close()
    err = errors(readings, clip)
    print(
        f"model ({mode.value}): MAE {np.mean(np.abs(err)):.2f} bpm; frames inferred "
        f"{inferred / clip.frames.shape[0]:.2f} times each"
    )
    assert np.mean(np.abs(err)) <= 2.0
    assert inferred / clip.frames.shape[0] < 1.5  # each frame about once, not once per update
    assert threading.current_thread().name not in threads
