#include "rppg/pulse.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rppg/signal.hpp"
#include "scratch.hpp"

namespace rppg {

namespace {

void check(const double* rgb, std::size_t n, std::size_t min_n, const char* who) {
  if (n < min_n) {
    std::ostringstream m;
    m << who << ": expected at least " << min_n << " samples, got " << n;
    throw std::invalid_argument(m.str());
  }
  for (std::size_t i = 0; i < 3 * n; ++i) {
    if (!(std::isfinite(rgb[i]) && rgb[i] > 0)) {
      std::ostringstream m;
      m << who << ": expected finite positive colour means, got " << rgb[i] << " at sample "
        << i / 3;
      throw std::invalid_argument(m.str());
    }
  }
}

// Population standard deviation of v[0..n).
double stdev(const double* v, std::size_t n) {
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += v[i];
  mean /= static_cast<double>(n);
  double ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) ss += (v[i] - mean) * (v[i] - mean);
  return std::sqrt(ss / static_cast<double>(n));
}

// Ratio std(a) / std(b), 0 when b is flat (nothing to cancel with it).
double std_ratio(const double* a, const double* b, std::size_t n) {
  const double sb = stdev(b, n);
  return sb > 1e-12 ? stdev(a, n) / sb : 0.0;
}

}  // namespace

void pulse_green(const double* rgb, std::size_t n, double* out) {
  check(rgb, n, 1, "pulse_green");
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += rgb[3 * i + 1];
  mean /= static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = 1.0 - rgb[3 * i + 1] / mean;
}

void pulse_pos(const double* rgb, std::size_t n, std::size_t window, double* out) {
  if (window < 2) throw std::invalid_argument("pulse_pos: expected window >= 2 samples");
  check(rgb, n, window, "pulse_pos");
  std::fill(out, out + n, 0.0);
  // The thread's scratch: a stream's repeated windows allocate nothing once they have grown.
  auto s1_lease = detail::scratch<detail::Scratch::PosS1>();
  std::vector<double>& s1 = *s1_lease;
  auto s2_lease = detail::scratch<detail::Scratch::PosS2>();
  std::vector<double>& s2 = *s2_lease;
  auto h_lease = detail::scratch<detail::Scratch::PosH>();
  std::vector<double>& h = *h_lease;
  s1.resize(window);
  s2.resize(window);
  h.resize(window);
  for (std::size_t m = 0; m + window <= n; ++m) {
    double mu[3] = {0.0, 0.0, 0.0};
    for (std::size_t i = 0; i < window; ++i) {
      for (int c = 0; c < 3; ++c) mu[c] += rgb[3 * (m + i) + c];
    }
    for (double& v : mu) v /= static_cast<double>(window);
    for (std::size_t i = 0; i < window; ++i) {
      const double r = rgb[3 * (m + i)] / mu[0];
      const double g = rgb[3 * (m + i) + 1] / mu[1];
      const double b = rgb[3 * (m + i) + 2] / mu[2];
      s1[i] = g - b;              // projection [0, 1, -1]
      s2[i] = -2.0 * r + g + b;   // projection [-2, 1, 1]
    }
    const double alpha = std_ratio(s1.data(), s2.data(), window);
    double hm = 0.0;
    for (std::size_t i = 0; i < window; ++i) {
      h[i] = s1[i] + alpha * s2[i];
      hm += h[i];
    }
    hm /= static_cast<double>(window);
    for (std::size_t i = 0; i < window; ++i) out[m + i] -= h[i] - hm;  // negated: see header
  }
}

void pulse_chrom(const double* rgb, std::size_t n, double fs_hz, double f_lo_hz, double f_hi_hz,
                 std::size_t window, double* out) {
  if (window < 2) throw std::invalid_argument("pulse_chrom: expected window >= 2 samples");
  check(rgb, n, window, "pulse_chrom");
  // Normalise each channel by its centred moving mean so slow illumination changes cancel.
  auto prefix_lease = detail::scratch<detail::Scratch::ChromPrefix>();
  std::vector<double>& prefix = *prefix_lease;
  prefix.assign(3 * (n + 1), 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) prefix[3 * (i + 1) + c] = prefix[3 * i + c] + rgb[3 * i + c];
  }
  auto xs_lease = detail::scratch<detail::Scratch::ChromXs>();
  std::vector<double>& xs = *xs_lease;
  auto ys_lease = detail::scratch<detail::Scratch::ChromYs>();
  std::vector<double>& ys = *ys_lease;
  xs.resize(n);
  ys.resize(n);
  const std::size_t half = window / 2;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t a = i >= half ? i - half : 0;
    const std::size_t b = std::min(n, a + window);
    const std::size_t a2 = b >= window ? b - window : 0;
    double cn[3];
    for (int c = 0; c < 3; ++c) {
      const double mean =
          (prefix[3 * b + c] - prefix[3 * a2 + c]) / static_cast<double>(b - a2);
      cn[c] = rgb[3 * i + c] / mean;
    }
    xs[i] = 3.0 * cn[0] - 2.0 * cn[1];
    ys[i] = 1.5 * cn[0] + cn[1] - 1.5 * cn[2];
  }
  auto xf_lease = detail::scratch<detail::Scratch::ChromXf>();
  std::vector<double>& xf = *xf_lease;
  auto yf_lease = detail::scratch<detail::Scratch::ChromYf>();
  std::vector<double>& yf = *yf_lease;
  xf.resize(n);
  yf.resize(n);
  bandpass(xs.data(), n, fs_hz, f_lo_hz, f_hi_hz, 0.1, xf.data());
  bandpass(ys.data(), n, fs_hz, f_lo_hz, f_hi_hz, 0.1, yf.data());
  // Hann-weighted overlap-add with a step of half a window (de Haan & Jeanne 2013, sec. 4).
  std::fill(out, out + n, 0.0);
  const std::size_t step = std::max<std::size_t>(1, window / 2);
  const double pi = std::acos(-1.0);
  auto w_lease = detail::scratch<detail::Scratch::ChromWindow>();
  std::vector<double>& w = *w_lease;
  w.resize(window);
  for (std::size_t i = 0; i < window; ++i) {
    w[i] = 0.5 - 0.5 * std::cos(2.0 * pi * (static_cast<double>(i) + 0.5) /
                                static_cast<double>(window));
  }
  auto weight_lease = detail::scratch<detail::Scratch::ChromWeight>();
  std::vector<double>& weight = *weight_lease;
  weight.assign(n, 0.0);
  std::size_t start = 0;
  while (true) {
    const double alpha = std_ratio(xf.data() + start, yf.data() + start, window);
    double mean = 0.0;
    for (std::size_t i = 0; i < window; ++i) mean += xf[start + i] - alpha * yf[start + i];
    mean /= static_cast<double>(window);
    for (std::size_t i = 0; i < window; ++i) {
      out[start + i] += w[i] * (xf[start + i] - alpha * yf[start + i] - mean);
      weight[start + i] += w[i];
    }
    if (start + window >= n) break;
    start = std::min(start + step, n - window);  // the last window ends at the last sample
  }
  // Divide by the summed window weight so the edges are not attenuated.
  for (std::size_t i = 0; i < n; ++i) out[i] = weight[i] > 1e-12 ? out[i] / weight[i] : 0.0;
}

// ---------------------------------------------------------------- MONO (one channel, nir)

namespace {

// Band-pass one clean segment x[0..k) (odd reflection by up to m samples at both ends, about
// the end values, then held at the end values out to `total` samples) and write it to out.
// Every segment is filtered at the same padded length (`total`, the whole window's), so the FFT
// length, and with it the per-thread FFT plan, is the same for every segment of every window.
void band_segment(const double* x, std::size_t k, std::size_t m, std::size_t total, double fs_hz,
                  double lo, double hi, std::vector<double>& padded, std::vector<double>& filtered,
                  double* out) {
  const std::size_t ms = std::min(m, k - 1);
  const std::size_t core = k + 2 * ms;
  const std::size_t left = (total - core) / 2;
  padded.assign(total, 0.0);
  for (std::size_t i = 0; i < ms; ++i) padded[left + i] = 2.0 * x[0] - x[ms - i];
  for (std::size_t i = 0; i < k; ++i) padded[left + ms + i] = x[i];
  for (std::size_t i = 0; i < ms; ++i) padded[left + ms + k + i] = 2.0 * x[k - 1] - x[k - 2 - i];
  for (std::size_t i = 0; i < left; ++i) padded[i] = padded[left];
  for (std::size_t i = left + core; i < total; ++i) padded[i] = padded[left + core - 1];
  filtered.resize(total);
  bandpass(padded.data(), total, fs_hz, lo, hi, 0.1, filtered.data());
  for (std::size_t i = 0; i < k; ++i) out[i] = filtered[left + ms + i];
}

double median_of(std::vector<double>& v) {
  const std::size_t k = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  double med = v[k];
  if (v.size() % 2 == 0) {
    med = 0.5 * (med + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k)));
  }
  return med;
}

struct Segmenting {
  std::size_t min_seg;  // shorter clean stretches are gaps too
  std::size_t reflect;  // odd reflection at a segment's ends (two periods of f_lo)
  std::size_t taper;    // ends that meet a gap fall to 0 over this many samples
  double fs_hz, lo, hi;
};

// out: the pulse of log level lg with mask's samples as gaps (0). Clean stretches shorter than
// min_seg join the gaps (mask is updated); with no clean stretch at all the window is taken
// whole. Each stretch: its relative change against its own level (a turned face or a hand sits
// at another level), rising with blood volume, band-passed on its own and tapered into gaps.
void filter_segments(const std::vector<double>& lg, std::vector<double>& mask,
                     const Segmenting& how, std::vector<double>& seg, std::vector<double>& padded,
                     std::vector<double>& filtered, double* out) {
  const std::size_t n = lg.size();
  std::size_t masked = 0;
  for (std::size_t i = 0; i < n;) {
    if (mask[i] != 0.0) {
      ++masked;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && mask[j] == 0.0) ++j;
    if (j - i < how.min_seg && !(i == 0 && j == n)) {
      for (std::size_t k = i; k < j; ++k) mask[k] = 1.0;
      masked += j - i;
    }
    i = j;
  }
  if (masked == n) std::fill(mask.begin(), mask.end(), 0.0);
  const std::size_t total = n + 2 * how.reflect;
  const double pi = std::acos(-1.0);
  std::fill(out, out + n, 0.0);
  for (std::size_t i = 0; i < n;) {
    if (mask[i] != 0.0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && mask[j] == 0.0) ++j;
    const std::size_t k = j - i;
    double mean = 0.0;
    for (std::size_t q = i; q < j; ++q) mean += lg[q];
    mean /= static_cast<double>(k);
    seg.resize(k);
    for (std::size_t q = 0; q < k; ++q) seg[q] = mean - lg[i + q];
    band_segment(seg.data(), k, how.reflect, total, how.fs_hz, how.lo, how.hi, padded, filtered,
                 out + i);
    // Ends that meet a gap fall smoothly to 0 (a cut there would spread power over the band).
    const std::size_t t = std::min(how.taper, k / 2);
    for (std::size_t q = 0; q < t; ++q) {
      const double w = 0.5 - 0.5 * std::cos(pi * (static_cast<double>(q) + 0.5) /
                                             static_cast<double>(t));
      if (i > 0) out[i + q] *= w;
      if (j < n) out[j - 1 - q] *= w;
    }
    i = j;
  }
}

}  // namespace

void pulse_mono(const double* rgb, std::size_t n, double fs_hz, double f_lo_hz, double f_hi_hz,
                double* out, const unsigned char* known_steps) {
  check(rgb, n, 3, "pulse_mono");
  if (!(std::isfinite(fs_hz) && fs_hz > 0 && std::isfinite(f_lo_hz) && f_lo_hz > 0 &&
        std::isfinite(f_hi_hz) && f_hi_hz > f_lo_hz && f_hi_hz < fs_hz / 2.0)) {
    std::ostringstream m;
    m << "pulse_mono: expected 0 < f_lo_hz < f_hi_hz < fs_hz / 2, got band [" << f_lo_hz << ", "
      << f_hi_hz << "] Hz at " << fs_hz << " Hz";
    throw std::invalid_argument(m.str());
  }
  // Per-thread scratch (scratch.hpp): a stream's readings allocate nothing after the first.
  auto lg_lease = detail::scratch<detail::Scratch::MonoR>();
  auto seg_lease = detail::scratch<detail::Scratch::MonoRi>();
  auto d_lease = detail::scratch<detail::Scratch::MonoHp>();
  auto padded_lease = detail::scratch<detail::Scratch::MonoPadded>();
  auto filtered_lease = detail::scratch<detail::Scratch::MonoFiltered>();
  auto dev_lease = detail::scratch<detail::Scratch::MonoDev>();
  auto mask_lease = detail::scratch<detail::Scratch::MonoMask>();
  auto big_lease = detail::scratch<detail::Scratch::MonoGrown>();
  std::vector<double>& lg = *lg_lease;     // log level
  std::vector<double>& seg = *seg_lease;   // one segment's relative change
  std::vector<double>& d = *d_lease;       // frame-to-frame change of the log level
  std::vector<double>& padded = *padded_lease;
  std::vector<double>& filtered = *filtered_lease;
  std::vector<double>& dev = *dev_lease;
  std::vector<double>& mask = *mask_lease;  // 1.0: a transient sample (a gap in the pulse)
  std::vector<double>& big = *big_lease;    // 1.0: change i -> i + 1 is a transient; later the grown mask
  lg.resize(n);
  d.resize(n - 1);
  mask.assign(n, 0.0);
  big.assign(n - 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) lg[i] = std::log(rgb[3 * i + 1]);
  for (std::size_t i = 0; i + 1 < n; ++i) d[i] = lg[i + 1] - lg[i];
  // Robust spread of the frame-to-frame change: sensor noise and the pulse's own slope.
  dev.assign(d.begin(), d.end());
  const double med = median_of(dev);
  for (double& v : dev) v = std::abs(v - med);
  const double sigma = 1.4826 * median_of(dev);
  if (sigma > 0.0) {
    // Hysteresis: a change beyond kMonoTransientSigmas starts a transient; it spans the
    // neighbouring changes beyond kMonoTransientLowSigmas (the soft start and end of a turn).
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (std::abs(d[i] - med) > kMonoTransientSigmas * sigma) big[i] = 1.0;
    }
    const double low = kMonoTransientLowSigmas * sigma;
    for (std::size_t i = 1; i + 1 < n; ++i) {
      if (big[i - 1] != 0.0 && std::abs(d[i] - med) > low) big[i] = 1.0;
    }
    for (std::size_t i = n - 1; i-- > 1;) {
      if (big[i] != 0.0 && std::abs(d[i - 1] - med) > low) big[i - 1] = 1.0;
    }
  }
  if (known_steps != nullptr) {  // a re-aligned face box: a step into sample i
    for (std::size_t i = 1; i < n; ++i) {
      if (known_steps[i]) big[i - 1] = 1.0;
    }
  }
  const auto pad = static_cast<std::size_t>(std::nearbyint(kMonoTransientPadS * fs_hz));
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (big[i] == 0.0) continue;
    const std::size_t a = i >= pad ? i - pad : 0;
    const std::size_t b = std::min(n - 1, i + 1 + pad);
    for (std::size_t k = a; k <= b; ++k) mask[k] = 1.0;
  }
  const Segmenting how{
      std::max<std::size_t>(4, static_cast<std::size_t>(std::nearbyint(kMonoMinSegmentS * fs_hz))),
      std::min(static_cast<std::size_t>(std::nearbyint(2.0 * fs_hz / f_lo_hz)), n - 1),
      static_cast<std::size_t>(std::nearbyint(kMonoTaperS * fs_hz)), fs_hz, f_lo_hz, f_hi_hz};
  filter_segments(lg, mask, how, seg, padded, filtered, out);
  // What the change test cannot see (a dip of a frame or two that a codec or the noise spreads
  // over a few changes) shows in the filtered pulse: samples beyond kMonoResidualSigmas robust
  // SDs of the pulse are taken out too (widened by kMonoResidualPadS) and the stretches filtered
  // again, while the gaps stay under kMonoMaxGapShare of the window.
  const auto pad_out = static_cast<std::size_t>(std::nearbyint(kMonoResidualPadS * fs_hz));
  for (int pass = 0; pass < kMonoResidualPasses; ++pass) {
    dev.clear();
    std::size_t gaps = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (mask[i] == 0.0) {
        dev.push_back(out[i]);
      } else {
        ++gaps;
      }
    }
    if (dev.empty()) break;
    const double centre = median_of(dev);
    for (double& v : dev) v = std::abs(v - centre);
    const double spread = 1.4826 * median_of(dev);
    if (!(spread > 0.0)) break;
    big.assign(mask.begin(), mask.end());  // the grown mask
    for (std::size_t i = 0; i < n; ++i) {
      if (mask[i] != 0.0 || !(std::abs(out[i] - centre) > kMonoResidualSigmas * spread)) continue;
      const std::size_t a = i >= pad_out ? i - pad_out : 0;
      const std::size_t b = std::min(n - 1, i + pad_out);
      for (std::size_t k = a; k <= b; ++k) big[k] = 1.0;
    }
    std::size_t grown = 0;
    for (double v : big) grown += v != 0.0 ? 1 : 0;
    if (grown == gaps || static_cast<double>(grown) > kMonoMaxGapShare * static_cast<double>(n)) {
      break;
    }
    mask.swap(big);
    filter_segments(lg, mask, how, seg, padded, filtered, out);
  }
}

}  // namespace rppg
