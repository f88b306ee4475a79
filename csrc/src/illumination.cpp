#include "rppg/illumination.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "chain_detail.hpp"
#include "check.hpp"
#include "rppg/signal.hpp"

namespace rppg {

namespace {
// Below this mean (out of 255) a region is too dark to tell light from sensor noise.
constexpr double kMinMean = 2.0;
constexpr double kTaperHz = 0.1;  // rppg_sdk.dsp.bandpass's default

double column_mean(const double* x, std::size_t n, std::size_t channels, std::size_t c) {
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += x[i * channels + c];
  return s / static_cast<double>(n);
}
}  // namespace

std::size_t remove_steps(const double* x, std::size_t n, std::size_t channels,
                         const unsigned char* known, double* out, IlluminationWorkspace& ws) {
  if (n < 3 || channels == 0) {
    throw std::invalid_argument("traces: expected (T, C) with T >= 3, got (" + std::to_string(n) +
                                ", " + std::to_string(channels) + ")");
  }
  const std::size_t m = n - 1;
  // d: the log changes (m x C); a: a column's scratch for medians; c: per-channel med, sigma.
  ws.d.resize(m * channels);
  ws.a.resize(m);
  ws.c.resize(2 * channels);
  ws.b.resize(n * channels);
  double* lg = ws.b.data();
  for (std::size_t i = 0; i < n * channels; ++i) lg[i] = std::log(std::max(x[i], kMinMean));
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t c = 0; c < channels; ++c) {
      ws.d[i * channels + c] = lg[(i + 1) * channels + c] - lg[i * channels + c];
    }
  }
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < m; ++i) ws.a[i] = ws.d[i * channels + c];
    const double med = detail::median_inplace(ws.a.data(), m);
    for (std::size_t i = 0; i < m; ++i) ws.a[i] = std::abs(ws.d[i * channels + c] - med);
    ws.c[2 * c] = med;
    ws.c[2 * c + 1] = 1.4826 * detail::median_inplace(ws.a.data(), m);
  }
  std::size_t steps = 0;
  for (std::size_t i = 0; i < m; ++i) {
    bool jump = known != nullptr && known[i + 1] != 0;
    for (std::size_t c = 0; c < channels && !jump; ++c) {
      const double med = ws.c[2 * c], sigma = ws.c[2 * c + 1];
      jump = std::abs(ws.d[i * channels + c] - med) > kStepThresholdSigma * sigma + 1e-12;
    }
    if (jump) {
      ++steps;
      for (std::size_t c = 0; c < channels; ++c) ws.d[i * channels + c] = ws.c[2 * c];
    }
  }
  // Rebuild from the changes: cumulative sum, shifted to the log's mean, then scaled so each
  // channel keeps its mean.
  for (std::size_t c = 0; c < channels; ++c) {
    const double x_mean = column_mean(x, n, channels, c);
    double acc = 0.0, diff_sum = 0.0;
    ws.a.resize(n);
    ws.a[0] = 0.0;
    for (std::size_t i = 1; i < n; ++i) {
      acc += ws.d[(i - 1) * channels + c];
      ws.a[i] = acc;
    }
    for (std::size_t i = 0; i < n; ++i) diff_sum += lg[i * channels + c] - ws.a[i];
    const double shift = diff_sum / static_cast<double>(n);
    double exp_sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      ws.a[i] = std::exp(ws.a[i] + shift);
      exp_sum += ws.a[i];
    }
    const double scale = x_mean / (exp_sum / static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i) out[i * channels + c] = ws.a[i] * scale;
  }
  return steps;
}

void remove_reference(const double* s, const double* r, std::size_t n, std::size_t channels,
                      double fs_hz, double f_lo_hz, double f_hi_hz, double* out,
                      IlluminationWorkspace& ws) {
  detail::check_signal("skin", s, n * channels);
  detail::check_signal("reference", r, n * channels);
  detail::require_min_samples(n, fs_hz, f_lo_hz, "signal");
  const std::size_t C = channels;
  // a: skin relative (n x C), b: reference relative, c: skin band-passed, d: reference bp.
  ws.a.resize(n * C);
  ws.b.resize(n * C);
  ws.c.resize(n * C);
  ws.d.resize(n * C);
  ws.freqs.resize(n);
  ws.power.resize(n);
  // Per-channel means (skin, then the relative reference's) in the workspace.
  ws.e.resize(2 * C);
  double* mean_s = ws.e.data();
  double* mean_r_rel = ws.e.data() + C;
  for (std::size_t c = 0; c < C; ++c) {
    mean_s[c] = std::max(column_mean(s, n, C, c), kMinMean);
    const double mr = std::max(column_mean(r, n, C, c), kMinMean);
    for (std::size_t i = 0; i < n; ++i) {
      ws.a[i * C + c] = s[i * C + c] / mean_s[c] - 1.0;
      ws.b[i * C + c] = r[i * C + c] / mr - 1.0;
    }
  }
  bool any = false;
  for (std::size_t c = 0; c < C; ++c) {
    for (int which = 0; which < 2; ++which) {
      const std::vector<double>& rel = which == 0 ? ws.a : ws.b;
      std::vector<double>& bp = which == 0 ? ws.c : ws.d;
      for (std::size_t i = 0; i < n; ++i) ws.freqs[i] = rel[i * C + c];
      bandpass(ws.freqs.data(), n, fs_hz, f_lo_hz, f_hi_hz, kTaperHz, ws.power.data());
      for (std::size_t i = 0; i < n; ++i) {
        bp[i * C + c] = ws.power[i];
        if (which == 1 && std::abs(ws.power[i]) > 0) any = true;
      }
    }
  }
  if (!any) {
    std::copy(s, s + n * C, out);
    return;
  }
  // Minimum-norm least squares r_bp beta = s_bp with numpy.linalg.lstsq's cut-off (singular
  // values below eps * max(n, C) of the largest are zero: a grey surround's channels are nearly
  // one signal). Householder QR of the tall r_bp in place (its reflectors applied to s_bp too),
  // then the SVD of the small R: the same singular values and solution, and for C <= 3 no heap
  // allocation (fixed-size matrices).
  double* A = ws.d.data();  // r_bp, n x C row-major (destroyed)
  double* B = ws.c.data();  // s_bp, n x C row-major (destroyed)
  double* v = ws.freqs.data();  // a reflector, n
  for (std::size_t j = 0; j < C; ++j) {
    double norm2 = 0.0;
    for (std::size_t i = j; i < n; ++i) norm2 += A[i * C + j] * A[i * C + j];
    const double norm = std::sqrt(norm2);
    if (norm == 0.0) continue;
    const double alpha = A[j * C + j] > 0 ? -norm : norm;
    double vnorm2 = 0.0;
    for (std::size_t i = j; i < n; ++i) {
      v[i] = A[i * C + j] - (i == j ? alpha : 0.0);
      vnorm2 += v[i] * v[i];
    }
    if (vnorm2 == 0.0) continue;
    for (double* M : {A, B}) {
      for (std::size_t k = (M == A ? j : 0); k < C; ++k) {
        double dot = 0.0;
        for (std::size_t i = j; i < n; ++i) dot += v[i] * M[i * C + k];
        const double g = 2.0 * dot / vnorm2;
        for (std::size_t i = j; i < n; ++i) M[i * C + k] -= g * v[i];
      }
    }
  }
  const double threshold =
      std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(n, C));
  using Small = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, 3, 3>;
  using Big = Eigen::MatrixXd;
  auto solve = [&](auto tag) {
    using M = decltype(tag);
    const auto c = static_cast<Eigen::Index>(C);
    M R = M::Zero(c, c), QtB(c, c);
    for (std::size_t r = 0; r < C; ++r) {
      for (std::size_t k = 0; k < C; ++k) {
        if (k >= r) R(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)) = A[r * C + k];
        QtB(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)) = B[r * C + k];
      }
    }
    Eigen::JacobiSVD<M> svd(R, Eigen::ComputeFullU | Eigen::ComputeFullV);
    svd.setThreshold(threshold);
    const M beta = svd.solve(QtB);  // C_ref x C_skin
    for (std::size_t r = 0; r < C; ++r) {
      for (std::size_t k = 0; k < C; ++k) {
        ws.d[r * C + k] = beta(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k));
      }
    }
  };
  if (C <= 3) {
    solve(Small());
  } else {
    solve(Big());
  }
  const double* beta = ws.d.data();  // C x C row-major, over r_bp's first rows
  for (std::size_t c = 0; c < C; ++c) {
    mean_r_rel[c] = column_mean(ws.b.data(), n, C, c);
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < C; ++c) {
      double fit = 0.0;
      for (std::size_t k = 0; k < C; ++k) {
        fit += (ws.b[i * C + k] - mean_r_rel[k]) * beta[k * C + c];
      }
      out[i * C + c] = (1.0 + ws.a[i * C + c] - fit) * mean_s[c];
    }
  }
}

double power_share_at(const double* x, std::size_t n, std::size_t channels, double bpm,
                      const SpectralConfig& sc, bool relative, IlluminationWorkspace& ws) {
  const double lo = sc.f_lo_hz, hi = sc.f_hi_hz;
  const double hw = sc.snr_halfwidth_hz;
  const double f0 = bpm / 60.0;
  double best = 0.0;
  ws.a.resize(n);
  for (std::size_t c = 0; c < channels; ++c) {
    const double mean = column_mean(x, n, channels, c);
    const double div = relative ? std::max(mean, kMinMean) : 1.0;
    const double off = relative ? 1.0 : 0.0;
    for (std::size_t i = 0; i < n; ++i) ws.a[i] = relative ? x[i * channels + c] / div - off
                                                           : x[i * channels + c];
    const double m2 = column_mean(ws.a.data(), n, 1, 0);
    bool flat = true;
    for (std::size_t i = 0; i < n; ++i) {
      ws.a[i] -= m2;
      if (std::abs(ws.a[i]) > 0) flat = false;
    }
    if (flat) continue;
    detail::spectrum_into(ws.a.data(), n, sc, ws.freqs, ws.power);
    double total = 0.0, near = 0.0;
    for (std::size_t k = 0; k < ws.freqs.size(); ++k) {
      const double f = ws.freqs[k];
      if (!(f >= lo && f <= hi)) continue;
      total += ws.power[k];
      if (std::abs(f - f0) <= hw || std::abs(f - 2.0 * f0) <= hw) near += ws.power[k];
    }
    if (total <= 0.0) continue;
    best = std::max(best, near / total);
  }
  return best;
}

}  // namespace rppg
