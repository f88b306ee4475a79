"""Long videos in overlapping segments, measured apart and stitched back into one pass.

A segment keeps the readings whose timestamps fall in ``[keep_from_s, keep_until_s)`` but
starts decoding ``warmup_s`` earlier: the monitor's state (analysis window, tracked heart rate)
is rebuilt from those earlier frames, so the kept readings match the ones a single pass over the
file gives: the same timestamps and statuses, and (the default warm-up of two analysis windows,
on 40 s rendered clips) heart rates equal or within 0.01 bpm and confidences within 1e-4. Not
always bit for bit: the monitor keeps two things longer than any window, its stable face box
and the motion anchor, both set where it last re-aligned the box; on a still face a segment
places them afresh, a pixel away from where one pass placed them minutes before. With one
window of warm-up the differences were 0.03 bpm; without warm-up a segment's first readings
are ``warming_up``. Videos shorter than 1.5 segments (default 600 s) are never split.

Two things make the readings line up frame for frame:

- Timestamps are ``frame_index / fps`` with the file's frame index, as
  :class:`~rppg_sdk.video.VideoReader` gives them in one pass.
- A monitor issues its first reading one ``update_interval_s`` after its first frame, then one
  per interval. Segments therefore start on frames whose time is a whole number of update
  intervals; that needs ``fps * update_interval_s`` to be a whole number of frames (30 fps and
  1 s updates: 30). Where it is not (29.97 fps), the video is measured in one piece.

A one-piece video is measured exactly as ``rppg-sdk measure`` does it:
``HeartRateMonitor(options).process_video(path)``. Each segment streams its frames (bounded
memory: the monitor's window, never the whole video).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from rppg_sdk.options import MonitorOptions
from rppg_sdk.reading import HeartRateReading

__all__ = [
    "Segment",
    "SegmentResult",
    "SegmentTask",
    "measure_segment",
    "plan_segments",
    "reading_row",
    "run_segment_task",
    "stitch",
]


@dataclass(frozen=True)
class Segment:
    """One piece of a video.

    Attributes
    ----------
    index
        Position in the video (0 first).
    first_frame
        Where decoding starts: ``warmup_s`` before ``keep_from_s`` (0 for the first segment).
    end_frame
        Decoding stops before this frame (``None``: the end of the file).
    keep_from_s, keep_until_s
        The readings kept: ``keep_from_s <= timestamp_s < keep_until_s`` (``None``: no end).
    """

    index: int
    first_frame: int
    end_frame: int | None
    keep_from_s: float
    keep_until_s: float | None

    @property
    def whole(self) -> bool:
        """The whole file in one piece (measured by ``process_video``, as ``measure`` does)."""
        return self.first_frame == 0 and self.end_frame is None and self.keep_from_s <= 0.0


WHOLE = Segment(0, 0, None, 0.0, None)


def plan_segments(
    frame_count: int,
    fps_hz: float,
    *,
    segment_s: float | None,
    warmup_s: float,
    update_interval_s: float,
    align_frames: int = 1,
) -> list[Segment]:
    """Split a video of ``frame_count`` frames at ``fps_hz`` into segments of about
    ``segment_s`` seconds, each starting ``warmup_s`` early. Segment starts are also multiples
    of ``align_frames`` (the face detector's cadence, ``detect_every_n_frames``: a segment then
    detects on the same frames as one pass).

    One piece (``[WHOLE]``) when ``segment_s`` is ``None``, the video is shorter than 1.5
    segments, or ``fps_hz * update_interval_s`` is not a whole number of frames (see the module
    docs). The last segment runs to the end of the file (container frame counts are estimates).
    """
    if segment_s is not None and not (math.isfinite(segment_s) and segment_s > 0):
        raise ValueError(f"segment_s: expected a positive number of seconds, got {segment_s!r}")
    if not (math.isfinite(warmup_s) and warmup_s >= 0):
        raise ValueError(f"warmup_s: expected >= 0 seconds, got {warmup_s!r}")
    if segment_s is None or fps_hz <= 0 or frame_count <= 0:
        return [WHOLE]
    grid_f = fps_hz * update_interval_s
    grid = round(grid_f)
    if grid < 1 or abs(grid_f - grid) > 1e-6 * max(1.0, grid_f):
        return [WHOLE]
    grid = math.lcm(grid, max(1, int(align_frames)))
    seg = max(grid, round(segment_s * fps_hz / grid) * grid)
    if frame_count < 1.5 * seg:
        return [WHOLE]
    warm = math.ceil(warmup_s * fps_hz / grid - 1e-9) * grid
    n = max(1, round(frame_count / seg))
    out = []
    for k in range(n):
        start, stop = k * seg, (k + 1) * seg
        last = k == n - 1
        out.append(
            Segment(
                index=k,
                first_frame=max(0, start - warm),
                end_frame=None if last else stop,
                keep_from_s=start / fps_hz,
                keep_until_s=None if last else stop / fps_hz,
            )
        )
    return out


def measure_segment(
    options: MonitorOptions, path: str | Path, segment: Segment, fps_hz: float
) -> list[HeartRateReading]:
    """The readings of ``segment`` of the video at ``path`` (frame rate ``fps_hz``).

    Raises
    ------
    FileNotFoundError, ValueError
        As :meth:`~rppg_sdk.monitor.HeartRateMonitor.process_video`.
    """
    from rppg_sdk.monitor import HeartRateMonitor  # noqa: PLC0415

    with HeartRateMonitor(options) as monitor:
        if segment.whole:
            return list(monitor.process_video(path))
        out = []
        for frame_index, frame in _frames(path, segment):
            r = monitor.process(frame, frame_index / fps_hz)
            if r is None or r.timestamp_s < segment.keep_from_s:
                continue
            if segment.keep_until_s is not None and r.timestamp_s >= segment.keep_until_s:
                break
            out.append(r)
        return out


def _frames(path: str | Path, segment: Segment) -> Any:
    """``(index, frame)`` from ``segment.first_frame`` on, one frame in memory at a time."""
    from rppg_sdk.video import probe_video  # noqa: PLC0415

    probe_video(path)  # the same FileNotFoundError / ValueError as a one-piece video
    cap = cv2.VideoCapture(str(path))
    try:
        i = 0
        if segment.first_frame > 0:
            # FFmpeg seeks to the keyframe before and decodes forward to the frame asked for;
            # where the backend reports another position, skip frame by frame instead.
            cap.set(cv2.CAP_PROP_POS_FRAMES, segment.first_frame)
            if int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == segment.first_frame:
                i = segment.first_frame
            else:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        while segment.end_frame is None or i < segment.end_frame:
            if i < segment.first_frame:
                if not cap.grab():
                    return
                i += 1
                continue
            ok, frame = cap.read()
            if not ok or frame is None:
                return
            yield i, frame
            i += 1
    finally:
        cap.release()


def stitch(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Reading rows of a video's segments in time order, one per timestamp (the first kept)."""
    seen: set[float] = set()
    out = []
    for row in sorted((r for p in parts for r in p), key=lambda r: r["timestamp_s"]):
        if row["timestamp_s"] in seen:
            continue
        seen.add(row["timestamp_s"])
        out.append(row)
    return out


def reading_row(r: HeartRateReading) -> dict[str, Any]:
    """One reading as plain values at full precision (``as_dict`` rounds for CSV / JSON)."""
    box = r.face_box_xywh
    return {
        "timestamp_s": float(r.timestamp_s),
        "status": r.status.value,
        "bpm": None if r.bpm is None else float(r.bpm),
        "confidence": float(r.confidence),
        "snr_db": None if r.snr_db is None else float(r.snr_db),
        "irrelevant_power_ratio": (
            None if r.irrelevant_power_ratio is None else float(r.irrelevant_power_ratio)
        ),
        "raw_bpm": None if r.raw_bpm is None else float(r.raw_bpm),
        "method": r.method,
        "window_s": float(r.window_s),
        "input_channels": int(r.input_channels),
        "face_x": None if box is None else int(box[0]),
        "face_y": None if box is None else int(box[1]),
        "face_w": None if box is None else int(box[2]),
        "face_h": None if box is None else int(box[3]),
    }


@dataclass(frozen=True)
class SegmentTask:
    """One unit of work for an engine: a segment of one video (picklable)."""

    key: str
    path: str
    segment: Segment
    fps_hz: float
    options: MonitorOptions


@dataclass(frozen=True)
class SegmentResult:
    """What a worker hands back: the segment's reading rows, or why it failed.

    ``error`` is ``None`` on success, else ``"unreadable"`` (missing file, no permission),
    ``"corrupt"`` (not a decodable video) or ``"error"`` (anything else), with ``message``.
    """

    key: str
    index: int
    rows: list[dict[str, Any]]
    error: str | None
    message: str
    wall_s: float


def run_segment_task(task: SegmentTask) -> SegmentResult:
    """Measure one segment; never raises for a bad video (the run goes on)."""
    t0 = time.perf_counter()
    try:
        readings = measure_segment(task.options, task.path, task.segment, task.fps_hz)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        return SegmentResult(task.key, task.segment.index, [], "unreadable", str(exc), 0.0)
    except ValueError as exc:
        return SegmentResult(task.key, task.segment.index, [], "corrupt", str(exc), 0.0)
    except Exception as exc:  # noqa: BLE001  (one bad video must not stop thousands)
        msg = f"{type(exc).__name__}: {exc}"
        return SegmentResult(task.key, task.segment.index, [], "error", msg, 0.0)
    rows = [reading_row(r) for r in readings]
    return SegmentResult(task.key, task.segment.index, rows, None, "", time.perf_counter() - t0)
