"""Pulse maps: where in the face crop the reported heart rate's rhythm is (``rppg-sdk measure
--saliency DIR``).

For each reading with a heart rate (at most ``max_maps``, spread over the video), the face crops
of its window (the SDK's :class:`~rppg_sdk.face.FaceTracker`, 64x64) give one map: per pixel, the
share of its in-band power (40-250 bpm) that lies within ``+-6 bpm`` of the reading's rate,
computed on the pixel's relative change (``x / mean - 1``, green and the POS projection
summed). Skin that carries the pulse lights up; hair, background, or a flickering lamp's reflection
do not, unless they carry the same rhythm, which is exactly what a user should see. The map is
drawn over the window's mean crop and saved as a PNG.

The shipped ONNX models do not contain the contrastive paper's saliency sampler (it is a training
front end, :mod:`training.models.saliency`); these maps read the video itself at the rate the
monitor reported, so they apply to every method.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["pulse_map", "write_pulse_maps"]

FloatArray = npt.NDArray[np.float64]
#: Half width of the band around the reading's rate that counts as "the pulse", bpm.
HALF_WIDTH_BPM = 6.0
BAND_BPM = (40.0, 250.0)


def pulse_map(crops: npt.NDArray[np.uint8], fs_hz: float, bpm: float) -> FloatArray:
    """Per pixel, the share of in-band power near ``bpm``: ``(S, S)`` in ``[0, 1]``.

    Parameters
    ----------
    crops
        ``(T, S, S, 3)`` BGR face crops of one window (``T >= 16``).
    fs_hz
        Their frame rate.
    bpm
        The heart rate to look for.
    """
    x = np.asarray(crops, dtype=np.float64)
    if x.ndim != 4 or x.shape[-1] != 3 or x.shape[0] < 16:
        raise ValueError(f"crops: expected (T >= 16, S, S, 3) BGR, got {x.shape}")
    if not (fs_hz > 0 and np.isfinite(bpm) and bpm > 0):
        raise ValueError(f"fs_hz, bpm: expected positive numbers, got {fs_hz!r}, {bpm!r}")
    rel = x / (x.mean(axis=0, keepdims=True) + 1.0) - 1.0  # (T, S, S, 3) relative change
    b, g, r = rel[..., 0], rel[..., 1], rel[..., 2]
    # POS (Wang et al. 2017) per pixel, with the window's own alpha; plus green alone.
    s1, s2 = g - b, g + b - 2.0 * r
    alpha = s1.std(axis=0) / (s2.std(axis=0) + 1e-12)
    signals = (s1 + alpha * s2, g)
    n = x.shape[0]
    nfft = max(256, 1 << int(np.ceil(np.log2(n))))
    freqs_bpm = np.fft.rfftfreq(nfft, d=1.0 / fs_hz) * 60.0
    band = (freqs_bpm >= BAND_BPM[0]) & (freqs_bpm <= BAND_BPM[1])
    near = band & (np.abs(freqs_bpm - bpm) <= HALF_WIDTH_BPM)
    window = np.hanning(n)[:, None, None]
    share = np.zeros(x.shape[1:3])
    for sig in signals:
        sig = sig - sig.mean(axis=0, keepdims=True)
        power = np.abs(np.fft.rfft(sig * window, nfft, axis=0)) ** 2
        share += power[near].sum(axis=0) / (power[band].sum(axis=0) + 1e-20)
    out: FloatArray = np.clip(share / len(signals), 0.0, 1.0)
    return out


def write_pulse_maps(
    video: str | Path,
    readings: Sequence[Any],
    out_dir: str | Path,
    *,
    max_maps: int = 12,
    crop_size: int = 64,
    scale: int = 4,
) -> list[Path]:
    """Write one pulse-map PNG per chosen reading of ``video`` into ``out_dir``.

    ``readings`` are the monitor's readings of this video (those with a heart rate are used:
    ``timestamp_s``, ``window_s``, ``bpm``, ``confidence``). Returns the files written.
    """
    import cv2  # noqa: PLC0415

    from rppg_sdk.face import FaceTracker, FaceTrackerOptions  # noqa: PLC0415

    if not isinstance(max_maps, int) or max_maps < 1:
        raise ValueError(f"max_maps: expected an int >= 1, got {max_maps!r}")
    rated = [r for r in readings if getattr(r, "bpm", None) is not None]
    if not rated:
        return []
    pick = sorted(
        {int(round(i)) for i in np.linspace(0, len(rated) - 1, min(max_maps, len(rated)))}
    )
    chosen = [rated[i] for i in pick]
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ValueError(f"video: expected a readable video file, got {video!s}")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
    crops: list[npt.NDArray[np.uint8]] = []
    times: list[float] = []
    tracker = FaceTracker(FaceTrackerOptions(crop_size=crop_size, skin_regions=False))
    try:
        k = 0
        last_end = max(float(r.timestamp_s) for r in chosen)
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            t = k / fps
            k += 1
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            obs = tracker.update(np.asarray(frame, dtype=np.uint8))
            if obs is not None:
                crops.append(np.asarray(obs.crop)[..., :3])
                times.append(t)
            if t > last_end + 1.0:
                break
    finally:
        cap.release()
        close = getattr(tracker, "close", None)
        if callable(close):
            close()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_arr = np.asarray(times)
    written = []
    for r in chosen:
        end = float(r.timestamp_s)
        sel = (t_arr > end - float(r.window_s)) & (t_arr <= end)
        if int(sel.sum()) < 16:
            continue
        window = np.stack([c for c, s in zip(crops, sel, strict=True) if s])
        m = pulse_map(window, fps, float(r.bpm))
        mean = np.clip(window.mean(axis=0), 0, 255).astype(np.uint8)
        heat = cv2.applyColorMap(np.round(m * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
        size = (crop_size * scale, crop_size * scale)
        face = cv2.resize(mean, size, interpolation=cv2.INTER_NEAREST)
        heat = cv2.resize(heat, size, interpolation=cv2.INTER_NEAREST)
        panel = np.concatenate([face, cv2.addWeighted(face, 0.35, heat, 0.65, 0.0)], axis=1)
        label = f"t={end:.0f}s {float(r.bpm):.0f} bpm conf {float(r.confidence):.2f}"
        cv2.putText(panel, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        path = out / f"pulse_map_{end:07.2f}s.png"
        cv2.imwrite(str(path), panel)
        written.append(path)
    return written
