"""Heart rate from real recordings against independent references (contact sensors, ECG).

The recordings live outside the repository (``../shared/data/real``; see its README) and every
test here skips with the reason when they are absent.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import scipy.sparse
import scipy.sparse.linalg
import scipy.stats
from conftest import absent, require_module
from rppg_sdk.dsp import PulseMethod, bandpass, estimate_heart_rate, extract_pulse

FS_CAMERA_HZ = 30.0
WINDOW_S = 10
STRIDE_S = 1
SUBJECTS = ("100001", "100002", "100003")
HANDS = ("Left", "Right")
OXIMETERS = ("Pulse 1", "Pulse 2", "Pulse 4", "Pulse 5")  # "Pulse 3" is unfilled (all 0)

#: Clinical pulse oximeters display a trailing average of the pulse rate, so their reading at
#: time t describes roughly [t - 10 s, t]. Cross-correlating the camera's per-window estimate
#: with the oximeters' median over lags 0-15 s puts the best lag at 6-9 s in all six
#: recordings (both hands, three subjects, and with a plain numpy periodogram as well as with
#: the core), consistent with a ~8 s averaging time (Masimo's default) plus display latency.
#: The truth for the window [s, s + 10) is therefore the readings [s + 7, s + 17).
#: The no-delay MAE is printed beside it for comparison.
OXIMETER_DELAY_S = 7

#: The issue's accuracy bound on this recording (do not loosen: report instead).
OXIMETRY_MAE_BOUND_BPM = 1.5


# ----------------------------------------------------------------------------- loaders


def _file(root: Path, *parts: str) -> Path:
    path = root.joinpath(*parts)
    if not path.exists():
        absent(f"real data not available: {path} is absent")
    return path


@cache
def load_camera_rgb(root: Path, subject: str, hand: str) -> np.ndarray:
    """Per-frame mean (R, G, B) of the fingertip video, 30 fps: shape (T, 3)."""
    path = _file(root, "oximetry", "ppg-csv", hand, f"{subject}.csv")
    with path.open() as fh:
        header = fh.readline().strip().split(",")
    assert header == ["R", "G", "B"], f"{path}: expected columns R,G,B, got {header}"
    rgb = np.loadtxt(path, delimiter=",", skiprows=1)
    assert rgb.ndim == 2 and rgb.shape[1] == 3 and np.isfinite(rgb).all()
    return rgb


@cache
def load_oximeters(root: Path, subject: str) -> np.ndarray:
    """1 Hz pulse-rate readings, shape (seconds, 4); invalid readings (0, blank) as NaN."""
    path = _file(root, "oximetry", "gt", f"{subject}.csv")
    rows: list[list[float]] = []
    with path.open(encoding="utf-8-sig") as fh:  # the header starts with a byte-order mark
        for row in csv.DictReader(fh):
            if ":" not in row["Time"]:  # the last line reads "Collection Halted"
                continue
            rows.append([float(row[k]) if row[k].strip() else np.nan for k in OXIMETERS])
    pulse = np.array(rows)
    pulse[(pulse < 30) | (pulse > 250)] = np.nan
    return pulse


def green_windows(root: Path, subject: str, hand: str) -> np.ndarray:
    """Green-channel windows of 10 s; window k starts at k s (1 s stride): shape (K, 300)."""
    green = load_camera_rgb(root, subject, hand)[:, 1]
    win = int(WINDOW_S * FS_CAMERA_HZ)
    starts = range(0, (green.size - win) // int(FS_CAMERA_HZ) + 1, STRIDE_S)
    return np.stack([green[int(s * FS_CAMERA_HZ) : int(s * FS_CAMERA_HZ) + win] for s in starts])


def window_truth(pulse: np.ndarray, n_windows: int, delay_s: int) -> np.ndarray:
    """Median of the valid oximeters over [k + delay, k + delay + 10) s for window k; NaN
    where the readings run out or none is valid."""
    truth = np.full(n_windows, np.nan)
    for k in range(min(n_windows, len(pulse) - delay_s - WINDOW_S + 1)):
        block = pulse[k + delay_s : k + delay_s + WINDOW_S]
        if np.isfinite(block).any():
            truth[k] = np.nanmedian(block)
    return truth


def oximetry_windows(
    root: Path, subject: str, hand: str, delay_s: int
) -> tuple[np.ndarray, np.ndarray]:
    """(green windows (k, 300), truth bpm (k,)) for the windows that have a truth."""
    windows = green_windows(root, subject, hand)
    truth = window_truth(load_oximeters(root, subject), len(windows), delay_s)
    keep = np.isfinite(truth)
    return windows[keep], truth[keep]


def ref_peak_bpm(x: np.ndarray, fs_hz: float) -> float:
    """Smoothness-priors detrend (sparse solve), Hann periodogram zero-padded to 2**18,
    argmax in 0.7-4 Hz: the textbook path, 0.007 bpm bins at 30 Hz. The detrend uses the
    core's automatic lambda, 1 / (2 - 2 cos w) with w = 2 pi (0.7 Hz / 2) / fs (rppg/signal.hpp:
    detrend_lambda_for_cutoff)."""
    detrend_lambda = 1.0 / (2.0 - 2.0 * np.cos(2.0 * np.pi * 0.35 / fs_hz))
    z = x - x.mean()
    n = z.size
    d2 = scipy.sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    a = scipy.sparse.identity(n) + detrend_lambda**2 * (d2.T @ d2)
    z = z - scipy.sparse.linalg.spsolve(a.tocsc(), z)
    freqs, power = scipy.signal.periodogram(z, fs_hz, window="hann", nfft=2**18)
    band = (freqs >= 0.7) & (freqs <= 4.0)
    return float(60.0 * freqs[band][np.argmax(power[band])])


# ----------------------------------------------------------------------------- oximetry


def test_oximetry_files_are_what_the_readme_says(real_data_dir: Path) -> None:
    for subject in SUBJECTS:
        pulse = load_oximeters(real_data_dir, subject)
        # Camera and oximeters started together: the video is as long as the readings (±5 s).
        for hand in HANDS:
            seconds = load_camera_rgb(real_data_dir, subject, hand).shape[0] / FS_CAMERA_HZ
            assert abs(seconds - len(pulse)) < 5.0, (subject, hand, seconds, len(pulse))
        # Most seconds have at least three valid oximeters that agree within a few bpm.
        valid = np.isfinite(pulse).sum(axis=1)
        assert np.mean(valid >= 3) > 0.95
        spread = np.nanmax(pulse, axis=1) - np.nanmin(pulse, axis=1)
        assert np.nanmedian(spread) <= 3.0


def test_oximetry_heart_rate_mae(real_data_dir: Path) -> None:
    """Green channel, 10 s windows, 1 s stride, against the median of the valid oximeters."""
    errors: dict[str, np.ndarray] = {}
    no_delay: dict[str, np.ndarray] = {}
    best_lags: dict[str, int] = {}
    for subject in SUBJECTS:
        pulse = load_oximeters(real_data_dir, subject)
        for hand in HANDS:
            key = f"{subject}/{hand}"
            est = np.array(
                [
                    estimate_heart_rate(w, FS_CAMERA_HZ).bpm
                    for w in green_windows(real_data_dir, subject, hand)
                ]
            )

            def mae_at(lag: int, est: np.ndarray = est, pulse: np.ndarray = pulse) -> np.ndarray:
                truth = window_truth(pulse, len(est), lag)
                ok = np.isfinite(truth)
                return np.abs(est[ok] - truth[ok])

            errors[key], no_delay[key] = mae_at(OXIMETER_DELAY_S), mae_at(0)
            best_lags[key] = min(range(16), key=lambda lag: float(mae_at(lag).mean()))
    print(
        f"\noximetry, green, {WINDOW_S} s windows: MAE (bpm), truth delayed by "
        f"{OXIMETER_DELAY_S} s [no delay]; lag (0-15 s) with the lowest MAE"
    )
    for key, err in errors.items():
        print(
            f"  {key:14s} MAE {err.mean():5.2f} [{no_delay[key].mean():5.2f}]  "
            f"p90 {np.percentile(err, 90):5.2f}  >5 bpm {np.mean(err > 5):5.1%}  n={err.size}"
            f"  best lag {best_lags[key]:2d} s"
        )
    overall = np.concatenate(list(errors.values())).mean()
    overall_no_delay = np.concatenate(list(no_delay.values())).mean()
    print(f"  overall        MAE {overall:5.2f} [{overall_no_delay:5.2f}]")
    # The delay is the oximeters' property, not a fit: it must agree with every recording.
    assert all(abs(lag - OXIMETER_DELAY_S) <= 3 for lag in best_lags.values()), best_lags
    assert overall < OXIMETRY_MAE_BOUND_BPM


def test_oximetry_peak_matches_reference_periodogram(real_data_dir: Path) -> None:
    """On real PPG the core's raw peak equals the 2**18-point numpy periodogram's argmax."""
    rng = np.random.default_rng(0)
    diffs = []
    for subject in SUBJECTS:
        for hand in HANDS:
            windows, _ = oximetry_windows(real_data_dir, subject, hand, 0)
            for i in rng.choice(len(windows), 8, replace=False):
                ours = estimate_heart_rate(windows[i], FS_CAMERA_HZ).raw_peak_bpm
                diffs.append(ours - ref_peak_bpm(windows[i], FS_CAMERA_HZ))
    assert np.max(np.abs(diffs)) < 0.1, np.round(diffs, 3)


def test_oximetry_pulse_methods_agree_on_fingertip_video(real_data_dir: Path) -> None:
    """GREEN, CHROM and POS read the same heart rate from a clean stretch of fingertip video."""
    rgb = load_camera_rgb(real_data_dir, "100001", "Left")
    win = rgb[3000:3300]
    rates = {
        m: estimate_heart_rate(extract_pulse(win, FS_CAMERA_HZ, m), FS_CAMERA_HZ).bpm
        for m in PulseMethod
    }
    assert max(rates.values()) - min(rates.values()) < 2.0, rates


def test_green_pulse_rises_with_blood_volume(real_data_dir: Path) -> None:
    """extract_pulse documents "larger = more blood". A PPG rises fast (systole) and falls
    slowly, so the derivative of a blood-volume waveform is right-skewed: the contact PPG of the
    vitallens file shows that (the premise). In the fingertip video more blood means less light
    in every channel, so the green intensity is the mirror image and GREEN must undo it.
    (CHROM and POS model light reflected by facial skin, not shone through a finger; their sign
    is checked on synthetic skin in test_dsp_reference.py.)"""
    contact = _vitallens(real_data_dir)["ppg"]
    assert scipy.stats.skew(np.diff(bandpass(contact, 30.0, (0.7, 8.0)))) > 0.5
    for subject in SUBJECTS:
        rgb = load_camera_rgb(real_data_dir, subject, "Left")[:3000]
        assert scipy.stats.skew(np.diff(bandpass(rgb[:, 1], FS_CAMERA_HZ, (0.7, 8.0)))) < -0.5
        pulse = extract_pulse(rgb, FS_CAMERA_HZ, PulseMethod.GREEN)
        skew = scipy.stats.skew(np.diff(bandpass(pulse, FS_CAMERA_HZ, (0.7, 8.0))))
        assert skew > 0.5, f"{subject}: derivative skew {skew:.2f} (an inverted pulse)"


# ----------------------------------------------------------------------------- wfdb


def _ecg_r_peak_times_s(ecg: np.ndarray, fs_hz: float) -> np.ndarray:
    """R-peaks: 5-20 Hz band-pass (or up to 0.9 Nyquist for a 30 Hz ECG), polarity by the larger
    extreme, find_peaks at least 0.3 s apart."""
    high = min(20.0, 0.45 * fs_hz)
    b, a = scipy.signal.butter(2, [5.0 / (fs_hz / 2), high / (fs_hz / 2)], "bandpass")
    qrs = scipy.signal.filtfilt(b, a, ecg)
    if -qrs.min() > qrs.max():
        qrs = -qrs
    peaks, _ = scipy.signal.find_peaks(
        qrs, distance=int(0.3 * fs_hz), height=0.4 * np.percentile(qrs, 99.5)
    )
    return peaks / fs_hz


def test_wfdb_pleth_heart_rate_matches_ecg(real_data_dir: Path) -> None:
    wfdb = require_module("wfdb", extra="test")
    base = _file(real_data_dir, "wfdb", "mixedsignals.hea").with_suffix("")
    rec = wfdb.rdrecord(str(base), smooth_frames=False)  # multi-frequency: one array per signal
    names = list(rec.sig_name)
    i_ecg, i_ppg = names.index("II"), names.index("Pleth")
    ecg, fs_ecg = rec.e_p_signal[i_ecg], rec.fs * rec.samps_per_frame[i_ecg]
    ppg, fs_ppg = rec.e_p_signal[i_ppg], rec.fs * rec.samps_per_frame[i_ppg]
    # The ECG leads start with ~4.1 s of NaN (no signal): use what follows.
    start_s = float(np.flatnonzero(np.isfinite(ecg))[0] / fs_ecg) + 0.1
    assert np.isfinite(ppg).all()
    r_s = _ecg_r_peak_times_s(np.nan_to_num(ecg), fs_ecg)
    rr = np.diff(r_s)
    assert 0.4 < np.median(rr) < 0.7  # the README's ~104 bpm
    errors = []
    for s in np.arange(start_s, ppg.size / fs_ppg - WINDOW_S, 5.0):
        a = int(round(s * fs_ppg))
        est = estimate_heart_rate(ppg[a : a + int(round(WINDOW_S * fs_ppg))], fs_ppg)
        inside = (r_s[1:] >= s) & (r_s[:-1] < s + WINDOW_S)
        errors.append(est.bpm - 60.0 / rr[inside].mean())
    errors_arr = np.abs(errors)
    print(
        f"\nwfdb mixedsignals Pleth vs ECG: MAE {errors_arr.mean():.2f} bpm, "
        f"max {errors_arr.max():.2f}, {errors_arr.size} windows"
    )
    assert errors_arr.size > 30
    assert errors_arr.mean() < 2.0


# ----------------------------------------------------------------------------- vitallens


def _vitallens(root: Path) -> dict[str, np.ndarray]:
    path = _file(root, "vitallens", "sample_vitals_1.csv")
    table = np.genfromtxt(path, delimiter=",", names=True)
    return {name: np.asarray(table[name], float) for name in table.dtype.names or ()}


def test_vitallens_ppg_heart_rate(real_data_dir: Path) -> None:
    v = _vitallens(real_data_dir)
    fs_hz = 30.0
    est = estimate_heart_rate(v["ppg"], fs_hz)
    r_s = _ecg_r_peak_times_s(v["ecg"], fs_hz)
    # A 30 Hz ECG blurs the QRS: the detector misses the odd beat, so use the median RR.
    hr_ecg_peaks = 60.0 / np.median(np.diff(r_s))
    print(
        f"\nvitallens: ours {est.bpm:.1f} bpm, ECG R-peaks {hr_ecg_peaks:.1f}, "
        f"hr_ecg median {np.median(v['hr_ecg']):.1f}, hr_ppg median {np.median(v['hr_ppg']):.1f}"
    )
    assert est.bpm == pytest.approx(hr_ecg_peaks, abs=2.0)
    # The file's own columns are smoothed running values (87 -> 75 bpm over the clip).
    assert est.bpm == pytest.approx(np.median(v["hr_ppg"]), abs=3.0)
    assert est.bpm == pytest.approx(np.median(v["hr_ecg"]), abs=3.0)
    assert est.snr_db > 0.0
