#include "rppg/confidence.hpp"

#include <algorithm>
#include <cmath>

namespace rppg {

namespace {
// SNR beyond this range carries no more information; clipping keeps the logistic well behaved.
constexpr double kSnrLoDb = -15.0, kSnrHiDb = 15.0;
// A pulse's typical second-harmonic to fundamental power ratio (assumed without evidence).
constexpr double kTypicalPulseRatio = 0.1;

// Same argument order as Python's min(max(x, lo), hi), so a NaN passes through the same way.
double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

// Decades from a pulse's typical harmonic ratio (0 without evidence): flicker lies far below
// it, broadband noise above it.
double harmonic_distance(double harmonic_ratio) {
  const double ratio = std::isfinite(harmonic_ratio) ? harmonic_ratio : kTypicalPulseRatio;
  return std::min(std::abs(std::log10(std::max(ratio, 1e-3) / kTypicalPulseRatio)), 3.0);
}
}  // namespace

double confidence_logit(const Evidence& x, const ConfidenceCoefficients& c) noexcept {
  const double snr = clip(x.snr_db, kSnrLoDb, kSnrHiDb);
  const double ipr = clip(x.irrelevant_power_ratio, 0.0, 1.0);
  const double ref = clip(x.reference_share, 0.0, 1.0);
  const double harm = harmonic_distance(x.harmonic_ratio);
  const double motion = clip(x.motion_share, 0.0, 1.0);
  const double moves = static_cast<double>(std::max(0, x.box_moves));
  // Not measured (NaN) adds nothing: the methods that never measure it have no coefficient.
  const double classical =
      std::isfinite(x.classical_share) ? clip(x.classical_share, 0.0, 1.0) : 0.0;
  return c.intercept + c.snr_coef * snr + c.ipr_coef * ipr + c.reference_coef * ref +
         c.move_coef * moves + c.harmonic_coef * harm + c.motion_coef * motion +
         c.classical_coef * classical +
         c.classical_harmonic_coef * harmonic_distance(x.classical_harmonic_ratio) +
         c.signature_coef * (std::isfinite(x.signature_deg) ? clip(x.signature_deg, 0.0, 90.0)
                                                            : 0.0);
}

double confidence(const Evidence& x, const ConfidenceCoefficients& c) noexcept {
  if (!std::isfinite(x.snr_db)) return 0.0;
  const double z = std::max(-50.0, std::min(50.0, confidence_logit(x, c)));
  const double p = 1.0 / (1.0 + std::exp(-z));
  const double face_term = clip(x.face_fraction, 0.0, 1.0);
  // Squared: a half window's coarse spectrum lets noise peaks reach a pulse's SNR.
  const double window_term = std::pow(std::min(1.0, std::max(0.0, x.window_fraction)), 2);
  const double edge_term = std::min(1.0, std::max(0.0, x.edge_distance_bpm / c.edge_margin_bpm));
  const double ipr = clip(x.irrelevant_power_ratio, 0.0, 1.0);
  const double ipr_term = ipr <= c.ipr_knee ? 1.0 : (1.0 - ipr) / (1.0 - c.ipr_knee);
  const double snr_term = std::min(1.0, std::max(0.0, (x.snr_db - c.snr_floor_db) / 3.0));
  const double total = p * face_term * window_term * edge_term * ipr_term * snr_term;
  return std::min(1.0, std::max(0.0, total));
}

}  // namespace rppg
