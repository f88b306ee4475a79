"""A learned model's confidence comes from evidence outside the network.

A network trained to output a pulse draws a clean, pulse-shaped wave from a lamp's rhythm too:
its own output's SNR and harmonics then look like a pulse, and before the classical cross-check the
shipped PhysNet gave confidence 1.00 on a face with no pulse under tinted in-band flicker. The
monitor now reads the same skin with POS beside the model (``ConfidenceInputs.classical_share``:
how much of POS's in-band power lies at the model's rate), and each model's confidence is fitted
on it. These clips are rendered here (seeds the calibration never saw) and go through
``HeartRateMonitor`` as a user's video would.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.synthetic import SyntheticClipSpec, clip_truth, render_to_file

COMMON = {
    "duration_s": 16.0,
    "fps": 30.0,
    "frame_size": (320, 240),
    "face_height_px": 120.0,
    "codec": "h264",
    "bitrate_kbps": 2000,
}
#: A face with a pulse under steady light.
PULSE = SyntheticClipSpec(heart_rate_bpm=84.0, seed=21, **COMMON)  # type: ignore[arg-type]


def _lamp_no_pulse(
    flicker_hz: float, tint_bgr: tuple[float, float, float], seed: int
) -> SyntheticClipSpec:
    """The same kind of face with no pulse, lit by a lamp whose tinted flicker lies in the band
    (on the background too)."""
    return SyntheticClipSpec(
        pulse=False,
        flicker_hz=flicker_hz,
        flicker_amplitude=0.005,
        flicker_tint_bgr=tint_bgr,
        seed=seed,
        **COMMON,  # type: ignore[arg-type]
    )


FLICKER_NO_PULSE = _lamp_no_pulse(1.6, (0.6, 1.1, 1.3), 22)
#: A lamp tinted green like blood's own colour change (its pulse signature looks like a
#: pulse's) at 90 bpm, on a still face: only the background, which the lamp changes as strongly
#: as the skin, says it is light.
GREEN_LAMP_NO_PULSE = _lamp_no_pulse(1.5, (0.8, 1.3, 0.9), 23)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("model_confidence")
    return {
        "pulse": render_to_file(PULSE, d / "pulse.mp4"),
        "flicker_no_pulse": render_to_file(FLICKER_NO_PULSE, d / "flicker.mp4"),
        "green_lamp_no_pulse": render_to_file(GREEN_LAMP_NO_PULSE, d / "green_lamp.mp4"),
    }


def _readings(path: Path, method: str) -> list:  # type: ignore[type-arg]
    with HeartRateMonitor(MonitorOptions(method=method, model_threads=1)) as monitor:
        return [r for r in monitor.process_video(path) if r.bpm is not None]


@pytest.mark.parametrize("method", ["physnet", "autohr"])
def test_no_pulse_under_flicker_gets_low_confidence(clips: dict[str, Path], method: str) -> None:
    readings = _readings(clips["flicker_no_pulse"], method)
    assert readings, "the monitor gave no heart rate to judge"
    shares = [r.evidence.classical_share for r in readings]
    assert all(math.isfinite(s) for s in shares), "model readings must carry the POS evidence"
    worst = max(r.confidence for r in readings)
    assert worst < 0.3, f"{method}: confidence up to {worst:.2f} on a face with no pulse"


@pytest.mark.parametrize("method", ["physnet", "autohr"])
def test_a_true_pulse_keeps_its_confidence(clips: dict[str, Path], method: str) -> None:
    """The other side: the cross-check must not take the confidence of right readings away.
    Readings over a full 10 s window of a clean face rank above every no-pulse reading."""
    readings = _readings(clips["pulse"], method)
    truth = clip_truth(PULSE)
    errors = [
        abs(r.bpm - truth.mean_bpm(r.window_end_s - r.window_s, r.window_end_s)) for r in readings
    ]
    assert float(np.mean(errors)) < 3.0
    full = np.array([r.confidence for r in readings if r.window_s >= 9.9])
    assert full.size >= 3
    worst_no_pulse = max(r.confidence for r in _readings(clips["flicker_no_pulse"], method))
    assert float(np.mean(full)) >= 0.5, f"{method}: mean confidence {np.mean(full):.2f}"
    assert float(np.min(full)) > worst_no_pulse


def test_classical_methods_do_not_measure_the_cross_check(clips: dict[str, Path]) -> None:
    readings = _readings(clips["pulse"], "pos")
    assert readings and all(math.isnan(r.evidence.classical_share) for r in readings)


@pytest.mark.parametrize("method", ["pos", "physnet", "autohr"])
def test_a_lamp_the_background_shows_as_strongly_is_light(
    clips: dict[str, Path], method: str
) -> None:
    """The surround's light: a rate the background changes by as much as the skin, with the head
    still, is a lamp's. Every method (a model's classical companion measures the surround too)
    keeps its confidence low on it, while the pulse clip's surround shows little."""
    readings = _readings(clips["green_lamp_no_pulse"], method)
    assert readings, "the monitor gave no heart rate to judge"
    light = float(np.median([r.evidence.reference_share for r in readings]))
    assert light > 0.5, f"{method}: the lamp's surround light is only {light:.2f}"
    worst = max(r.confidence for r in readings)
    assert worst < 0.3, f"{method}: confidence up to {worst:.2f} under a lamp, with no pulse"
    pulse = _readings(clips["pulse"], method)
    pulse_light = float(np.median([r.evidence.reference_share for r in pulse]))
    assert pulse_light < 0.25, f"{method}: a true pulse's surround light is {pulse_light:.2f}"
