// Heart rate across windows: stay on the pulse, resist harmonic jumps, follow real changes
// (rppg_sdk.tracking documents the method: a harmonic-sum score times a log-normal prior on heart
// rate picks the whole band's candidate; a far candidate replaces the tracked rate only after
// persistent SNR evidence; a median over recent estimates removes one-window outliers).
//
// Threading: one thread per instance. Allocation: none after the first updates (the spectrum
// buffers keep their size; the core's spectra use per-thread scratch).
#pragma once

#include <cstddef>
#include <vector>

#include "rppg/spectrum.hpp"

namespace rppg {

struct TrackerConfig {
  double search_halfwidth_bpm = 10.0;  // neighbourhood of the tracked rate followed at once
  double switch_margin_db = 2.0;       // SNR a far peak needs over the near one
  int switch_persistence = 3;          // windows of such evidence before a jump
  double harmonic_tolerance = 0.1;     // relative tolerance for x2 / x3 (twice the persistence)
  double lost_snr_db = -6.0;           // near peak below this SNR: re-acquire at once
  int median_length = 3;               // estimates the outlier median runs over
  double outlier_bpm = 3.0;            // further than this from the median: report the median
  double prior_center_bpm = 75.0;      // log-normal prior on heart rate: median
  double prior_log_sd = 0.45;          // and log standard deviation (inf: off)
  double harmonic_weight = 0.5;        // weight of the power at 2 f in a candidate's score
};

/// Throws std::invalid_argument naming the bad field.
void validate(const TrackerConfig& config);

struct TrackedEstimate {
  double bpm = 0.0;         // reported (tracked, outlier-checked)
  double window_bpm = 0.0;  // this window's accepted estimate before the outlier check
  double raw_bpm = 0.0;     // the whole band's estimate (what an untracked reader would say)
  double snr_db = 0.0;      // quality around window_bpm
  double irrelevant_power_ratio = 1.0;
  bool jumped = false;      // moved to a far peak on this window
};

class HeartRateTracker {
 public:
  /// `max_samples`: the longest pulse window update() will see (sizes the spectrum buffers).
  explicit HeartRateTracker(const TrackerConfig& config = {}, std::size_t max_samples = 0);

  /// One window's pulse (uniform at spectral.fs_hz, band spectral.f_lo_hz..f_hi_hz).
  TrackedEstimate update(const double* pulse, std::size_t n, const SpectralConfig& spectral);

  /// Forget the tracked rate (a new subject, or a long gap).
  void reset() noexcept;

  bool has_tracked() const noexcept { return history_n_ > 0; }
  /// Median of the recent accepted estimates; NaN before the first.
  double tracked_bpm() const noexcept;
  const TrackerConfig& config() const noexcept { return config_; }

 private:
  HeartRateResult acquire(const double* pulse, std::size_t n, const SpectralConfig& spectral);
  double near_peak(const double* pulse, std::size_t n, const SpectralConfig& spectral,
                   double prev_bpm);

  TrackerConfig config_;
  std::vector<double> history_;  // ring of the last median_length accepted estimates
  std::size_t history_n_ = 0, history_next_ = 0;
  std::size_t pending_n_ = 0;    // consecutive windows of evidence for a far peak
  double pending_last_ = 0.0;
  mutable std::vector<double> scratch_;
  std::vector<double> freqs_, power_;
};

}  // namespace rppg
