"""Confidence of a heart-rate reading: the probability, 0..1, that it is within 5 bpm of the truth.

Label-free evidence about the reading (:class:`ConfidenceInputs`) goes through a logistic model
fitted per pulse method (:class:`ConfidenceModel`):

* **Spectral SNR** of the pulse at the reported rate (power within 6 bpm of the fundamental and
  its second harmonic against the rest of the band; de Haan & Jeanne 2013).
* **Irrelevant power ratio** of the *un-detrended* pulse (Gideon & Stent 2021): the share of its
  power outside the heart-rate band. Motion and slow lighting changes put power there; a pulse
  does not. (Measured before detrending: the detrender removes exactly that drift.)
* **Reference share** (the surround's light): how much of the non-skin surround's in-band power
  lies at the reported rate (:func:`rppg_sdk.illumination.reference_share`), times how strongly
  the surround changes there against the skin (at most 1), times the part the head's own motion
  does not explain (``1 - motion share``). A lamp changes skin and background by the same
  fraction with the head still; a pulse changes the skin, and the surround only a fraction as
  much (about a sixth on the real face video, through head motion with each beat).
* **Face box re-alignments** inside the window (each is a step in the skin colour).
* **Harmonic ratio**: the power at twice the rate over the power at the rate. A pulse has a
  second harmonic; a flicker or a codec's periodic artefact is a bare sinusoid.
* **Motion share**: how much of the head's own motion (the face's position inside the crop, by
  template matching) lies at the reported rate: nodding or talking at a rate puts it into the
  skin colour.
* **Classical share** (learned models only): how much of a classical pulse's in-band power (POS
  on the same skin, ``"mono"`` on one channel) lies at the model's rate. A network can draw a
  clean, pulse-shaped wave from a lamp's rhythm or from noise, so the model's own output
  cannot say it is wrong; the skin's colour change, read by a method that cannot hallucinate,
  shows little power at such a rate. And the **classical harmonic ratio** at the model's rate:
  a network's output is smooth whatever it was shown, so its own harmonics say little, but in
  the skin's colour a lamp's flicker is a bare sinusoid and a pulse is not.
* **Pulse signature** (colour video): the angle between how much R, G and B change at the
  reported rate (each relative to its level) and how blood changes them: haemoglobin absorbs
  green most and red least, the PBV signature 0.33, 0.77, 0.53 (de Haan & van Leest 2014). A
  lamp's flicker changes the channels by its tint, noise about equally.

Four terms multiply the logistic and are not fitted: an SNR floor (below -2 dB, where chance
peaks of noise reach, no confidence), the irrelevant power ratio past 0.5 (a pulse keeps most
of its power in the band), the share of a full window the data covers, squared
(short windows resolve less, and noise peaks stand out in them), and the distance from the
band's edges (a peak on an edge is the skirt of power outside the band).

The coefficients are fitted on the ``tune`` part of the evaluation suite (``python -m
evaluation.calibrate``; readings with a pulse are labelled by whether they are within 5 bpm,
readings of clips without a pulse are all labelled wrong) and shipped in ``confidence.json``
beside this module, with the reliability measured on the ``holdout`` part and on real video.
``pytest -m slow tests/test_confidence_calibration.py`` refits them and checks they match.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from rppg_sdk import _core

__all__ = [
    "CALIBRATION_FILE",
    "ConfidenceInputs",
    "ConfidenceModel",
    "calibrated_model",
    "calibration_report",
    "core_coefficients",
]

#: The shipped fit: per method, the coefficients and what they were fitted and checked on.
CALIBRATION_FILE = Path(__file__).with_name("confidence.json")

# SNR beyond this range carries no more information; clipping keeps the logistic well behaved.
_SNR_RANGE_DB = (-15.0, 15.0)
# A pulse's typical second-harmonic to fundamental power ratio after POS / CHROM (median of the
# correct readings on the evaluation suite's tune part: 0.1); assumed where 2 f0 is past Nyquist.
_TYPICAL_PULSE_RATIO = 0.1


@dataclass(frozen=True)
class ConfidenceInputs:
    """Evidence about one reading.

    Attributes
    ----------
    snr_db
        SNR of the pulse at the reported rate.
    irrelevant_power_ratio
        Share of the un-detrended pulse's power outside the band, 0..1.
    face_fraction
        Share of the window's duration with a face held, 0..1.
    box_moves
        Re-alignments of the stable face box inside the window.
    window_fraction
        Data span over the full window length, 0..1 (short windows resolve less).
    edge_distance_bpm
        Distance of the reported rate from the nearer edge of the heart-rate band.
    reference_share
        The surround's light at the reported rate, 0..1: the non-skin surround's in-band power
        share at the rate x its relative change there against the skin's (at most 1) x
        ``1 - motion_share`` (0 without a surround: a caller's boxes, whole-frame skin).
    harmonic_ratio
        Power around twice the reported rate over the power around it. A blood-volume pulse is
        no sinusoid (fast systolic rise, slow fall): its second harmonic holds a fifth to a half
        of the fundamental's power; a light flicker or a codec's periodic artefact holds almost
        none. ``nan`` (no evidence) when twice the rate lies past the Nyquist frequency.
    motion_share
        Share of the head motion's in-band power at the reported rate (0..1; 0 where motion is
        not measured). Nodding or talking at a rate colours the skin at that rate.
    classical_share
        Learned models: share of a classical pulse's (POS on the same skin; ``"mono"`` on one
        channel) in-band power at the model's rate, 0..1; ``nan`` where not measured
        (classical methods: it would be their own pulse).
    classical_harmonic_ratio
        Learned models: that classical pulse's power around twice the model's rate over the
        power around it (``nan``: not measured, or twice the rate past Nyquist).
    signature_deg
        Colour video: degrees between the relative R, G, B change at the reported rate and a
        blood-volume pulse's (PBV: 0.33, 0.77, 0.53); ``nan`` for one channel.
    """

    snr_db: float
    irrelevant_power_ratio: float
    face_fraction: float = 1.0
    box_moves: int = 0
    window_fraction: float = 1.0
    edge_distance_bpm: float = math.inf
    reference_share: float = 0.0
    harmonic_ratio: float = math.nan
    motion_share: float = 0.0
    classical_share: float = math.nan
    classical_harmonic_ratio: float = math.nan
    signature_deg: float = math.nan

    def features(self) -> tuple[float, float, float, float, float, float, float, float, float]:
        """The fitted model's inputs: clipped SNR, IPR, reference share, box moves, the harmonic
        ratio's distance in decades from a pulse's typical 0.1 (clipped to 3; 0 where there is
        no evidence), the motion share, the classical share (0 where not measured), the
        classical harmonic ratio's distance like the harmonic ratio's and the pulse signature's
        angle (0..90 degrees; 0 where not measured)."""
        snr = min(max(self.snr_db, _SNR_RANGE_DB[0]), _SNR_RANGE_DB[1])
        ipr = min(max(self.irrelevant_power_ratio, 0.0), 1.0)
        ref = min(max(self.reference_share, 0.0), 1.0)
        harm = _harmonic_distance(self.harmonic_ratio)
        motion = min(max(self.motion_share, 0.0), 1.0)
        share = self.classical_share
        classical = min(max(share, 0.0), 1.0) if math.isfinite(share) else 0.0
        moves = float(max(0, self.box_moves))
        sig = self.signature_deg
        signature = min(max(sig, 0.0), 90.0) if math.isfinite(sig) else 0.0
        return (
            snr, ipr, ref, moves, harm, motion, classical,
            _harmonic_distance(self.classical_harmonic_ratio), signature,
        )  # fmt: skip


def _harmonic_distance(ratio: float) -> float:
    """Decades from a pulse's typical harmonic ratio, clipped to 3 (0 without evidence): a bare
    sinusoid (flicker, a codec's beat) lies far below it, broadband noise far above it."""
    r = ratio if math.isfinite(ratio) else _TYPICAL_PULSE_RATIO
    return min(abs(math.log10(max(r, 1e-3) / _TYPICAL_PULSE_RATIO)), 3.0)


@dataclass(frozen=True)
class ConfidenceModel:
    """Maps :class:`ConfidenceInputs` to the probability of a reading within 5 bpm.

    ``sigmoid(intercept + snr_coef * snr_db + ipr_coef * ipr + reference_coef * share +
    move_coef * box_moves + harmonic_coef * |log10(harmonic_ratio / 0.1)| + motion_coef *
    motion_share + classical_coef * classical_share + classical_harmonic_coef *
    |log10(classical_harmonic_ratio / 0.1)| + signature_coef * signature_deg)`` times
    ``face_fraction``,
    ``window_fraction ** 2`` and the
    band-edge term. The defaults are a hand-set starting point; :func:`calibrated_model` gives
    the fitted model of a method.

    Parameters
    ----------
    intercept, snr_coef, ipr_coef, reference_coef, move_coef, harmonic_coef, motion_coef, \
    classical_coef, classical_harmonic_coef, signature_coef
        Logistic coefficients (per dB of SNR, per unit of the ratios and shares, per
        re-alignment, per decade of the harmonic ratio from a pulse's typical 0.1).
    edge_margin_bpm
        Rates closer than this to a band edge lose confidence linearly (0 on the edge).
    ipr_knee
        Above this irrelevant power ratio the confidence falls linearly to 0 at 1: whatever the
        fit says, a "pulse" with most of its power outside the heart-rate band is not one.
    snr_floor_db
        At and below this SNR the confidence is 0, rising linearly to full 3 dB above it. The
        real skin-patch videos (no pulse recoverable) reach -3 dB by chance; the suite's correct
        readings sit at -2 dB and above in nine cases out of ten.
    """

    intercept: float = 1.0
    snr_coef: float = 1.0
    ipr_coef: float = -4.0
    reference_coef: float = -6.0
    move_coef: float = -0.3
    harmonic_coef: float = 0.0
    motion_coef: float = -4.0
    classical_coef: float = 0.0
    classical_harmonic_coef: float = 0.0
    signature_coef: float = 0.0
    edge_margin_bpm: float = 4.0
    ipr_knee: float = 0.5
    snr_floor_db: float = -2.0

    def logit(self, x: ConfidenceInputs) -> float:
        """The logistic's argument: ``intercept`` plus the coefficients times
        :meth:`ConfidenceInputs.features` (computed by the C++ core, ``rppg::confidence_logit``)."""
        return float(_core.pulse_confidence_logit(*_evidence(x), core_coefficients(self)))

    def __call__(self, x: ConfidenceInputs) -> float:
        """The confidence, 0..1: the C++ core's ``rppg::confidence`` (the code every reading's
        confidence comes from); 0 for a non-finite SNR."""
        return float(_core.pulse_confidence(*_evidence(x), core_coefficients(self)))

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


def _evidence(
    x: ConfidenceInputs,
) -> tuple[float, float, float, int, float, float, float, float, float, float, float, float]:
    return (
        float(x.snr_db),
        float(x.irrelevant_power_ratio),
        float(x.face_fraction),
        int(x.box_moves),
        float(x.window_fraction),
        float(x.edge_distance_bpm),
        float(x.reference_share),
        float(x.harmonic_ratio),
        float(x.motion_share),
        float(x.classical_share),
        float(x.classical_harmonic_ratio),
        float(x.signature_deg),
    )


@lru_cache(maxsize=256)
def core_coefficients(model: ConfidenceModel) -> _core.ConfidenceCoefficients:
    """The C++ core's ``rppg::ConfidenceCoefficients`` with ``model``'s values (cached: the C++
    side only reads them)."""
    c = _core.ConfidenceCoefficients()
    for name, value in model.as_dict().items():
        setattr(c, name, float(value))
    return c


@cache
def _calibration() -> dict[str, Any]:
    if not CALIBRATION_FILE.exists():
        return {}
    data: dict[str, Any] = json.loads(CALIBRATION_FILE.read_text())
    return data


def calibrated_model(method_name: str) -> ConfidenceModel:
    """The fitted confidence model of a pulse method (``"pos"``, ``"mono"``, ``"physnet"``...).

    Methods without a fit of their own (a user's model file) get the hand-set defaults.
    """
    entry = _calibration().get("methods", {}).get(method_name)
    if entry is None:
        return ConfidenceModel()
    return ConfidenceModel(**entry["coefficients"])


def calibration_report(method_name: str) -> dict[str, Any] | None:
    """What the shipped fit of a method measured (readings, reliability per confidence band on
    the tune and holdout parts and on real video), or ``None``."""
    entry = _calibration().get("methods", {}).get(method_name)
    return None if entry is None else dict(entry)
