#include "rppg/breathing.hpp"

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

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

void validate(const BreathingConfig& c) {
  RPPG_REQUIRE(std::isfinite(c.series_fs_hz) && c.series_fs_hz > 0 && c.series_fs_hz <= 100,
               "series_fs_hz: expected 0 < series_fs_hz <= 100, got " + num(c.series_fs_hz));
  RPPG_REQUIRE(std::isfinite(c.f_lo_hz) && std::isfinite(c.f_hi_hz) && c.f_lo_hz > 0 &&
                   c.f_lo_hz < c.f_hi_hz && c.f_hi_hz < 0.5 * c.series_fs_hz &&
                   c.f_hi_hz < c.beats.f_lo_hz,
               "breathing band: expected 0 < f_lo < f_hi, below the series' Nyquist (" +
                   num(0.5 * c.series_fs_hz) + " Hz) and the pulse band (" +
                   num(c.beats.f_lo_hz) + " Hz), got (" + num(c.f_lo_hz) + ", " +
                   num(c.f_hi_hz) + ")");
  RPPG_REQUIRE(std::isfinite(c.agreement_hz) && c.agreement_hz > 0,
               "agreement_hz: expected > 0, got " + num(c.agreement_hz));
}

// One modulation's spectrum: bin frequencies and each bin's share of the breathing band's
// power, kept up to twice the band's top (the fusion reads harmonics there).
struct ModulationSpectrum {
  std::vector<double> f, share;
  // Share of the band's power within +-0.03 Hz of f_hz (0 beyond the spectrum).
  double at(double f_hz) const {
    double s = 0.0;
    for (std::size_t k = 0; k < f.size(); ++k) {
      if (std::abs(f[k] - f_hz) <= 0.03) s += share[k];
    }
    return s;
  }
};

// One modulation: a series sampled at irregular times -> uniform grid -> spectrum. The rate is
// the strongest peak in [f_lo, f_hi], refined on the continuous spectrum.
ModulationEstimate modulation_rate(const std::vector<double>& t, const std::vector<double>& v,
                                   double f_hi_hz, double f_top_hz, const BreathingConfig& c,
                                   ModulationSpectrum& spectrum) {
  ModulationEstimate e;
  spectrum = {};
  if (t.size() < 4 || !(f_hi_hz > c.f_lo_hz)) return e;
  const std::size_t m = resampled_length(t.data(), t.size(), c.series_fs_hz);
  if (m < 16) return e;
  std::vector<double> grid(m), series(m);
  resample_uniform(t.data(), v.data(), t.size(), 1, c.series_fs_hz, grid.data(), series.data());
  double lo = series[0], hi = series[0];
  for (double s : series) {
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  if (!(hi > lo)) return e;  // a constant series has no rate
  SpectralConfig sc;
  sc.fs_hz = c.series_fs_hz;
  sc.f_lo_hz = c.f_lo_hz;
  sc.f_hi_hz = f_hi_hz;
  // Harmonics are weighed by the fusion across modulations, not by one spectrum alone (the
  // slow Mayer waves near the band's low edge would pull a single-spectrum guard down).
  sc.half_harmonic_ratio = 2.0;
  sc.missed_fundamental_ratio = 0.0;
  sc.nfft = std::max<std::size_t>(1024, 4 * m);  // fine bins: shares are read off them
  const HeartRateResult r = estimate_heart_rate(series.data(), m, sc);
  const std::size_t bins = effective_nfft(sc, m) / 2 + 1;
  std::vector<double> f(bins), p(bins);
  power_spectrum(series.data(), m, sc, f.data(), p.data());
  double band = 0.0;
  for (std::size_t k = 0; k < bins; ++k) {
    if (f[k] >= c.f_lo_hz && f[k] <= f_hi_hz) band += p[k];
  }
  if (!(band > 0) || !(r.frequency_hz > 0)) return e;
  for (std::size_t k = 0; k < bins; ++k) {
    if (f[k] < c.f_lo_hz - 0.03 || f[k] > f_top_hz + 0.03) continue;
    spectrum.f.push_back(f[k]);
    spectrum.share.push_back(p[k] / band);
  }
  e.rate_hz = r.frequency_hz;
  e.quality = clamp01(spectrum.at(r.frequency_hz));
  e.valid = true;
  return e;
}

// Values further than 4 scaled MADs from the median (a missed or doubled beat's amplitude or
// baseline) are dropped with their times.
void drop_outliers(std::vector<double>& t, std::vector<double>& v) {
  if (v.size() < 5) return;
  const double med = median_of(v);
  std::vector<double> dev(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) dev[i] = std::abs(v[i] - med);
  const double mad = 1.4826 * median_of(dev);
  if (!(mad > 0)) return;
  std::size_t k = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (std::abs(v[i] - med) <= 4.0 * mad) {
      t[k] = t[i];
      v[k] = v[i];
      ++k;
    }
  }
  t.resize(k);
  v.resize(k);
}

}  // namespace

BreathingResult breathing_from_beats(const Beats& beats, double duration_s,
                                     const BreathingConfig& c) {
  validate(c);
  RPPG_REQUIRE(std::isfinite(duration_s) && duration_s > 0,
               "duration_s: expected > 0, got " + num(duration_s));
  RPPG_REQUIRE(beats.amplitudes.size() == beats.times_s.size() &&
                   beats.baselines.size() == beats.times_s.size(),
               "beats: expected as many amplitudes and baselines as times");
  BreathingResult out;
  const std::size_t n = beats.times_s.size();
  out.beats = n;
  if (n < 5 || !(beats.rate_hz > 0)) return out;
  // The beats sample the modulations: rates above ~0.45 of the pulse rate alias.
  const double f_hi = std::min(c.f_hi_hz, 0.45 * beats.rate_hz);
  const double f_top = std::min({2.0 * f_hi, 0.45 * beats.rate_hz, 0.45 * c.series_fs_hz});

  std::vector<double> t(beats.times_s), amp(beats.amplitudes), base(beats.baselines);
  std::vector<double> t_amp = t, t_base = t;
  drop_outliers(t_amp, amp);
  drop_outliers(t_base, base);
  ModulationSpectrum spectra[3];
  out.amplitude = modulation_rate(t_amp, amp, f_hi, f_top, c, spectra[0]);
  // Intervals at their midpoints, only those the cleaning accepts (a missed beat is no RSA).
  const Intervals iv = clean_intervals(t.data(), n, IntervalConfig{});
  std::vector<double> t_int, ibi;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (!iv.accepted[i]) continue;
    t_int.push_back(0.5 * (t[i] + t[i + 1]));
    ibi.push_back(iv.intervals_s[i]);
  }
  out.frequency = modulation_rate(t_int, ibi, f_hi, f_top, c, spectra[1]);
  out.baseline = modulation_rate(t_base, base, f_hi, f_top, c, spectra[2]);

  // Fusion across modulations, aware of harmonics: breathing is not a sine (a quick inspiration,
  // a slow expiration), and one modulation may peak at twice the rate another shows (the
  // amplitude often does). Candidates are every modulation's own rate and half of it; each
  // candidate f scores, summed over the modulations, the share of band power at f plus a weighted
  // share at 2 f. The best candidate is the rate.
  // The weight of a candidate's harmonic: below 1, so a candidate at half a clean rate does not
  // win on that rate's power alone; near 1, since amplitude modulations often show the
  // harmonic more than the rate itself (quick inspiration, slow expiration).
  constexpr double kHarmonicWeight = 0.75;
  ModulationEstimate* mods[3] = {&out.amplitude, &out.frequency, &out.baseline};
  std::vector<double> candidates;
  int n_valid = 0;
  for (auto* e : mods) {
    if (!e->valid) continue;
    ++n_valid;
    candidates.push_back(e->rate_hz);
    if (0.5 * e->rate_hz >= c.f_lo_hz) candidates.push_back(0.5 * e->rate_hz);
  }
  if (n_valid == 0) return out;
  double best = -1.0, rate = 0.0;
  for (double f : candidates) {
    double score = 0.0;
    for (int i = 0; i < 3; ++i) {
      if (mods[i]->valid) score += spectra[i].at(f) + kHarmonicWeight * spectra[i].at(2.0 * f);
    }
    if (score > best + 1e-12) {
      best = score;
      rate = f;
    }
  }
  // The modulations that show the rate (or its harmonic) refine it, weighted by their quality.
  double wsum = 0.0, rsum = 0.0, held = 0.0;
  int agreeing = 0;
  for (int i = 0; i < 3; ++i) {
    ModulationEstimate* e = mods[i];
    if (!e->valid) continue;
    held += std::max(spectra[i].at(rate), spectra[i].at(2.0 * rate));
    double own = 0.0;
    if (std::abs(e->rate_hz - rate) <= c.agreement_hz) {
      own = e->rate_hz;
    } else if (std::abs(e->rate_hz - 2.0 * rate) <= 2.0 * c.agreement_hz) {
      own = 0.5 * e->rate_hz;
    } else {
      continue;
    }
    e->used = true;
    ++agreeing;
    wsum += e->quality;
    rsum += e->quality * own;
  }
  out.rate_hz = (agreeing > 0 && wsum > 0) ? rsum / wsum : rate;
  // Confidence: how much of the modulations' power sits at the rate (a share of 0.5 per
  // modulation is a clear line), how many modulations show it (one alone is a guess), the
  // beats' shape (noise makes beats at random) and at least four breaths in the window.
  const double peaked = clamp01(held / n_valid / 0.5);
  const double count = agreeing >= 3 ? 1.0 : agreeing == 2 ? 0.8 : 0.4;
  const double shape = clamp01((beats.shape_correlation - 0.6) / 0.3);
  const double breaths = clamp01((duration_s * out.rate_hz - 2.0) / 2.0);
  out.confidence = clamp01(peaked * count * shape * breaths);
  return out;
}

BreathingResult estimate_breathing(const double* x, std::size_t n, const BreathingConfig& c) {
  validate(c);
  const Beats beats = detect_beats(x, n, c.beats);
  return breathing_from_beats(beats, static_cast<double>(n) / c.beats.fs_hz, c);
}

}  // namespace rppg
