"""Light seen by a non-skin reference region: removed from skin traces, and measured."""

from __future__ import annotations

import numpy as np
import pytest
from rppg_sdk import dsp
from rppg_sdk.illumination import reference_share, remove_reference

FS = 30.0
N = 300
BVP_BGR = np.array([0.53, 0.77, 0.33]) / 0.77


def _scene(seed: int, pulse_bpm: float, flicker_hz: float, amp: float = 0.004):
    rng = np.random.default_rng(seed)
    t = np.arange(N) / FS
    tint = rng.uniform(0.5, 1.5, 3)
    light = amp * np.sin(2 * np.pi * flicker_hz * t + rng.uniform(0, 6))[:, None] * tint
    pulse = -0.003 * np.sin(2 * np.pi * pulse_bpm / 60.0 * t)[:, None] * BVP_BGR
    skin = np.array([90.0, 110.0, 150.0]) * (1 + light + pulse + rng.normal(0, 0.0008, (N, 3)))
    ref = np.array([120.0, 125.0, 118.0]) * (1 + light + rng.normal(0, 0.0008, (N, 3)))
    return skin, ref


def _pos_bpm(bgr: np.ndarray) -> float:
    return dsp.estimate_heart_rate(dsp.extract_pulse(bgr[:, ::-1], FS, dsp.PulseMethod.POS), FS).bpm


def test_in_band_tinted_flicker_is_removed_and_the_pulse_kept() -> None:
    wrong_without = 0
    for seed in range(6):
        pulse_bpm, flicker_hz = 66.0 + 7 * seed, 1.9 + 0.15 * seed  # flicker inside the band
        skin, ref = _scene(seed, pulse_bpm, flicker_hz, amp=0.01)
        # POS alone cancels light of some tints, not of others: it reads the flicker then.
        wrong_without += abs(_pos_bpm(skin) - pulse_bpm) > 5.0
        assert abs(_pos_bpm(remove_reference(skin, ref, FS)) - pulse_bpm) < 2.0, seed
    assert wrong_without >= 2


def test_without_flicker_the_reference_takes_little_of_the_pulse() -> None:
    skin, ref = _scene(0, 72.0, 1.5, amp=0.0)
    cleaned = remove_reference(skin, ref, FS)
    p0 = dsp.bandpass(dsp.extract_pulse(skin[:, ::-1], FS, dsp.PulseMethod.POS), FS)
    p1 = dsp.bandpass(dsp.extract_pulse(cleaned[:, ::-1], FS, dsp.PulseMethod.POS), FS)
    assert np.corrcoef(p0, p1)[0, 1] > 0.95
    assert np.allclose(cleaned.mean(axis=0), skin.mean(axis=0), rtol=1e-3)


def test_reference_share_points_at_the_flicker_not_the_pulse() -> None:
    skin, ref = _scene(3, 80.0, 2.2)
    assert reference_share(ref, FS, 60 * 2.2) > 0.6
    assert reference_share(ref, FS, 80.0) < 0.2
    flat = np.full((N, 3), 100.0)
    assert reference_share(flat, FS, 80.0) == 0.0


def test_bad_shapes_are_rejected_with_both_shapes_named() -> None:
    with pytest.raises(ValueError, match=r"\(300, 3\) and \(300, 1\)"):
        remove_reference(np.ones((N, 3)), np.ones((N, 1)), FS)
    with pytest.raises(ValueError, match="finite"):
        remove_reference(np.full((N, 3), np.nan), np.ones((N, 3)), FS)


def test_exposure_steps_are_taken_out_and_the_pulse_kept() -> None:
    """Two exposure / white-balance steps put a 1/f skirt into the spectrum whose peak sits at
    the band's low edge; without the steps the pulse is read."""
    from rppg_sdk.illumination import remove_steps

    rng = np.random.default_rng(4)
    t = np.arange(N) / FS
    pulse = -0.002 * np.sin(2 * np.pi * 1.5 * t)[:, None] * BVP_BGR
    skin = np.array([90.0, 110.0, 150.0]) * (1 + pulse + rng.normal(0, 0.0005, (N, 3)))
    skin[100:] *= np.array([1.05, 1.04, 1.02])  # exposure and white balance
    skin[220:] *= np.array([0.97, 0.95, 0.96])
    def green_bpm(bgr: np.ndarray) -> float:
        p = dsp.extract_pulse(bgr[:, ::-1], FS, dsp.PulseMethod.GREEN)
        return dsp.estimate_heart_rate(p, FS).bpm

    assert abs(green_bpm(skin) - 90.0) > 5.0  # the premise: the steps win
    cleaned, n = remove_steps(skin)
    assert n == 2
    assert abs(green_bpm(cleaned) - 90.0) < 2.0
    assert np.allclose(cleaned.mean(axis=0), skin.mean(axis=0), rtol=1e-9)


def test_known_steps_are_removed_even_when_small() -> None:
    from rppg_sdk.illumination import remove_steps

    x = np.full((N, 1), 100.0)
    x[150:] += 0.2  # far below the noise: only the flag can find it
    flags = np.zeros(N, bool)
    flags[150] = True
    cleaned, n = remove_steps(x + np.random.default_rng(0).normal(0, 0.5, (N, 1)), flags)
    assert n >= 1
    with pytest.raises(ValueError, match="known_steps: expected 300 flags, got 3"):
        remove_steps(x, [True, False, True])


def _chain_reading(skin: np.ndarray, ref: np.ndarray, remove: bool):  # type: ignore[no-untyped-def]
    """The monitor's classical chain on pushed means: the extractor (the surround regressed out
    or only measured) and the analysis with POS's fitted confidence."""
    from rppg_sdk.analysis import PulseAnalyzer  # noqa: PLC0415
    from rppg_sdk.extractors import Method  # noqa: PLC0415
    from rppg_sdk.extractors.classical import ClassicalExtractor  # noqa: PLC0415
    from rppg_sdk.tracking import TrackerOptions  # noqa: PLC0415

    ext = ClassicalExtractor(Method.POS, window_s=10.0, remove_reference=remove)
    for i in range(N):
        ext.push_means(i / FS, skin[i], ref[i])
    window = ext.pulse_window((N - 1) / FS, 10.0, 5.0)
    analyzer = PulseAnalyzer((0.7, 4.0), 10.0, TrackerOptions(), None, 0.3, 6.0)
    return analyzer.analyze(window, (N - 1) / FS, None, "pos", 3)


@pytest.mark.parametrize("seed", [1, 4, 8, 10])
def test_the_surround_is_regressed_out_only_when_asked(seed: int) -> None:
    """A lamp at 126 bpm, stronger than the 72 bpm pulse, on skin and surround (tints under
    which POS keeps the lamp: about a third of the seeds). Measured only (the default), the
    reading follows the lamp and the surround's light keeps its confidence low; regressed out
    (``illumination_reference=True``), the pulse is read."""
    skin, ref = _scene(seed, 72.0, 2.1, amp=0.006)
    measured = _chain_reading(skin, ref, remove=False)
    assert measured.evidence is not None and measured.bpm is not None
    assert abs(measured.bpm - 126.0) < 3.0
    assert measured.evidence.reference_share > 0.5
    assert measured.confidence < 0.3
    removed = _chain_reading(skin, ref, remove=True)
    assert removed.bpm is not None and abs(removed.bpm - 72.0) < 3.0
    assert removed.evidence is not None and removed.evidence.reference_share < 0.1
