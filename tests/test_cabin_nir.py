"""940 nm in-cabin video: the renderer's truth, 16-bit frames and the alternating illuminator
through the monitor, and the heart rate on a cabin clip (issue 11, item 3)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.illuminator import ALTERNATION_FRAMES, DarkFrameFilter
from rppg_sdk.synthetic.cabin import (
    CabinScene,
    cabin_truth,
    iter_cabin_frames,
    read_cabin_video,
    render_cabin,
    write_cabin_video,
)

from tests.conftest import require_module, require_real_data

# ------------------------------------------------------------------ the renderer


def test_cabin_frames_alternate_and_fill_their_bit_depth() -> None:
    clip = render_cabin(CabinScene(duration_s=1.0, bit_depth=12, dark_first=True, seed=3))
    frames, truth = clip.frames, clip.truth
    assert frames.dtype == np.uint16 and frames.shape == (30, 240, 320)
    assert int(frames.max()) < 4096 and int(frames.max()) > 1024  # 12 bits, well exposed
    assert not truth.illuminated[0] and truth.illuminated[1]  # dark first
    assert np.array_equal(truth.illuminated, np.arange(30) % 2 == 1)
    means = frames.reshape(30, -1).mean(axis=1)
    assert means[truth.illuminated].min() > 3 * means[~truth.illuminated].max()
    eight = render_cabin(CabinScene(duration_s=0.2, bit_depth=8, illuminator="constant"))
    assert eight.frames.dtype == np.uint8 and eight.truth.illuminated.all()


def test_cabin_pulse_is_weak_follows_the_truth_and_darkens_the_skin() -> None:
    scene = CabinScene(duration_s=4.0, bit_depth=16, illuminator="constant", sway_px=0.0, seed=1)
    on = render_cabin(scene)
    off = render_cabin(CabinScene(**{**scene.__dict__, "pulse": False}))
    x, y, w, h = (int(v) for v in on.truth.face_box_xywh[0])
    cheeks = (slice(y + h // 2, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    level = off.frames[:, cheeks[0], cheeks[1]].astype(np.float64).mean(axis=(1, 2))
    diff = (on.frames.astype(np.float64) - off.frames)[:, cheeks[0], cheeks[1]].mean(axis=(1, 2))
    relative = diff / level
    # More blood absorbs more light: the skin darkens as the pulse rises.
    assert np.corrcoef(relative, on.truth.ppg)[0, 1] < -0.95
    # 0.1 % peak at 940 nm (rms 0.07 %), a sixth of a green pulse; the mask's gain varies.
    rms = float(np.std(relative))
    assert 0.0002 < rms < 0.0015, rms
    assert np.isnan(off.truth.bpm).all() and not np.any(off.truth.ppg)


def test_cabin_truth_rate_trajectory_turns_and_hand() -> None:
    scene = CabinScene(
        duration_s=12.0,
        heart_rate_knots=((0.0, 70.0), (4.0, 70.0), (10.0, 100.0)),
        heart_rate_variability=0.0,
        head_turns=((2.0, 2.0, 40.0),),
        hand_interval_s=(6.0, 8.0),
        sway_px=0.0,
    )
    truth = cabin_truth(scene)
    t = truth.timestamps_s
    assert truth.bpm[t < 4].max() == pytest.approx(70.0)
    assert truth.bpm[t >= 10].min() == pytest.approx(100.0)
    assert truth.mean_bpm(6.0, 8.0) == pytest.approx(85.0, abs=1.0)
    widths = truth.face_box_xywh[:, 2]
    assert widths[np.argmax(np.abs(truth.yaw_deg))] < 0.85 * widths[0]  # a turned face narrows
    assert truth.yaw_deg.max() == pytest.approx(40.0, abs=0.5)
    covered = (t > 6.4) & (t < 7.6)
    assert truth.hand_cover[covered].min() > 0.5 and truth.hand_cover[t < 5.5].max() == 0
    assert not truth.face_visible[covered].any() and truth.face_visible[t < 1.5].all()


def test_cabin_frames_stream_equals_render() -> None:
    scene = CabinScene(duration_s=0.5, head_turns=((0.1, 0.3, 20.0),), hand_interval_s=(0.2, 0.4))
    clip = render_cabin(scene)
    streamed = np.stack([f for f, _ in iter_cabin_frames(scene)])
    assert np.array_equal(streamed, clip.frames)


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"bit_depth": 9}, ValueError, "bit_depth"),
        ({"heart_rate_knots": ((0.0, 70.0), (0.0, 80.0))}, ValueError, "increasing"),
        ({"heart_rate_knots": ((0.0, 300.0),)}, ValueError, "bpm"),
        ({"hand_interval_s": (5.0, 4.0)}, ValueError, "start_s < end_s"),
        ({"head_turns": ((1.0, 1.0),)}, TypeError, "yaw_deg"),
        ({"illuminator": "pulsed"}, ValueError, "alternating"),
        ({"duration_s": 0.01}, ValueError, "at least 2 frames"),
    ],
)
def test_cabin_scene_rejects_bad_fields(kwargs: dict[str, object], exc: type, words: str) -> None:
    with pytest.raises(exc, match=words):
        CabinScene(**kwargs)  # type: ignore[arg-type]


def test_cabin_video_files_keep_16_bits(tmp_path: Path) -> None:
    clip = render_cabin(CabinScene(duration_s=0.4, bit_depth=12))
    npz = write_cabin_video(clip, tmp_path / "clip.npz")
    back = [f for f, _ in read_cabin_video(npz)]
    assert np.array_equal(np.stack(back), clip.frames)
    require_module("av", "demo")
    mkv = write_cabin_video(clip, tmp_path / "clip.mkv")  # FFV1 gray16le: lossless
    frames, times = zip(*read_cabin_video(mkv), strict=True)
    assert np.stack(frames).dtype == np.uint16 and np.array_equal(np.stack(frames), clip.frames)
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-3)
    mp4 = write_cabin_video(clip, tmp_path / "clip.mp4")  # H.264 grey: the top 8 bits
    eight = np.stack([f for f, _ in read_cabin_video(mp4)])
    assert eight.dtype == np.uint8 and eight.shape == clip.frames.shape
    assert np.abs(eight.astype(int) - (clip.frames >> 4)).mean() < 3.0
    with pytest.raises(ValueError, match="suffix"):
        write_cabin_video(clip, tmp_path / "clip.avi")


# ------------------------------------------------------------------ dark frames


def _pattern(n: int, dark_first: bool, rng: np.random.Generator) -> np.ndarray:
    lit = (np.arange(n) % 2 == 1) if dark_first else (np.arange(n) % 2 == 0)
    # Slow changes of the lit level (head motion, ambient light) and a little noise.
    level = 800.0 * (1.0 + 0.2 * np.sin(np.arange(n) / 15.0)) * rng.uniform(0.99, 1.01, n)
    return np.where(lit, level, 0.15 * level)


@pytest.mark.parametrize("dark_first", [False, True])
def test_dark_frames_are_found_on_either_phase(dark_first: bool) -> None:
    rng = np.random.default_rng(0)
    b = _pattern(200, dark_first, rng)
    f = DarkFrameFilter("auto")
    kept = np.array([f.judge(float(x)).keep for x in b])
    lit = (np.arange(200) % 2 == 1) if dark_first else (np.arange(200) % 2 == 0)
    settled = np.arange(200) >= ALTERNATION_FRAMES + 1
    assert np.array_equal(kept[settled], lit[settled])
    assert not kept[~lit & settled].any()


def test_no_alternation_drops_nothing() -> None:
    rng = np.random.default_rng(1)
    # A constant illuminator with a head turn (a 30 % dip over a second) and slow light drift.
    n = 300
    b = 700.0 * (1.0 + 0.1 * np.sin(np.arange(n) / 40.0)) * rng.uniform(0.995, 1.005, n)
    b[100:130] *= 0.7
    f = DarkFrameFilter("auto")
    assert all(f.judge(float(x)).keep for x in b) and f.dropped == 0 and not f.alternating


@pytest.mark.parametrize("dark_first", [False, True])
def test_the_window_restarts_when_the_alternation_is_seen_on_either_phase(
    dark_first: bool,
) -> None:
    """Frames from before the alternation was recognised (dark ones among them) are forgotten,
    also when the frame that shows the alternation is itself dark (dropped)."""
    fps, n = 30.0, 420
    rng = np.random.default_rng(5)
    t = np.arange(n) / fps
    pulse = 1.0 + 0.004 * np.sin(2 * np.pi * 1.2 * t)
    levels = _pattern(n, dark_first, rng) / 1000.0 * 200.0 * pulse
    start = DarkFrameFilter("auto")
    seen = next(i for i, x in enumerate(levels) if (start.judge(float(x)), start.started)[1])
    with HeartRateMonitor(MonitorOptions(skin_roi="frame", window_s=6.0)) as monitor:
        readings = []
        for x, ts in zip(levels, t, strict=True):
            frame = np.full((48, 64), x, dtype=np.float64).round().clip(0, 255).astype(np.uint8)
            r = monitor.process(frame, float(ts))
            if r is not None and r.bpm is not None:
                readings.append(r)
    assert readings
    first = readings[0]
    assert first.window_end_s - first.window_s > t[seen] - 1e-9


def test_one_odd_frame_keeps_the_alternation_and_a_stop_ends_it() -> None:
    rng = np.random.default_rng(2)
    b = _pattern(120, False, rng)
    b[61] = b[60]  # one missed dark frame: a lit frame instead
    f = DarkFrameFilter("auto")
    verdicts = [f.judge(float(x)) for x in b]
    assert all(v.alternating for v in verdicts[ALTERNATION_FRAMES + 1 :])
    assert verdicts[61].keep and not verdicts[63].keep and verdicts[62].keep
    # The illuminator stops alternating: after a short run nothing more is dropped.
    constant = [f.judge(800.0).keep for _ in range(30)]
    assert all(constant[ALTERNATION_FRAMES + 1 :]) and not f.alternating


def test_dark_frame_modes() -> None:
    b = _pattern(40, True, np.random.default_rng(3))
    forced = DarkFrameFilter(True)
    kept = [forced.judge(float(x)).keep for x in b]
    assert not any(kept[2::2]) and all(kept[1::2])  # from the first step, no warm-up
    never = DarkFrameFilter(False)
    assert all(never.judge(float(x)).keep for x in b) and never.dropped == 0
    with pytest.raises(ValueError, match="True, False or 'auto'"):
        DarkFrameFilter("sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="drop_dark_frames"):
        MonitorOptions(drop_dark_frames="yes")


# ------------------------------------------------------------------ through the monitor


@pytest.fixture(scope="module")
def cabin_clip() -> object:
    # 24 s, 10-bit, alternating (dark first), sway, a head turn, a heart rate rising 64 -> 88.
    scene = CabinScene(
        duration_s=24.0,
        bit_depth=10,
        dark_first=True,
        heart_rate_knots=((0.0, 64.0), (8.0, 64.0), (18.0, 88.0)),
        head_turns=((12.0, 1.2, 20.0),),
        sway_px=2.0,
        seed=7,
    )
    return render_cabin(scene)


def _run(clip: object, **options: object) -> tuple[list[object], HeartRateMonitor]:
    monitor = HeartRateMonitor(MonitorOptions(**options))  # type: ignore[arg-type]
    readings = []
    for frame, ts in zip(clip.frames, clip.timestamps_s, strict=True):  # type: ignore[attr-defined]
        r = monitor.process(frame, float(ts))
        if r is not None:
            readings.append(r)
    monitor.close()
    return readings, monitor


def test_monitor_takes_16_bit_frames_and_drops_dark_ones(cabin_clip: object) -> None:
    readings, monitor = _run(cabin_clip)
    truth = cabin_clip.truth  # type: ignore[attr-defined]
    dark = int(np.count_nonzero(~truth.illuminated))
    # Only the frames before the alternation is recognised pass (and their samples are reset).
    assert dark - ALTERNATION_FRAMES <= monitor.dark_frames_dropped <= dark
    assert readings and all(r.method == "mono" and r.input_channels == 1 for r in readings)
    # Readings come on kept (lit) frames, at those frames' own timestamps.
    lit_times = set(np.round(truth.timestamps_s[truth.illuminated], 9))
    assert all(round(r.timestamp_s, 9) in lit_times for r in readings)
    # The window's samples are 15 per second: the lit frames' own rate.
    late = [r for r in readings if r.bpm is not None][-1]
    assert late.waveform_fs_hz == pytest.approx(15.0, rel=0.05)


def test_monitor_heart_rate_on_a_cabin_clip(cabin_clip: object) -> None:
    readings, _ = _run(cabin_clip)
    truth = cabin_clip.truth  # type: ignore[attr-defined]
    pairs = [
        (r.bpm, truth.mean_bpm(r.timestamp_s - 10.0, r.timestamp_s + 1e-9))
        for r in readings
        if r.bpm is not None and r.timestamp_s >= 10.0
    ]
    est, true = np.array(pairs).T
    mae = float(np.mean(np.abs(est - true)))
    # The held-out scenes of `python -m evaluation.cabin` give 1.5 bpm with head turns; this one
    # turn inside a 24 bpm rise in 10 s gives 1.9 (4 while transients were bridged, not gaps).
    bound = 3.0
    assert len(pairs) >= 12
    assert mae <= bound, (mae, est, true)
    # The truth moves by 24 bpm: no constant answer comes near the bound.
    assert float(np.mean(np.abs(np.median(true) - true))) > bound


def test_monitor_heart_rate_with_a_hand_over_the_face() -> None:
    """A hand over the face for 2.2 s and two head turns while the heart rate rises from 77 to
    104 bpm (the tune scene ``turns_hand`` seed 2 of ``python -m evaluation.cabin``). The
    hand's and the turns' moves are gaps in the pulse and the stretches between them still
    count; bridged with straight lines instead, the readings fell to 50 bpm and stayed at the
    old rate (16.5 bpm MAE)."""
    scene = CabinScene(
        duration_s=30.0,
        heart_rate_knots=((0.0, 76.8), (6.97, 76.8), (15.5, 104.2)),
        bit_depth=10,
        ambient_level=0.059,
        head_turns=((8.84, 1.10, 18.96), (18.59, 2.0, 34.5)),
        sway_px=3.58,
        hand_interval_s=(14.94, 17.12),
        gain=1.72,
        fitzpatrick=6,
        face="astronaut_mirrored",
        seed=2,
    )
    clip = render_cabin(scene)
    readings, _ = _run(clip)
    pairs = [
        (r.bpm, clip.truth.mean_bpm(r.timestamp_s - 10.0, r.timestamp_s + 1e-9))
        for r in readings
        if r.bpm is not None and r.timestamp_s >= 10.0
    ]
    est, true = np.array(pairs).T
    assert len(pairs) >= 18
    assert float(np.mean(np.abs(est - true))) <= 4.0, (est, true)
    assert float(np.max(np.abs(est - true))) <= 10.0, (est, true)


def test_monitor_without_dropping_keeps_the_dark_frames(cabin_clip: object) -> None:
    readings, monitor = _run(cabin_clip, drop_dark_frames=False)
    assert monitor.dark_frames_dropped == 0
    truth = cabin_clip.truth  # type: ignore[attr-defined]
    # Every frame is measured: a reading can land on a dark frame.
    dark_times = set(np.round(truth.timestamps_s[~truth.illuminated], 9))
    assert any(round(r.timestamp_s, 9) in dark_times for r in readings)


def test_real_face_as_12_bit_alternating_nir() -> None:
    """The real face video (no NIR camera recording is available) as a DMS would hand it over:
    grey, 12 bits in uint16, and every other frame lit by ambient light only. The monitor must
    drop the dark frames and still find the face's 52.5 +- 3 bpm."""
    path = require_real_data("evm_face", "face.mp4")
    cap = cv2.VideoCapture(str(path))
    monitor = HeartRateMonitor(MonitorOptions())
    last = None
    k = 0
    rng = np.random.default_rng(0)
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float64) * 16.0
            if k % 2 == 1:
                grey *= 0.15  # the illuminator is off
            grey += rng.uniform(0.0, 16.0, grey.shape)  # the lost low bits
            frame = np.clip(grey, 0, 4095).astype(np.uint16)
            r = monitor.process(frame, k / 30.0)
            if r is not None and r.bpm is not None:
                last = r
            k += 1
    finally:
        cap.release()
        monitor.close()
    assert k > 250 and monitor.dark_frames_dropped >= k // 2 - ALTERNATION_FRAMES
    assert last is not None and abs(last.bpm - 52.5) <= 3.0, last


# ------------------------------------------------------------------ the one-channel method


def _peak_bpm(x: np.ndarray, fs: float) -> float:
    f = np.fft.rfftfreq(8192, 1 / fs)
    p = np.abs(np.fft.rfft(x * np.hanning(x.size), 8192)) ** 2
    band = (f >= 0.7) & (f <= 4.0)
    return float(60.0 * f[band][np.argmax(p[band])])


def test_mono_takes_a_head_turn_out_of_a_weak_pulse() -> None:
    from rppg_sdk import _core, dsp  # noqa: PLC0415

    rng = np.random.default_rng(5)
    fs = 15.0
    t = np.arange(150) / fs
    x = 600.0 * (1 + 0.001 * np.sin(2 * np.pi * 1.3 * t) + 0.05 * np.sin(2 * np.pi * 0.05 * t))
    x += rng.normal(0.0, 0.05, t.size)
    x[60:80] *= 0.75  # a head turn: the skin darkens by a quarter for 1.3 s
    rgb = np.repeat(x[:, None], 3, axis=1)
    plain = dsp.bandpass(_core.pulse_green(rgb), fs)
    cleaned = _core.pulse_mono(rgb, fs, 0.7, 4.0)
    assert abs(_peak_bpm(plain, fs) - 78.0) > 10.0  # the turn's spectrum wins
    assert abs(_peak_bpm(cleaned, fs) - 78.0) < 2.0
    masked = cleaned == 0.0
    assert masked[60:80].all() and masked.mean() < 0.4
    # No transient: nothing is taken out and the pulse is the band-passed relative change.
    calm = np.repeat((600.0 * (1 + 0.001 * np.sin(2 * np.pi * 1.3 * t)))[:, None], 3, axis=1)
    assert not np.any(_core.pulse_mono(calm, fs, 0.7, 4.0) == 0.0)
    with pytest.raises(ValueError, match="f_lo_hz < f_hi_hz"):
        _core.pulse_mono(rgb, fs, 4.0, 0.7)


def _hand_trace(fs: float, seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A weak 78 bpm blood-volume pulse (more blood, less light) on a drifting level; a hand
    comes over the face at 3.0-3.3 s (the level rises by a quarter), stays for 3 s, and leaves
    at 6.3-6.6 s."""
    t = np.arange(int(seconds * fs)) / fs
    pulse = 0.001 * np.sin(2 * np.pi * 1.3 * t)
    ramp_in = np.clip((t - 3.0) / 0.3, 0.0, 1.0)
    ramp_out = np.clip((t - 6.3) / 0.3, 0.0, 1.0)
    hand = 1.0 + 0.25 * (0.5 - 0.5 * np.cos(np.pi * (ramp_in - ramp_out)))
    x = 600.0 * (1 + 0.03 * np.sin(2 * np.pi * 0.05 * t)) * hand * (1 - pulse)
    return t, pulse, x + rng.normal(0.0, 0.03, t.size)


def test_mono_leaves_transients_out_as_gaps_and_keeps_what_lies_between() -> None:
    """The hand's moves in and out are gaps (0); the 3 s under the hand (skin at another level,
    the same heart rate) is used against its own level, not bridged over or thrown away."""
    from rppg_sdk import _core  # noqa: PLC0415

    fs = 15.0
    t, pulse, x = _hand_trace(fs, 10.0, np.random.default_rng(11))
    out = _core.pulse_mono(np.repeat(x[:, None], 3, axis=1), fs, 0.7, 4.0)
    gap = out == 0.0
    assert gap[(t >= 3.0) & (t <= 3.3)].all() and gap[(t >= 6.3) & (t <= 6.6)].all()
    held = (t > 3.8) & (t < 5.8)
    assert not gap[held].any()
    assert np.corrcoef(out[held], pulse[held])[0, 1] > 0.8
    assert not gap[(t < 2.5) | (t > 7.1)].any() and gap.mean() < 0.25
    assert abs(_peak_bpm(out, fs) - 78.0) < 2.0


def test_mono_takes_out_a_slow_dip_the_change_test_cannot_see() -> None:
    """A dip of 1.5 % over 0.64 s (a codec's bad frames, a shadow) in noisy 25 fps video: no
    frame-to-frame change stands out of the noise, but the filtered pulse does; left in, the
    dip's spectrum beats a 126 bpm pulse of 0.1 %."""
    from rppg_sdk import _core, dsp  # noqa: PLC0415

    fs = 25.0
    for seed in range(3):
        rng = np.random.default_rng(seed)
        t = np.arange(250) / fs
        x = 200.0 * (1 - 0.001 * np.sin(2 * np.pi * 2.1 * t)) * (1 + 0.005 * np.sin(0.5 * t))
        x += rng.normal(0.0, 0.15, t.size)
        x[100:116] *= 1 - 0.015 * np.hanning(16)
        d = np.diff(np.log(x))
        spread = 1.4826 * np.median(np.abs(d - np.median(d)))
        assert np.max(np.abs(d - np.median(d))) < 4.0 * spread  # the change test's threshold
        rgb = np.repeat(x[:, None], 3, axis=1)
        assert abs(_peak_bpm(dsp.bandpass(_core.pulse_green(rgb), fs), fs) - 126.0) > 20.0
        out = _core.pulse_mono(rgb, fs, 0.7, 4.0)
        gap = out == 0.0
        assert gap[104:112].all() and gap.mean() < 0.2
        assert abs(_peak_bpm(out, fs) - 126.0) < 2.0


def test_mono_takes_a_re_aligned_box_out_as_a_gap() -> None:
    """A face box re-alignment is a known step: too small for the transient test (it hides in
    the noise's spread), it still becomes a gap in the window the chain builds."""
    from rppg_sdk import _core  # noqa: PLC0415

    fs = 15.0
    rng = np.random.default_rng(4)
    t = np.arange(150) / fs
    x = 600.0 * (1 + 0.001 * np.sin(2 * np.pi * 1.3 * t)) + rng.normal(0.0, 0.3, t.size)
    x[75:] *= 1.0015  # the box moved at 5 s: a step of 0.15 %, 3 noise SDs of a change

    def window(moved_at: int | None) -> np.ndarray:
        b = _core.PulseWindowBuilder(0.7, 4.0, "mono", 1, False, 12.0, fs)
        for k in range(t.size):
            b.push(float(t[k]), x[k : k + 1], None, 0.0, 0.0, k == moved_at)
        w = b.build(float(t[-1]), 10.0, 5.0)
        assert w is not None
        return np.asarray(w["pulse"])

    assert not np.any(window(None) == 0.0)
    gap = window(75) == 0.0
    assert gap[72:78].all() and gap.mean() < 0.15


def test_auto_mode_leaves_colour_streams_whole() -> None:
    """Only near-infrared (one-channel or grey) cameras have switched illuminators: a colour
    stream whose brightness flips every frame keeps every frame in "auto" mode, the same stream
    in grey loses its dark half, and True still drops colour frames on request."""
    rng = np.random.default_rng(3)
    levels = [120.0 if k % 2 else 40.0 for k in range(40)]
    colour = [
        np.clip(rng.normal(v, 3.0, (32, 32, 3)) * np.array([0.8, 1.0, 1.2]), 0, 255).astype(
            np.uint8
        )
        for v in levels
    ]
    grey = [np.repeat(f[:, :, 1:2], 3, axis=2) for f in colour]
    auto_colour, auto_grey = DarkFrameFilter("auto"), DarkFrameFilter("auto")
    assert all(auto_colour.update(f).keep for f in colour) and auto_colour.dropped == 0
    for f in grey:
        auto_grey.update(f)
    assert auto_grey.dropped >= 20 - ALTERNATION_FRAMES
    forced_colour = DarkFrameFilter(True)
    for f in colour:
        forced_colour.update(f)
    assert forced_colour.dropped >= 19


def test_real_colour_skin_video_loses_no_frame() -> None:
    """A real colour recording (a dark skin close-up whose brightness stutters) is no
    alternating illuminator: "auto" keeps every frame."""
    video = require_real_data("skin_patches", "India", "video15_forehead.avi")
    with HeartRateMonitor(MonitorOptions(skin_roi="frame")) as monitor:
        for _ in monitor.process_video(video, max_frames=1200):  # it flickers from frame 952
            pass
        assert monitor.dark_frames_dropped == 0
