// Confidence of a heart-rate reading: the probability, 0..1, that it lies within 5 bpm of the
// truth, from label-free evidence about the reading (rppg_sdk.confidence documents each term).
//
// The logistic coefficients are fitted per pulse method by `python -m evaluation.calibrate` and
// shipped in python/rppg_sdk/confidence.json; a C++ caller passes them in as plain numbers.
// Pure functions: no state, no allocation, safe from any thread.
#pragma once

#include <limits>

namespace rppg {

/// The fitted logistic and its unfitted physical terms (defaults: the hand-set starting point
/// that rppg_sdk.confidence.ConfidenceModel() also uses).
struct ConfidenceCoefficients {
  double intercept = 1.0;
  double snr_coef = 1.0;        // per dB of SNR (clipped to -15..15 dB)
  double ipr_coef = -4.0;       // per unit of the irrelevant power ratio
  double reference_coef = -6.0; // per unit of the surround's power share at the rate
  double move_coef = -0.3;      // per face-box re-alignment in the window
  double harmonic_coef = 0.0;   // per decade of the harmonic ratio from a pulse's typical 0.1
  double motion_coef = -4.0;    // per unit of the head motion's power share at the rate
  double classical_coef = 0.0;  // per unit of a classical pulse's power share at the rate
  double classical_harmonic_coef = 0.0;  // per decade of that pulse's harmonic ratio from 0.1
  double signature_coef = 0.0;  // per degree between the colour change and a pulse's
  double edge_margin_bpm = 4.0; // rates closer than this to a band edge lose confidence
  double ipr_knee = 0.5;        // past this IPR the confidence falls linearly to 0 at 1
  double snr_floor_db = -2.0;   // at and below this SNR no confidence, full 3 dB above it
};

/// Evidence about one reading (rppg_sdk.confidence.ConfidenceInputs).
struct Evidence {
  double snr_db = 0.0;
  double irrelevant_power_ratio = 1.0;  // of the un-detrended pulse
  double face_fraction = 1.0;
  int box_moves = 0;
  double window_fraction = 1.0;
  double edge_distance_bpm = std::numeric_limits<double>::infinity();
  // The light the face's non-skin surround (background, hair) shows at the rate, 0-1: the
  // share of the surround's in-band power at the rate, times the surround's relative change
  // there against the skin's (at most 1), times the share of it the head's own motion does not
  // explain (1 - motion_share). A lamp's flicker changes skin and surround alike with the head
  // still: near 1. A pulse changes the skin only; the surround shows its rate too (the head
  // moves with each beat, the camera's processing) but a fraction as strongly: on the real face
  // video about a sixth of the skin's change, 0.1 here. 0: no surround measured.
  double reference_share = 0.0;
  double harmonic_ratio = std::numeric_limits<double>::quiet_NaN();  // NaN: no evidence
  double motion_share = 0.0;
  // Learned models only: the share of a classical pulse's (POS on the same skin, mono on one
  // channel) in-band power at the model's rate. A network can draw a clean pulse from a lamp's
  // rhythm or from noise; the skin's own colour change then shows little at that rate.
  // NaN: not measured (classical methods: it would be their own pulse).
  double classical_share = std::numeric_limits<double>::quiet_NaN();
  // The classical pulse's harmonic ratio at the model's rate: a network's output is smooth
  // whatever its input, so its own harmonics say little; in the skin's colour a lamp's flicker
  // is a bare sinusoid and a pulse is not. NaN: not measured.
  double classical_harmonic_ratio = std::numeric_limits<double>::quiet_NaN();
  // Colour video: the angle, in degrees, between how much each of R, G, B changes at the
  // reported rate (relative change) and how blood changes them (the PBV signature, de Haan &
  // van Leest 2014: 0.33, 0.77, 0.53). Haemoglobin absorbs green most and red least; a lamp's
  // flicker changes the channels by its tint, noise by about the same. NaN: one channel.
  double signature_deg = std::numeric_limits<double>::quiet_NaN();
};

/// The logistic's argument (before clipping to +-50).
double confidence_logit(const Evidence& evidence, const ConfidenceCoefficients& c) noexcept;

/// sigmoid(logit) times the face, window, band-edge, IPR and SNR-floor terms, in [0, 1];
/// 0 for a non-finite SNR.
double confidence(const Evidence& evidence, const ConfidenceCoefficients& c) noexcept;

}  // namespace rppg
