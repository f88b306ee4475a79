"""Tracking across windows and confidence, on pulse signals with known content."""

from __future__ import annotations

import numpy as np
import pytest
from rppg_sdk import dsp
from rppg_sdk.confidence import ConfidenceInputs, ConfidenceModel
from rppg_sdk.tracking import HeartRateTracker, TrackerOptions

FS = 30.0
WIN_S = 10.0


def _pulse(t: np.ndarray, bpm: np.ndarray | float, h2: float = 0.3) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(bpm, t.shape) / 60.0) / FS
    return np.sin(phase) + h2 * np.sin(2 * phase + 0.5)


def _windows(signal: np.ndarray, step_s: float = 1.0):
    n = int(WIN_S * FS)
    for end in range(n, signal.size + 1, int(step_s * FS)):
        yield end / FS, signal[end - n : end]


def test_stays_on_the_fundamental_when_a_harmonic_flares_up() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(0, 60, 1 / FS)
    x = _pulse(t, 60.0) + 0.3 * rng.normal(size=t.size)
    # 4 s in which the second harmonic (120 bpm) dominates: motion at twice the heart rate.
    burst = (t > 30) & (t < 34)
    x[burst] += 4.0 * np.sin(2 * np.pi * 2.0 * t[burst])
    tr = HeartRateTracker()
    out = [tr.update(w, FS, dsp.SpectralOptions()) for _, w in _windows(x)]
    raw = np.array([e.raw_bpm for e in out])
    bpm = np.array([e.bpm for e in out])
    assert np.any(np.abs(raw - 120) < 5), "the burst should fool an untracked reader"
    assert np.all(np.abs(bpm - 60) < 3), f"tracked readings left 60 bpm: {bpm.round(1)}"


def test_follows_a_real_change() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 90, 1 / FS)
    bpm_true = np.where(t < 40, 65.0, 65.0 + np.minimum(t - 40, 10) * 3.0)  # 65 -> 95 in 10 s
    x = _pulse(t, bpm_true) + 0.3 * rng.normal(size=t.size)
    tr = HeartRateTracker()
    res = [(end, tr.update(w, FS, dsp.SpectralOptions()).bpm) for end, w in _windows(x)]
    late = [b for end, b in res if end >= 70]  # windows entirely after the change settled
    assert late and np.all(np.abs(np.array(late) - 95) < 3), late


def test_not_stuck_on_fft_bins() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(0, 10, 1 / FS)
    got = []
    for bpm in np.arange(60.0, 63.0, 0.25):
        tr = HeartRateTracker()
        got.append(
            tr.update(
                _pulse(t, bpm) + 0.05 * rng.normal(size=t.size), FS, dsp.SpectralOptions()
            ).bpm
        )
    # 10 s windows have 6 bpm bins; readings must resolve quarter-bpm steps.
    assert np.all(np.abs(np.array(got) - np.arange(60.0, 63.0, 0.25)) < 0.3)
    assert len({round(g, 1) for g in got}) == len(got)


def test_tracker_options_are_validated() -> None:
    with pytest.raises(ValueError):
        TrackerOptions(search_halfwidth_bpm=0)
    with pytest.raises(ValueError):
        TrackerOptions(median_length=0)


def test_confidence_orders_evidence() -> None:
    c = ConfidenceModel()
    good = c(ConfidenceInputs(snr_db=6.0, irrelevant_power_ratio=0.2))
    noise = c(ConfidenceInputs(snr_db=-8.0, irrelevant_power_ratio=0.2))
    assert good > 0.6 > 0.3 > noise
    assert c(ConfidenceInputs(6.0, 0.2, box_moves=3)) < good
    assert c(ConfidenceInputs(6.0, 0.9)) < good
    assert c(ConfidenceInputs(6.0, 0.2, window_fraction=0.5)) < good
    assert c(ConfidenceInputs(float("nan"), 0.2)) == 0.0
    for snr in np.linspace(-30, 30, 61):
        assert 0.0 <= c(ConfidenceInputs(float(snr), 0.5)) <= 1.0


def test_noise_scores_low_and_pulse_high() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(0, 10, 1 / FS)
    c = ConfidenceModel()
    noise_conf, pulse_conf = [], []
    for _ in range(40):
        for sig, store in (
            (rng.normal(size=t.size), noise_conf),
            (_pulse(t, rng.uniform(50, 110)) + 0.7 * rng.normal(size=t.size), pulse_conf),
        ):
            e = HeartRateTracker().update(sig, FS, dsp.SpectralOptions())
            store.append(c(ConfidenceInputs(e.snr_db, e.irrelevant_power_ratio)))
    print(
        f"confidence: noise median {np.median(noise_conf):.2f} max {max(noise_conf):.2f}; "
        f"pulse median {np.median(pulse_conf):.2f} min {min(pulse_conf):.2f}"
    )
    assert np.median(noise_conf) < 0.3 and np.mean(np.array(noise_conf) < 0.3) > 0.9
    assert np.median(pulse_conf) > 0.6


def test_acquisition_prefers_a_pulse_with_its_harmonic_over_a_lone_fast_noise_peak() -> None:
    """A weak pulse at 72 bpm (with its second harmonic) against a slightly stronger narrow
    peak at 190 bpm (no harmonic: compression or sensor noise): the plain argmax reads 190, the
    harmonic-sum score with the physiological prior reads the pulse."""
    rng = np.random.default_rng(5)
    t = np.arange(0, WIN_S, 1 / FS)
    x = _pulse(t, 72.0, h2=0.6) + 1.25 * np.sin(2 * np.pi * 190 / 60 * t) + 0.2 * rng.normal(
        size=t.size
    )
    plain = dsp.estimate_heart_rate(x, FS).bpm
    assert abs(plain - 190) < 2, plain  # the premise: an untracked argmax is fooled
    got = HeartRateTracker().update(x, FS, dsp.SpectralOptions())
    assert abs(got.bpm - 72) < 2, got
    off = HeartRateTracker(TrackerOptions(prior_log_sd=float("inf"), harmonic_weight=0.0))
    assert abs(off.update(x, FS, dsp.SpectralOptions()).bpm - 190) < 2  # both turned off


@pytest.mark.parametrize("bpm", [45.0, 150.0, 185.0])
def test_a_clear_pulse_far_from_the_prior_centre_is_still_read(bpm: float) -> None:
    rng = np.random.default_rng(int(bpm))
    t = np.arange(0, WIN_S, 1 / FS)
    x = _pulse(t, bpm) + 0.5 * rng.normal(size=t.size)
    assert abs(HeartRateTracker().update(x, FS, dsp.SpectralOptions()).bpm - bpm) < 2
