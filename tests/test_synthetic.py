"""Tests of the semi-synthetic face-video renderer (rppg_sdk.synthetic)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import absent
from rppg_sdk.dsp import PulseMethod, estimate_heart_rate, extract_pulse, signal_quality
from rppg_sdk.synthetic import (
    BVP_DIRECTION_RGB,
    DEFAULT_MOTION_FRACTION,
    NIR_PULSE_RATIO,
    SyntheticClip,
    SyntheticClipSpec,
    iter_frames,
    physiological_ppg,
    render_clip,
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
