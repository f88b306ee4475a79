"""What a confidence means, end to end on random semi-synthetic clips (not the evaluation
suite the confidence was fitted on): confident readings are accurate.

The fit itself and its reliability are checked in ``tests/test_confidence_calibration.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from conftest import require_module
from rppg_sdk.monitor import HeartRateMonitor, MonitorOptions

require_module("skimage", extra="demo")  # the renderer's default face
from rppg_sdk import synthetic  # noqa: E402

KINDS = ("still", "rigid", "periodic", "lighting", "jpeg", "nir", "hard", "nopulse")


def random_spec(rng: np.random.Generator) -> tuple[str, Any]:
    """One random condition: the kinds of the calibration set, drawn as it was drawn."""
    kind = str(rng.choice(KINDS))
    kw: dict[str, Any] = {
        "heart_rate_bpm": float(rng.uniform(50, 120)),
        "seed": int(rng.integers(1e6)),
    }
    if kind == "rigid":
        kw.update(motion="rigid", motion_amplitude_px=float(rng.uniform(4, 20)))
    if kind == "periodic":
        kw.update(motion="periodic", motion_amplitude_px=float(rng.uniform(3, 12)))
    if kind == "lighting":
        kw.update(illumination_drift=float(rng.uniform(0.05, 0.3)))
    if kind == "jpeg":
        kw.update(jpeg_quality=int(rng.integers(40, 90)))
    if kind == "nir":
        kw.update(near_infrared=True)
    if kind == "hard":  # a weak pulse under sensor noise and nodding
        kw.update(
            pulse_amplitude=float(rng.uniform(0.001, 0.004)),
            sensor_noise_std=float(rng.uniform(2, 6)),
            motion="periodic",
            motion_amplitude_px=float(rng.uniform(2, 8)),
        )
    if kind == "nopulse":
        motion = str(rng.choice(["still", "rigid", "periodic"]))
        kw.update(pulse=False, motion=motion)
        if motion != "still":
            kw["motion_amplitude_px"] = float(rng.uniform(3, 12))
    spec = synthetic.SyntheticClipSpec(duration_s=20.0, fps=30.0, frame_size=(320, 240), **kw)
    return kind, spec


def run(seed: int, n_clips: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_clips):
        kind, spec = random_spec(rng)
        clip = synthetic.render_clip(spec)
        with HeartRateMonitor(MonitorOptions()) as m:
            last = None
            for frame, ts in zip(clip.frames, clip.timestamps_s, strict=True):
                r = m.process(frame, float(ts))
                if r is not None and r is not last and r.bpm is not None:
                    truth = (
                        clip.mean_bpm(r.window_end_s - r.window_s, r.window_end_s)
                        if spec.pulse
                        else None
                    )
                    moving = spec.motion != "still"
                    rows.append(
                        {
                            "kind": kind,
                            "moving": moving,
                            "bpm": r.bpm,
                            "truth": truth,
                            "conf": r.confidence,
                        }
                    )
                last = r
    return rows


def table(rows: list[dict[str, Any]]) -> dict[str, tuple[int, float, float]]:
    pulse = [r for r in rows if r["truth"] is not None]
    err = np.array([abs(r["bpm"] - r["truth"]) for r in pulse])
    conf = np.array([r["conf"] for r in pulse])
    out = {}
    for lo, hi in ((0.0, 0.3), (0.3, 0.5), (0.4, 0.6), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        sel = (conf >= lo) & (conf < hi)
        if sel.any():
            out[f"{lo:.1f}-{min(hi, 1.0):.1f}"] = (
                int(sel.sum()),
                float(err[sel].mean()),
                float(np.mean(err[sel] <= 5.0)),
            )
    return out


def report(rows: list[dict[str, Any]]) -> None:
    for band, (n, mae, within5) in table(rows).items():
        print(f"confidence {band}: {n:4d} readings, MAE {mae:5.1f} bpm, {within5:.0%} within 5 bpm")
    still_np = [r["conf"] for r in rows if r["truth"] is None and not r["moving"]]
    moving_np = [r["conf"] for r in rows if r["truth"] is None and r["moving"]]
    if still_np:
        print(
            f"no pulse, still head: max confidence {max(still_np):.2f} ({len(still_np)} readings)"
        )
    if moving_np:
        print(f"no pulse, moving head: max confidence {max(moving_np):.2f} ({len(moving_np)})")


def test_confidence_orders_error_on_a_few_clips() -> None:
    rows = run(seed=5, n_clips=6)
    report(rows)
    pulse = [r for r in rows if r["truth"] is not None]
    hi = [abs(r["bpm"] - r["truth"]) for r in pulse if r["conf"] >= 0.6]
    assert hi and np.mean(hi) < 3.0
