"""Light that changes on skin and background alike: removed from skin traces, and measured.

A change of illumination (flicker, a lamp dimming, auto-exposure) multiplies everything the
camera sees; a pulse changes only the skin. A region beside the face that holds no skin (the
background and hair in the ring of the enlarged face box) therefore sees the illumination
without the pulse. In relative units (each trace divided by its own mean over the window) the
skin is ``1 + pulse + light`` and the reference ``1 + light``, with ``light`` possibly tinted
(one coefficient per channel). Regressing each skin channel on the reference channels over the
heart-rate band and subtracting the fit removes the light, even a flicker *inside* the
heart-rate band, where no filter can separate it from the pulse.

Chance correlation bounds what the regression can take from a pulse: with ``C`` reference
channels and a 10 s window in a 0.7-4 Hz band (about 66 degrees of freedom) the expected share
of an unrelated signal's power removed is ``C / 66``, about 5 % for colour.

:func:`reference_share` is the evidence half: the share of the reference's in-band power that
lies at the reported heart rate. A reading whose rate the background shows too is light, not
pulse, and the confidence says so.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp

__all__ = ["power_share_at", "reference_share", "remove_reference", "remove_steps"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: A frame-to-frame change of the log skin colour this many robust standard deviations from the
#: typical one is a step (exposure, white balance, a re-aligned face box), not pulse: a pulse
#: changes the colour by about 0.1 % between frames, an exposure step by percent.
STEP_THRESHOLD_SIGMA = 6.0

# Below this mean (out of 255) a region is too dark to tell light from sensor noise.
_MIN_MEAN = 2.0


def _relative(traces: FloatArray) -> FloatArray:
    mean = np.maximum(traces.mean(axis=0, keepdims=True), _MIN_MEAN)
    out: FloatArray = traces / mean - 1.0
    return out


def remove_reference(
    skin: npt.ArrayLike,
    reference: npt.ArrayLike,
    fs_hz: float,
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
) -> FloatArray:
    """Skin traces with the part the reference region explains removed.

    Parameters
    ----------
    skin, reference
        Mean colour traces ``(T, C)`` of the skin and of a non-skin region, on the same uniform
        grid (any channel order, the same in both).
    fs_hz
        Grid rate in Hz.
    band_hz
        The heart-rate band: the regression is fitted on the band-passed traces (slow drift and
        fast noise do not steer it) and its fit subtracted at every frequency.

    Returns
    -------
    numpy.ndarray
        ``(T, C)`` skin traces in the input's units (same means).
    """
    s = np.asarray(skin, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if s.ndim != 2 or r.shape != s.shape:
        raise ValueError(
            f"skin, reference: expected two (T, C) arrays of one shape, got {s.shape} and {r.shape}"
        )
    if not (np.isfinite(s).all() and np.isfinite(r).all()):
        raise ValueError("skin, reference: expected finite values")
    mean = np.maximum(s.mean(axis=0, keepdims=True), _MIN_MEAN)
    s_rel, r_rel = _relative(s), _relative(r)
    s_bp = np.column_stack([dsp.bandpass(s_rel[:, c], fs_hz, band_hz) for c in range(s.shape[1])])
    r_bp = np.column_stack([dsp.bandpass(r_rel[:, c], fs_hz, band_hz) for c in range(r.shape[1])])
    if not np.any(np.abs(r_bp) > 0):
        return s
    beta, *_ = np.linalg.lstsq(r_bp, s_bp, rcond=None)  # (C_ref, C_skin)
    cleaned: FloatArray = (1.0 + s_rel - (r_rel - r_rel.mean(axis=0)) @ beta) * mean
    return cleaned


def reference_share(
    reference: npt.ArrayLike,
    fs_hz: float,
    bpm: float,
    options: dsp.SpectralOptions | None = None,
) -> float:
    """Share (0-1) of the reference region's in-band power within ``snr_halfwidth_bpm`` of
    ``bpm`` and its second harmonic, the strongest channel counting; 0 when the reference is
    flat. Compare with the share a flat spectrum puts there (about 0.1 for a 10 s window)."""
    r = np.asarray(reference, dtype=np.float64)
    return power_share_at(_relative(r.reshape(r.shape[0], -1)), fs_hz, bpm, options)


def power_share_at(
    traces: npt.ArrayLike,
    fs_hz: float,
    bpm: float,
    options: dsp.SpectralOptions | None = None,
) -> float:
    """Share (0-1) of a signal's in-band power within ``snr_halfwidth_bpm`` of ``bpm`` and of
    twice ``bpm``, the strongest of its ``(T, C)`` channels counting; 0 for flat signals.

    Used for any signal that should *not* pulse at the heart rate: the light of a non-skin
    region (:func:`reference_share`), the head's motion.
    """
    opts = options or dsp.SpectralOptions()
    x = np.asarray(traces, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    lo, hi = opts.band_hz
    hw = opts.snr_halfwidth_bpm / 60.0
    f0 = bpm / 60.0
    best = 0.0
    for c in range(x.shape[1]):
        col = x[:, c] - x[:, c].mean()
        if not np.any(np.abs(col) > 0):
            continue
        spec = dsp.power_spectrum(col, fs_hz, opts)
        f, p = spec.freqs_hz, spec.power
        band = (f >= lo) & (f <= hi)
        total = float(p[band].sum())
        if total <= 0.0:
            continue
        near = band & ((np.abs(f - f0) <= hw) | (np.abs(f - 2.0 * f0) <= hw))
        best = max(best, float(p[near].sum()) / total)
    return best


def remove_steps(
    traces: npt.ArrayLike, known_steps: npt.ArrayLike | None = None
) -> tuple[FloatArray, int]:
    """Traces with sudden steps between frames taken out.

    Cameras change exposure and white balance in steps, and a re-aligned face box steps the
    mean skin colour: each step is broadband power that a spectrum reads as a slow "pulse" at
    the band's low edge. In the log domain (steps are multiplicative) every frame-to-frame
    change more than :data:`STEP_THRESHOLD_SIGMA` robust standard deviations from the median
    change, in any channel, and every change at a ``known_steps`` frame, is replaced by the
    median change; the traces are then rebuilt from the changes.

    Parameters
    ----------
    traces
        ``(T, C)`` positive mean colour traces on a uniform grid.
    known_steps
        ``(T,)`` truthy where a step is known to happen at that sample (the face box moved).

    Returns
    -------
    (numpy.ndarray, int)
        The ``(T, C)`` traces (same means) and the number of steps removed.
    """
    x = np.asarray(traces, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 3:
        raise ValueError(f"traces: expected (T, C) with T >= 3, got {x.shape}")
    log = np.log(np.maximum(x, _MIN_MEAN))
    d = np.diff(log, axis=0)
    med = np.median(d, axis=0)
    sigma = 1.4826 * np.median(np.abs(d - med), axis=0)
    jump: BoolArray = np.any(np.abs(d - med) > STEP_THRESHOLD_SIGMA * sigma + 1e-12, axis=1)
    if known_steps is not None:
        k = np.asarray(known_steps, dtype=bool).reshape(-1)
        if k.shape[0] != x.shape[0]:
            raise ValueError(f"known_steps: expected {x.shape[0]} flags, got {k.shape[0]}")
        jump |= k[1:]
    d[jump] = med
    rebuilt = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(d, axis=0)])
    rebuilt += (log - rebuilt).mean(axis=0)
    out: FloatArray = np.exp(rebuilt) * (x.mean(axis=0) / np.exp(rebuilt).mean(axis=0))
    return out, int(jump.sum())
