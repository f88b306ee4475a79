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

The work is the C++ core's (``rppg/illumination.hpp``), the code ``rppg::PulseMonitor`` runs;
these functions validate and convert.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rppg_sdk import _core, dsp

__all__ = ["power_share_at", "reference_share", "remove_reference", "remove_steps"]

FloatArray = npt.NDArray[np.float64]

#: A frame-to-frame change of the log skin colour this many robust standard deviations from the
#: typical one is a step (exposure, white balance, a re-aligned face box), not pulse: a pulse
#: changes the colour by about 0.1 % between frames, an exposure step by percent.
STEP_THRESHOLD_SIGMA = 6.0  # the core's rppg::kStepThresholdSigma


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
    lo, hi = dsp._check_band(band_hz)
    dsp._check_band_fits(dsp._check_fs(fs_hz), (lo, hi))
    cleaned: FloatArray = _core.remove_reference(
        np.ascontiguousarray(s), np.ascontiguousarray(r), float(fs_hz), lo, hi
    )
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
    return _share(reference, fs_hz, bpm, options, relative=True)


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
    return _share(traces, fs_hz, bpm, options, relative=False)


def _share(
    traces: npt.ArrayLike,
    fs_hz: float,
    bpm: float,
    options: dsp.SpectralOptions | None,
    *,
    relative: bool,
) -> float:
    opts = options or dsp.SpectralOptions()
    x = dsp._as_signal("traces", traces, ndim=(1, 2), min_len=2)
    x = np.ascontiguousarray(x.reshape(x.shape[0], -1))
    fs = dsp._check_fs(fs_hz)
    dsp._check_positive("bpm", bpm)
    return float(
        _core.power_share_at(x, float(bpm), dsp._core_config(fs, x.shape[0], opts), relative)
    )


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
    k = None
    if known_steps is not None:
        k = np.asarray(known_steps, dtype=bool).reshape(-1)
        if k.shape[0] != x.shape[0]:
            raise ValueError(f"known_steps: expected {x.shape[0]} flags, got {k.shape[0]}")
    if not np.isfinite(x).all():
        raise ValueError("traces: expected finite values")
    out, steps = _core.remove_steps(np.ascontiguousarray(x), k)
    return out, int(steps)
