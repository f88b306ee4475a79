#include "rppg/spectrum.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "fft.hpp"
#include "scratch.hpp"
#include "rppg/signal.hpp"

namespace rppg {

namespace {

constexpr double kSnrFloorDb = -100.0;
constexpr double kSnrCeilDb = 100.0;
// Longest FFT accepted (128 MiB of doubles): far beyond any heart-rate window; larger requests
// are mistakes, and the next fast length of a value near SIZE_MAX does not exist.
constexpr std::size_t kMaxNfft = std::size_t{1} << 24;

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::size_t segment_length(const SpectralConfig& c, std::size_t n) {
  return c.welch_segment == 0 ? n : std::min(c.welch_segment, n);
}

// Periodic Hann (as scipy.signal.get_window("hann", L), fftbins=True) or all ones; the last one
// is kept per thread since a stream asks for the same length every update.
const std::vector<double>& window(std::size_t len, bool hann) {
  thread_local std::vector<double> w;
  thread_local bool w_hann = false;
  if (w.size() == len && w_hann == hann) return w;
  w.assign(len, 1.0);
  w_hann = hann;
  if (hann) {
    const double pi = std::acos(-1.0);
    for (std::size_t i = 0; i < len; ++i) {
      w[i] = 0.5 - 0.5 * std::cos(2.0 * pi * static_cast<double>(i) / static_cast<double>(len));
    }
  }
  return w;
}

// The signal cut into mean-removed, windowed segments, ready for FFTs or direct DTFT sums.
class Spectrogram {
 public:
  // The signal and its segments live in the thread's scratch buffers (one Spectrogram at a time
  // per thread): a stream's repeated updates allocate nothing once they have grown.
  Spectrogram(const double* x, std::size_t n, const SpectralConfig& c)
      : segments_lease_(detail::scratch<detail::Scratch::SpecSegments>()),
        power_lease_(detail::scratch<detail::Scratch::SpecPower>()),
        segments_(*segments_lease_),
        power_(*power_lease_),
        fs_(c.fs_hz),
        len_(segment_length(c, n)),
        nfft_(effective_nfft(c, n)) {
    auto y_lease = detail::scratch<detail::Scratch::SpecSignal>();
    std::vector<double>& y = *y_lease;
    y.assign(x, x + n);
    double mean = 0.0;
    for (double v : y) mean += v;
    mean /= static_cast<double>(n);
    double peak = 0.0;
    for (double& v : y) {
      v -= mean;
      peak = std::max(peak, std::abs(v));
    }
    // Scale to a peak near 1 by a power of two (exact): squared sums of very large or very small
    // signals would overflow or underflow. Heart rate and quality are ratios and do not see the
    // scale; power() puts it back.
    if (peak > 0) {
      std::frexp(peak, &exponent_);
      for (double& v : y) v = std::ldexp(v, -exponent_);
    }
    const double lambda = c.detrend_lambda < 0
                              ? detrend_lambda_for_cutoff(c.fs_hz, 0.5 * c.f_lo_hz)
                              : c.detrend_lambda;
    if (lambda > 0 && n >= 3) {
      auto d_lease = detail::scratch<detail::Scratch::SpecDetrended>();
      std::vector<double>& d = *d_lease;
      d.resize(n);
      detrend(y.data(), n, lambda, d.data());
      y.swap(d);
    }

    const std::vector<double>& w = window(len_, c.hann);
    double w2 = 0.0;
    for (double v : w) w2 += v * v;
    const std::size_t step = std::max<std::size_t>(1, len_ / 2);
    nseg_ = c.welch_segment == 0 ? 1 : 1 + (n - len_) / step;
    // Density scaling, one-sided (x2 away from DC and Nyquist), averaged over segments.
    scale_ = 1.0 / (fs_ * w2 * static_cast<double>(nseg_));
    segments_.resize(nseg_ * len_);
    for (std::size_t s = 0; s < nseg_; ++s) {
      const double* seg = y.data() + s * step;
      double m = 0.0;
      for (std::size_t i = 0; i < len_; ++i) m += seg[i];
      m /= static_cast<double>(len_);
      for (std::size_t i = 0; i < len_; ++i) segments_[s * len_ + i] = (seg[i] - m) * w[i];
    }
  }

  std::size_t nfft() const { return nfft_; }
  std::size_t bins() const { return nfft_ / 2 + 1; }
  double df() const { return fs_ / static_cast<double>(nfft_); }

  // The power of each bin (valid while this Spectrogram lives).
  const std::vector<double>& power() const {
    std::vector<double>& p = power_;
    auto buf_lease = detail::scratch<detail::Scratch::SpecFftIn>();
    std::vector<double>& buf = *buf_lease;
    auto spec_lease = detail::complex_scratch<detail::ComplexScratch::SpecFft>();
    std::vector<std::complex<double>>& spec = *spec_lease;
    p.assign(bins(), 0.0);
    buf.resize(nfft_);
    for (std::size_t s = 0; s < nseg_; ++s) {
      std::copy(segments_.begin() + static_cast<std::ptrdiff_t>(s * len_),
                segments_.begin() + static_cast<std::ptrdiff_t>((s + 1) * len_), buf.begin());
      std::fill(buf.begin() + static_cast<std::ptrdiff_t>(len_), buf.end(), 0.0);
      detail::rfft(buf, spec);
      for (std::size_t k = 0; k < p.size(); ++k) p[k] += std::norm(spec[k]);
    }
    for (std::size_t k = 0; k < p.size(); ++k) p[k] *= one_sided(k) * scale_;
    return p;
  }

  // Power in the signal's own units (power() is of the rescaled signal).
  double unscale(double p) const { return std::ldexp(p, 2 * exponent_); }

  // The continuous spectrum at any frequency: the segments' DTFT, same scaling as power().
  double power_at(double f_hz) const {
    const double theta = -2.0 * std::acos(-1.0) * f_hz / fs_;
    const std::complex<double> step(std::cos(theta), std::sin(theta));
    double acc = 0.0;
    for (std::size_t s = 0; s < nseg_; ++s) {
      const double* seg = segments_.data() + s * len_;
      std::complex<double> z(1.0, 0.0), sum(0.0, 0.0);
      for (std::size_t i = 0; i < len_; ++i) {
        sum += seg[i] * z;
        z *= step;
      }
      acc += std::norm(sum);
    }
    const bool edge = f_hz <= 0.0 || f_hz >= fs_ / 2.0;
    return acc * (edge ? 1.0 : 2.0) * scale_;
  }

 private:
  double one_sided(std::size_t k) const {
    const bool nyquist = (nfft_ % 2 == 0) && k == nfft_ / 2;
    return (k == 0 || nyquist) ? 1.0 : 2.0;
  }

  // The thread's scratch, held while this Spectrogram lives (power() returns power_).
  detail::Lease<std::vector<double>> segments_lease_, power_lease_;
  std::vector<double>& segments_;  // nseg_ x len_, row-major
  std::vector<double>& power_;
  double fs_;
  std::size_t len_, nfft_;
  double scale_ = 1.0;
  int exponent_ = 0;  // the signal was scaled by 2^-exponent_
  std::size_t nseg_ = 1;
};

struct Peak {
  double f_hz = 0.0;
  double power = 0.0;
  bool found = false;
};

// Bins [k_lo, k_hi] covering [f_lo, f_hi] (clamped to the spectrum).
std::pair<std::size_t, std::size_t> bin_range(double f_lo, double f_hi, double df, std::size_t bins) {
  const auto lo = static_cast<std::size_t>(std::max(0.0, std::ceil(f_lo / df - 1e-9)));
  const auto hi = static_cast<std::size_t>(
      std::min(static_cast<double>(bins - 1), std::floor(f_hi / df + 1e-9)));
  return {lo, hi};
}

// Refines bin k's peak on the continuous spectrum, staying inside [f_min, f_max].
Peak refine(const Spectrogram& sg, const std::vector<double>& p, std::size_t k, double f_min,
            double f_max) {
  const double df = sg.df();
  double f = static_cast<double>(k) * df;
  if (k > 0 && k + 1 < p.size()) {
    // Parabola through the log-power of three bins: exact for a Gaussian-shaped main lobe, a
    // good start for a Hann one.
    const double a = std::log(std::max(p[k - 1], 1e-300));
    const double b = std::log(std::max(p[k], 1e-300));
    const double c = std::log(std::max(p[k + 1], 1e-300));
    const double den = a - 2.0 * b + c;
    if (den < 0) f += std::clamp(0.5 * (a - c) / den, -0.5, 0.5) * df;
  }
  // Then parabolas through the DTFT at shrinking spacings: each round gains about two digits
  // (the log-parabola start is already within a few percent of a bin).
  for (double delta : {df / 8.0, df / 64.0}) {
    const double pm = sg.power_at(f - delta), p0 = sg.power_at(f), pp = sg.power_at(f + delta);
    const double den = pm - 2.0 * p0 + pp;
    if (den < 0) f += std::clamp(0.5 * (pm - pp) / den, -2.0, 2.0) * delta;
  }
  f = std::clamp(f, f_min, f_max);
  return {f, sg.power_at(f), true};
}

// Strongest local maximum of the bins within [f_lo, f_hi], refined; not found if none.
Peak local_peak(const Spectrogram& sg, const std::vector<double>& p, double f_lo, double f_hi,
                bool require_local_max) {
  if (f_hi < f_lo) return {};
  auto [lo, hi] = bin_range(f_lo, f_hi, sg.df(), p.size());
  if (lo > hi) return {};
  std::size_t best = p.size();
  for (std::size_t k = lo; k <= hi; ++k) {
    if (require_local_max) {
      const bool left = k == 0 || p[k] > p[k - 1];
      const bool right = k + 1 >= p.size() || p[k] >= p[k + 1];
      if (!left || !right) continue;
    }
    if (best == p.size() || p[k] > p[best]) best = k;
  }
  if (best == p.size()) return {};
  return refine(sg, p, best, f_lo, f_hi);
}

// Largest bin power that is a local maximum within [f_lo, f_hi]; 0 if none. A cheap screen
// before refining a harmonic partner.
double best_local_bin(const std::vector<double>& p, double df, double f_lo, double f_hi) {
  if (f_hi < f_lo) return 0.0;
  auto [lo, hi] = bin_range(f_lo, f_hi, df, p.size());
  double best = 0.0;
  for (std::size_t k = std::max<std::size_t>(lo, 1); k <= hi && k + 1 < p.size(); ++k) {
    if (p[k] > p[k - 1] && p[k] >= p[k + 1]) best = std::max(best, p[k]);
  }
  return best;
}

SignalQuality quality_from(const std::vector<double>& p, double df, double f0,
                           const SpectralConfig& c) {
  double total = 0.0, in_band = 0.0, signal = 0.0, noise = 0.0;
  const double hw = c.snr_halfwidth_hz;
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double f = static_cast<double>(k) * df;
    total += p[k];
    const bool band = f >= c.f_lo_hz && f <= c.f_hi_hz;
    const bool sig = std::abs(f - f0) <= hw || std::abs(f - 2.0 * f0) <= hw;
    if (band) in_band += p[k];
    if (sig) {
      signal += p[k];
    } else if (band) {
      noise += p[k];
    }
  }
  SignalQuality q;
  q.irrelevant_power_ratio = total > 0 ? std::clamp((total - in_band) / total, 0.0, 1.0) : 1.0;
  if (signal <= 0) {
    q.snr_db = kSnrFloorDb;
  } else if (noise <= 0) {
    q.snr_db = kSnrCeilDb;
  } else {
    q.snr_db = std::clamp(10.0 * std::log10(signal / noise), kSnrFloorDb, kSnrCeilDb);
  }
  return q;
}

}  // namespace

void validate(const SpectralConfig& c, std::size_t n) {
  auto fail = [](const std::string& m) { throw std::invalid_argument(m); };
  if (!(std::isfinite(c.fs_hz) && c.fs_hz > 0)) fail("fs_hz: expected > 0, got " + num(c.fs_hz));
  if (!(c.f_lo_hz > 0 && c.f_lo_hz < c.f_hi_hz && c.f_hi_hz < c.fs_hz / 2)) {
    fail("band: expected 0 < f_lo < f_hi < fs/2 = " + num(c.fs_hz / 2) + " Hz, got (" +
         num(c.f_lo_hz) + ", " + num(c.f_hi_hz) + ")");
  }
  if (n < 8) fail("signal: expected at least 8 samples, got " + std::to_string(n));
  if (c.welch_segment != 0 && c.welch_segment < 8) {
    fail("welch_segment: expected 0 or >= 8 samples, got " + std::to_string(c.welch_segment));
  }
  const std::size_t len = segment_length(c, n);
  if (c.nfft > kMaxNfft) {
    fail("nfft: expected at most " + std::to_string(kMaxNfft) + ", got " + std::to_string(c.nfft));
  }
  if (c.nfft != 0 && c.nfft < len) {
    fail("nfft: expected at least the segment length " + std::to_string(len) + ", got " +
         std::to_string(c.nfft));
  }
  if (!std::isfinite(c.detrend_lambda) || (c.detrend_lambda > 0 && c.detrend_lambda < 1e-6)) {
    fail("detrend_lambda: expected < 0 (automatic), 0 (mean only) or >= 1e-6, got " +
         num(c.detrend_lambda));
  }
  if (!std::isfinite(c.half_harmonic_ratio) || !std::isfinite(c.missed_fundamental_ratio)) {
    fail("harmonic ratios: expected finite numbers");
  }
  if (!(std::isfinite(c.snr_halfwidth_hz) && c.snr_halfwidth_hz > 0)) {
    fail("snr_halfwidth_hz: expected > 0, got " + num(c.snr_halfwidth_hz));
  }
}

std::size_t effective_nfft(const SpectralConfig& c, std::size_t n) {
  // A length with a large prime factor makes KissFFT quadratic (seconds for a few million
  // points): round up to the next length whose factors are 2, 3 and 5.
  if (c.nfft != 0) return detail::next_fast_length(c.nfft);
  const std::size_t len = segment_length(c, n);
  return detail::next_pow2(std::max<std::size_t>(2 * len, 512));
}

void power_spectrum(const double* x, std::size_t n, const SpectralConfig& c, double* freqs_out,
                    double* power_out) {
  validate(c, n);
  detail::check_signal("signal", x, n);
  const Spectrogram sg(x, n, c);
  const std::vector<double>& p = sg.power();
  for (std::size_t k = 0; k < p.size(); ++k) {
    freqs_out[k] = static_cast<double>(k) * sg.df();
    power_out[k] = sg.unscale(p[k]);
  }
}

HeartRateResult estimate_heart_rate(const double* x, std::size_t n, const SpectralConfig& c) {
  validate(c, n);
  detail::check_signal("signal", x, n);
  const Spectrogram sg(x, n, c);
  const std::vector<double>& p = sg.power();
  const double df = sg.df();
  HeartRateResult r;

  const Peak main = local_peak(sg, p, c.f_lo_hz, c.f_hi_hz, /*require_local_max=*/false);
  if (!main.found) {
    throw std::invalid_argument("band: no spectrum bin inside (" + num(c.f_lo_hz) + ", " +
                                num(c.f_hi_hz) + ") Hz; increase nfft");
  }
  r.raw_peak_hz = r.frequency_hz = main.f_hz;
  // Tolerance for where a harmonic partner should sit: the main lobe's sampling error.
  const double tol = std::max(2.0 * df, 0.5 * c.snr_halfwidth_hz);

  // Harmonic guard: a strong second harmonic can out-power a weaker fundamental (the doubling
  // error). If a real local peak at half the frequency holds enough of the power, report it.
  bool halved = false;
  if (c.half_harmonic_ratio > 0 && main.power > 0) {
    const double half = main.f_hz / 2.0;
    // Partners are searched inside the band only: a wide tolerance must not reach out of it.
    const double lo = std::max(c.f_lo_hz, half - tol), hi = std::min(c.f_hi_hz, half + tol);
    // Bin powers sit at most a little below the refined peaks: screen with a 20% margin.
    const bool may = best_local_bin(p, df, lo, hi) > 0.8 * c.half_harmonic_ratio * main.power;
    const Peak low = may ? local_peak(sg, p, lo, hi, true) : Peak{};
    if (low.found && low.power > c.half_harmonic_ratio * main.power) {
      r.frequency_hz = low.f_hz;
      r.correction = HarmonicCorrection::Halved;
      halved = true;
    }
  }
  // Missed fundamental: a peak at twice the frequency nearly as strong, while three times the
  // frequency (a harmonic of the low peak only) is empty, means the low peak is a sub-harmonic.
  if (!halved && c.missed_fundamental_ratio > 0 && main.power > 0 &&
      3.0 * main.f_hz + tol < c.fs_hz / 2.0) {
    const double dbl = 2.0 * main.f_hz;
    const double lo = std::max(c.f_lo_hz, dbl - tol), hi = std::min(c.f_hi_hz, dbl + tol);
    const bool may = best_local_bin(p, df, lo, hi) > 0.8 * c.missed_fundamental_ratio * main.power;
    const Peak high = may ? local_peak(sg, p, lo, hi, true) : Peak{};
    if (high.found && high.power > c.missed_fundamental_ratio * main.power) {
      const double triple = sg.power_at(3.0 * main.f_hz);
      if (triple < 0.2 * main.power) {
        r.frequency_hz = high.f_hz;
        r.correction = HarmonicCorrection::Doubled;
      }
    }
  }
  const SignalQuality q = quality_from(p, df, r.frequency_hz, c);
  r.snr_db = q.snr_db;
  r.irrelevant_power_ratio = q.irrelevant_power_ratio;
  return r;
}

HeartRateResult estimate_heart_rate(const std::vector<double>& x, const SpectralConfig& c) {
  return estimate_heart_rate(x.data(), x.size(), c);
}

SignalQuality signal_quality(const double* x, std::size_t n, double f0_hz,
                             const SpectralConfig& c) {
  validate(c, n);
  detail::check_signal("signal", x, n);
  if (!(std::isfinite(f0_hz) && f0_hz > 0)) {
    throw std::invalid_argument("f0_hz: expected > 0, got " + num(f0_hz));
  }
  const Spectrogram sg(x, n, c);
  return quality_from(sg.power(), sg.df(), f0_hz, c);
}

}  // namespace rppg
