"""Events, not polling: what a driver-monitoring system's fusion layer wants to hear.

Every reading goes through one :class:`rppg::EventDetector` (the C++ core,
``csrc/include/rppg/events.hpp``: the same implementation a C++ DMS links), which raises typed
events with the camera clock's timestamps (:class:`EventKind`):

- ``READING``: every new reading (``event.reading`` holds it);
- ``QUALITY_CHANGED``: the reading's status differs from the previous one's;
- ``PULSE_LOST``: no usable pulse for ``EventOptions.lost_after_s`` after one was held, with a
  :class:`PulseLostReason` (no face, motion, low light, no pulse while the face is tracked);
- ``PULSE_REGAINED``: the first ``OK`` reading after a loss (and the stream's first);
- ``TACHYCARDIA_START`` / ``_END``, ``BRADYCARDIA_START`` / ``_END``: confident readings above
  ``tachycardia_bpm`` (below ``bradycardia_bpm``) for ``sustain_s``;
- ``ABRUPT_CHANGE``: two confident readings within ``abrupt_window_s`` differ by more than
  ``abrupt_change_bpm``.

Delivered to ``MonitorOptions.on_event`` (on the thread that made the reading) and to a bounded
queue the DMS drains (``HeartRateMonitor.drain_events()`` / ``events()``); when the queue is full
the oldest event is dropped and counted (``dropped_events``).

Latency
-------
A reading at time ``t`` rests on the window ``[t - window_s, t]``; readings come every
``update_interval_s``. A step in heart rate moves the spectral peak once about half the window
holds the new rate (``window_s / 2``, 5 s at the defaults); the tracker follows changes within
``search_halfwidth_bpm`` (10 bpm) at once, larger ones after ``switch_persistence`` (3) more
windows, and its 3-reading median can hold one more; add up to one update interval. Models add
up to one chunk hop (``(model_chunk_frames - model_overlap_frames) / model fps``, 3.2 s at the
defaults) because the newest frames are still being inferred. Measured on a rendered clip
whose rate steps from 66 to 96 bpm (``tests/test_events.py``): the first reading within 5 bpm
of the new rate came 6.0 s after the step with POS and CHROM, 9.0 s with PhysNet.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

from rppg_sdk import _core

if TYPE_CHECKING:
    from rppg_sdk.reading import HeartRateReading

__all__ = ["EventKind", "EventOptions", "EventStream", "MonitorEvent", "PulseLostReason"]

# The core's codes (csrc/include/rppg/events.hpp), in order.
_STATUS_CODES = ("warming_up", "ok", "low_quality", "no_face")


class EventKind(str, Enum):
    """What happened (see the module docs)."""

    READING = "reading"
    QUALITY_CHANGED = "quality_changed"
    PULSE_LOST = "pulse_lost"
    PULSE_REGAINED = "pulse_regained"
    TACHYCARDIA_START = "tachycardia_start"
    TACHYCARDIA_END = "tachycardia_end"
    BRADYCARDIA_START = "bradycardia_start"
    BRADYCARDIA_END = "bradycardia_end"
    ABRUPT_CHANGE = "abrupt_change"


class PulseLostReason(str, Enum):
    """Why a reading carries no usable pulse."""

    NONE = "none"
    """Not lost."""
    NO_FACE = "no_face"
    """No face on the frames (the caller gave no box, or the tracker found none)."""
    MOTION = "motion"
    """The head's own motion lies at the reported rate, or the face box kept moving."""
    LOW_LIGHT = "low_light"
    """The skin is too dark to carry a measurable pulse."""
    NO_PULSE = "no_pulse"
    """A face is tracked and lit, yet its window holds no clear pulse."""


_KINDS = tuple(EventKind)
_REASONS = tuple(PulseLostReason)


@dataclass(frozen=True)
class EventOptions:
    """Thresholds of the event detector (the C++ ``rppg::EventOptions``).

    Parameters
    ----------
    min_confidence
        Readings at or above this confidence count for tachycardia, bradycardia and abrupt
        changes (0.6: the SDK's calibrated "confident" threshold, ``confidence.json``).
    tachycardia_bpm, bradycardia_bpm, sustain_s
        Confident readings above / below these rates for ``sustain_s`` raise a sustained event.
    hysteresis_bpm
        A sustained run ends on a confident reading this far back inside the normal range.
    max_gap_s
        Confident readings further apart than this break a run.
    abrupt_change_bpm, abrupt_window_s
        A change larger than this between confident readings within the window is abrupt.
    lost_after_s
        No usable pulse (status other than ``OK``) for this long raises ``PULSE_LOST`` (0: at
        the first such reading).
    motion_share_threshold, box_moves_threshold
        A reading whose head-motion share at the reported rate, or whose face-box
        re-alignments in the window, reach these lost its pulse to motion.
    low_light_level
        Mean skin brightness below this share of full scale (0.08: about 20 of 255) is low light.
    queue_size
        Events the queue holds for :meth:`HeartRateMonitor.drain_events`; older ones are dropped
        (and counted) when the DMS does not drain.
    """

    min_confidence: float = 0.6
    tachycardia_bpm: float = 100.0
    bradycardia_bpm: float = 50.0
    sustain_s: float = 30.0
    hysteresis_bpm: float = 5.0
    max_gap_s: float = 5.0
    abrupt_change_bpm: float = 15.0
    abrupt_window_s: float = 10.0
    lost_after_s: float = 2.0
    motion_share_threshold: float = 0.5
    box_moves_threshold: int = 2
    low_light_level: float = 0.08
    queue_size: int = 1024

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            want_int = f.name in ("box_moves_threshold", "queue_size")
            ok_type = isinstance(v, int) if want_int else isinstance(v, int | float)
            if isinstance(v, bool) or not ok_type:
                kind = "an int" if want_int else "a number"
                raise TypeError(f"{f.name}: expected {kind}, got {type(v).__name__}")
        if self.queue_size < 1:
            raise ValueError(f"queue_size: expected >= 1, got {self.queue_size}")
        self.make_detector()  # the core checks the thresholds (ValueError naming the field)

    def make_detector(self) -> _core.EventDetector:
        """A fresh C++ detector with these thresholds."""
        kw: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        del kw["queue_size"]
        return _core.EventDetector(**kw)


@dataclass(frozen=True, eq=False)  # identity: the reading's waveform array has no plain ==
class MonitorEvent:
    """One event (see :class:`EventKind`).

    Attributes
    ----------
    kind
        What happened.
    timestamp_s
        Camera-clock time of the reading that raised it.
    status
        That reading's status (``"ok"``, ``"low_quality"``, ``"no_face"``, ``"warming_up"``).
    previous_status
        ``QUALITY_CHANGED``: the status before; otherwise the same as ``status``.
    bpm
        That reading's heart rate (``None`` without one).
    previous_bpm
        ``ABRUPT_CHANGE``: the earlier rate; ``None`` otherwise.
    confidence
        That reading's confidence.
    reason
        ``PULSE_LOST``: why; ``PulseLostReason.NONE`` otherwise.
    since_s
        When the condition began: ``PULSE_LOST`` the first reading without a pulse,
        ``PULSE_REGAINED`` when it was lost (``None`` for the stream's first pulse), a sustained
        start the run's first reading, ``ABRUPT_CHANGE`` the earlier reading; else ``None``.
    reading
        The reading that raised it (``None`` for events made outside a monitor).
    """

    kind: EventKind
    timestamp_s: float
    status: str
    previous_status: str
    bpm: float | None
    previous_bpm: float | None
    confidence: float
    reason: PulseLostReason = PulseLostReason.NONE
    since_s: float | None = None
    reading: HeartRateReading | None = None


def _opt(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _skin_level(reading: HeartRateReading, skin_level: float | None) -> float:
    return math.nan if skin_level is None else float(skin_level)


class EventStream:
    """One stream's event detector and its delivery (callback and bounded queue).

    Parameters
    ----------
    options
        Thresholds and queue size.
    callback
        Called with each event on the thread that made the reading, or ``None``.
    """

    def __init__(
        self, options: EventOptions, callback: Callable[[MonitorEvent], None] | None = None
    ) -> None:
        self.options = options
        self.callback = callback
        self._detector = options.make_detector()
        self._queue: deque[MonitorEvent] = deque(maxlen=int(options.queue_size))
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self.dropped = 0
        self._closed = False

    def feed(
        self, reading: HeartRateReading, skin_level: float | None = None
    ) -> list[MonitorEvent]:
        """Run one reading through the detector; deliver and return the events it raised.

        ``skin_level``: the mean skin brightness on the reading's frame as a share of full
        scale (``None``: unknown).
        """
        ev = reading.evidence
        raw = self._detector.push(
            float(reading.timestamp_s),
            _STATUS_CODES.index(reading.status.value),
            math.nan if reading.bpm is None else float(reading.bpm),
            float(min(1.0, max(0.0, reading.confidence))),
            math.nan if ev is None else float(ev.motion_share),
            0 if ev is None else int(ev.box_moves),
            _skin_level(reading, skin_level),
        )
        out = [
            MonitorEvent(
                kind=_KINDS[kind],
                timestamp_s=ts,
                status=_STATUS_CODES[state],
                previous_status=_STATUS_CODES[prev],
                bpm=_opt(bpm),
                previous_bpm=_opt(prev_bpm),
                confidence=conf,
                reason=_REASONS[reason],
                since_s=_opt(since),
                reading=reading,
            )
            for kind, ts, state, prev, bpm, prev_bpm, conf, reason, since in raw
        ]
        with self._lock:
            for e in out:
                if len(self._queue) == self._queue.maxlen:
                    self.dropped += 1
                self._queue.append(e)
            self._ready.notify_all()
        if self.callback is not None:
            for e in out:
                self.callback(e)
        return out

    def drain(self) -> list[MonitorEvent]:
        """Every queued event, oldest first; the queue is left empty."""
        with self._lock:
            items = list(self._queue)
            self._queue.clear()
        return items

    def iterate(self, timeout_s: float | None = 0.0) -> Iterator[MonitorEvent]:
        """Yield queued events, oldest first; when the queue is empty wait up to ``timeout_s``
        for more (0: stop at once; ``None``: wait until :meth:`close`)."""
        while True:
            with self._lock:
                if not self._queue and timeout_s != 0.0 and not self._closed:
                    self._ready.wait(timeout=timeout_s)
                if not self._queue:
                    return
                item = self._queue.popleft()
            yield item

    def reset(self) -> None:
        """A new stream: the detector forgets (queued events stay for the DMS to drain)."""
        self._detector.reset()

    def close(self) -> None:
        """Wake any waiting iterator; from now on iterators stop once the queue is empty."""
        with self._lock:
            self._closed = True
            self._ready.notify_all()
