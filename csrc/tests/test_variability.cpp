// C++ tests of beat detection, pulse-rate variability and breathing rate (run by ctest).
// The accuracy on real recordings is measured in tests/test_variability.py and
// tests/test_breathing.py; these check the C++ API on pulses whose beats are known exactly.
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "rppg/breathing.hpp"
#include "rppg/variability.hpp"
#include "expect.hpp"

namespace {
const double kPi = std::acos(-1.0);

using rppg_test::expect;
using rppg_test::expect_invalid;

// Beat times with respiratory sinus arrhythmia at `breath_hz` and a little beat-to-beat jitter.
std::vector<double> beat_times(double duration_s, double mean_interval_s, double rsa_s,
                               double breath_hz, double jitter_s, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, jitter_s);
  std::vector<double> t;
  double now = 0.3;
  while (now < duration_s) {
    t.push_back(now);
    now += mean_interval_s + rsa_s * std::sin(2 * kPi * breath_hz * now) + noise(rng);
  }
  return t;
}

// A pulse whose systolic peaks sit at `beats`: per beat a narrow systolic and a broad later
// dicrotic Gaussian, amplitude and baseline modulated by breathing.
std::vector<double> render(const std::vector<double>& beats, double fs, double duration_s,
                           double breath_hz, double am, double bm) {
  const auto n = static_cast<std::size_t>(duration_s * fs);
  std::vector<double> x(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / fs;
    double v = 0.0;
    for (std::size_t k = 0; k < beats.size(); ++k) {
      const double period = k + 1 < beats.size() ? beats[k + 1] - beats[k] : 0.8;
      const double d = (t - beats[k]) / period;
      if (d < -1 || d > 2) continue;
      const double a = 1.0 + am * std::sin(2 * kPi * breath_hz * beats[k]);
      v += a * (std::exp(-0.5 * (d / 0.08) * (d / 0.08)) +
                0.5 * std::exp(-0.5 * ((d - 0.3) / 0.15) * ((d - 0.3) / 0.15)));
    }
    x[i] = v + bm * std::sin(2 * kPi * breath_hz * t + 1.0);
  }
  return x;
}

double rmssd_ms(const std::vector<double>& t) {
  double sq = 0.0;
  std::size_t k = 0;
  for (std::size_t i = 2; i < t.size(); ++i) {
    const double d = (t[i] - t[i - 1]) - (t[i - 1] - t[i - 2]);
    sq += d * d;
    ++k;
  }
  return 1e3 * std::sqrt(sq / static_cast<double>(k));
}
}  // namespace

int main() {
  const double fs = 30.0, dur = 60.0, breath = 0.25;
  const auto truth = beat_times(dur, 0.85, 0.05, breath, 0.02, 1);
  const auto x = render(truth, fs, dur, breath, 0.15, 0.3);

  // Beats: every true beat found, each within a few milliseconds at 30 Hz (sub-sample timing).
  rppg::BeatConfig bc;
  bc.fs_hz = fs;
  const rppg::Beats beats = rppg::detect_beats(x, bc);
  std::size_t matched = 0;
  double worst = 0.0;
  for (double tb : truth) {
    double best = 1e9;
    for (double t : beats.times_s) best = std::min(best, std::abs(t - tb));
    if (best < 0.1) {
      ++matched;
      worst = std::max(worst, best);
    }
  }
  expect(matched + 2 >= truth.size() && beats.times_s.size() <= truth.size() + 1,
         "beats found: " + std::to_string(matched) + " of " + std::to_string(truth.size()) +
             ", detected " + std::to_string(beats.times_s.size()));
  expect(beats.shape_correlation > 0.9,
         "clean pulse repeats its shape: " + std::to_string(beats.shape_correlation));

  // Pulse-rate variability against the true beats' RMSSD.
  const rppg::VariabilityResult prv = rppg::pulse_rate_variability(x.data(), x.size(), bc, {});
  const double want = rmssd_ms(truth);
  expect(std::abs(prv.rmssd_ms - want) < 5.0,
         "RMSSD " + std::to_string(prv.rmssd_ms) + " ms, truth " + std::to_string(want));
  expect(prv.rejected_share < 0.05, "clean pulse: rejected " + std::to_string(prv.rejected_share));
  expect(prv.confidence > 0.7, "clean pulse: confidence " + std::to_string(prv.confidence));

  // Interval cleaning: a missed beat (one doubled interval) and an extra beat (split interval).
  std::vector<double> t;
  for (int i = 0; i < 40; ++i) t.push_back(0.8 * i + 0.01 * std::sin(i));
  std::vector<double> missed = t;
  missed.erase(missed.begin() + 20);
  rppg::Intervals iv = rppg::clean_intervals(missed.data(), missed.size(), {});
  expect(!iv.accepted[19] && iv.rejected_share > 0.0 && iv.rejected_share < 0.05,
         "a missed beat's doubled interval is rejected, alone");
  std::vector<double> extra = t;
  extra.insert(extra.begin() + 10, 0.5 * (t[9] + t[10]) + 0.1);
  iv = rppg::clean_intervals(extra.data(), extra.size(), {});
  expect(!iv.accepted[9] && !iv.accepted[10], "an extra beat's split intervals are rejected");
  const rppg::VariabilityResult clean = rppg::variability_from_beats(t.data(), t.size(), {});
  const rppg::VariabilityResult dirty =
      rppg::variability_from_beats(extra.data(), extra.size(), {});
  expect(std::abs(dirty.rmssd_ms - clean.rmssd_ms) < 2.0,
         "RMSSD after cleaning an extra beat: " + std::to_string(dirty.rmssd_ms) + " vs " +
             std::to_string(clean.rmssd_ms));
  expect(clean.beats_used == t.size() && clean.intervals_used == t.size() - 1,
         "every beat of a clean sequence is used");

  // Breathing from the modulations: 0.25 Hz = 15 breaths per minute.
  rppg::BreathingConfig brc;
  brc.beats = bc;
  const rppg::BreathingResult br = rppg::estimate_breathing(x.data(), x.size(), brc);
  expect(std::abs(br.breaths_per_min() - 15.0) < 1.0,
         "breathing " + std::to_string(br.breaths_per_min()) + " per minute, truth 15");
  expect(br.confidence > 0.5, "breathing confidence " + std::to_string(br.confidence));
  expect(br.amplitude.valid && br.frequency.valid && br.baseline.valid,
         "all three modulations estimated");

  // Noise: no pulse, low confidence for both.
  std::mt19937 rng(7);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> noise(x.size());
  for (double& v : noise) v = g(rng);
  const auto np = rppg::pulse_rate_variability(noise.data(), noise.size(), bc, {});
  expect(np.confidence < 0.3, "noise: PRV confidence " + std::to_string(np.confidence));
  const auto nb = rppg::estimate_breathing(noise.data(), noise.size(), brc);
  expect(nb.confidence < 0.3, "noise: breathing confidence " + std::to_string(nb.confidence));

  // Bad input.
  std::vector<double> with_nan = x;
  with_nan[100] = std::nan("");
  expect_invalid([&] { rppg::detect_beats(with_nan, bc); }, "NaN pulse");
  expect_invalid([&] { rppg::detect_beats(x.data(), 10, bc); }, "too short a pulse");
  rppg::BeatConfig bad = bc;
  bad.fs_hz = 5.0;  // the band's top (3.5 Hz) is above Nyquist
  expect_invalid([&] { rppg::detect_beats(x, bad); }, "band above Nyquist");
  rppg::IntervalConfig bad_iv;
  bad_iv.max_deviation = 1.5;
  expect_invalid([&] { rppg::clean_intervals(t.data(), t.size(), bad_iv); }, "deviation 1.5");
  const double back[3] = {0.0, 1.0, 0.5};
  expect_invalid([&] { rppg::clean_intervals(back, 3, {}); }, "beat times going back");
  rppg::BreathingConfig bad_br = brc;
  bad_br.f_hi_hz = 0.9;  // overlaps the pulse band
  expect_invalid([&] { rppg::estimate_breathing(x.data(), x.size(), bad_br); },
                 "breathing band overlapping the pulse band");

  return rppg_test::finish("variability and breathing");
}
