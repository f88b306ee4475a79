"""Tests of the semi-synthetic face-video renderer (rppg_sdk.synthetic)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import absent, require_module
from rppg_sdk.dsp import PulseMethod, estimate_heart_rate, extract_pulse, signal_quality
from rppg_sdk.synthetic import (
    BVP_DIRECTION_RGB,
    DEFAULT_MOTION_FRACTION,
    FLICKER_RELATIVE_AMPLITUDE,
    NIR_PULSE_RATIO,
    SyntheticClip,
    SyntheticClipSpec,
    available_faces,
    clip_truth,
    iter_frames,
    physiological_ppg,
    render_clip,
    render_to_file,
    skin_model,
    write_video,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
SMALL = (160, 120)  # small frames keep the suite fast; the physics does not depend on size


def skin_traces(clip: SyntheticClip, shrink: float = 0.25) -> np.ndarray:
    """Mean of the central part of the frame-0 face box per frame: (T, 3) RGB or (T,) NIR."""
    x, y, w, h = clip.face_box_xywh
    dx, dy = int(w * shrink), int(h * shrink)
    roi = clip.frames[:, y + dy : y + h - dy, x + dx : x + w - dx].astype(np.float64)
    means = roi.mean(axis=(1, 2))
    return means if means.ndim == 1 else means[:, ::-1]  # BGR -> RGB


def relative_slope(trace: np.ndarray, ppg: np.ndarray) -> float:
    """Least-squares slope of a trace against the pulse, relative to the trace's mean."""
    a = np.stack([ppg, np.ones_like(ppg)], axis=1)
    slope, intercept = np.linalg.lstsq(a, trace, rcond=None)[0]
    return float(slope / intercept)


# --------------------------------------------------------------------------- shapes and API


def test_shapes_dtypes_and_timestamps() -> None:
    spec = SyntheticClipSpec(duration_s=2.0, fps=25.0, frame_size=(200, 150), seed=3)
    clip = render_clip(spec)
    assert clip.frames.shape == (50, 150, 200, 3)
    assert clip.frames.dtype == np.uint8
    assert clip.timestamps_s.dtype == np.float64
    np.testing.assert_allclose(clip.timestamps_s, np.arange(50) / 25.0)
    assert clip.ppg.shape == clip.bpm.shape == (50,)
    assert clip.ppg.dtype == clip.bpm.dtype == np.float64
    assert abs(np.mean(clip.ppg)) < 1e-9 and np.std(clip.ppg) == pytest.approx(1.0)
    assert np.all(np.isfinite(clip.bpm))
    assert clip.mean_bpm(0.0, 2.0) == pytest.approx(72.0)  # the spec's mean over the clip
    assert clip.mean_bpm(0.5, 1.0) == pytest.approx(np.mean(clip.bpm[13:25]))  # 0.52-0.96 s
    x, y, w, h = clip.face_box_xywh
    assert all(isinstance(v, int) for v in clip.face_box_xywh)
    assert 0 <= x and 0 <= y and x + w <= 200 and y + h <= 150
    # The face fills a large part of the frame height, as a face detector needs.
    assert 0.3 * 150 <= h <= 0.6 * 150
    assert clip.spec is spec


def test_frame_count_follows_duration_and_fps() -> None:
    assert (
        render_clip(SyntheticClipSpec(duration_s=0.5, fps=30.0, frame_size=SMALL)).frames.shape[0]
        == 15
    )
    assert SyntheticClipSpec(duration_s=1.0, fps=29.97).n_frames == 30
    assert SyntheticClipSpec(duration_s=3.0, fps=7.5).n_frames == 23  # 22.5 rounds up


def test_deterministic_by_seed() -> None:
    spec = SyntheticClipSpec(
        duration_s=1.0,
        frame_size=SMALL,
        motion="rigid",
        motion_amplitude_px=5.0,
        illumination_drift=0.05,
        seed=11,
    )
    a, b = render_clip(spec), render_clip(spec)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.ppg, b.ppg)
    c = render_clip(dataclasses.replace(spec, seed=12))
    assert not np.array_equal(a.frames, c.frames)
    assert not np.array_equal(a.ppg, c.ppg)


def test_iter_frames_equals_render_clip() -> None:
    spec = SyntheticClipSpec(
        duration_s=1.0,
        frame_size=SMALL,
        motion="periodic",
        motion_amplitude_px=4.0,
        illumination_drift=0.05,
        illumination_flicker_hz=2.0,
        jpeg_quality=60,
        seed=5,
    )
    clip = render_clip(spec)
    streamed = list(iter_frames(spec))
    assert len(streamed) == clip.frames.shape[0]
    for k, (frame, t_s) in enumerate(streamed):
        np.testing.assert_array_equal(frame, clip.frames[k])
        assert t_s == clip.timestamps_s[k]


def test_iter_frames_is_lazy() -> None:
    # A day-long spec must not render (or allocate) anything until frames are asked for.
    spec = SyntheticClipSpec(duration_s=3600.0, frame_size=SMALL)
    stream = iter_frames(spec)
    frame, t_s = next(stream)
    assert frame.shape == (120, 160, 3) and t_s == 0.0
    stream.close()


def test_switching_pulse_off_changes_only_skin() -> None:
    spec = SyntheticClipSpec(duration_s=1.0, frame_size=SMALL, sensor_noise_std=1.0, seed=2)
    with_pulse = render_clip(spec)
    without = render_clip(dataclasses.replace(spec, pulse=False))
    assert np.all(without.ppg == 0) and np.all(np.isnan(without.bpm))
    assert np.isnan(without.mean_bpm(0.0, 1.0))
    changed = np.any(with_pulse.frames != without.frames, axis=(0, 3))
    assert changed.any()
    # Everything that changed lies on the face (the face box grown by a margin for the
    # forehead and the mask's feathering); background and clothes are bit-identical.
    x, y, w, h = with_pulse.face_box_xywh
    ys, xs = np.nonzero(changed)
    assert xs.min() >= x - 0.2 * w and xs.max() <= x + 1.2 * w
    assert ys.min() >= y - 0.3 * h and ys.max() <= y + 1.3 * h


# --------------------------------------------------------------------------- physics


@pytest.mark.parametrize("bpm", [45.0, 72.0, 120.0, 180.0])
def test_green_skin_trace_carries_the_heart_rate(bpm: float) -> None:
    # Low variability here: the spectral peak of a strongly wandering rhythm is not its mean
    # rate (that is physiology, tested in test_physiological_ppg_*); this checks the rendering.
    spec = SyntheticClipSpec(
        heart_rate_bpm=bpm, heart_rate_variability=0.01, frame_size=SMALL, seed=int(bpm)
    )
    clip = render_clip(spec)
    green = skin_traces(clip)[:, 1]
    estimate = estimate_heart_rate(-green, spec.fps)  # skin darkens as blood volume rises
    assert estimate.bpm == pytest.approx(clip.mean_bpm(0.0, spec.duration_s), abs=2.0)
    assert estimate.snr_db > 0.0


def test_default_variability_still_measurable() -> None:
    clip = render_clip(SyntheticClipSpec(frame_size=SMALL, seed=7))
    assert np.std(clip.bpm) > 0.5  # the rate really wanders
    rgb = skin_traces(clip)
    estimate = estimate_heart_rate(extract_pulse(rgb, 30.0, PulseMethod.POS), 30.0)
    assert estimate.bpm == pytest.approx(clip.mean_bpm(0.0, 10.0), abs=2.0)


def test_no_pulse_clip_has_no_heart_rate_peak() -> None:
    spec = SyntheticClipSpec(frame_size=SMALL, seed=4)
    pulse = render_clip(spec)
    flat = render_clip(dataclasses.replace(spec, pulse=False))
    snr_pulse = signal_quality(-skin_traces(pulse)[:, 1], 30.0, 72.0).snr_db
    snr_flat = signal_quality(-skin_traces(flat)[:, 1], 30.0, 72.0).snr_db
    assert snr_pulse > 3.0
    assert snr_flat < -3.0
    assert snr_pulse - snr_flat > 8.0


def test_pulse_follows_blood_volume_direction() -> None:
    # Relative modulation of R, G, B along [0.33, 0.77, 0.53], and the skin darkens with blood.
    spec = SyntheticClipSpec(frame_size=SMALL, pulse_amplitude=0.01, seed=8)
    clip = render_clip(spec)
    rgb = skin_traces(clip)
    slopes = np.array([relative_slope(rgb[:, c], clip.ppg) for c in range(3)])
    assert np.all(slopes < 0)
    direction = np.asarray(BVP_DIRECTION_RGB) / np.linalg.norm(BVP_DIRECTION_RGB)
    np.testing.assert_allclose(-slopes / np.linalg.norm(slopes), direction, atol=0.03)
    # The skin in the ROI (not all of it is skin) pulses by a share of pulse_amplitude/sqrt(2).
    assert 0.2 * 0.01 / np.sqrt(2) < -slopes[1] < 1.2 * 0.01 / np.sqrt(2)


def test_pulse_amplitude_scales_the_modulation() -> None:
    base = SyntheticClipSpec(duration_s=4.0, frame_size=SMALL, seed=9)
    weak = render_clip(dataclasses.replace(base, pulse_amplitude=0.003))
    strong = render_clip(dataclasses.replace(base, pulse_amplitude=0.009))
    s_weak = relative_slope(skin_traces(weak)[:, 1], weak.ppg)
    s_strong = relative_slope(skin_traces(strong)[:, 1], strong.ppg)
    assert s_strong / s_weak == pytest.approx(3.0, rel=0.15)


def test_near_infrared_is_one_channel_with_a_weaker_pulse() -> None:
    spec = SyntheticClipSpec(frame_size=SMALL, near_infrared=True, pulse_amplitude=0.01, seed=6)
    nir = render_clip(spec)
    assert nir.frames.shape == (300, 120, 160) and nir.frames.dtype == np.uint8
    colour = render_clip(dataclasses.replace(spec, near_infrared=False))
    nir_slope = relative_slope(skin_traces(nir), nir.ppg)
    green_slope = relative_slope(skin_traces(colour)[:, 1], colour.ppg)
    assert nir_slope < 0
    assert nir_slope / green_slope == pytest.approx(NIR_PULSE_RATIO, rel=0.35)
    # Weak, but a clean still NIR clip still holds the rate.
    estimate = estimate_heart_rate(-skin_traces(nir), 30.0)
    assert estimate.bpm == pytest.approx(nir.mean_bpm(0.0, 10.0), abs=3.0)


def test_flicker_shows_at_its_frequency_in_the_background() -> None:
    spec = SyntheticClipSpec(
        duration_s=6.0, frame_size=SMALL, illumination_flicker_hz=2.5, pulse=False, seed=1
    )
    clip = render_clip(spec)
    corner = clip.frames[:, :20, :20].astype(np.float64).mean(axis=(1, 2, 3))
    estimate = estimate_heart_rate(corner, 30.0)
    assert estimate.frequency_hz == pytest.approx(2.5, abs=0.05)
    steady = render_clip(dataclasses.replace(spec, illumination_flicker_hz=None))
    assert np.std(steady.frames[:, :20, :20].mean(axis=(1, 2, 3))) < 0.2 * np.std(corner)


def test_illumination_drift_changes_the_whole_frame_slowly() -> None:
    spec = SyntheticClipSpec(duration_s=10.0, frame_size=SMALL, illumination_drift=0.1, seed=3)
    clip = render_clip(spec)
    brightness = clip.frames.astype(np.float64).mean(axis=(1, 2, 3))
    relative = brightness / brightness[0] - 1.0
    assert 0.03 < np.max(np.abs(relative)) < 0.12
    # Slow: frame-to-frame changes are far smaller than the excursion.
    assert np.max(np.abs(np.diff(relative))) < 0.2 * np.max(np.abs(relative))


@pytest.mark.parametrize("motion", ["rigid", "periodic"])
def test_motion_moves_the_face_and_pos_copes(motion: str) -> None:
    spec = SyntheticClipSpec(
        frame_size=SMALL, motion=motion, motion_amplitude_px=5.0, jpeg_quality=70, seed=21
    )
    clip = render_clip(spec)
    still = render_clip(dataclasses.replace(spec, motion="still", motion_amplitude_px=0.0))
    # face_box_xywh follows the face into frame 0 (rigid motion starts there, nodding need not).
    shift = np.subtract(clip.face_box_xywh, still.face_box_xywh)
    assert np.all(np.abs(shift) <= 1.5 * 5.0 + 2)
    if motion == "rigid":
        assert clip.face_box_xywh == still.face_box_xywh
    moved = np.abs(clip.frames.astype(np.int16) - still.frames.astype(np.int16)).mean(
        axis=(1, 2, 3)
    )
    assert moved.max() > 3.0
    if motion == "rigid":
        assert moved[0] < 1.0
    rgb = skin_traces(clip, shrink=0.3)
    estimate = estimate_heart_rate(extract_pulse(rgb, 30.0, PulseMethod.POS), 30.0)
    assert estimate.bpm == pytest.approx(clip.mean_bpm(0.0, 10.0), abs=3.0)


def test_moving_kind_without_amplitude_uses_the_default() -> None:
    spec = SyntheticClipSpec(duration_s=3.0, frame_size=SMALL, motion="rigid", seed=4)
    assert spec.effective_motion_amplitude_px == pytest.approx(DEFAULT_MOTION_FRACTION * 120)
    assert SyntheticClipSpec(motion="still").effective_motion_amplitude_px == 0.0
    moving = render_clip(spec)
    still = render_clip(dataclasses.replace(spec, motion="still"))
    assert not np.array_equal(moving.frames[-1], still.frames[-1])


def test_jpeg_compresses_fine_detail() -> None:
    spec = SyntheticClipSpec(duration_s=0.5, frame_size=SMALL, sensor_noise_std=4.0, seed=2)
    raw = render_clip(spec)
    jpeg = render_clip(dataclasses.replace(spec, jpeg_quality=20))
    assert jpeg.frames.shape == raw.frames.shape and jpeg.frames.dtype == np.uint8

    # JPEG discards most of the pixel noise: frame-to-frame differences shrink.
    def temporal_noise(frames: np.ndarray) -> float:
        return float(np.std(np.diff(frames.astype(np.float64), axis=0)))

    assert temporal_noise(jpeg.frames) < 0.8 * temporal_noise(raw.frames)


def test_custom_face_image() -> None:
    from skimage import data

    face = cv2.flip(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), 1)
    clip = render_clip(SyntheticClipSpec(duration_s=4.0, frame_size=SMALL, face_image=face))
    estimate = estimate_heart_rate(-skin_traces(clip)[:, 1], 30.0)
    assert estimate.bpm == pytest.approx(clip.mean_bpm(0.0, 4.0), abs=3.0)
    # A colour-shifted picture (odd white balance) still gets a skin mask and pulses.
    shifted = np.clip(face * np.array([1.2, 0.8, 0.75]), 0, 255).astype(np.uint8)
    clip = render_clip(SyntheticClipSpec(duration_s=4.0, frame_size=SMALL, face_image=shifted))
    slope = relative_slope(skin_traces(clip)[:, 1], clip.ppg)
    assert slope < -0.2 * 0.006 / np.sqrt(2)
    # A picture with no face is taken to be a face crop: it still renders.
    noise = np.random.default_rng(0).integers(0, 255, size=(100, 90, 3), dtype=np.uint8)
    other = render_clip(SyntheticClipSpec(duration_s=0.2, frame_size=SMALL, face_image=noise))
    assert other.frames.shape == (6, 120, 160, 3)


def test_spec_arrays_are_copied_and_read_only() -> None:
    ppg = np.sin(np.arange(300) / 30.0 * 2 * np.pi * 1.2)
    spec = SyntheticClipSpec(ppg_waveform=ppg)
    ppg[:] = 0
    assert spec.ppg_waveform is not None and np.ptp(spec.ppg_waveform) > 1
    with pytest.raises(ValueError):
        spec.ppg_waveform[0] = 1.0


# --------------------------------------------------------------------------- real PPG


def test_real_ppg_drives_the_clip() -> None:
    path = REAL / "vitallens" / "sample_vitals_1.csv"
    if not path.exists():
        absent(f"real data not found at {path} (../shared/data/real is not checked out)")
    table = np.genfromtxt(path, delimiter=",", names=True)
    spec = SyntheticClipSpec(duration_s=11.0, frame_size=SMALL, ppg_waveform=table["ppg"])
    clip = render_clip(spec)
    n = spec.n_frames
    # The clip's pulse is the recording's (linear trend removed, unit variance).
    assert np.corrcoef(clip.ppg, table["ppg"][:n])[0, 1] > 0.99
    # Truth from the waveform's beats agrees with the ECG reference once it has settled (its
    # first seconds are a start-up transient of the reference's own estimator).
    reference = float(np.median(table["hr_ecg"][n // 2 : n]))
    assert clip.mean_bpm(0.0, 11.0) == pytest.approx(reference, abs=3.0)
    assert np.all((clip.bpm > 60) & (clip.bpm < 95))
    estimate = estimate_heart_rate(-skin_traces(clip)[:, 1], spec.fps)
    assert estimate.bpm == pytest.approx(clip.mean_bpm(0.0, 11.0), abs=2.0)


def test_truth_from_waveform_beats_matches_the_model() -> None:
    # Feed the model's own pulse back as a "recorded" waveform: the truth picked from its beats
    # must agree with the model's rate, window by window.
    ppg, bpm = physiological_ppg(30 * 60, 30.0, 84.0, 0.05, np.random.default_rng(5))
    spec = SyntheticClipSpec(duration_s=60.0, frame_size=(64, 64), ppg_waveform=ppg)
    clip = render_clip(spec)
    np.testing.assert_allclose(clip.ppg, ppg, atol=0.05)  # only a (tiny) linear trend removed
    for start in range(0, 60, 10):
        window = slice(start * 30, (start + 10) * 30)
        assert clip.mean_bpm(start, start + 10) == pytest.approx(np.mean(bpm[window]), abs=0.5)


def test_real_ppg_must_cover_the_clip() -> None:
    with pytest.raises(ValueError, match="at least 300 samples"):
        SyntheticClipSpec(ppg_waveform=np.sin(np.arange(100) / 5.0))


# --------------------------------------------------------------------------- the pulse model


def test_physiological_ppg_mean_rate_and_beats() -> None:
    fs = 60.0
    ppg, bpm = physiological_ppg(int(120 * fs), fs, 66.0, 0.05, np.random.default_rng(0))
    assert ppg.shape == bpm.shape == (7200,)
    assert abs(np.mean(ppg)) < 1e-9 and np.std(ppg) == pytest.approx(1.0)
    assert np.mean(bpm) == pytest.approx(66.0)
    # Relative rate spread close to the requested variability.
    assert np.std(bpm) / 66.0 == pytest.approx(0.05, rel=0.4)
    # Count systolic peaks: local maxima that are the largest within +-0.3 s.
    half = int(0.3 * fs)
    padded = np.pad(ppg, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    peaks = np.flatnonzero((ppg == windows.max(axis=1)) & (ppg > 0.5))
    assert len(peaks) == pytest.approx(66.0 * 2, abs=2)
    intervals_s = np.diff(peaks) / fs
    assert np.all((intervals_s > 60 / 66 * 0.75) & (intervals_s < 60 / 66 * 1.25))


def test_physiological_ppg_respiratory_sinus_arrhythmia() -> None:
    fs = 10.0
    _, bpm = physiological_ppg(int(300 * fs), fs, 70.0, 0.05, np.random.default_rng(3))
    freqs = np.fft.rfftfreq(bpm.size, 1 / fs)
    power = np.abs(np.fft.rfft(bpm - bpm.mean())) ** 2
    rsa_band = (freqs >= 0.19) & (freqs <= 0.36)
    slow_band = freqs < 0.15
    # Both components are there and hold most of the variance between them.
    share_rsa = power[rsa_band].sum() / power.sum()
    share_slow = power[slow_band].sum() / power.sum()
    assert 0.2 < share_rsa < 0.7 and 0.3 < share_slow < 0.8


def test_physiological_ppg_without_variability_is_regular() -> None:
    _, bpm = physiological_ppg(600, 30.0, 100.0, 0.0, 1)
    np.testing.assert_allclose(bpm, 100.0)


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"n": 0}, ValueError),
        ({"n": 1.5}, TypeError),
        ({"fs_hz": 0.0}, ValueError),
        ({"heart_rate_bpm": float("nan")}, ValueError),
        ({"variability": -0.1}, ValueError),
        ({"rng": "seed"}, TypeError),
    ],
)
def test_physiological_ppg_rejects_bad_arguments(kwargs: dict[str, object], exc: type) -> None:
    args: dict[str, object] = {
        "n": 100,
        "fs_hz": 30.0,
        "heart_rate_bpm": 70.0,
        "variability": 0.03,
        "rng": np.random.default_rng(0),
    }
    args.update(kwargs)
    with pytest.raises(exc):
        physiological_ppg(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("field", "value", "exc"),
    [
        ("duration_s", 0.0, ValueError),
        ("duration_s", float("inf"), ValueError),
        ("duration_s", "10", TypeError),
        ("duration_s", 0.01, ValueError),  # not even one frame
        ("fps", -30.0, ValueError),
        ("fps", True, TypeError),
        ("heart_rate_bpm", 39.0, ValueError),
        ("heart_rate_bpm", 201.0, ValueError),
        ("heart_rate_bpm", float("nan"), ValueError),
        ("heart_rate_variability", 0.5, ValueError),
        ("frame_size", (320,), TypeError),
        ("frame_size", (320.0, 240.0), TypeError),
        ("frame_size", (32, 240), ValueError),
        ("pulse", 1, TypeError),
        ("pulse_amplitude", -0.001, ValueError),
        ("pulse_amplitude", 0.5, ValueError),
        ("ppg_waveform", [0.0] * 300, TypeError),
        ("ppg_waveform", np.zeros((300, 2)), ValueError),
        ("ppg_waveform", np.zeros(300), ValueError),
        ("ppg_waveform", np.full(300, np.nan), ValueError),
        ("illumination_drift", -0.1, ValueError),
        ("illumination_flicker_hz", 0.0, ValueError),
        ("illumination_flicker_hz", float("nan"), ValueError),
        ("motion", "shaky", ValueError),
        ("motion_amplitude_px", 5.0, ValueError),  # with motion="still"
        ("motion_amplitude_px", -1.0, ValueError),
        ("sensor_noise_std", -1.0, ValueError),
        ("jpeg_quality", 0, ValueError),
        ("jpeg_quality", 101, ValueError),
        ("jpeg_quality", 40.0, TypeError),
        ("near_infrared", "yes", TypeError),
        ("face_image", np.zeros((100, 100), np.uint8), ValueError),
        ("face_image", np.zeros((100, 100, 3), np.float32), TypeError),
        ("face_image", np.zeros((20, 20, 3), np.uint8), ValueError),
        ("face_image", "astronaut.png", TypeError),
        ("seed", -1, ValueError),
        ("seed", 1.0, TypeError),
    ],
)
def test_bad_spec_values_raise(field: str, value: object, exc: type) -> None:
    with pytest.raises(exc, match=field.split("_")[0]):
        SyntheticClipSpec(**{field: value})  # type: ignore[arg-type]


def test_motion_amplitude_is_bounded_by_the_frame() -> None:
    SyntheticClipSpec(motion="rigid", motion_amplitude_px=60.0)  # a quarter of 240 px
    with pytest.raises(ValueError, match="motion_amplitude_px"):
        SyntheticClipSpec(motion="rigid", motion_amplitude_px=61.0)


def test_mean_bpm_rejects_bad_windows() -> None:
    clip = render_clip(SyntheticClipSpec(duration_s=1.0, frame_size=SMALL))
    with pytest.raises(ValueError, match="end_s"):
        clip.mean_bpm(1.0, 0.5)
    with pytest.raises(ValueError, match="window"):
        clip.mean_bpm(5.0, 6.0)


def test_render_and_write_reject_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="SyntheticClipSpec"):
        render_clip({"duration_s": 1.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SyntheticClipSpec"):
        iter_frames(None)  # type: ignore[arg-type]  # at the call, not at the first frame
    with pytest.raises(TypeError, match="SyntheticClip"):
        write_video("clip", tmp_path / "a.mp4")  # type: ignore[arg-type]
    clip = render_clip(SyntheticClipSpec(duration_s=0.2, frame_size=SMALL))
    with pytest.raises(ValueError, match="codec"):
        write_video(clip, tmp_path / "a.mp4", codec="h264x")


# --------------------------------------------------------------------------- video files


@pytest.mark.parametrize("near_infrared", [False, True])
def test_write_video_round_trips(tmp_path: Path, near_infrared: bool) -> None:
    spec = SyntheticClipSpec(duration_s=1.0, frame_size=SMALL, near_infrared=near_infrared)
    clip = render_clip(spec)
    path = write_video(clip, tmp_path / "sub" / "clip.mp4")
    assert path == tmp_path / "sub" / "clip.mp4" and path.stat().st_size > 0
    capture = cv2.VideoCapture(str(path))
    try:
        assert capture.isOpened()
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0, abs=0.01)
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    assert len(frames) == 30
    assert frames[0].shape == (120, 160, 3)
    decoded = np.asarray(frames, dtype=np.float64)
    expected = clip.frames.astype(np.float64)
    if near_infrared:
        decoded = decoded.mean(axis=3)
    # Lossy, but the same pictures.
    assert np.abs(decoded - expected).mean() < 6.0


# --------------------------------------------------------------------------- skin types


def test_skin_model_darker_skin_pulses_less_and_more_in_red() -> None:
    models = [skin_model(k) for k in range(1, 7)]
    green = np.array([-m.pulse_rgb[1] for m in models])
    red_share = np.array([m.bvp_direction_rgb[0] for m in models])
    blue_share = np.array([m.bvp_direction_rgb[2] for m in models])
    # Relative green pulse and the pulse in 8-bit levels both fall from type I to VI.
    assert np.all(np.diff(green) < 0) and green[-1] < 0.7 * green[0]
    levels = green * np.array([m.pixel_bgr[1] for m in models])
    assert np.all(np.diff(levels) < 0) and levels[-1] < 0.3 * levels[0]
    # The direction turns towards red (and away from blue, which melanin absorbs most).
    assert np.all(np.diff(red_share) > 0) and np.all(np.diff(blue_share) < 0)
    # The skin itself gets darker in every channel; more blood always means less light.
    pixels = np.array([m.pixel_bgr for m in models])
    assert np.all(np.diff(pixels, axis=0) < 0)
    assert all(p < 0 for m in models for p in (*m.pulse_rgb, m.pulse_nir))
    # Near infrared: weak, and barely touched by melanin.
    assert all(abs(m.pulse_nir) < 0.3 * abs(m.pulse_rgb[1]) for m in models[:3])
    assert NIR_PULSE_RATIO == pytest.approx(models[1].pulse_nir / models[1].pulse_rgb[1], abs=1e-3)


def test_skin_model_rejects_bad_types() -> None:
    with pytest.raises(ValueError, match="fitzpatrick"):
        skin_model(7)
    with pytest.raises(TypeError, match="fitzpatrick"):
        skin_model(2.0)  # type: ignore[arg-type]


def test_rendered_skin_type_follows_the_model() -> None:
    base = SyntheticClipSpec(duration_s=4.0, frame_size=SMALL, pulse_amplitude=0.01, seed=8)
    slopes, colours = {}, {}
    for kind in (1, 6):
        clip = render_clip(dataclasses.replace(base, fitzpatrick=kind))
        rgb = skin_traces(clip)
        slopes[kind] = np.array([relative_slope(rgb[:, c], clip.ppg) for c in range(3)])
        colours[kind] = rgb.mean(axis=0)
    # Darker skin in every channel, most in blue.
    assert np.all(colours[6] < 0.8 * colours[1])
    assert colours[6][2] / colours[1][2] < colours[6][0] / colours[1][0]
    # Type I green pulses about as pulse_amplitude says (type II is the reference), type VI
    # clearly less, and each clip's pulse direction is its model's.
    assert -slopes[6][1] < 0.75 * -slopes[1][1]
    for kind in (1, 6):
        direction = -slopes[kind] / np.linalg.norm(slopes[kind])
        np.testing.assert_allclose(direction, skin_model(kind).bvp_direction_rgb, atol=0.05)


# --------------------------------------------------------------------------- faces


def test_face_height_matches_an_independent_detector() -> None:
    cascade = cv2.CascadeClassifier(
        str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    )
    for height_px, source_px in ((60.0, None), (110.0, 40)):
        spec = SyntheticClipSpec(
            duration_s=0.04,
            frame_size=(320, 240),
            face_height_px=height_px,
            source_face_px=source_px,
            seed=3,
        )
        clip = render_clip(spec)
        assert clip.face_box_xywh[3] == pytest.approx(height_px, abs=2)
        grey = cv2.cvtColor(clip.frames[0], cv2.COLOR_BGR2GRAY)
        faces = cascade.detectMultiScale(grey, 1.05, 3, minSize=(24, 24))
        assert len(faces) >= 1
        found = max(faces, key=lambda f: f[3])
        assert found[3] == pytest.approx(height_px, rel=0.25)
        x, y, w, h = clip.face_box_xywh
        assert abs((found[0] + found[2] / 2) - (x + w / 2)) < 0.25 * w


def test_low_resolution_source_flattens_the_skin_but_keeps_the_pulse() -> None:
    spec = SyntheticClipSpec(
        duration_s=4.0, frame_size=(320, 240), face_height_px=110.0, sensor_noise_std=0.0, seed=4
    )
    sharp = render_clip(spec)
    blocky = render_clip(dataclasses.replace(spec, source_face_px=30))

    def detail(clip: SyntheticClip) -> float:
        x, y, w, h = clip.face_box_xywh
        face = clip.frames[0, y : y + h, x : x + w].astype(np.float32)
        return float(np.abs(cv2.Laplacian(face, cv2.CV_32F)).mean())

    assert detail(blocky) < 0.6 * detail(sharp)
    green = skin_traces(blocky)[:, 1]
    estimate = estimate_heart_rate(-green, spec.fps)
    assert estimate.bpm == pytest.approx(blocky.mean_bpm(0.0, 4.0), abs=3.0)


def test_named_faces() -> None:
    assert "astronaut" in available_faces()
    spec = SyntheticClipSpec(duration_s=0.04, frame_size=SMALL, sensor_noise_std=0.0, seed=1)
    default = render_clip(spec).frames[0]
    named = render_clip(dataclasses.replace(spec, face="astronaut")).frames[0]
    np.testing.assert_array_equal(default, named)
    mirrored = render_clip(dataclasses.replace(spec, face="astronaut_mirrored")).frames[0]
    assert not np.array_equal(default, mirrored)
    with pytest.raises(ValueError, match="face"):
        SyntheticClipSpec(face="astronaut", face_image=np.zeros((80, 80, 3), np.uint8))


# --------------------------------------------------------------------------- light and camera


def test_tinted_flicker_shows_on_the_background_per_channel() -> None:
    spec = SyntheticClipSpec(
        duration_s=4.0,
        frame_size=SMALL,
        flicker_hz=1.3,
        flicker_amplitude=0.01,
        flicker_tint_bgr=(0.5, 1.0, 2.0),
        pulse=False,
        sensor_noise_std=0.0,
        seed=2,
    )
    clip = render_clip(spec)
    corner = clip.frames[:, :20, :20].astype(np.float64).mean(axis=(1, 2))  # (T, BGR)
    t_s = clip.timestamps_s
    basis = np.stack([np.sin(2 * np.pi * 1.3 * t_s), np.cos(2 * np.pi * 1.3 * t_s)], axis=1)
    amplitude = []
    for c in range(3):
        relative = corner[:, c] / corner[:, c].mean() - 1.0
        coef = np.linalg.lstsq(basis, relative, rcond=None)[0]
        amplitude.append(float(np.hypot(*coef)))
        assert estimate_heart_rate(relative, spec.fps).frequency_hz == pytest.approx(1.3, abs=0.1)
    # Relative amplitude per channel follows the tint: blue 0.5 %, green 1 %, red 2 %.
    np.testing.assert_allclose(amplitude, [0.005, 0.01, 0.02], rtol=0.15)
    # The older field name still works, alone.
    old = SyntheticClipSpec(illumination_flicker_hz=2.0)
    assert old.effective_flicker_hz == 2.0 and old.flicker_amplitude == FLICKER_RELATIVE_AMPLITUDE
    with pytest.raises(ValueError, match="flicker_hz"):
        SyntheticClipSpec(illumination_flicker_hz=2.0, flicker_hz=1.0)


def test_exposure_steps_change_gain_and_balance_in_steps() -> None:
    spec = SyntheticClipSpec(
        duration_s=4.0, frame_size=SMALL, pulse=False, sensor_noise_std=0.0, seed=5
    )
    steady = render_clip(spec)
    stepped = render_clip(dataclasses.replace(spec, exposure_steps=3))
    np.testing.assert_array_equal(steady.frames[0], render_clip(spec).frames[0])
    corner = stepped.frames[:, :30, :30].astype(np.float64).mean(axis=(1, 2))
    flat = steady.frames[:, :30, :30].astype(np.float64).mean(axis=(1, 2))
    assert np.ptp(flat, axis=0).max() < 0.5
    ratio = corner / flat
    # Brightness moves by percent, mostly in a few large frame-to-frame jumps.
    assert 0.01 < np.ptp(ratio.mean(axis=1)) < 0.3
    jumps = np.abs(np.diff(ratio.mean(axis=1)))
    assert np.sort(jumps)[-3:].sum() > 0.5 * jumps.sum()
    # White balance: the channels do not move together.
    assert np.ptp(ratio[:, 2] / ratio[:, 0]) > 0.003


@pytest.mark.parametrize("fps", [15.0, 25.0, 60.0])
def test_frame_rates(fps: float) -> None:
    spec = SyntheticClipSpec(
        duration_s=6.0, fps=fps, frame_size=(96, 72), heart_rate_variability=0.01, seed=6
    )
    clip = render_clip(spec)
    assert clip.frames.shape[0] == round(6.0 * fps)
    estimate = estimate_heart_rate(-skin_traces(clip)[:, 1], fps)
    assert estimate.bpm == pytest.approx(clip.mean_bpm(0.0, 6.0), abs=3.0)


def test_grey_near_infrared_in_three_channels() -> None:
    spec = SyntheticClipSpec(
        duration_s=0.5, frame_size=SMALL, near_infrared=True, fitzpatrick=5, seed=3
    )
    one = render_clip(spec)
    three = render_clip(dataclasses.replace(spec, grey_channels=3))
    assert one.frames.shape == (15, 120, 160)
    assert three.frames.shape == (15, 120, 160, 3)
    np.testing.assert_array_equal(three.frames[..., 0], three.frames[..., 1])
    np.testing.assert_array_equal(three.frames[..., 0], three.frames[..., 2])
    np.testing.assert_array_equal(three.frames[..., 0], one.frames)
    with pytest.raises(ValueError, match="grey_channels"):
        SyntheticClipSpec(grey_channels=3)


# --------------------------------------------------------------------------- motion


def _vertical_position(clip: SyntheticClip) -> np.ndarray:
    """Centroid row of the moving layer's change from the first frame's background."""
    grey = clip.frames.astype(np.float64).mean(axis=3)
    profile = np.abs(np.diff(grey, axis=1)).sum(axis=2)  # vertical edges per row, (T, H-1)
    rows = np.arange(profile.shape[1])
    return np.asarray((profile * rows).sum(axis=1) / profile.sum(axis=1))


@pytest.mark.parametrize(("motion", "hz"), [("periodic", 1.3), ("talking", 1.1)])
def test_periodic_motion_inside_the_heart_rate_band(motion: str, hz: float) -> None:
    spec = SyntheticClipSpec(
        duration_s=8.0,
        fps=15.0,
        frame_size=(96, 72),
        motion=motion,  # type: ignore[arg-type]
        motion_amplitude_px=4.0,
        motion_hz=hz,
        pulse=False,
        sensor_noise_std=0.0,
        seed=7,
    )
    track = _vertical_position(render_clip(spec))
    estimate = estimate_heart_rate(track - track.mean(), spec.fps)
    assert estimate.frequency_hz == pytest.approx(hz, abs=0.15 if motion == "talking" else 0.05)
    with pytest.raises(ValueError, match="motion_hz"):
        SyntheticClipSpec(motion="rigid", motion_hz=1.0)


# --------------------------------------------------------------------------- files and truth


def _read_all(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    return np.asarray(frames)


@pytest.mark.parametrize(
    ("codec", "suffix", "bitrate"), [("mjpeg", ".avi", None), ("h264", ".mp4", 400)]
)
def test_render_to_file_round_trip(
    tmp_path: Path, codec: str, suffix: str, bitrate: int | None
) -> None:
    if codec == "h264":
        require_module("av", extra="demo")  # H.264 needs PyAV
    spec = SyntheticClipSpec(
        duration_s=1.0,
        frame_size=SMALL,
        codec=codec,  # type: ignore[arg-type]
        bitrate_kbps=bitrate,
        seed=9,
    )
    path = render_to_file(spec, tmp_path / f"clip{suffix}")
    decoded = _read_all(path)
    assert decoded.shape == (30, 120, 160, 3)
    raw = render_clip(dataclasses.replace(spec, codec="none", bitrate_kbps=None))
    error = np.abs(decoded.astype(np.float64) - raw.frames).mean()
    assert 0.0 < error < 4.0  # lossy, but the same pictures
    # render_clip applies the same codec: what the file decodes to.
    np.testing.assert_array_equal(render_clip(spec).frames, decoded)
    # A lower bitrate loses more.
    if codec == "h264":
        low = render_to_file(dataclasses.replace(spec, bitrate_kbps=20), tmp_path / "low.mp4")
        assert np.abs(_read_all(low).astype(np.float64) - raw.frames).mean() > error


def test_write_video_renders_a_spec_and_grey_files(tmp_path: Path) -> None:
    spec = SyntheticClipSpec(
        duration_s=0.5, frame_size=SMALL, near_infrared=True, grey_channels=1, seed=1
    )
    path = write_video(spec, tmp_path / "nir.avi", codec="mjpeg")
    decoded = _read_all(path)
    # OpenCV hands grey video back as three (near-)equal channels: the NIR-file case.
    assert decoded.shape == (15, 120, 160, 3)
    assert np.abs(decoded[..., 0].astype(int) - decoded[..., 2]).max() <= 2
    with pytest.raises(ValueError, match="path"):
        render_to_file(dataclasses.replace(spec, codec="mjpeg"), tmp_path / "nir.mp4")


def test_clip_truth_equals_the_rendered_truth() -> None:
    for spec in (
        SyntheticClipSpec(duration_s=2.0, frame_size=SMALL, seed=12, fitzpatrick=4),
        SyntheticClipSpec(duration_s=2.0, frame_size=SMALL, pulse=False),
        SyntheticClipSpec(
            duration_s=2.0, frame_size=SMALL, ppg_waveform=np.sin(np.arange(60) / 30.0 * 7.0)
        ),
    ):
        clip = render_clip(spec)
        truth = clip_truth(spec)
        timestamps_s, bpm, ppg = truth
        np.testing.assert_array_equal(timestamps_s, clip.timestamps_s)
        np.testing.assert_array_equal(bpm, clip.bpm)
        np.testing.assert_array_equal(ppg, clip.ppg)
        if spec.pulse:
            assert truth.mean_bpm(0.5, 1.5) == clip.mean_bpm(0.5, 1.5)


def test_everything_at_once_is_deterministic() -> None:
    spec = SyntheticClipSpec(
        duration_s=0.5,
        frame_size=SMALL,
        fitzpatrick=3,
        face_height_px=50.0,
        source_face_px=25,
        flicker_hz=0.9,
        flicker_amplitude=0.004,
        flicker_tint_bgr=(1.2, 1.0, 0.7),
        exposure_steps=2,
        motion="talking",
        codec="mjpeg",
        seed=13,
    )
    a, b = render_clip(spec), render_clip(spec)
    np.testing.assert_array_equal(a.frames, b.frames)
    streamed = np.asarray([frame for frame, _ in iter_frames(spec)])
    np.testing.assert_array_equal(streamed, a.frames)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"face": "nobody"}, ValueError, "face"),
        ({"face": 3}, TypeError, "face"),
        ({"face_height_px": 10.0}, ValueError, "face_height_px"),
        ({"face_height_px": 230.0}, ValueError, "face_height_px"),  # 0.9 x 240
        ({"source_face_px": 4}, ValueError, "source_face_px"),
        ({"source_face_px": 40.0}, TypeError, "source_face_px"),
        ({"fitzpatrick": 0}, ValueError, "fitzpatrick"),
        ({"fitzpatrick": 3.0}, TypeError, "fitzpatrick"),
        ({"flicker_hz": 0.0}, ValueError, "flicker_hz"),
        ({"flicker_amplitude": 0.5}, ValueError, "flicker_amplitude"),
        ({"flicker_tint_bgr": (1.0, 1.0)}, TypeError, "flicker_tint_bgr"),
        ({"flicker_tint_bgr": (1.0, -1.0, 1.0)}, ValueError, "flicker_tint_bgr"),
        ({"exposure_steps": -1}, ValueError, "exposure_steps"),
        ({"exposure_steps": 1.5}, TypeError, "exposure_steps"),
        ({"codec": "avi"}, ValueError, "codec"),
        ({"codec": "h264", "bitrate_kbps": 5}, ValueError, "bitrate_kbps"),
        ({"codec": "mjpeg", "bitrate_kbps": 500}, ValueError, "bitrate_kbps"),
        ({"codec": "h264", "jpeg_quality": 80}, ValueError, "jpeg_quality"),
        ({"codec": "h264", "frame_size": (161, 120)}, ValueError, "even"),
        ({"grey_channels": 2, "near_infrared": True}, ValueError, "grey_channels"),
        ({"motion": "dancing"}, ValueError, "motion"),
        ({"motion": "periodic", "motion_hz": 9.0}, ValueError, "motion_hz"),
    ],
)
def test_bad_new_spec_values_raise(kwargs: dict[str, object], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        SyntheticClipSpec(**kwargs)  # type: ignore[arg-type]


def test_mjpeg_quality_is_honoured(tmp_path: Path) -> None:
    # OpenCV's FFmpeg writer silently ignores the quality; the file must not.
    spec = SyntheticClipSpec(duration_s=0.3, frame_size=SMALL, codec="mjpeg", seed=2)
    raw = render_clip(dataclasses.replace(spec, codec="none")).frames.astype(np.float64)
    error = {}
    for quality in (15, 95):
        path = render_to_file(dataclasses.replace(spec, jpeg_quality=quality), tmp_path / "q.avi")
        error[quality] = float(np.abs(_read_all(path) - raw).mean())
    assert error[15] > 1.5 * error[95]
