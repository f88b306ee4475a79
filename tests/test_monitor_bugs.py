"""Monitor bugs found by reading and by trying (issue 9, item 5): one test each."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, HeartRateReading, MonitorOptions
from rppg_sdk.backends import ModelInputSpec
from rppg_sdk.extractors.model import ModelExtractor
from rppg_sdk.face import FaceTracker, FaceTrackerOptions
from rppg_sdk.roi import SkinObservation
from rppg_sdk.video import VideoReader
from test_running_modes import skin_clip

ROOT = Path(__file__).resolve().parents[1]


def _live(**kw: Any) -> MonitorOptions:
    kw.setdefault("callback", lambda _r: None)
    return MonitorOptions(skin_roi="frame", running_mode="live_stream", **kw)


class _GatedBackend:
    """A fake model whose ``infer`` blocks until released (a chunk held "in flight")."""

    def __init__(self) -> None:
        self.spec = ModelInputSpec(name="gated", channels=3, height=8, width=8)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.closed = 0

    def infer(self, chunk: np.ndarray) -> np.ndarray:
        self.entered.set()
        assert self.release.wait(30.0)
        return np.ones((1, chunk.shape[2]), np.float32) + np.arange(chunk.shape[2])

    def close(self) -> None:
        self.closed += 1


# 1 ------------------------------------------------------------------------------------------
def test_a_chunk_in_flight_when_the_face_is_lost_is_not_stitched_into_the_next_face() -> None:
    backend = _GatedBackend()
    ext = ModelExtractor(backend, chunk_frames=16, overlap_frames=4, live=True)
    crop = np.full((8, 8, 3), 120, np.uint8)
    obs = SkinObservation(crop=crop, skin_weights=None, box_xywh=(0, 0, 8, 8), moved=False)
    i = 0
    while not backend.entered.is_set():  # push until a chunk sits inside infer()
        ext.push(obs, i / 30.0)
        i += 1
        if i % 16 == 0:
            time.sleep(0.01)
    ext.reset()  # the face is lost (what the monitor does on a frame without a face)
    backend.release.set()
    ext.wait()
    times, _ = ext._stitcher.window(-np.inf)
    ext.close()
    assert times.size == 0, "the old face's pulse reached the new stream"


# 2 ------------------------------------------------------------------------------------------
def test_backend_is_closed_when_the_face_tracker_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import rppg_sdk.face
    import rppg_sdk.pipeline

    backend = _GatedBackend()
    monkeypatch.setattr(rppg_sdk.pipeline, "load_backend", lambda *_a, **_k: backend)
    monkeypatch.setattr(rppg_sdk.face, "_import_mediapipe", lambda: (None, "ImportError: test"))
    opts = MonitorOptions(method="physnet", face=FaceTrackerOptions(detector="mediapipe"))
    with pytest.raises(RuntimeError, match="mediapipe"):
        HeartRateMonitor(opts)
    assert backend.closed == 1


# 3 ------------------------------------------------------------------------------------------
def test_model_threads_reach_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import rppg_sdk.pipeline

    seen: dict[str, Any] = {}
    real = rppg_sdk.pipeline.load_backend

    def spy(*a: Any, **k: Any) -> Any:
        seen.update(k)
        return real(*a, **k)

    monkeypatch.setattr(rppg_sdk.pipeline, "load_backend", spy)
    with HeartRateMonitor(method="physnet", model_threads=1) as m:
        backend = m._pipe.ext.backend  # type: ignore[attr-defined]
        assert backend._session.get_session_options().intra_op_num_threads == 1
    assert seen["threads"] == 1
    with pytest.raises(ValueError, match="model_threads"):
        MonitorOptions(model_threads=0)


# 4 ------------------------------------------------------------------------------------------
def _run_with_deadline(fn: Any, seconds: float = 60.0) -> None:
    """Run ``fn`` on a thread; fail (rather than hang the suite) on a deadlock."""
    err: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001
            err.append(exc)

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(seconds)
    assert not th.is_alive(), "deadlock"
    if err:
        raise err[0]


def test_callback_may_reset_flush_and_close_the_monitor() -> None:
    frames, t = skin_clip(4.0)
    box: dict[str, Any] = {"events": []}

    def callback(r: HeartRateReading) -> None:
        m = box["m"]
        if not box["events"]:
            box["events"].append(("flush", m.flush()))  # returns at once on the worker
            m.reset()
            box["events"].append(("reset", m.latest_reading))
        else:
            box["events"].append(("reading", r.timestamp_s))

    def feed() -> None:
        with HeartRateMonitor(_live(callback=callback)) as m:
            box["m"] = m
            for f, ts in zip(frames, t, strict=True):
                m.process_async(f, float(ts))
                m.flush()

    _run_with_deadline(feed)
    kinds = [k for k, _ in box["events"]]
    assert kinds[:2] == ["flush", "reset"] and box["events"][1][1] is None
    assert "reading" in kinds  # the stream went on after the reset, no deadlock

    closed: dict[str, Any] = {}

    def closing_callback(_r: HeartRateReading) -> None:
        closed["thread"] = threading.current_thread()
        closed["m"].close()  # the worker cannot join itself: it ends after this job

    def feed_and_close() -> None:
        m = HeartRateMonitor(_live(callback=closing_callback))
        closed["m"] = m
        with pytest.raises(RuntimeError, match="closed"):
            for f, ts in zip(frames, t, strict=True):
                m.process_async(f, float(ts))
                m.flush()
        closed["thread"].join(30.0)

    _run_with_deadline(feed_and_close)
    assert not closed["thread"].is_alive()


# 5 ------------------------------------------------------------------------------------------
def test_a_live_monitor_dropped_without_close_is_collected() -> None:
    frames, t = skin_clip(2.0)
    before = threading.active_count()
    m = HeartRateMonitor(_live())
    for f, ts in zip(frames, t, strict=True):
        m.process_async(f, float(ts))
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    assert threading.active_count() == before


# 6 ------------------------------------------------------------------------------------------
_EXIT_SCRIPT = textwrap.dedent(
    """
    import cv2, numpy as np
    from skimage import data
    from rppg_sdk import HeartRateMonitor, MonitorOptions
    face = cv2.cvtColor(cv2.resize(data.astronaut(), (320, 240)), cv2.COLOR_RGB2BGR)
    m = HeartRateMonitor(MonitorOptions(running_mode="live_stream", callback=lambda r: None))
    for i in range(120):
        m.process_async(face, i / 30.0)
    # exit with frames still queued and the worker inside mediapipe, without close()
    """
)


def test_interpreter_exit_with_a_busy_live_worker_is_clean() -> None:
    for _ in range(3):  # the abort came in 3 of 8 runs
        r = subprocess.run(
            [sys.executable, "-c", _EXIT_SCRIPT], capture_output=True, text=True, check=False
        )
        assert r.returncode == 0, r.stderr[-2000:]


# 7 ------------------------------------------------------------------------------------------
def test_min_window_below_what_the_methods_need_is_rejected_up_front() -> None:
    with pytest.raises(ValueError, match=r"min_window_s: expected at least 2\.86 s"):
        MonitorOptions(min_window_s=1.0)
    frames, t = skin_clip(4.0)
    with HeartRateMonitor(skin_roi="frame", min_window_s=2.9) as m:  # the floor works
        readings = [r for f, ts in zip(frames, t, strict=True) if (r := m.process(f, float(ts)))]
    assert readings[-1].bpm is not None


# 8 ------------------------------------------------------------------------------------------
def test_concurrent_process_calls_are_rejected() -> None:
    frames, t = skin_clip(2.0)
    errors: list[BaseException] = []

    def from_another_thread(_r: HeartRateReading) -> None:
        # Runs inside process() (VIDEO callbacks are synchronous): a second thread feeding the
        # same monitor now is a concurrent call.
        def other() -> None:
            try:
                m.process(frames[0], 100.0)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        th = threading.Thread(target=other)
        th.start()
        th.join()

    m = HeartRateMonitor(skin_roi="frame", callback=from_another_thread)
    with m:
        for f, ts in zip(frames, t, strict=True):
            m.process(f, float(ts))
    assert errors and all(isinstance(e, RuntimeError) for e in errors)
    assert "another thread" in str(errors[0])


# 9 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("scale", "unit"), [(1e3, "milliseconds"), (1e9, "nanoseconds")])
def test_timestamps_in_the_wrong_unit_are_an_error(scale: float, unit: str) -> None:
    frames, t = skin_clip(1.0)
    with HeartRateMonitor(skin_roi="frame") as m:
        with pytest.raises(ValueError, match=f"apart.*{unit}"):
            for f, ts in zip(frames, t, strict=True):
                m.process(f, float(ts) * scale)


# 10 -----------------------------------------------------------------------------------------
def _small_video(path: Path) -> Path:
    frames, _ = skin_clip(1.0)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for f in frames:
        w.write(f)
    w.release()
    return path


def test_measure_checks_output_paths_before_measuring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rppg_sdk.cli import main

    video = _small_video(tmp_path / "v.avi")

    def no_measuring(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("measured before checking the output paths")

    monkeypatch.setattr(HeartRateMonitor, "process_video", no_measuring)
    assert main(["measure", str(video), "--json", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and "directory" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    monkeypatch.undo()
    out_csv = tmp_path / "new" / "deeper" / "r.csv"
    args = ["measure", str(video), "--csv", str(out_csv), "--skin-roi", "frame", "--no-progress"]
    main(args)
    assert out_csv.exists()


# 11 -----------------------------------------------------------------------------------------
class _SlowCapture:
    """Wraps a capture: the second read blocks until released; records release during read."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0
        self.reading = False
        self.go = threading.Event()
        self.released_during_read = False
        self.released = threading.Event()

    def read(self) -> tuple[bool, Any]:
        self.reads += 1
        self.reading = True
        try:
            if self.reads >= 2:
                self.go.wait(30.0)
            return self.inner.read()
        finally:
            self.reading = False

    def release(self) -> None:
        self.released_during_read = self.reading
        self.released.set()
        self.inner.release()


def test_video_reader_close_waits_for_the_decode_thread(tmp_path: Path) -> None:
    reader = VideoReader(_small_video(tmp_path / "v.avi"), queue_frames=1)
    cap = _SlowCapture(reader._cap)
    reader._cap = cap
    it = iter(reader)
    next(it)
    while not cap.reading:  # the decode thread is now inside its second read
        time.sleep(0.01)
    closer = threading.Thread(target=reader.close)
    closer.start()
    cap.released.wait(6.0)  # the old close() gave up on the thread after 5 s
    cap.go.set()
    closer.join(30.0)
    assert cap.released.is_set() and not cap.released_during_read


# 12 -----------------------------------------------------------------------------------------
def test_mediapipe_import_failure_warns_when_auto_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    with pytest.warns(RuntimeWarning, match="Haar.*mediapipe|mediapipe.*Haar"):
        tracker = FaceTracker(FaceTrackerOptions(detector="auto"))
    tracker.close()
    assert tracker.detector_name == "haar"
    assert any(
        r.levelname == "WARNING" and "import of mediapipe" in r.getMessage() for r in caplog.records
    )


# 13 -----------------------------------------------------------------------------------------
def test_live_without_gui_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rppg_sdk.cli import main

    def no_gui(*_a: Any) -> None:
        raise cv2.error("The function is not implemented")

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(cv2, "namedWindow", no_gui)
    assert main(["live", "--camera", "0"]) == 2
    assert "pip install opencv-contrib-python" in capsys.readouterr().err
