"""Dark frames of an alternating illuminator: find them in a stream and leave them out.

Driver-monitoring cameras light the driver with 940 nm LEDs that many systems switch on for
every other frame only: the frames in between see the ambient light alone (to measure or
subtract it, or to share the LEDs' power budget with a second camera). For the pulse those dark
frames are another light level every other frame: a square wave at half the frame rate and a
skin trace whose level jumps by 5-10x, which no pulse method survives. They are dropped before
the skin is measured; the frames kept keep their own timestamps (the extractor resamples the
kept samples by time, so a 30 fps stream with every other frame dropped is a 15 fps stream).

:class:`DarkFrameFilter` decides per frame, from the frame's mean brightness, with no
look-ahead:

- **Alternation.** Log-brightness steps between consecutive frames that flip sign on every frame
  and are larger than a factor :data:`ALTERNATION_ON_RATIO` (1.3x) for :data:`ALTERNATION_FRAMES`
  steps in a row mean an alternating illuminator. Head motion, a hand, a tunnel or an exposure
  change move the brightness too, but not up-down-up-down on every frame.
- **Hysteresis.** Once alternation is seen, it is taken to go on until
  :data:`ALTERNATION_FRAMES` steps in a row are smaller than :data:`ALTERNATION_OFF_RATIO`
  (1.1x) or do not alternate: one odd frame (a missed LED pulse, a skipped frame) changes
  nothing.
- **Which frames are dark.** Not the parity: the brightness. Running levels of the lit and dark
  frames are kept; a frame is dark when its log-brightness lies below their midpoint. So the
  pattern may start on either phase, and a phase slip (a frame lost between camera and SDK)
  is followed at once.
- **Colour streams are left alone in ``"auto"`` mode.** Switched illuminators light
  near-infrared (one-channel or grey) cameras; a colour camera's brightness can still flip from
  frame to frame (stuttering or very dark video: the real skin-patch recordings of the
  evaluation lost up to 600 frames each to a false alternation before this rule). Whether a
  stream is colour is decided on its first frame (:func:`rppg_sdk.frames.is_grey`).
- **No alternation, nothing dropped.** In ``"auto"`` mode a constant illuminator (or a webcam)
  never enters alternation; with ``True`` the stream is taken to alternate from its second
  frame, and a frame is dropped when it is darker than the previous one by 1.3x or (once both
  levels are known) lies below their midpoint.

The first :data:`ALTERNATION_FRAMES` frames of an alternating stream pass before alternation is
recognised in ``"auto"`` mode; :attr:`DarkFrameFilter.started` tells the caller to forget what
it measured before (the monitor restarts its skin traces then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rppg_sdk.frames import is_grey

__all__ = [
    "ALTERNATION_FRAMES",
    "ALTERNATION_OFF_RATIO",
    "ALTERNATION_ON_RATIO",
    "DarkFrameFilter",
    "DarkFrameMode",
    "FrameLight",
    "check_mode",
    "frame_brightness",
]

#: ``drop_dark_frames`` values: ``"auto"`` (drop only once alternation is seen), ``True``
#: (the stream alternates), ``False`` (keep every frame).
DarkFrameMode = bool | Literal["auto"]

#: Consecutive brightness steps that must alternate in sign (entering) or fail to (leaving).
ALTERNATION_FRAMES: int = 6
#: Lit / dark brightness ratio each step must exceed to count as alternation.
ALTERNATION_ON_RATIO: float = 1.3
#: Below this ratio a step counts as no alternation (the hysteresis' lower threshold).
ALTERNATION_OFF_RATIO: float = 1.1

# The frame's brightness is the mean of every 4th pixel in each direction (1/16 of them): a
# 0.1 % estimate on any real frame, 16x cheaper than the full mean.
_STRIDE = 4
# Running levels follow the lit and dark frames with this weight on the newest frame.
_LEVEL_WEIGHT = 0.2
# A mean below this (in the frame's own units) is taken as this: log of black stays finite.
_FLOOR = 1e-3


@dataclass(frozen=True)
class FrameLight:
    """The filter's verdict on one frame.

    Attributes
    ----------
    keep
        Measure this frame (lit, or no alternation).
    dark
        Judged a dark (illuminator-off) frame.
    alternating
        The stream alternates (as judged with this frame).
    brightness
        The frame's mean brightness in its own units.
    """

    keep: bool
    dark: bool
    alternating: bool
    brightness: float


def check_mode(value: object) -> DarkFrameMode:
    """``value`` as a :data:`DarkFrameMode` (``True``, ``False`` or ``"auto"``), else an error
    naming them."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    raise ValueError(f"drop_dark_frames: expected True, False or 'auto', got {value!r}")


def frame_brightness(frame: npt.NDArray[Any]) -> float:
    """Mean of a frame's pixels (every 4th row and column; all channels), in its own units."""
    if not isinstance(frame, np.ndarray) or frame.ndim < 2 or frame.size == 0:
        raise ValueError("frame: expected a non-empty (H, W) or (H, W, C) numpy array")
    return float(np.mean(frame[::_STRIDE, ::_STRIDE], dtype=np.float64))


class DarkFrameFilter:
    """Per-frame decision: keep the frame, or drop it as an illuminator-off frame.

    Parameters
    ----------
    mode
        ``"auto"`` (default): drop dark frames once the stream is seen to alternate; ``True``:
        the stream alternates from the start; ``False``: keep every frame.

    Notes
    -----
    Not thread-safe: one stream, one thread (the monitor's pipeline).
    """

    def __init__(self, mode: DarkFrameMode = "auto") -> None:
        self.mode: DarkFrameMode = check_mode(mode)
        self.dropped = 0
        """Frames dropped since construction (not reset with the stream: a running count)."""
        self.reset()

    def reset(self) -> None:
        """Start a new stream: no alternation known, no levels."""
        self._history: list[float] = []  # log-brightness of the latest frames
        self._colour: bool | None = None  # decided on the stream's first frame
        self._alternating = self.mode is True
        self._lit: float | None = None
        self._dark: float | None = None
        self.started = False
        """This frame's verdict began an alternation: what was measured before holds dark
        frames too."""

    @property
    def alternating(self) -> bool:
        """Whether the stream is judged to alternate now."""
        return self._alternating

    def update(self, frame: npt.NDArray[Any]) -> FrameLight:
        """Judge one frame (any dtype and channels); count it when it is dropped. In ``"auto"``
        mode a colour stream is kept whole (no alternating illuminator lights colour cameras)."""
        b = frame_brightness(frame)
        if self.mode == "auto":
            if self._colour is None:
                small = frame[::_STRIDE, ::_STRIDE]
                self._colour = small.ndim == 3 and small.shape[2] > 1 and not is_grey(small)
            if self._colour:
                return FrameLight(True, False, False, b)
        verdict = self.judge(b)
        if not verdict.keep:
            self.dropped += 1
        return verdict

    def judge(self, brightness: float) -> FrameLight:
        """Judge one frame from its mean brightness (:func:`frame_brightness`)."""
        if not math.isfinite(brightness):
            raise ValueError(f"brightness: expected a finite number, got {brightness!r}")
        self.started = False
        if self.mode is False:
            return FrameLight(True, False, False, brightness)
        x = math.log(max(brightness, _FLOOR))
        last = self._history[-1] if self._history else None
        self._history.append(x)
        del self._history[: -(ALTERNATION_FRAMES + 1)]
        was = self._alternating
        if self.mode == "auto":
            steps = np.diff(self._history)
            self._alternating = _any_alternation(steps) if was else _all_alternate(steps)
        if not self._alternating:
            self._lit = self._dark = None
            return FrameLight(True, False, False, brightness)
        if not was:
            self.started = True
            # The recent frames are half lit, half dark: seed both levels from them.
            ordered = sorted(self._history)
            half = len(ordered) // 2
            self._dark = float(np.mean(ordered[:half]))
            self._lit = float(np.mean(ordered[-half:]))
        dark = self._is_dark(x, last)
        self._follow(x, dark)
        return FrameLight(not dark, dark, True, brightness)

    # ------------------------------------------------------------------ internals

    def _is_dark(self, x: float, last: float | None) -> bool:
        lit, dark = self._lit, self._dark
        if lit is not None and dark is not None and lit - dark > math.log(ALTERNATION_OFF_RATIO):
            return x < 0.5 * (lit + dark)
        # Levels not known yet: darker than the previous frame by the alternation ratio.
        return last is not None and x - last < -math.log(ALTERNATION_ON_RATIO)

    def _follow(self, x: float, dark: bool) -> None:
        if dark:
            self._dark = x if self._dark is None else self._dark + _LEVEL_WEIGHT * (x - self._dark)
        else:
            self._lit = x if self._lit is None else self._lit + _LEVEL_WEIGHT * (x - self._lit)


def _all_alternate(steps: npt.NDArray[np.float64]) -> bool:
    """Enter: a full run of steps, each larger than the on-ratio, flipping sign every frame."""
    if steps.size < ALTERNATION_FRAMES:
        return False
    big = bool(np.all(np.abs(steps) > math.log(ALTERNATION_ON_RATIO)))
    return big and bool(np.all(steps[1:] * steps[:-1] < 0))


def _any_alternation(steps: npt.NDArray[np.float64]) -> bool:
    """Stay: some step of the recent run still flips sign by more than the off-ratio."""
    if steps.size < 2:
        return True
    flips = (steps[1:] * steps[:-1] < 0) & (np.abs(steps[1:]) > math.log(ALTERNATION_OFF_RATIO))
    return bool(np.any(flips))
