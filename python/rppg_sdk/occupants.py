"""Heart rate of every tracked occupant: :class:`OccupantMonitors` routes each face the caller's
tracker reports to its own :class:`~rppg_sdk.monitor.HeartRateMonitor`.

>>> with OccupantMonitors(max_occupants=4) as cabin:               # doctest: +SKIP
...     for frame, timestamp_s, faces in dms_stream:               # faces: {track_id: (x, y, w, h)}
...         for track_id, reading in cabin.process(frame, timestamp_s, faces).items():
...             print(track_id, reading.bpm, reading.confidence)
...         for track_id, event in cabin.drain_events():
...             print(track_id, event.kind, event.reason)

Each occupant's monitor runs with ``face_source="caller"`` (no detector is loaded): the tracker's
ids are the occupants. An id absent from a frame's ``faces`` is a face lost on that frame (short
losses are bridged, ``MonitorOptions.face_loss_bridge_s``); absent for longer than
``retire_after_s`` its monitor is closed and forgotten, and the id, if it comes back, starts
anew. At most ``max_occupants`` monitors live at once: a new id beyond that takes the place of
the occupant absent longest; when every monitor's face is on this frame, the new id waits
(``ignored_faces`` counts such faces) until one leaves.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from rppg_sdk.events import MonitorEvent
from rppg_sdk.face_box import FaceSource, check_face_box
from rppg_sdk.monitor import HeartRateMonitor
from rppg_sdk.options import MonitorOptions, RunningMode
from rppg_sdk.reading import HeartRateReading

__all__ = ["OccupantMonitors"]

_log = logging.getLogger(__name__)


class OccupantMonitors:
    """One heart-rate monitor per tracked face (see the module docs).

    Parameters
    ----------
    options
        Options of every occupant's monitor (``RunningMode.VIDEO``; ``face_source`` is set to
        ``"caller"``). ``options.on_event`` is not called; use :meth:`drain_events`.
    max_occupants
        Most monitors alive at once (each holds about ``window_s`` of traces).
    retire_after_s
        An occupant whose face is absent this long (camera time) is closed and forgotten.
    on_event
        Called with ``(track_id, event)`` for every event, on the feeding thread; the pairs
        also queue for :meth:`drain_events` (until drained: drain them, or they accumulate).

    Notes
    -----
    Not thread-safe: feed frames from one thread, as a monitor.
    """

    def __init__(
        self,
        options: MonitorOptions | None = None,
        *,
        max_occupants: int = 5,
        retire_after_s: float = 10.0,
        on_event: Callable[[Hashable, MonitorEvent], None] | None = None,
    ) -> None:
        o = MonitorOptions() if options is None else options
        if not isinstance(o, MonitorOptions):
            raise TypeError(f"options: expected MonitorOptions, got {type(o).__name__}")
        if o.running_mode is not RunningMode.VIDEO:
            raise ValueError("options: OccupantMonitors runs its monitors in RunningMode.VIDEO")
        if not isinstance(max_occupants, int) or isinstance(max_occupants, bool):
            raise TypeError(f"max_occupants: expected an int, got {type(max_occupants).__name__}")
        if max_occupants < 1:
            raise ValueError(f"max_occupants: expected >= 1, got {max_occupants}")
        r = retire_after_s
        if not isinstance(r, int | float) or isinstance(r, bool) or not math.isfinite(r) or r <= 0:
            raise ValueError(f"retire_after_s: expected a positive number of seconds, got {r!r}")
        if on_event is not None and not callable(on_event):
            raise TypeError(f"on_event: expected a callable, got {type(on_event).__name__}")
        self.options = replace(o, face_source=FaceSource.CALLER, on_event=None, callback=None)
        self.on_event = on_event
        self.max_occupants = max_occupants
        self.retire_after_s = float(r)
        self._monitors: dict[Hashable, HeartRateMonitor] = {}
        self._last_seen_s: dict[Hashable, float] = {}
        self._events: list[tuple[Hashable, MonitorEvent]] = []
        self.ignored_faces = 0
        """Faces not measured because ``max_occupants`` monitors were all in use."""
        self.retired = 0
        """Occupants closed after an absence longer than ``retire_after_s``, or evicted."""
        self._closed = False

    @property
    def occupants(self) -> list[Hashable]:
        """The track ids with a live monitor, oldest first."""
        return list(self._monitors)

    def monitor(self, track_id: Hashable) -> HeartRateMonitor:
        """The monitor of ``track_id`` (``KeyError`` when it has none)."""
        return self._monitors[track_id]

    def process(
        self,
        frame: npt.NDArray[Any],
        timestamp_s: float,
        faces: Mapping[Hashable, Sequence[float]],
    ) -> dict[Hashable, HeartRateReading]:
        """Route one frame's faces to their occupants' monitors.

        Parameters
        ----------
        frame
            The camera frame (as :meth:`HeartRateMonitor.process` takes it).
        timestamp_s
            Capture time in seconds, strictly increasing.
        faces
            ``{track_id: (x, y, w, h)}`` from the caller's tracker; ids are any hashable.

        Returns
        -------
        dict
            ``{track_id: reading}`` for every occupant whose monitor made a new reading.

        Raises
        ------
        TypeError, ValueError
            ``faces`` not a mapping, a bad box (:func:`rppg_sdk.face_box.check_face_box`), a bad
            frame or timestamp.
        RuntimeError
            Closed.
        """
        if self._closed:
            raise RuntimeError("OccupantMonitors is closed")
        if not isinstance(faces, Mapping):
            raise TypeError(
                f"faces: expected a mapping {{track_id: (x, y, w, h)}}, got {type(faces).__name__}"
            )
        if not isinstance(timestamp_s, int | float | np.floating | np.integer) or isinstance(
            timestamp_s, bool
        ):
            raise TypeError(f"timestamp_s: expected seconds, got {type(timestamp_s).__name__}")
        ts = float(timestamp_s)
        shape = getattr(frame, "shape", None)
        if shape is not None and len(shape) >= 2:
            for face_box in faces.values():  # every box checked before any monitor is touched
                check_face_box(face_box, shape)
        self._retire(ts, faces)
        for track_id in faces:
            if track_id not in self._monitors:
                self._admit(track_id, ts, faces)
        out: dict[Hashable, HeartRateReading] = {}
        for track_id, monitor in self._monitors.items():
            box = faces.get(track_id)
            reading = monitor.process(frame, ts, face_box_xywh=box)
            if box is not None:
                self._last_seen_s[track_id] = ts
            self._deliver(track_id, monitor.drain_events())
            if reading is not None:
                out[track_id] = reading
        return out

    def _deliver(self, track_id: Hashable, events: list[MonitorEvent]) -> None:
        for e in events:
            self._events.append((track_id, e))
            if self.on_event is not None:
                self.on_event(track_id, e)

    def drain_events(self) -> list[tuple[Hashable, MonitorEvent]]:
        """Every ``(track_id, event)`` since the last drain, oldest first."""
        events, self._events = self._events, []
        return events

    def _retire(self, ts: float, faces: Mapping[Hashable, Sequence[float]]) -> None:
        for track_id in list(self._monitors):
            if track_id in faces:
                continue
            if ts - self._last_seen_s[track_id] > self.retire_after_s:
                self._drop(track_id)

    def _admit(self, track_id: Hashable, ts: float, faces: Mapping[Hashable, Any]) -> None:
        if len(self._monitors) >= self.max_occupants:
            absent = [t for t in self._monitors if t not in faces]
            if not absent:
                self.ignored_faces += 1
                if self.ignored_faces == 1 or self.ignored_faces % 100 == 0:
                    _log.warning(
                        "OccupantMonitors: %d monitors in use (max_occupants); face %r waits",
                        self.max_occupants,
                        track_id,
                    )
                return
            self._drop(min(absent, key=lambda t: self._last_seen_s[t]))
        self._monitors[track_id] = HeartRateMonitor(self.options)
        self._last_seen_s[track_id] = ts

    def _drop(self, track_id: Hashable) -> None:
        monitor = self._monitors.pop(track_id)
        self._deliver(track_id, monitor.drain_events())
        monitor.close()
        del self._last_seen_s[track_id]
        self.retired += 1

    def close(self) -> None:
        """Close every occupant's monitor (idempotent)."""
        self._closed = True
        for track_id in list(self._monitors):
            self._monitors.pop(track_id).close()
        self._last_seen_s.clear()

    def __enter__(self) -> OccupantMonitors:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
