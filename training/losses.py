"""Losses and metrics for rPPG training and evaluation (one module for both).

Torch losses (batch-first ``(N, T)`` waveforms, scalar tensor out, differentiable):

=========================  ===========================================================  ========
function                   what                                                         source
=========================  ===========================================================  ========
:func:`neg_pearson`        minus Pearson's r in the time domain                          PhysNet
:func:`mcc_loss`           minus maximum cross-correlation, band-limited (Eq. 4)         [GS21]
:func:`snr_loss`           cross-entropy of the in-band PSD with the true HR as class   AutoHR
:func:`hybrid_loss`        ``lam * L_time + L_fre`` (AutoHR ``L_overall``, lam = 0.2)    AutoHR
:func:`psd_mse`            MSE of band-limited, sum-normalised PSDs                      [GS21]
:func:`mvtl_loss`          multi-view triplet loss over PSD-MSE distances                [GS21]
:func:`irrelevant_power_ratio`  share of power outside 40-250 bpm                        [GS21]
=========================  ===========================================================  ========

[GS21] Gideon & Stent 2021 (contrastive rPPG); AutoHR: Yu et al. 2020. Every function takes the
sample rate ``fs_hz`` explicitly; the heart-rate band is 40-250 bpm (assumption A1 of [GS21]).

:data:`LOSSES` names the supervised losses with one common signature
``loss(pred, target, bpm, fs_hz) -> Tensor`` so a training loop can pick one by name.

NumPy evaluation helpers (after inference): :func:`heart_rate_bpm` (from the SDK's
``rppg_sdk.dsp.estimate_heart_rate``: one peak picker for the whole project), :func:`hr_mae`,
:func:`hr_rmse`, :func:`hr_pearson`, :func:`waveform_snr_db`, :func:`waveform_mcc` and
:func:`evaluate_waveforms`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

__all__ = [
    "BAND_BPM",
    "LOSSES",
    "EvaluationResult",
    "SupervisedLoss",
    "evaluate_waveforms",
    "heart_rate_bpm",
    "hr_mae",
    "hr_pearson",
    "hr_rmse",
    "hybrid_loss",
    "irrelevant_power_ratio",
    "max_cross_correlation",
    "mcc_loss",
    "mvtl_loss",
    "neg_pearson",
    "no_pulse_loss",
    "normalized_psd",
    "pearson_r",
    "psd_mse",
    "snr_loss",
    "waveform_mcc",
    "waveform_snr_db",
]

#: Heart-rate band of both papers' losses, in beats per minute (Gideon & Stent, assumption A1).
BAND_BPM: tuple[float, float] = (40.0, 250.0)
_EPS = 1e-8


# ----------------------------------------------------------------------------- validation


def _check_fs(fs_hz: float) -> float:
    if not isinstance(fs_hz, int | float | np.floating | np.integer) or isinstance(fs_hz, bool):
        raise TypeError(f"fs_hz: expected a number, got {type(fs_hz).__name__}")
    fs = float(fs_hz)
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs_hz: expected a positive finite rate, got {fs_hz}")
    if BAND_BPM[1] / 60.0 >= fs / 2.0:
        raise ValueError(
            f"fs_hz: expected a rate above {2 * BAND_BPM[1] / 60.0:.2f} Hz so that "
            f"{BAND_BPM[1]:g} bpm is below Nyquist, got {fs_hz}"
        )
    return fs


def _check_wave(name: str, x: Any, min_len: int = 4) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape (N, T), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name}: expected shape (N, T), got {tuple(x.shape)}")
    if x.shape[0] < 1 or x.shape[1] < min_len:
        raise ValueError(f"{name}: expected N >= 1 and T >= {min_len}, got {tuple(x.shape)}")
    return x


def _check_pair(pred: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
    p = _check_wave("pred", pred)
    t = _check_wave("target", target)
    if p.shape != t.shape:
        raise ValueError(f"target: expected shape {tuple(p.shape)} like pred, got {tuple(t.shape)}")
    return p, t.to(p.dtype)


def _check_bpm(bpm: Any, n: int, like: torch.Tensor) -> torch.Tensor:
    if isinstance(bpm, int | float):
        b = torch.full((n,), float(bpm), dtype=like.dtype, device=like.device)
    elif isinstance(bpm, torch.Tensor | np.ndarray | list | tuple):
        b = torch.as_tensor(bpm, dtype=like.dtype, device=like.device).reshape(-1)
    else:
        raise TypeError(f"bpm: expected a tensor of shape (N,), got {type(bpm).__name__}")
    if b.shape != (n,):
        raise ValueError(f"bpm: expected shape ({n},), got {tuple(b.shape)}")
    if not bool(torch.isfinite(b).all()) or bool((b <= 0).any()):
        raise ValueError("bpm: expected positive finite heart rates, got a NaN, inf or <= 0")
    return b


def _band_mask(freqs_hz: torch.Tensor) -> torch.Tensor:
    lo, hi = BAND_BPM[0] / 60.0, BAND_BPM[1] / 60.0
    return (freqs_hz >= lo) & (freqs_hz <= hi)


# ----------------------------------------------------------------------------- time domain


def pearson_r(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pearson's correlation of each row, shape ``(N,)``."""
    p, t = _check_pair(pred, target)
    p = p - p.mean(dim=1, keepdim=True)
    t = t - t.mean(dim=1, keepdim=True)
    num = (p * t).sum(dim=1)
    energy = (p * p).sum(dim=1) * (t * t).sum(dim=1)
    # A constant row has r = 0 and a zero (not an epsilon-sized, huge) gradient.
    ok = energy > 0
    den = torch.sqrt(torch.where(ok, energy, torch.ones_like(energy)))
    r: torch.Tensor = torch.where(ok, num / den, torch.zeros_like(num))
    return r


def neg_pearson(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Minus Pearson's r, averaged over the batch: ``-1`` for identical waveforms.

    AutoHR's ``L_time`` (Eq. 3) is ``1 - r`` = ``1 + neg_pearson``: same gradient.
    """
    return -pearson_r(pred, target).mean()


# ----------------------------------------------------------------------------- MCC


def max_cross_correlation(pred: torch.Tensor, target: torch.Tensor, fs_hz: float) -> torch.Tensor:
    """Maximum cross-correlation (MCC) of each row, Gideon & Stent (2021) Eq. 4; shape ``(N,)``.

    Both signals have their mean removed and are zero-padded to twice their length (a linear,
    not circular, correlation); the cross-spectrum ``F{y} conj(F{y_hat})`` is band-passed to
    40-250 bpm, transformed back and divided by ``sqrt(sum y^2 sum y_hat^2)`` (Pearson's
    normalisation), and its maximum over lags is taken. It is then divided by ``c_pr``, the
    share of the cross-spectrum's magnitude inside the band, so the out-of-band content does not
    lower the score: MCC is 1 for identical signals (however much of their power lies outside
    the band), is close to 1 for a shifted copy (the lag costs only the lost overlap), and by
    Cauchy-Schwarz never exceeds 1. Out-of-band power present in only one of the two signals
    still lowers it through the standard deviations, as in the paper's Eq. 4: a clean pulse
    against the same pulse plus drift of twice its amplitude scores ``1 / sqrt(5)``.
    """
    p, t = _check_pair(pred, target)
    fs = _check_fs(fs_hz)
    n = p.shape[1]
    p = p - p.mean(dim=1, keepdim=True)
    t = t - t.mean(dim=1, keepdim=True)
    nfft = 2 * n
    fp = torch.fft.rfft(p, n=nfft, dim=1)
    ft = torch.fft.rfft(t, n=nfft, dim=1)
    cross = ft * torch.conj(fp)  # lag k of irfft: sum_t target[t + k] pred[t]
    freqs = torch.fft.rfftfreq(nfft, d=1.0 / fs).to(p.device)
    mask = _band_mask(freqs).to(p.dtype)
    # One-sided bins stand for two two-sided bins except DC and Nyquist (nfft is even).
    weight = torch.full_like(freqs, 2.0, dtype=p.dtype)
    weight[0] = 1.0
    weight[-1] = 1.0
    mag = cross.abs() * weight
    in_band = (mag * mask).sum(dim=1)
    total = mag.sum(dim=1)
    c_pr = in_band / torch.where(total > 0, total, torch.ones_like(total))
    cc = torch.fft.irfft(cross * mask, n=nfft, dim=1)
    energy = (p * p).sum(dim=1) * (t * t).sum(dim=1)
    den = torch.sqrt(torch.where(energy > 0, energy, torch.ones_like(energy))) * c_pr
    den = torch.where(energy > 0, den, torch.zeros_like(den))
    # A signal without in-band power (e.g. a constant) correlates with nothing: MCC 0, and a
    # zero gradient rather than the huge one a small epsilon in the denominator would give.
    ok = den > 0
    safe = torch.where(ok, den, torch.ones_like(den))
    mcc: torch.Tensor = torch.where(ok, cc.max(dim=1).values / safe, torch.zeros_like(den))
    return mcc


def mcc_loss(pred: torch.Tensor, target: torch.Tensor, fs_hz: float) -> torch.Tensor:
    """Minus the mean maximum cross-correlation (see :func:`max_cross_correlation`).

    The supervised loss of Gideon & Stent (2021): robust to a constant offset between video and
    ground-truth PPG, unlike :func:`neg_pearson`.
    """
    return -max_cross_correlation(pred, target, fs_hz).mean()


# ----------------------------------------------------------------------------- spectra


def _band_dft_power(
    x: torch.Tensor, fs_hz: float, resolution_bpm: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hann-windowed DFT power at ``BAND_BPM`` in steps of ``resolution_bpm``: ``(bpms, (N, F))``.

    A direct DFT at chosen frequencies (one matmul) rather than a zero-padded FFT: it gives
    exactly the 1-bpm classes of AutoHR's frequency loss at any clip length.
    """
    n = x.shape[1]
    bpms = torch.arange(
        BAND_BPM[0],
        BAND_BPM[1] + 0.5 * resolution_bpm,
        resolution_bpm,
        dtype=x.dtype,
        device=x.device,
    )
    tt = torch.arange(n, dtype=x.dtype, device=x.device) / fs_hz
    phase = 2.0 * math.pi * tt[:, None] * (bpms[None, :] / 60.0)
    win = torch.hann_window(n, periodic=False, dtype=x.dtype, device=x.device)
    xw = (x - x.mean(dim=1, keepdim=True)) * win
    re = xw @ torch.cos(phase)
    im = xw @ torch.sin(phase)
    return bpms, re * re + im * im


def snr_loss(
    pred: torch.Tensor, bpm: torch.Tensor, fs_hz: float, *, resolution_bpm: float = 1.0
) -> torch.Tensor:
    """AutoHR's frequency loss ``L_fre = CE(PSD(X), HR_gt)`` (Eq. 4).

    The power spectrum of the prediction at 40-250 bpm (one class per ``resolution_bpm``) is
    normalised to a distribution ``p`` and scored by cross-entropy ``-sum_k q_k log p_k`` against
    the true heart rate as the class ``q`` (split linearly between the two nearest classes for a
    fractional bpm; rates outside the band are clamped to its edges). Like the SNR loss of
    Spetlik et al. (2018) it rewards power at the true rate and penalises power elsewhere in the
    band; it does not depend on the prediction's scale.

    Parameters
    ----------
    pred
        ``(N, T)`` predicted waveforms.
    bpm
        ``(N,)`` true heart rates in beats per minute.
    fs_hz
        Sample rate in Hz.
    resolution_bpm
        Width of one class.
    """
    p = _check_wave("pred", pred)
    fs = _check_fs(fs_hz)
    if not resolution_bpm > 0:
        raise ValueError(f"resolution_bpm: expected > 0, got {resolution_bpm}")
    b = _check_bpm(bpm, p.shape[0], p)
    bpms, power = _band_dft_power(p, fs, resolution_bpm)
    prob = power / (power.sum(dim=1, keepdim=True) + _EPS)
    logp = torch.log(prob + _EPS)
    pos = ((b.clamp(BAND_BPM[0], BAND_BPM[1]) - BAND_BPM[0]) / resolution_bpm).clamp(
        0, bpms.numel() - 1
    )
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=bpms.numel() - 1)
    frac = pos - lo.to(pos.dtype)
    nll = -(
        (1 - frac) * logp.gather(1, lo[:, None])[:, 0] + frac * logp.gather(1, hi[:, None])[:, 0]
    )
    return nll.mean()


def hybrid_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    bpm: torch.Tensor,
    fs_hz: float,
    lam: float = 0.2,
) -> torch.Tensor:
    """AutoHR's ``L_overall = lam * L_time + L_fre`` with ``L_time = 1 - r`` (Eq. 3) and
    ``L_fre`` = :func:`snr_loss`; ``lam = 0.2`` as in the paper."""
    p, t = _check_pair(pred, target)
    l_time = 1.0 + neg_pearson(p, t)
    return lam * l_time + snr_loss(p, bpm, fs_hz)


def normalized_psd(x: torch.Tensor, fs_hz: float, nfft: int | None = None) -> torch.Tensor:
    """Band-limited power spectrum normalised to sum 1, shape ``(..., F)``.

    Gideon & Stent (2021): mean removed, ``|rfft|^2``, bins outside 40-250 bpm zeroed, divided by
    the sum. ``x`` may have any leading dimensions; the last is time. ``nfft`` zero-pads.
    """
    fs = _check_fs(fs_hz)
    n = x.shape[-1]
    nfft = n if nfft is None else int(nfft)
    if nfft < n:
        raise ValueError(f"nfft: expected >= the signal length {n}, got {nfft}")
    x = x - x.mean(dim=-1, keepdim=True)
    spec = torch.fft.rfft(x, n=nfft, dim=-1)
    power = spec.real**2 + spec.imag**2
    freqs = torch.fft.rfftfreq(nfft, d=1.0 / fs).to(x.device)
    power = power * _band_mask(freqs).to(power.dtype)
    psd: torch.Tensor = power / (power.sum(dim=-1, keepdim=True) + _EPS)
    return psd


def no_pulse_loss(pred: torch.Tensor, fs_hz: float, nfft: int | None = None) -> torch.Tensor:
    """How much of the in-band power a waveform puts in a few bins: ``sum_f p_f^2`` of its
    :func:`normalized_psd`, averaged over the batch.

    For clips with *no* pulse (negatives): 1 for a pure tone, ``1 / F`` for a flat spectrum. A
    model that minimises it returns noise, not a rhythm, where there is no pulse, so the
    spectral evidence the runtime's confidence reads (SNR at the peak, harmonic structure) is
    low there. Supervised losses cannot express this: a Pearson loss has no target to correlate
    with.
    """
    p = _check_wave("pred", pred)
    psd = normalized_psd(p, fs_hz, nfft)
    return (psd**2).sum(dim=-1).mean()


def psd_mse(
    a: torch.Tensor, b: torch.Tensor, fs_hz: float, *, nfft: int | None = None
) -> torch.Tensor:
    """Mean squared error between the band-limited normalised PSDs of ``a`` and ``b`` (the
    contrastive distance of Gideon & Stent 2021), averaged over the batch."""
    pa, pb = _check_pair(a, b)
    return ((normalized_psd(pa, fs_hz, nfft) - normalized_psd(pb, fs_hz, nfft)) ** 2).mean()


def _views(
    x: torch.Tensor,
    n_views: int,
    view_len: int,
    random_offsets: bool,
    generator: torch.Generator | None,
    name: str,
) -> torch.Tensor:
    """``(N, n_views, view_len)`` windows of ``x`` (evenly spread, or at random offsets)."""
    n = x.shape[1]
    if view_len > n:
        raise ValueError(f"{name}: expected at least {view_len} samples for a view, got {n}")
    span = n - view_len
    if random_offsets:
        starts = torch.randint(0, span + 1, (n_views,), generator=generator).tolist()
    else:
        starts = [round(k * span / max(n_views - 1, 1)) for k in range(n_views)]
    return torch.stack([x[:, s : s + view_len] for s in starts], dim=1)


def mvtl_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    fs_hz: float,
    n_views: int = 4,
    view_s: float = 5.0,
    *,
    random_offsets: bool = False,
    generator: torch.Generator | None = None,
    nfft: int | None = None,
) -> torch.Tensor:
    """Multi-view triplet loss (MVTL) of Gideon & Stent (2021), over PSD-MSE distances.

    ``n_views`` windows of ``view_s`` seconds are cut from each branch; ``P_tot`` sums the PSD-MSE
    over all ``n_views^2`` (anchor view, positive view) pairs and ``N_tot`` over all
    (anchor view, negative view) pairs; the loss is ``(P_tot - N_tot) / n_views^2``, averaged
    over the batch. The branches may differ in length (the positive is the negative resampled
    back), each at least one view long.

    Parameters
    ----------
    anchor, positive, negative
        ``(N, T_a)``, ``(N, T_p)``, ``(N, T_n)`` waveforms.
    fs_hz
        Sample rate in Hz.
    n_views, view_s
        ``V_N`` and ``V_L`` of the paper (4 views of 5 s).
    random_offsets
        Draw view offsets at random (a fresh draw per branch, using ``generator``) instead of
        spreading them evenly over the clip.
    """
    a = _check_wave("anchor", anchor)
    p = _check_wave("positive", positive).to(a.dtype)
    ng = _check_wave("negative", negative).to(a.dtype)
    fs = _check_fs(fs_hz)
    if not (a.shape[0] == p.shape[0] == ng.shape[0]):
        raise ValueError(
            f"positive, negative: expected batch size {a.shape[0]} like anchor, got "
            f"{p.shape[0]} and {ng.shape[0]}"
        )
    if not isinstance(n_views, int) or n_views < 1:
        raise ValueError(f"n_views: expected a positive int, got {n_views!r}")
    view_len = int(round(float(view_s) * fs))
    if view_len < 4:
        raise ValueError(f"view_s: expected at least 4 samples per view, got {view_s} s at {fs} Hz")
    va, vp, vn = (
        normalized_psd(_views(x, n_views, view_len, random_offsets, generator, nm), fs, nfft)
        for x, nm in ((a, "anchor"), (p, "positive"), (ng, "negative"))
    )
    # (N, V, 1, F) - (N, 1, V, F): all view pairs at once.
    p_tot = ((va[:, :, None] - vp[:, None, :]) ** 2).mean(dim=-1).sum(dim=(1, 2))
    n_tot = ((va[:, :, None] - vn[:, None, :]) ** 2).mean(dim=-1).sum(dim=(1, 2))
    return ((p_tot - n_tot) / n_views**2).mean()


def irrelevant_power_ratio(
    pred: torch.Tensor, fs_hz: float, *, nfft: int | None = None
) -> torch.Tensor:
    """Share of the power outside 40-250 bpm (IPR, Gideon & Stent 2021), averaged over the
    batch: 0 for a pure in-band pulse, 1 for pure out-of-band drift. A label-free quality
    measure (the contrastive paper's model-selection metric)."""
    p = _check_wave("pred", pred)
    fs = _check_fs(fs_hz)
    n = p.shape[1]
    nfft = n if nfft is None else int(nfft)
    x = p - p.mean(dim=1, keepdim=True)
    spec = torch.fft.rfft(x, n=nfft, dim=1)
    power = spec.real**2 + spec.imag**2
    freqs = torch.fft.rfftfreq(nfft, d=1.0 / fs).to(p.device)
    in_band = (power * _band_mask(freqs).to(power.dtype)).sum(dim=1)
    total = power.sum(dim=1)
    ipr: torch.Tensor = (1.0 - in_band / (total + _EPS)).mean()
    return ipr


# ----------------------------------------------------------------------------- registry

#: A supervised loss with the common signature ``(pred, target, bpm, fs_hz) -> scalar``.
SupervisedLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor]


def _neg_pearson4(
    pred: torch.Tensor, target: torch.Tensor, bpm: torch.Tensor, fs_hz: float
) -> torch.Tensor:
    return neg_pearson(pred, target)


def _mcc4(
    pred: torch.Tensor, target: torch.Tensor, bpm: torch.Tensor, fs_hz: float
) -> torch.Tensor:
    return mcc_loss(pred, target, fs_hz)


def _snr4(
    pred: torch.Tensor, target: torch.Tensor, bpm: torch.Tensor, fs_hz: float
) -> torch.Tensor:
    return snr_loss(pred, bpm, fs_hz)


def _hybrid4(
    pred: torch.Tensor, target: torch.Tensor, bpm: torch.Tensor, fs_hz: float
) -> torch.Tensor:
    return hybrid_loss(pred, target, bpm, fs_hz)


def _psd_mse4(
    pred: torch.Tensor, target: torch.Tensor, bpm: torch.Tensor, fs_hz: float
) -> torch.Tensor:
    return psd_mse(pred, target, fs_hz)


#: Supervised losses by name, all called as ``LOSSES[name](pred, target, bpm, fs_hz)``:
#: ``neg_pearson`` (PhysNet), ``mcc`` (Gideon & Stent's supervised loss), ``snr`` (AutoHR's
#: L_fre), ``hybrid`` (AutoHR's L_overall, lambda 0.2) and ``psd_mse``.
LOSSES: dict[str, SupervisedLoss] = {
    "neg_pearson": _neg_pearson4,
    "mcc": _mcc4,
    "snr": _snr4,
    "hybrid": _hybrid4,
    "psd_mse": _psd_mse4,
}


# ----------------------------------------------------------------------------- evaluation (numpy)

FloatArray = npt.NDArray[np.float64]


def _as_1d(name: str, x: Any) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return arr


def _as_2d(name: str, x: Any) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name}: expected shape (N, T) or (T,), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return arr


def _pair_bpm(pred_bpm: Any, true_bpm: Any) -> tuple[FloatArray, FloatArray]:
    p, t = _as_1d("pred_bpm", pred_bpm), _as_1d("true_bpm", true_bpm)
    if p.shape != t.shape:
        raise ValueError(f"true_bpm: expected {p.shape[0]} values like pred_bpm, got {t.shape[0]}")
    return p, t


def hr_mae(pred_bpm: npt.ArrayLike, true_bpm: npt.ArrayLike) -> float:
    """Mean absolute heart-rate error in bpm."""
    p, t = _pair_bpm(pred_bpm, true_bpm)
    return float(np.mean(np.abs(p - t)))


def hr_rmse(pred_bpm: npt.ArrayLike, true_bpm: npt.ArrayLike) -> float:
    """Root-mean-square heart-rate error in bpm."""
    p, t = _pair_bpm(pred_bpm, true_bpm)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def hr_pearson(pred_bpm: npt.ArrayLike, true_bpm: npt.ArrayLike) -> float:
    """Pearson's r between predicted and true heart rates (NaN when either is constant)."""
    p, t = _pair_bpm(pred_bpm, true_bpm)
    if p.size < 2 or np.std(p) == 0 or np.std(t) == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1])


def heart_rate_bpm(waveform: npt.ArrayLike, fs_hz: float, options: Any = None) -> float:
    """Heart rate of a waveform in bpm, read by the SDK (``rppg_sdk.dsp.estimate_heart_rate``).

    ``options`` is an ``rppg_sdk.dsp.SpectralOptions`` (the SDK's defaults when ``None``), so a
    model is scored with exactly the peak picker that will read its output at run time.
    """
    from rppg_sdk.dsp import estimate_heart_rate

    return float(estimate_heart_rate(_as_1d("waveform", waveform), fs_hz, options).bpm)


def waveform_snr_db(
    waveform: npt.ArrayLike, true_bpm: float, fs_hz: float, options: Any = None
) -> float:
    """SNR in dB of a predicted waveform around the true heart rate and its second harmonic
    (de Haan & Jeanne 2013), from the SDK's ``rppg_sdk.dsp.signal_quality``."""
    from rppg_sdk.dsp import signal_quality

    return float(
        signal_quality(_as_1d("waveform", waveform), fs_hz, float(true_bpm), options).snr_db
    )


def waveform_mcc(pred: npt.ArrayLike, target: npt.ArrayLike, fs_hz: float) -> FloatArray:
    """Maximum cross-correlation of each predicted waveform with its target, ``(N,)``
    (the same computation as :func:`mcc_loss`, on numpy arrays)."""
    p, t = _as_2d("pred", pred), _as_2d("target", target)
    if p.shape != t.shape:
        raise ValueError(f"target: expected shape {p.shape} like pred, got {t.shape}")
    with torch.no_grad():
        return max_cross_correlation(torch.from_numpy(p), torch.from_numpy(t), fs_hz).numpy()


@dataclass(frozen=True)
class EvaluationResult:
    """Heart-rate and waveform metrics of a set of predicted clips.

    Attributes
    ----------
    mae_bpm, rmse_bpm, pearson_r
        Heart-rate error statistics and correlation over the clips.
    snr_db
        Mean waveform SNR around the true heart rate.
    mcc
        Mean maximum cross-correlation with the true waveforms (NaN without them).
    pred_bpm, true_bpm
        Per-clip heart rates.
    """

    mae_bpm: float
    rmse_bpm: float
    pearson_r: float
    snr_db: float
    mcc: float
    pred_bpm: FloatArray
    true_bpm: FloatArray

    @property
    def n_clips(self) -> int:
        return int(self.pred_bpm.shape[0])


def evaluate_waveforms(
    pred_waves: npt.ArrayLike,
    fs_hz: float,
    *,
    true_waves: npt.ArrayLike | None = None,
    true_bpm: npt.ArrayLike | Sequence[float] | None = None,
    options: Any = None,
) -> EvaluationResult:
    """Score predicted waveforms ``(N, T)`` against true waveforms and/or true heart rates.

    Heart rates of predictions (and of ``true_waves`` when ``true_bpm`` is not given) come from
    :func:`heart_rate_bpm` (the SDK). At least one of ``true_waves`` and ``true_bpm`` is needed.
    """
    pw = _as_2d("pred_waves", pred_waves)
    if true_waves is None and true_bpm is None:
        raise ValueError("true_waves, true_bpm: expected at least one, got neither")
    tw = None if true_waves is None else _as_2d("true_waves", true_waves)
    if tw is not None and tw.shape != pw.shape:
        raise ValueError(f"true_waves: expected shape {pw.shape} like pred_waves, got {tw.shape}")
    pred_bpm = np.array([heart_rate_bpm(w, fs_hz, options) for w in pw])
    if true_bpm is not None:
        tb = _as_1d("true_bpm", true_bpm)
    else:
        assert tw is not None
        tb = np.array([heart_rate_bpm(w, fs_hz, options) for w in tw])
    if tb.shape != pred_bpm.shape:
        raise ValueError(f"true_bpm: expected {pred_bpm.shape[0]} values, got {tb.shape[0]}")
    snr = float(
        np.mean([waveform_snr_db(w, b, fs_hz, options) for w, b in zip(pw, tb, strict=True)])
    )
    mcc = float(np.mean(waveform_mcc(pw, tw, fs_hz))) if tw is not None else float("nan")
    return EvaluationResult(
        mae_bpm=hr_mae(pred_bpm, tb),
        rmse_bpm=hr_rmse(pred_bpm, tb),
        pearson_r=hr_pearson(pred_bpm, tb),
        snr_db=snr,
        mcc=mcc,
        pred_bpm=pred_bpm,
        true_bpm=tb,
    )
