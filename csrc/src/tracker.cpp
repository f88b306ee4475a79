#include "rppg/tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "chain_detail.hpp"
#include "check.hpp"

namespace rppg {

namespace {
bool is_harmonic(double a, double b, double tol) {
  const double ratio = std::max(a, b) / std::max(std::min(a, b), 1e-9);
  return std::abs(ratio - 2.0) <= 2.0 * tol || std::abs(ratio - 3.0) <= 3.0 * tol;
}

// The same config with the band narrowed and the harmonic guard off (the neighbourhood or the
// candidate is the answer there). Throws like SpectralOptions for an empty band.
SpectralConfig narrowed(const SpectralConfig& c, double lo, double hi) {
  if (!(lo > 0 && lo < hi)) throw std::invalid_argument("band_hz: expected low < high");
  SpectralConfig local = c;
  local.f_lo_hz = lo;
  local.f_hi_hz = hi;
  local.half_harmonic_ratio = 1e9;
  local.missed_fundamental_ratio = 0.0;
  return local;
}
}  // namespace

void validate(const TrackerConfig& c) {
  using detail::num;
  if (!(c.search_halfwidth_bpm > 0)) {
    throw std::invalid_argument("search_halfwidth_bpm: expected > 0, got " +
                                num(c.search_halfwidth_bpm));
  }
  if (c.switch_persistence < 1 || c.median_length < 1) {
    throw std::invalid_argument("switch_persistence, median_length: expected >= 1");
  }
  if (!(c.prior_center_bpm > 0) || !(c.prior_log_sd > 0)) {
    throw std::invalid_argument("prior_center_bpm, prior_log_sd: expected > 0, got " +
                                num(c.prior_center_bpm) + ", " + num(c.prior_log_sd));
  }
  if (!(c.harmonic_weight >= 0)) {
    throw std::invalid_argument("harmonic_weight: expected >= 0, got " + num(c.harmonic_weight));
  }
}

HeartRateTracker::HeartRateTracker(const TrackerConfig& config, std::size_t max_samples)
    : config_(config) {
  validate(config_);
  history_.assign(static_cast<std::size_t>(config_.median_length), 0.0);
  scratch_.reserve(history_.size());
  if (max_samples > 0) {
    const std::size_t bins = detail::next_pow2(std::max<std::size_t>(2 * max_samples, 512)) / 2 + 1;
    freqs_.reserve(bins);
    power_.reserve(bins);
  }
}

void HeartRateTracker::reset() noexcept {
  history_n_ = history_next_ = 0;
  pending_n_ = 0;
}

double HeartRateTracker::tracked_bpm() const noexcept {
  if (history_n_ == 0) return std::numeric_limits<double>::quiet_NaN();
  scratch_.assign(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(history_n_));
  return detail::median_inplace(scratch_.data(), scratch_.size());
}

HeartRateResult HeartRateTracker::acquire(const double* pulse, std::size_t n,
                                          const SpectralConfig& spectral) {
  const TrackerConfig& o = config_;
  detail::spectrum_into(pulse, n, spectral, freqs_, power_);
  const std::vector<double>& f = freqs_;
  const std::vector<double>& p = power_;
  const double lo = spectral.f_lo_hz, hi = spectral.f_hi_hz;
  std::size_t first = f.size(), count = 0;
  bool any_power = false;
  for (std::size_t k = 0; k < f.size(); ++k) {
    if (f[k] >= lo && f[k] <= hi) {
      if (first == f.size()) first = k;
      ++count;
      any_power = any_power || p[k] > 0;
    }
  }
  if (count < 3 || !any_power) return detail::checked_estimate(pulse, n, spectral);
  // Candidates: local maxima of the in-band bins, scored by their power plus the (capped)
  // power at twice their frequency, times the prior. The in-band bins are contiguous.
  double best_score = -std::numeric_limits<double>::infinity();
  std::size_t best = first;
  bool any_peak = false;
  for (int pass = 0; pass < 2 && !any_peak; ++pass) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t k = first + i;
      bool peak = true;
      if (pass == 0) {
        if (i > 0) peak = peak && p[k] >= p[k - 1];
        if (i + 1 < count) peak = peak && p[k] >= p[k + 1];
      }
      if (!peak) continue;
      any_peak = true;
      // numpy.interp(2 f, f, p, right=0) on the uniform grid: 2 f[k] is exactly f[2k].
      const double harmonic = 2 * k < p.size() ? std::min(p[2 * k], p[k]) : 0.0;
      const double log_ratio = std::log(f[k] * 60.0 / o.prior_center_bpm);
      const double z = log_ratio / o.prior_log_sd;
      const double prior = std::exp(-0.5 * (z * z));
      const double score = (p[k] + o.harmonic_weight * harmonic) * prior;
      if (score > best_score) {
        best_score = score;
        best = k;
      }
    }
  }
  const double best_hz = f[best];
  // Refine on the continuous spectrum around the winner (harmonic choice already made).
  const double half = std::max(2.0 * (f[1] - f[0]), 0.1);
  HeartRateResult est;
  try {
    const SpectralConfig local =
        narrowed(spectral, std::max(lo, best_hz - half), std::min(hi, best_hz + half));
    est = detail::checked_estimate(pulse, n, local);
  } catch (const std::invalid_argument&) {  // the narrowed band needs a longer window
    return detail::checked_estimate(pulse, n, spectral);
  }
  const SignalQuality q = detail::checked_quality(pulse, n, est.bpm(), spectral);
  est.snr_db = q.snr_db;
  est.irrelevant_power_ratio = q.irrelevant_power_ratio;
  return est;
}

double HeartRateTracker::near_peak(const double* pulse, std::size_t n,
                                   const SpectralConfig& spectral, double prev) {
  const double hw = config_.search_halfwidth_bpm / 60.0;
  const double lo = std::max(spectral.f_lo_hz, prev / 60.0 - hw);
  const double hi = std::min(spectral.f_hi_hz, prev / 60.0 + hw);
  if (hi - lo < 0.05) return prev;
  try {
    return detail::checked_estimate(pulse, n, narrowed(spectral, lo, hi)).bpm();
  } catch (const std::invalid_argument&) {  // the narrowed band's low edge needs more samples
    return prev;
  }
}

TrackedEstimate HeartRateTracker::update(const double* pulse, std::size_t n,
                                         const SpectralConfig& spectral) {
  const TrackerConfig& o = config_;
  const HeartRateResult glob = acquire(pulse, n, spectral);
  const double glob_bpm = glob.bpm();
  double accepted = glob_bpm, snr = glob.snr_db, ipr = glob.irrelevant_power_ratio;
  bool jumped = false;
  if (history_n_ == 0) {
    pending_n_ = 0;
  } else {
    const double prev = tracked_bpm();
    if (std::abs(glob_bpm - prev) <= o.search_halfwidth_bpm) {
      pending_n_ = 0;
    } else {
      const double near = near_peak(pulse, n, spectral, prev);
      const SignalQuality near_q = detail::checked_quality(pulse, n, near, spectral);
      const bool harmonic = is_harmonic(glob_bpm, prev, o.harmonic_tolerance);
      std::size_t need = static_cast<std::size_t>(o.switch_persistence) * (harmonic ? 2 : 1);
      if (near_q.snr_db < o.lost_snr_db) need = 1;
      if (glob.snr_db >= near_q.snr_db + o.switch_margin_db) {
        // Evidence for a different far peak than the pending one: start over.
        if (pending_n_ > 0 && std::abs(glob_bpm - pending_last_) > o.search_halfwidth_bpm) {
          pending_n_ = 0;
        }
        ++pending_n_;
        pending_last_ = glob_bpm;
      } else {
        pending_n_ = 0;
      }
      if (pending_n_ >= need) {
        history_n_ = history_next_ = 0;  // a real change: do not drag the old rate along
        pending_n_ = 0;
        jumped = true;
      } else {
        accepted = near;
        snr = near_q.snr_db;
        ipr = near_q.irrelevant_power_ratio;
      }
    }
  }
  history_[history_next_] = accepted;
  history_next_ = (history_next_ + 1) % history_.size();
  history_n_ = std::min(history_n_ + 1, history_.size());
  const double med = tracked_bpm();
  TrackedEstimate r;
  r.bpm = std::abs(accepted - med) <= o.outlier_bpm ? accepted : med;
  r.window_bpm = accepted;
  r.raw_bpm = glob_bpm;
  r.snr_db = snr;
  r.irrelevant_power_ratio = ipr;
  r.jumped = jumped;
  return r;
}

}  // namespace rppg
