"""Classical rPPG: skin-colour traces -> pulse waveform through the C++ core.

Only the per-frame mean (a weighted average over skin pixels) happens here; everything after it
(resampling, POS / CHROM / GREEN, filtering, spectra) is :mod:`rppg_sdk.dsp`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rppg_sdk import dsp

__all__ = ["CLASSICAL_METHODS", "face_weights", "pulse_from_traces", "skin_means"]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]

#: Method names handled here ("mono" is the one-channel method).
CLASSICAL_METHODS = ("pos", "chrom", "green", "mono")

# A mean colour at or below this (out of 255) has no skin in it to measure: black padding or an
# unlit face. POS and CHROM divide by the mean, so such frames are floored rather than trusted.
_MIN_MEAN = 1.0


def face_weights(crop_size: int, box_scale: float) -> Float32Array:
    """Pixel weights for a crop without landmarks: an ellipse over the detected face.

    The crop shows the stable box, enlarged ``box_scale`` times about the detection, so the face
    itself fills the central ``1 / box_scale`` of it; the ring around it is hair and background,
    which carry no pulse and add motion and lighting noise.
    """
    if crop_size < 2:
        raise ValueError(f"crop_size: expected >= 2, got {crop_size}")
    c = (crop_size - 1) / 2.0
    yy, xx = np.mgrid[0:crop_size, 0:crop_size].astype(np.float64)
    # Slightly narrower than the detection box: its corners are background.
    rx = 0.42 * crop_size / box_scale
    ry = 0.5 * crop_size / box_scale
    inside = ((xx - c) / rx) ** 2 + ((yy - c) / ry) ** 2 <= 1.0
    return np.asarray(inside, dtype=np.float32)


def skin_means(crop: npt.NDArray[np.uint8], weights: Float32Array) -> FloatArray:
    """Weighted mean of each channel of ``crop`` ``(S, S, C)`` over ``weights`` ``(S, S)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(C,)`` float64, in the crop's channel order (BGR or one channel).
    """
    if crop.ndim != 3 or crop.shape[:2] != weights.shape:
        raise ValueError(
            f"crop, weights: expected (S, S, C) and (S, S), got {crop.shape} and {weights.shape}"
        )
    total = float(weights.sum(dtype=np.float64))
    if total <= 0.0:
        raise ValueError("weights: expected some positive weight, got none")
    # Per channel, elementwise: a BLAS matrix-vector product here costs 50x more once
    # OpenBLAS's threads contend with the detector's (0.4 ms instead of 8 us per frame).
    wf = weights.astype(np.float32, copy=False)
    return np.array(
        [float(np.sum(wf * crop[:, :, k], dtype=np.float64)) for k in range(crop.shape[2])]
    ) / total


def pulse_from_traces(
    traces: npt.ArrayLike,
    fs_hz: float,
    method: str,
    band_hz: tuple[float, float] = dsp.DEFAULT_BAND_HZ,
) -> FloatArray:
    """Pulse waveform from mean-colour traces on a uniform grid.

    Parameters
    ----------
    traces
        ``(T, 3)`` in **BGR** order (the crop's) or ``(T, 1)`` for one-channel cameras.
    fs_hz
        Grid rate in Hz.
    method
        ``"pos"``, ``"chrom"``, ``"green"`` (three channels) or ``"mono"`` (one channel).
    band_hz
        Heart-rate band (CHROM filters its chrominance signals to it).

    Raises
    ------
    ValueError
        POS / CHROM / GREEN on one channel (undefined: they need colour), or ``"mono"`` asked of
        colour traces (use ``"green"``).
    """
    x = np.asarray(traces, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] not in (1, 3):
        raise ValueError(f"traces: expected (T, 3) BGR or (T, 1), got {x.shape}")
    x = np.maximum(x, _MIN_MEAN)
    if method == "mono":
        if x.shape[1] != 1:
            raise ValueError("method 'mono' is for one-channel traces; use 'green' for colour")
        # The one channel's relative change, through the core's GREEN (which reads column 1).
        return dsp.extract_pulse(
            np.repeat(x, 3, axis=1), fs_hz, dsp.PulseMethod.GREEN, band_hz=band_hz
        )
    if method not in ("pos", "chrom", "green"):
        raise ValueError(f"method: expected one of {CLASSICAL_METHODS}, got {method!r}")
    if x.shape[1] != 3:
        raise ValueError(
            f"method {method!r} needs colour (3-channel) traces, got one channel: POS and CHROM "
            "are undefined without colour differences; use 'mono' for near-infrared cameras"
        )
    # Crops are BGR (OpenCV); the core wants R, G, B columns.
    return dsp.extract_pulse(x[:, ::-1], fs_hz, dsp.PulseMethod(method), band_hz=band_hz)
