// Internal helpers of the pulse chain (tracker, analyzer, window builder): spectra into
// caller-owned buffers, and the checks rppg_sdk.dsp makes before it calls the core, so the chain
// refuses exactly what the Python chain it replaced refused.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "rppg/spectrum.hpp"
#include "fft.hpp"

namespace rppg::detail {

/// rppg_sdk.dsp._min_samples: one period of the band's low edge, and at least 8 samples.
inline void require_min_samples(std::size_t n, double fs_hz, double f_lo_hz, const char* who) {
  const double need = std::max(8.0, std::ceil(fs_hz / f_lo_hz));
  if (!(static_cast<double>(n) >= need)) {
    throw std::invalid_argument(std::string(who) + ": expected at least " +
                                std::to_string(static_cast<long long>(need)) +
                                " samples (one period of the band's low edge), got " +
                                std::to_string(n));
  }
}

/// Power spectrum of x into `freqs` / `power` (resized; no allocation once they have grown to
/// the longest window's size).
inline void spectrum_into(const double* x, std::size_t n, const SpectralConfig& c,
                          std::vector<double>& freqs, std::vector<double>& power) {
  require_min_samples(n, c.fs_hz, c.f_lo_hz, "signal");
  const std::size_t bins = effective_nfft(c, n) / 2 + 1;
  freqs.resize(bins);
  power.resize(bins);
  power_spectrum(x, n, c, freqs.data(), power.data());
}

inline HeartRateResult checked_estimate(const double* x, std::size_t n, const SpectralConfig& c) {
  require_min_samples(n, c.fs_hz, c.f_lo_hz, "signal");
  return estimate_heart_rate(x, n, c);
}

inline SignalQuality checked_quality(const double* x, std::size_t n, double bpm,
                                     const SpectralConfig& c) {
  if (!(bpm > 0)) throw std::invalid_argument("bpm: expected a positive number");
  require_min_samples(n, c.fs_hz, c.f_lo_hz, "signal");
  return signal_quality(x, n, bpm / 60.0, c);
}

/// numpy.median of v (averaging the two middle values of an even count); reorders v.
inline double median_inplace(double* v, std::size_t n) {
  if (n == 0) return std::nan("");
  const std::size_t mid = n / 2;
  std::nth_element(v, v + mid, v + n);
  const double hi = v[mid];
  if (n % 2 == 1) return hi;
  const double lo = *std::max_element(v, v + mid);
  return (lo + hi) / 2.0;
}

}  // namespace rppg::detail
