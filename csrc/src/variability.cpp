#include "rppg/variability.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "check.hpp"
#include "rppg/signal.hpp"
#include "rppg/spectrum.hpp"

namespace rppg {

namespace {

using detail::num;

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
  }
  return m;
}

// Sub-sample offset (-0.5..0.5) of the maximum at i from a parabola through i-1, i, i+1.
double parabola_offset(const std::vector<double>& y, std::size_t i) {
  if (i == 0 || i + 1 >= y.size()) return 0.0;
  const double a = y[i - 1], b = y[i], c = y[i + 1];
  const double den = a - 2.0 * b + c;
  if (!(den < 0.0)) return 0.0;
  return std::clamp(0.5 * (a - c) / den, -0.5, 0.5);
}

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

void validate_beats(const BeatConfig& c, std::size_t n) {
  RPPG_REQUIRE(std::isfinite(c.fs_hz) && c.fs_hz > 0 && c.fs_hz <= 1e6,
               "fs_hz: expected 0 < fs_hz <= 1e6, got " + num(c.fs_hz));
  RPPG_REQUIRE(std::isfinite(c.f_lo_hz) && std::isfinite(c.f_hi_hz) && c.f_lo_hz > 0 &&
                   c.f_lo_hz < c.f_hi_hz && c.f_hi_hz < 0.5 * c.fs_hz,
               "band: expected 0 < f_lo < f_hi < fs/2 = " + num(0.5 * c.fs_hz) + " Hz, got (" +
                   num(c.f_lo_hz) + ", " + num(c.f_hi_hz) + ")");
  RPPG_REQUIRE(std::isfinite(c.timing_f_hi_hz) && c.timing_f_hi_hz > c.f_hi_hz,
               "timing_f_hi_hz: expected above the band's high edge " + num(c.f_hi_hz) +
                   " Hz, got " + num(c.timing_f_hi_hz));
  // Two periods of the band's low edge: fewer cannot hold two beats of the slowest pulse.
  const double need = std::ceil(2.0 * c.fs_hz / c.f_lo_hz);
  RPPG_REQUIRE(static_cast<double>(n) >= std::max(need, 16.0),
               "signal: expected at least " + num(std::max(need, 16.0)) +
                   " samples (two periods of " + num(c.f_lo_hz) + " Hz), got " +
                   std::to_string(n));
}

void validate_intervals(const IntervalConfig& c) {
  RPPG_REQUIRE(std::isfinite(c.min_interval_s) && std::isfinite(c.max_interval_s) &&
                   c.min_interval_s > 0 && c.min_interval_s < c.max_interval_s,
               "interval range: expected 0 < min_interval_s < max_interval_s, got (" +
                   num(c.min_interval_s) + ", " + num(c.max_interval_s) + ")");
  RPPG_REQUIRE(std::isfinite(c.max_deviation) && c.max_deviation > 0 && c.max_deviation < 1,
               "max_deviation: expected 0 < max_deviation < 1, got " + num(c.max_deviation));
  RPPG_REQUIRE(c.half_window >= 1 && c.half_window <= 1000,
               "half_window: expected 1..1000 intervals, got " + std::to_string(c.half_window));
}

// Median correlation of every beat's waveform (from 0.4 of a period before its peak to 0.6
// after) with the sample-wise median beat: ~1 for a pulse that repeats its shape.
double shape_correlation(const std::vector<double>& y, const std::vector<std::size_t>& peaks,
                         double period_samples) {
  const auto before = static_cast<std::ptrdiff_t>(std::floor(0.4 * period_samples));
  const auto after = static_cast<std::ptrdiff_t>(std::floor(0.6 * period_samples));
  const std::size_t len = static_cast<std::size_t>(before + after + 1);
  if (len < 4) return 0.0;
  std::vector<std::vector<double>> segs;
  for (std::size_t p : peaks) {
    const auto c = static_cast<std::ptrdiff_t>(p);
    if (c - before < 0 || c + after >= static_cast<std::ptrdiff_t>(y.size())) continue;
    segs.emplace_back(y.begin() + (c - before), y.begin() + (c + after + 1));
  }
  if (segs.size() < 3) return 0.0;
  std::vector<double> tmpl(len), column(segs.size());
  for (std::size_t i = 0; i < len; ++i) {
    for (std::size_t s = 0; s < segs.size(); ++s) column[s] = segs[s][i];
    tmpl[i] = median(column);
  }
  auto centred = [](std::vector<double>& v) {
    double m = 0.0;
    for (double a : v) m += a;
    m /= static_cast<double>(v.size());
    double ss = 0.0;
    for (double& a : v) {
      a -= m;
      ss += a * a;
    }
    return ss;
  };
  const double tt = centred(tmpl);
  if (!(tt > 0)) return 0.0;
  std::vector<double> corr;
  corr.reserve(segs.size());
  for (auto& s : segs) {
    const double ss = centred(s);
    double st = 0.0;
    for (std::size_t i = 0; i < len; ++i) st += s[i] * tmpl[i];
    corr.push_back(ss > 0 ? st / std::sqrt(ss * tt) : 0.0);
  }
  return median(corr);
}

}  // namespace

Beats detect_beats(const double* x, std::size_t n, const BeatConfig& c) {
  validate_beats(c, n);
  detail::check_signal("signal", x, n);
  Beats out;
  SpectralConfig sc;
  sc.fs_hz = c.fs_hz;
  sc.f_lo_hz = c.f_lo_hz;
  sc.f_hi_hz = c.f_hi_hz;
  const HeartRateResult hr = estimate_heart_rate(x, n, sc);
  const double f0 = hr.frequency_hz;
  out.rate_hz = f0;
  out.snr_db = hr.snr_db;
  if (!(f0 > 0)) return out;
  const double nyq = 0.5 * c.fs_hz;
  // Narrow band (0.6-1.6 f0): one smooth maximum per beat, none from the dicrotic wave. It
  // only says which peak of the wide band belongs to which beat: its own peaks are smoothed
  // across neighbouring beats and would flatten the variability.
  const double n_lo = 0.6 * f0, n_hi = std::min(1.6 * f0, 0.45 * c.fs_hz);
  // Wide band (0.5 f0 up to the timing edge): the systolic peak with its first harmonics, the
  // breathing baseline (below half the pulse rate) removed so it does not tilt the peaks.
  const double w_lo = 0.5 * f0;
  const double w_hi = std::max(std::min(c.timing_f_hi_hz, 0.4 * c.fs_hz), std::min(2.5 * f0, 0.45 * c.fs_hz));
  const double taper = 0.1 * f0;
  std::vector<double> narrow(n), wide(n);
  bandpass(x, n, c.fs_hz, n_lo, std::min(n_hi, nyq - taper - 1e-9), taper, narrow.data());
  bandpass(x, n, c.fs_hz, w_lo, std::min(w_hi, nyq - taper - 1e-9), taper, wide.data());

  const double period = c.fs_hz / f0;  // samples per beat
  const auto min_gap = static_cast<std::size_t>(std::max(1.0, std::floor(0.5 * period)));
  std::vector<std::size_t> guides;
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if (!(narrow[i] > narrow[i - 1] && narrow[i] >= narrow[i + 1] && narrow[i] > 0)) continue;
    if (!guides.empty() && i - guides.back() < min_gap) {
      if (narrow[i] > narrow[guides.back()]) guides.back() = i;
    } else {
      guides.push_back(i);
    }
  }
  const auto reach = static_cast<std::ptrdiff_t>(std::max(1.0, std::floor(0.3 * period)));
  std::vector<std::size_t> peaks;
  for (std::size_t g : guides) {
    const auto gi = static_cast<std::ptrdiff_t>(g);
    const std::size_t lo = static_cast<std::size_t>(std::max<std::ptrdiff_t>(1, gi - reach));
    const std::size_t hi = static_cast<std::size_t>(
        std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(n) - 2, gi + reach));
    if (lo > hi) continue;
    std::size_t best = lo;
    for (std::size_t i = lo; i <= hi; ++i) {
      if (wide[i] > wide[best]) best = i;
    }
    // A maximum on the edge of the search is a slope, not this beat's peak.
    if (!(wide[best] >= wide[best - 1] && wide[best] >= wide[best + 1])) continue;
    if (!peaks.empty() && best < peaks.back() + min_gap) {  // the same beat twice, or a notch
      if (wide[best] > wide[peaks.back()]) peaks.back() = best;
      continue;
    }
    peaks.push_back(best);
  }
  const auto half = static_cast<std::ptrdiff_t>(std::max(1.0, std::floor(0.5 * period)));
  // The upstroke: the central difference's maximum within 0.35 of a beat before the peak.
  std::vector<double> slope(n, 0.0);
  for (std::size_t i = 1; i + 1 < n; ++i) slope[i] = wide[i + 1] - wide[i - 1];
  const auto rise = static_cast<std::ptrdiff_t>(std::max(2.0, std::floor(0.35 * period)));
  std::size_t prev = 0;
  for (std::size_t k = 0; k < peaks.size(); ++k) {
    const std::size_t p = peaks[k];
    out.times_s.push_back((static_cast<double>(p) + parabola_offset(wide, p)) / c.fs_hz);
    const std::size_t u0 = static_cast<std::size_t>(
        std::max<std::ptrdiff_t>(1, static_cast<std::ptrdiff_t>(p) - rise));
    std::size_t u = u0;
    for (std::size_t i = u0; i <= p; ++i) {
      if (slope[i] > slope[u]) u = i;
    }
    out.upstroke_times_s.push_back((static_cast<double>(u) + parabola_offset(slope, u)) /
                                   c.fs_hz);
    // Amplitude: above the lowest point since the previous peak (or half a beat back).
    const std::size_t from =
        k == 0 ? static_cast<std::size_t>(std::max<std::ptrdiff_t>(
                     0, static_cast<std::ptrdiff_t>(p) - static_cast<std::ptrdiff_t>(period)))
               : prev;
    double trough = wide[p];
    for (std::size_t i = from; i <= p; ++i) trough = std::min(trough, wide[i]);
    out.amplitudes.push_back(wide[p] - trough);
    // Baseline: the raw pulse averaged over one beat centred on the peak.
    const std::size_t b0 = static_cast<std::size_t>(
        std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(p) - half));
    const std::size_t b1 = static_cast<std::size_t>(std::min<std::ptrdiff_t>(
        static_cast<std::ptrdiff_t>(n) - 1, static_cast<std::ptrdiff_t>(p) + half));
    double sum = 0.0;
    for (std::size_t i = b0; i <= b1; ++i) sum += x[i];
    out.baselines.push_back(sum / static_cast<double>(b1 - b0 + 1));
    prev = p;
  }
  out.shape_correlation = shape_correlation(wide, peaks, period);
  return out;
}

Beats detect_beats(const std::vector<double>& x, const BeatConfig& config) {
  return detect_beats(x.data(), x.size(), config);
}

Intervals clean_intervals(const double* t, std::size_t n, const IntervalConfig& c) {
  validate_intervals(c);
  Intervals out;
  if (n < 2) return out;
  detail::check_signal("beat_times_s", t, n);
  for (std::size_t i = 1; i < n; ++i) {
    RPPG_REQUIRE(t[i] > t[i - 1], "beat_times_s: expected strictly increasing times, got " +
                                      num(t[i]) + " after " + num(t[i - 1]));
  }
  const std::size_t m = n - 1;
  out.intervals_s.resize(m);
  for (std::size_t i = 0; i < m; ++i) out.intervals_s[i] = t[i + 1] - t[i];
  // The reference: the median of the in-range intervals around each one (a run of missed beats
  // cannot drag it; the interval itself is in the window, which a lone outlier cannot move).
  out.accepted.assign(m, 0);
  std::size_t rejected = 0;
  std::vector<double> near;
  for (std::size_t i = 0; i < m; ++i) {
    const double d = out.intervals_s[i];
    const std::size_t lo = i >= c.half_window ? i - c.half_window : 0;
    const std::size_t hi = std::min(m - 1, i + c.half_window);
    near.clear();
    for (std::size_t j = lo; j <= hi; ++j) {
      const double v = out.intervals_s[j];
      if (v >= c.min_interval_s && v <= c.max_interval_s) near.push_back(v);
    }
    const double ref = median(near);
    const bool ok = d >= c.min_interval_s && d <= c.max_interval_s && ref > 0 &&
                    std::abs(d - ref) <= c.max_deviation * ref;
    out.accepted[i] = ok ? 1 : 0;
    if (!ok) ++rejected;
  }
  out.rejected_share = static_cast<double>(rejected) / static_cast<double>(m);
  return out;
}

VariabilityResult variability_from_beats(const double* t, std::size_t n,
                                         const IntervalConfig& config) {
  const Intervals iv = clean_intervals(t, n, config);
  VariabilityResult r;
  r.beats_detected = n;
  r.rejected_share = iv.rejected_share;
  const std::size_t m = iv.intervals_s.size();
  double sum = 0.0;
  std::vector<unsigned char> used_beat(n, 0);
  for (std::size_t i = 0; i < m; ++i) {
    if (!iv.accepted[i]) continue;
    sum += iv.intervals_s[i];
    ++r.intervals_used;
    used_beat[i] = used_beat[i + 1] = 1;
  }
  for (unsigned char u : used_beat) r.beats_used += u;
  if (r.intervals_used == 0) return r;
  const double mean = sum / static_cast<double>(r.intervals_used);
  r.mean_interval_ms = 1e3 * mean;
  if (r.intervals_used >= 2) {
    double ss = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      if (iv.accepted[i]) ss += (iv.intervals_s[i] - mean) * (iv.intervals_s[i] - mean);
    }
    r.sdnn_ms = 1e3 * std::sqrt(ss / static_cast<double>(r.intervals_used - 1));
  }
  double sq = 0.0;
  std::size_t over50 = 0;
  for (std::size_t i = 0; i + 1 < m; ++i) {
    if (!(iv.accepted[i] && iv.accepted[i + 1])) continue;  // never across a rejected gap
    const double d = iv.intervals_s[i + 1] - iv.intervals_s[i];
    sq += d * d;
    if (std::abs(d) > 0.05) ++over50;
    ++r.differences_used;
  }
  if (r.differences_used > 0) {
    r.rmssd_ms = 1e3 * std::sqrt(sq / static_cast<double>(r.differences_used));
    r.pnn50_percent = 100.0 * static_cast<double>(over50) / static_cast<double>(r.differences_used);
  }
  // Confidence from the intervals alone: the share rejected (a quarter rejected says the beats
  // are not to be trusted) and the number of successive differences (20 or more for full
  // weight: RMSSD of fewer scatters by more than a fifth).
  const double q_reject = clamp01(1.0 - r.rejected_share / 0.25);
  const double q_count = clamp01((static_cast<double>(r.differences_used) - 4.0) / 16.0);
  r.confidence = q_reject * q_count;
  return r;
}

VariabilityResult pulse_rate_variability(const double* x, std::size_t n, const BeatConfig& bc,
                                         const IntervalConfig& ic) {
  validate_intervals(ic);
  const Beats beats = detect_beats(x, n, bc);
  VariabilityResult r = variability_from_beats(beats.times_s.data(), beats.times_s.size(), ic);
  // A clean pulse repeats its shape beat after beat (median correlation ~0.9 and above, on
  // real contact and camera pulses); noise aligned on its own maxima correlates ~0.5.
  const double q_shape = clamp01((beats.shape_correlation - 0.6) / 0.3);
  // Timing noise: the offset between the two fiducials of a beat, e = peak - upstroke, is
  // nearly constant in a clean pulse; its successive changes (over beats whose intervals on
  // both sides were accepted) are noise of both fiducials, var(diff e) = 2 var(e). The
  // steeper upstroke is the noisier fiducial, so e's noise bounds the peak's from above.
  const Intervals iv = clean_intervals(beats.times_s.data(), beats.times_s.size(), ic);
  double sq = 0.0;
  std::size_t count = 0;
  for (std::size_t i = 0; i + 1 < iv.intervals_s.size(); ++i) {
    if (!(iv.accepted[i] && iv.accepted[i + 1])) continue;
    const double e0 = beats.times_s[i + 1] - beats.upstroke_times_s[i + 1];
    const double e1 = beats.times_s[i + 2] - beats.upstroke_times_s[i + 2];
    sq += (e1 - e0) * (e1 - e0);
    ++count;
  }
  if (count > 0) r.timing_noise_ms = 1e3 * std::sqrt(sq / static_cast<double>(count) / 4.0);
  // A successive difference holds three beat times (weights 1, -2, 1): noise of sigma per beat
  // adds 6 sigma^2 to RMSSD^2. How much it inflates the RMSSD, against 7 ms: noise that moves
  // both fiducials alike (in-band noise, motion) is not in e, so the estimate is low by up to
  // ~1.5x on noisy video, and the allowance (10 ms) is shrunk by that.
  const double floor_ms2 = 6.0 * r.timing_noise_ms * r.timing_noise_ms;
  const double inflation =
      r.rmssd_ms - std::sqrt(std::max(0.0, r.rmssd_ms * r.rmssd_ms - floor_ms2));
  const double q_timing = clamp01(1.0 - inflation / 7.0);
  r.confidence *= q_shape * q_timing;
  return r;
}

}  // namespace rppg
