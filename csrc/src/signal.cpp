#include "rppg/signal.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "fft.hpp"
#include "scratch.hpp"

namespace rppg {

using detail::num;

// ------------------------------------------------------------------------------- resample

std::size_t resampled_length(const double* t, std::size_t n, double fs_hz) {
  RPPG_REQUIRE(n >= 2, "resample_uniform: expected at least 2 samples, got " + std::to_string(n));
  RPPG_REQUIRE(std::isfinite(fs_hz) && fs_hz > 0,
          "resample_uniform: expected fs_hz > 0, got " + num(fs_hz));
  const double span = t[n - 1] - t[0];
  RPPG_REQUIRE(std::isfinite(span) && span > 0,
          "resample_uniform: expected increasing timestamps, got a span of " + num(span) + " s");
  // Beyond 2^53 samples the count is no longer exact in a double (and soon not a size_t).
  RPPG_REQUIRE(span * fs_hz < 9007199254740992.0,
               "resample_uniform: expected a span shorter than 2^53 samples, got " + num(span) +
                   " s at " + num(fs_hz) + " Hz");
  // A tiny tolerance keeps the last sample when the span is an exact multiple of 1/fs.
  return static_cast<std::size_t>(std::floor(span * fs_hz + 1e-9)) + 1;
}

void resample_uniform(const double* t, const double* v, std::size_t n, std::size_t channels,
                      double fs_hz, double* grid_out, double* values_out) {
  const std::size_t m = resampled_length(t, n, fs_hz);
  for (std::size_t i = 1; i < n; ++i) {
    RPPG_REQUIRE(t[i] > t[i - 1], "resample_uniform: expected strictly increasing timestamps, got " +
                                 num(t[i]) + " after " + num(t[i - 1]));
  }
  detail::check_signal("resample_uniform: values", v, n * channels);
  std::size_t j = 0;  // t[j] <= tk < t[j + 1]
  for (std::size_t k = 0; k < m; ++k) {
    const double tk = std::min(t[0] + static_cast<double>(k) / fs_hz, t[n - 1]);
    while (j + 2 < n && t[j + 1] <= tk) ++j;
    const double w = (tk - t[j]) / (t[j + 1] - t[j]);
    grid_out[k] = t[0] + static_cast<double>(k) / fs_hz;
    for (std::size_t c = 0; c < channels; ++c) {
      const double a = v[j * channels + c];
      const double b = v[(j + 1) * channels + c];
      values_out[k * channels + c] = a + w * (b - a);
    }
  }
}

// ------------------------------------------------------------------------------- detrend

namespace {
// The detrended signal is z - (I + lambda^2 D'D)^-1 z, D the (n-2) x n second-difference
// operator. Solving that system directly fails for large lambda (its condition number is about
// 16 lambda^2: NaN by lambda ~ 1e8). The Woodbury identity gives the same result as
//   z - trend = D' (lambda^-2 I + D D')^-1 D z,
// whose matrix W = lambda^-2 I + D D' is at least as well conditioned for every lambda and
// tends to the exact linear-fit residual as lambda grows. W is symmetric positive definite and
// pentadiagonal (D D' has 6 on the diagonal, -4 and 1 beside it), factorised as L diag(d) L'
// with L's sub-diagonals e (k+1, k) and f (k+2, k). The factors depend only on (n, lambda),
// which a streaming caller repeats every update, so the last ones are kept per thread.
struct DetrendFactors {
  std::size_t m = 0;  // n - 2
  double lambda = 0.0;
  std::vector<double> inv_d, e, f;
};

DetrendFactors& detrend_cache() {
  thread_local DetrendFactors cache;
  return cache;
}

const DetrendFactors& detrend_factors(std::size_t m, double lambda) {
  DetrendFactors& cache = detrend_cache();
  if (cache.m == m && cache.lambda == lambda) return cache;
  const double a0 = 6.0 + 1.0 / (lambda * lambda), a1 = -4.0, a2 = 1.0;
  // Into the cache's own vectors: they keep their capacity, so a new length allocates only when
  // it is the longest yet.
  cache.m = 0;  // invalid until filled
  std::vector<double>& d = cache.inv_d;
  std::vector<double>& e = cache.e;
  std::vector<double>& f = cache.f;
  d.assign(m, 0.0);
  e.assign(m, 0.0);
  f.assign(m, 0.0);
  for (std::size_t k = 0; k < m; ++k) {
    double dk = a0;
    if (k >= 1) dk -= e[k - 1] * e[k - 1] * d[k - 1];
    if (k >= 2) dk -= f[k - 2] * f[k - 2] * d[k - 2];
    d[k] = dk;
    if (k + 1 < m) {
      double ek = a1;
      if (k >= 1) ek -= f[k - 1] * e[k - 1] * d[k - 1];
      e[k] = ek / dk;
    }
    if (k + 2 < m) f[k] = a2 / dk;
  }
  for (double& v : d) v = 1.0 / v;
  cache.m = m;
  cache.lambda = lambda;
  return cache;
}
}  // namespace

void detrend(const double* x, std::size_t n, double lambda, double* out) {
  RPPG_REQUIRE(n >= 3, "detrend: expected at least 3 samples, got " + std::to_string(n));
  // Below 1e-6, 1 / lambda^2 overflows the factorisation to NaN (and such a detrend would
  // remove nearly all of the signal anyway).
  RPPG_REQUIRE(std::isfinite(lambda) && lambda >= 1e-6,
               "detrend: expected a finite lambda >= 1e-6, got " + num(lambda));
  detail::check_signal("detrend: x", x, n);
  const std::size_t m = n - 2;
  const DetrendFactors& F = detrend_factors(m, lambda);
  const std::vector<double>&inv_d = F.inv_d, &e = F.e, &f = F.f;
  // y = D z, then solve W y' = y in place (forward, diagonal, backward sweeps).
  auto y_lease = detail::scratch<detail::Scratch::DetrendY>();
  std::vector<double>& y = *y_lease;
  y.resize(m);
  for (std::size_t k = 0; k < m; ++k) y[k] = x[k] - 2.0 * x[k + 1] + x[k + 2];
  for (std::size_t k = 0; k < m; ++k) {
    if (k >= 1) y[k] -= e[k - 1] * y[k - 1];
    if (k >= 2) y[k] -= f[k - 2] * y[k - 2];
  }
  for (std::size_t k = 0; k < m; ++k) y[k] *= inv_d[k];
  for (std::size_t k = m; k-- > 0;) {
    if (k + 1 < m) y[k] -= e[k] * y[k + 1];
    if (k + 2 < m) y[k] -= f[k] * y[k + 2];
  }
  // out = D' y: column j of D holds 1, -2, 1 in rows j - 2, j - 1, j.
  for (std::size_t j = 0; j < n; ++j) {
    double v = 0.0;
    if (j < m) v += y[j];
    if (j >= 1 && j - 1 < m) v -= 2.0 * y[j - 1];
    if (j >= 2) v += y[j - 2];
    out[j] = v;
  }
  // A one-off long signal's factors are not kept resident in the thread.
  if (m > detail::kScratchKeep) detrend_cache() = DetrendFactors{};
}

double detrend_lambda_for_cutoff(double fs_hz, double cutoff_hz) {
  RPPG_REQUIRE(std::isfinite(fs_hz) && fs_hz > 0 && std::isfinite(cutoff_hz) && cutoff_hz > 0 &&
              cutoff_hz < fs_hz / 2,
          "detrend_lambda_for_cutoff: expected 0 < cutoff_hz < fs_hz / 2, got cutoff " +
              num(cutoff_hz) + " Hz at " + num(fs_hz) + " Hz");
  const double wc = 2.0 * std::acos(-1.0) * cutoff_hz / fs_hz;
  // 2 - 2 cos(wc), written without the cancellation that makes it 0 (lambda inf) for tiny wc.
  const double half_sin = std::sin(0.5 * wc);
  return 1.0 / (4.0 * half_sin * half_sin);
}

std::vector<double> detrend(const std::vector<double>& x, double lambda) {
  std::vector<double> out(x.size());
  detrend(x.data(), x.size(), lambda, out.data());
  return out;
}

// ------------------------------------------------------------------------------- band-pass

void bandpass(const double* x, std::size_t n, double fs_hz, double f_lo, double f_hi,
              double taper_hz, double* out) {
  RPPG_REQUIRE(n >= 2, "bandpass: expected at least 2 samples, got " + std::to_string(n));
  RPPG_REQUIRE(std::isfinite(fs_hz) && fs_hz > 0, "bandpass: expected fs_hz > 0, got " + num(fs_hz));
  RPPG_REQUIRE(f_lo > 0 && f_lo < f_hi && f_hi < fs_hz / 2,
          "bandpass: expected 0 < f_lo < f_hi < fs/2 = " + num(fs_hz / 2) + ", got (" + num(f_lo) +
              ", " + num(f_hi) + ")");
  RPPG_REQUIRE(std::isfinite(taper_hz) && taper_hz >= 0,
          "bandpass: expected taper_hz >= 0, got " + num(taper_hz));
  detail::check_signal("bandpass: x", x, n);
  // Mirror-pad by up to n - 1 samples each side: the padded signal is continuous and the FFT's
  // circular wrap joins two mirrored ends, so the edges ring far less than with zero padding.
  const std::size_t pad = n - 1;
  const std::size_t len = n + 2 * pad;
  const std::size_t nfft = detail::next_fast_length(len);
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  auto buf_lease = detail::scratch<detail::Scratch::BandpassIn>();
  std::vector<double>& buf = *buf_lease;
  buf.assign(nfft, 0.0);
  for (std::size_t i = 0; i < len; ++i) {
    // Index into x of padded sample i (reflection without repeating the edge sample).
    std::ptrdiff_t k = static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(pad);
    if (k < 0) k = -k;
    const auto last = static_cast<std::ptrdiff_t>(n - 1);
    if (k > last) k = 2 * last - k;
    buf[i] = x[k] - mean;
  }
  // The remainder up to nfft stays 0 (around the mean): it sits between the two mirrored
  // tails, far from the samples we keep.
  auto spec_lease = detail::complex_scratch<detail::ComplexScratch::BandpassFft>();
  std::vector<std::complex<double>>& spec = *spec_lease;
  detail::rfft(buf, spec);
  const double df = fs_hz / static_cast<double>(nfft);
  const double pi = std::acos(-1.0);
  for (std::size_t k = 0; k < spec.size(); ++k) {
    const double f = static_cast<double>(k) * df;
    double g;
    if (f >= f_lo && f <= f_hi) {
      g = 1.0;
    } else if (taper_hz > 0 && f < f_lo && f > f_lo - taper_hz) {
      g = 0.5 * (1.0 + std::cos(pi * (f_lo - f) / taper_hz));
    } else if (taper_hz > 0 && f > f_hi && f < f_hi + taper_hz) {
      g = 0.5 * (1.0 + std::cos(pi * (f - f_hi) / taper_hz));
    } else {
      g = 0.0;
    }
    spec[k] *= g;
  }
  auto y_lease = detail::scratch<detail::Scratch::BandpassOut>();
  std::vector<double>& y = *y_lease;
  detail::irfft(spec, nfft, y);
  for (std::size_t i = 0; i < n; ++i) out[i] = y[pad + i];
}

std::vector<double> bandpass(const std::vector<double>& x, double fs_hz, double f_lo, double f_hi,
                             double taper_hz) {
  std::vector<double> out(x.size());
  bandpass(x.data(), x.size(), fs_hz, f_lo, f_hi, taper_hz, out.data());
  return out;
}

}  // namespace rppg
