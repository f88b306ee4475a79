"""Losses and metrics in training/losses.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch", extra="train")

from training.losses import (  # noqa: E402
    LOSSES,
    hr_mae,
    hr_pearson,
    hr_rmse,
    hybrid_loss,
    irrelevant_power_ratio,
    max_cross_correlation,
    mcc_loss,
    mvtl_loss,
    neg_pearson,
    normalized_psd,
    pearson_r,
    psd_mse,
    snr_loss,
    waveform_mcc,
)

FS = 30.0


def sine(freq_hz: float, n: int = 300, phase: float = 0.0, fs: float = FS) -> torch.Tensor:
    t = torch.arange(n, dtype=torch.float32) / fs
    return torch.sin(2 * math.pi * freq_hz * t + phase)


def batch(*rows: torch.Tensor) -> torch.Tensor:
    return torch.stack(rows)


pytestmark = pytest.mark.usefixtures("torch_seeded", "torch_one_thread")


# ----------------------------------------------------------------------------- Pearson


def test_neg_pearson_of_identical_signals_is_minus_one() -> None:
    y = batch(sine(1.2), sine(1.7) + 0.3 * torch.randn(300))
    assert neg_pearson(y, y).item() == pytest.approx(-1.0, abs=1e-5)
    assert neg_pearson(y, -y).item() == pytest.approx(1.0, abs=1e-5)
    # Scale and offset invariant.
    assert neg_pearson(3 * y + 2, y).item() == pytest.approx(-1.0, abs=1e-5)


def test_neg_pearson_of_unrelated_signals_is_near_zero() -> None:
    a, b = torch.randn(4, 600), torch.randn(4, 600)
    assert abs(neg_pearson(a, b).item()) < 0.1


# ----------------------------------------------------------------------------- MCC


def test_mcc_is_one_for_identical_and_invariant_to_a_circular_shift() -> None:
    y = batch(sine(1.2), sine(2.0, phase=1.0))
    shifted = torch.roll(y, 11, dims=1)
    assert max_cross_correlation(y, y, FS).tolist() == pytest.approx([1.0, 1.0], abs=1e-4)
    mcc_shift = max_cross_correlation(y, shifted, FS)
    # Only the overlap lost to the (at most half-period) lag separates it from 1 ...
    assert (mcc_shift > 0.95).all()
    # ... whereas Pearson's r collapses for the same shift.
    assert (pearson_r(y, shifted) < 0.5).all()
    assert mcc_loss(y, shifted, FS).item() == pytest.approx(-mcc_shift.mean().item())


def test_mcc_in_band_scaling_and_noise() -> None:
    pulse = sine(1.3)
    drifting = batch(pulse + 2.0 * sine(0.1))  # strong respiration-like drift below 40 bpm
    # c_pr undoes the band-pass: a perfect copy scores 1 even when most power is out of band.
    assert max_cross_correlation(drifting, drifting, FS).item() == pytest.approx(1.0, abs=1e-3)
    # Out-of-band power in only one signal still counts in the standard deviations (Eq. 4):
    # the in-band match scores ||pulse|| / ||pulse + drift|| = 1 / sqrt(5).
    one_sided = max_cross_correlation(drifting, batch(pulse), FS).item()
    assert one_sided == pytest.approx(1 / math.sqrt(5), abs=0.03)
    noise = torch.randn(8, 300)
    assert max_cross_correlation(noise, pulse.expand(8, -1), FS).mean().item() < 0.4
    assert (max_cross_correlation(noise, torch.randn(8, 300), FS) <= 1.0 + 1e-5).all()


def test_mcc_of_a_constant_prediction_is_zero_with_a_finite_gradient() -> None:
    pred = torch.full((2, 300), 0.5, requires_grad=True)
    mcc = max_cross_correlation(pred, batch(sine(1.2), sine(1.5)), FS)
    assert mcc.tolist() == [0.0, 0.0]
    (g,) = torch.autograd.grad(-mcc.mean(), pred)
    assert torch.isfinite(g).all() and g.abs().max() < 1e3


# ----------------------------------------------------------------------------- frequency losses


def test_snr_loss_is_lowest_at_the_true_heart_rate() -> None:
    y = batch(sine(72 / 60), sine(120 / 60))
    right = snr_loss(y, torch.tensor([72.0, 120.0]), FS)
    wrong = snr_loss(y, torch.tensor([100.0, 60.0]), FS)
    assert right < wrong - 3.0
    # Scale invariant: the PSD is normalised to a distribution.
    assert snr_loss(5 * y, torch.tensor([72.0, 120.0]), FS).item() == pytest.approx(
        right.item(), rel=1e-4
    )


def test_hybrid_loss_is_lambda_time_plus_frequency() -> None:
    target = batch(sine(1.1), sine(1.5, phase=0.4))
    pred = target + 0.5 * torch.randn(2, 300)
    bpm = torch.tensor([66.0, 90.0])
    l_time = 1.0 + neg_pearson(pred, target)
    l_fre = snr_loss(pred, bpm, FS)
    assert hybrid_loss(pred, target, bpm, FS).item() == pytest.approx(
        (0.2 * l_time + l_fre).item(), rel=1e-6
    )
    assert hybrid_loss(pred, target, bpm, FS, lam=1.0).item() == pytest.approx(
        (l_time + l_fre).item(), rel=1e-6
    )


def test_psd_mse_zero_for_same_frequency_and_positive_otherwise() -> None:
    a = batch(sine(1.2))
    assert psd_mse(a, batch(sine(1.2, phase=2.0)), FS).item() < 1e-6
    assert psd_mse(a, batch(sine(2.0)), FS).item() > 1e-4
    p = normalized_psd(torch.randn(3, 2, 128), FS)
    assert p.shape[:2] == (3, 2)
    assert torch.allclose(p.sum(-1), torch.ones(3, 2), atol=1e-5)


def test_mvtl_lower_when_positive_matches_the_anchor() -> None:
    anchor = batch(sine(1.2), sine(1.0))
    same = batch(sine(1.2, phase=1.0), sine(1.0, phase=2.0))
    other = batch(sine(1.6), sine(1.35))
    good = mvtl_loss(anchor, same, other, FS)
    bad = mvtl_loss(anchor, other, same, FS)
    assert good < 0 < bad
    assert good.item() == pytest.approx(-bad.item(), rel=1e-5)
    # Branches of different lengths (the positive is resampled back) and random views.
    g = torch.Generator().manual_seed(1)
    loss = mvtl_loss(anchor, same[:, :240], other, FS, random_offsets=True, generator=g)
    assert loss < 0


def test_mvtl_rejects_branches_shorter_than_a_view() -> None:
    y = torch.randn(1, 300)
    with pytest.raises(ValueError, match="positive"):
        mvtl_loss(y, y[:, :100], y, FS)


def test_irrelevant_power_ratio() -> None:
    assert irrelevant_power_ratio(batch(sine(1.2)), FS).item() < 0.01
    # Not a whole number of periods: some leakage, still small.
    assert irrelevant_power_ratio(batch(sine(1.3, n=256)), FS).item() < 0.02
    assert irrelevant_power_ratio(batch(sine(0.2)), FS).item() > 0.98
    mixed = batch(sine(1.2) + sine(0.2))
    assert irrelevant_power_ratio(mixed, FS).item() == pytest.approx(0.5, abs=0.05)


# ----------------------------------------------------------------------------- every loss


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("frames", [64, 160, 300])
def test_every_supervised_loss_is_a_differentiable_scalar(name: str, frames: int) -> None:
    target = batch(sine(1.2, n=frames), sine(1.8, n=frames))
    pred = torch.randn(2, frames, requires_grad=True)
    loss = LOSSES[name](pred, target, torch.tensor([72.0, 108.0]), FS)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    assert pred.grad.abs().sum() > 0


@pytest.mark.parametrize("frames", [160, 300])
def test_unsupervised_losses_are_differentiable(frames: int) -> None:
    a = torch.randn(2, frames, requires_grad=True)
    p, n = torch.randn(2, frames), torch.randn(2, frames)
    for loss in (mvtl_loss(a, p, n, FS, view_s=2.0), irrelevant_power_ratio(a, FS)):
        assert loss.ndim == 0
        (g,) = torch.autograd.grad(loss, a)
        assert torch.isfinite(g).all() and g.abs().sum() > 0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: neg_pearson(torch.randn(8), torch.randn(8)), ValueError, r"\(N, T\)"),
        (lambda: neg_pearson(torch.randn(2, 8), torch.randn(2, 9)), ValueError, "target"),
        (lambda: mcc_loss(torch.randn(1, 64), torch.randn(1, 64), 5.0), ValueError, "fs_hz"),
        (lambda: mcc_loss(np.zeros((1, 64)), torch.randn(1, 64), FS), TypeError, "pred"),
        (lambda: snr_loss(torch.randn(2, 64), torch.tensor([70.0]), FS), ValueError, "bpm"),
        (lambda: snr_loss(torch.randn(1, 64), torch.tensor([math.nan]), FS), ValueError, "bpm"),
        (
            lambda: psd_mse(torch.zeros(1, 64, dtype=torch.int64), torch.zeros(1, 64), FS),
            TypeError,
            "floating",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- evaluation


def test_heart_rate_statistics() -> None:
    pred, true = [70.0, 80.0, 95.0], [72.0, 80.0, 90.0]
    assert hr_mae(pred, true) == pytest.approx(7.0 / 3)
    assert hr_rmse(pred, true) == pytest.approx(math.sqrt(29.0 / 3))
    assert hr_pearson(pred, true) > 0.9
    assert math.isnan(hr_pearson([70.0, 70.0], [60.0, 80.0]))
    with pytest.raises(ValueError, match="true_bpm"):
        hr_mae([70.0], [70.0, 71.0])


def test_waveform_mcc_matches_the_torch_metric() -> None:
    y = np.stack([sine(1.2).numpy(), sine(1.6).numpy()]).astype(np.float64)
    got = waveform_mcc(y, np.roll(y, 5, axis=1), FS)
    assert got.shape == (2,) and (got > 0.95).all()


def test_evaluation_reads_heart_rates_through_the_sdk() -> None:
    require_module("rppg_sdk.dsp")
    from training.losses import evaluate_waveforms, heart_rate_bpm, waveform_snr_db

    rng = np.random.default_rng(0)
    t = np.arange(600) / FS
    true_bpm = np.array([66.0, 84.0, 120.0])
    true = np.stack([np.sin(2 * np.pi * b / 60 * t) for b in true_bpm])
    pred = true + 0.3 * rng.standard_normal(true.shape)
    assert heart_rate_bpm(pred[0], FS) == pytest.approx(66.0, abs=1.5)
    res = evaluate_waveforms(pred, FS, true_waves=true)
    assert res.n_clips == 3
    assert res.mae_bpm < 1.5 and res.rmse_bpm < 2.0 and res.pearson_r > 0.99
    assert res.mcc > 0.8
    noise_snr = waveform_snr_db(rng.standard_normal(600), 84.0, FS)
    assert res.snr_db > noise_snr + 5
    res2 = evaluate_waveforms(pred, FS, true_bpm=true_bpm)
    assert math.isnan(res2.mcc) and res2.mae_bpm == pytest.approx(res.mae_bpm, abs=1.0)
