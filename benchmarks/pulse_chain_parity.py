"""Parity of the classical pulse chain (window building, tracking, evidence, confidence, status).

The chain moved from Python into the C++ core (``rppg::PulseMonitor``). This script records, on
the same inputs, what the chain reports, so the two can be compared reading by reading:

1. ``capture``: runs :class:`~rppg_sdk.HeartRateMonitor` over the rendered test clips (the
   conditions of ``tests/test_monitor.py``) and the real face video, and saves, per frame, the
   row the classical extractor pushed into its trace buffer (skin means, the surround's means
   and flag, the face's position, the box re-alignment flag). That is everything the chain
   sees, so replaying the rows isolates the chain from face tracking and the ROI.
2. ``replay OUT.json``: replays every captured stream through the chain (with each classical
   method the stream allows) on the monitor's schedule (a reading every second, 10 s windows,
   5 s minimum) and writes bpm, raw bpm, confidence, status, SNR and IPR per reading.
3. ``compare A.json B.json``: prints the largest differences.

Run (before the switch, and after it)::

    python benchmarks/pulse_chain_parity.py capture --out /tmp/chain/streams.npz
    python benchmarks/pulse_chain_parity.py replay --streams /tmp/chain/streams.npz \
        --out /tmp/chain/after.json
    python benchmarks/pulse_chain_parity.py compare /tmp/chain/before.json /tmp/chain/after.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from rppg_sdk import HeartRateMonitor, MonitorOptions
from rppg_sdk.analysis import PulseAnalyzer
from rppg_sdk.extractors.base import Method
from rppg_sdk.extractors.classical import ClassicalExtractor
from rppg_sdk.tracking import TrackerOptions

REAL_FACE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "evm_face" / "face.mp4"
)

CONDITIONS: dict[str, dict[str, Any]] = {
    "still": {"heart_rate_bpm": 72.0},
    "motion_rigid": {"motion": "rigid", "motion_amplitude_px": 12.0, "heart_rate_bpm": 84.0},
    "motion_periodic": {"motion": "periodic", "motion_amplitude_px": 8.0, "heart_rate_bpm": 66.0},
    "lighting": {"illumination_drift": 0.2, "heart_rate_bpm": 95.0},
    "compression": {"jpeg_quality": 70, "heart_rate_bpm": 58.0},
    "near_infrared": {"near_infrared": True, "heart_rate_bpm": 78.0},
    "gray": {"heart_rate_bpm": 105.0},
    "no_pulse": {"pulse": False},
}


def capture(out: Path) -> None:
    """Rows the classical extractor buffers, per stream (see the module docs)."""
    from rppg_sdk import synthetic  # noqa: PLC0415
    from tqdm import tqdm  # noqa: PLC0415

    streams: dict[str, np.ndarray] = {}
    rows: list[np.ndarray] = []
    original = ClassicalExtractor.push

    def spy(self: ClassicalExtractor, obs: Any, timestamp_s: float) -> None:
        original(self, obs, timestamp_s)
        values, times = self._traces.window(1)
        rows.append(np.concatenate([[times[-1]], values[-1]]))

    ClassicalExtractor.push = spy  # type: ignore[method-assign]
    jobs: list[tuple[str, Any, Any, MonitorOptions]] = []
    for name, kw in CONDITIONS.items():
        spec = synthetic.SyntheticClipSpec(
            duration_s=20.0, fps=30.0, frame_size=(320, 240), seed=0, **kw
        )
        jobs.append((name, spec, None, MonitorOptions()))
    jobs.append(
        ("lighting_reference", None, "lighting", MonitorOptions(illumination_reference=True))
    )
    cache: dict[str, Any] = {}
    for name, spec, source, options in tqdm(jobs, desc="clips"):
        clip = cache[source] if source else synthetic.render_clip(spec)
        cache[name] = clip
        frames = clip.frames
        if name == "gray":
            frames = np.round(frames @ np.array([0.114, 0.587, 0.299])).astype(np.uint8)
        rows.clear()
        with HeartRateMonitor(options) as mon:
            for frame, ts in zip(frames, clip.timestamps_s, strict=True):
                mon.process(frame, float(ts))
        streams[name] = np.array(rows)
    if REAL_FACE.exists():
        rows.clear()
        with HeartRateMonitor() as mon:
            for _ in mon.process_video(REAL_FACE):
                pass
        streams["real_face"] = np.array(rows)
    ClassicalExtractor.push = original  # type: ignore[method-assign]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **streams)
    print(f"captured {len(streams)} streams -> {out}")


def _methods(channels: int) -> list[Method]:
    return [Method.MONO] if channels == 1 else [Method.POS, Method.CHROM, Method.GREEN]


def _push_row(ext: ClassicalExtractor, row: np.ndarray, ts: float, channels: int) -> None:
    """One captured row (skin means, surround means, has-surround flag, x, y, moved)."""
    c = channels
    ref = row[c : 2 * c] if row[2 * c] == 1.0 else None
    ext.push_means(ts, row[:c], ref, (row[2 * c + 1], row[2 * c + 2]), bool(row[-1] > 0))


def replay_stream(
    rows: np.ndarray, method: Method, remove_reference: bool = True
) -> list[dict[str, Any]]:
    """Readings of the chain on one captured stream: a reading every 1 s, 10 s windows; the
    surround regressed out of the skin (``MonitorOptions.illumination_reference``) unless
    ``remove_reference`` is false."""
    from rppg_sdk.confidence import ConfidenceModel  # noqa: PLC0415

    window_s, min_window_s, interval_s = 10.0, 5.0, 1.0
    channels = (rows.shape[1] - 1 - 4) // 2
    ext = ClassicalExtractor(method, window_s=window_s, remove_reference=remove_reference)
    confidence: ConfidenceModel | None = None
    analyzer = PulseAnalyzer((0.7, 4.0), window_s, TrackerOptions(), confidence, 0.3, 6.0)
    out: list[dict[str, Any]] = []
    next_s: float | None = None
    for r in rows:
        ts = float(r[0])
        _push_row(ext, r[1:], ts, channels)
        if next_s is None:
            next_s = ts + interval_s
        if ts + 1e-9 < next_s:
            continue
        next_s += interval_s * max(1, math.floor((ts - next_s) / interval_s) + 1)
        win = ext.pulse_window(ts, window_s, min_window_s)
        rd = analyzer.analyze(win, ts, None, ext.method_name, channels)
        ev = rd.evidence
        out.append(
            {
                "t": ts,
                "status": rd.status.value,
                "bpm": rd.bpm,
                "raw_bpm": rd.raw_bpm,
                "confidence": rd.confidence,
                "snr_db": rd.snr_db,
                "ipr": rd.irrelevant_power_ratio,
                "harmonic_ratio": None if ev is None else ev.harmonic_ratio,
                "motion_share": None if ev is None else ev.motion_share,
                "reference_share": None if ev is None else ev.reference_share,
                "window_s": rd.window_s,
                "waveform_sum": None if rd.waveform is None else float(np.sum(rd.waveform)),
            }
        )
    return out


def replay(streams: Path, out: Path) -> None:
    data = np.load(streams)
    result: dict[str, list[dict[str, Any]]] = {}
    for name in data.files:
        rows = data[name]
        channels = (rows.shape[1] - 1 - 4) // 2
        for m in _methods(channels):
            result[f"{name}/{m.value}"] = replay_stream(rows, m)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, allow_nan=True))
    print(f"{sum(len(v) for v in result.values())} readings of {len(result)} runs -> {out}")


def _diff(a: Any, b: Any) -> float:
    if a is None and b is None:
        return 0.0
    if a is None or b is None:
        return math.inf
    if math.isnan(a) and math.isnan(b):
        return 0.0
    return abs(float(a) - float(b))


def compare(a_path: Path, b_path: Path) -> dict[str, float]:
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    worst: dict[str, float] = {}
    status_mismatch = 0
    total = 0
    for run in sorted(set(a) | set(b)):
        ra, rb = a.get(run, []), b.get(run, [])
        if len(ra) != len(rb):
            print(f"{run}: {len(ra)} vs {len(rb)} readings")
            continue
        run_worst: dict[str, float] = {}
        for x, y in zip(ra, rb, strict=True):
            total += 1
            status_mismatch += x["status"] != y["status"]
            for key in (
                "bpm",
                "raw_bpm",
                "confidence",
                "snr_db",
                "ipr",
                "harmonic_ratio",
                "motion_share",
                "reference_share",
                "window_s",
                "waveform_sum",
            ):
                d = _diff(x[key], y[key])
                run_worst[key] = max(run_worst.get(key, 0.0), d)
                worst[key] = max(worst.get(key, 0.0), d)
        print(
            f"{run:28s} n={len(ra):3d} |dbpm|={run_worst.get('bpm', 0):.2e} "
            f"|dconf|={run_worst.get('confidence', 0):.2e}"
        )
    print(f"readings {total}, status mismatches {status_mismatch}")
    for key, v in worst.items():
        print(f"max |d {key}| = {v:.3e}")
    return worst


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("replay")
    r.add_argument("--streams", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    k = sub.add_parser("compare")
    k.add_argument("a", type=Path)
    k.add_argument("b", type=Path)
    args = p.parse_args()
    if args.cmd == "capture":
        capture(args.out)
    elif args.cmd == "replay":
        replay(args.streams, args.out)
    else:
        compare(args.a, args.b)


if __name__ == "__main__":
    main()
