// rppg::PulseMonitor and its parts through the public headers: readings follow a synthetic
// pulse, a trace without a pulse scores low, bad input is refused, and pushes that produce no
// reading allocate nothing after construction (global operator new counter).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <random>

#include "alloc_counter.hpp"
#include "expect.hpp"
#include "rppg/pulse_monitor.hpp"
#include "rppg/signal.hpp"
#include "synthetic_trace.hpp"

namespace {
using rppg_test::expect;
using rppg_test::expect_invalid;

// The fitted POS coefficients (python/rppg_sdk/confidence.json).
rppg::ConfidenceCoefficients pos_coefficients() {
  rppg::ConfidenceCoefficients c;
  c.intercept = 4.1426;
  c.snr_coef = 0.1976;
  c.ipr_coef = -4.1884;
  c.harmonic_coef = -2.3707;
  c.signature_coef = -0.098;
  c.reference_coef = -5.3079;
  c.move_coef = 0.0;
  c.motion_coef = -0.4337;
  return c;
}

void test_follows_pulse_and_change() {
  rppg::PulseMonitorConfig cfg;
  cfg.confidence = pos_coefficients();
  rppg::PulseMonitor mon(cfg);
  rppg_demo::TraceGenerator gen;
  gen.bpm_at = [](double t) { return t < 30.0 ? 66.0 : 96.0; };
  int ok_near = 0, ok_total = 0, warming = 0, late_ok = 0;
  for (int i = 0; i < 60 * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    const rppg::Reading* r = mon.push(t, rgb, 3);
    if (r == nullptr) continue;
    if (r->status == rppg::ReadingStatus::WarmingUp) {
      ++warming;
      expect(t < 5.5, "warming up only before min_window_s");
      continue;
    }
    const double truth = gen.bpm_at(t);
    // Windows that straddle the change hold both rates; judge the clean ones.
    const bool clean = t < 30.0 || t > 45.0;
    if (clean && r->status == rppg::ReadingStatus::Ok) {
      ++ok_total;
      ok_near += std::abs(r->bpm - truth) <= 3.0;
    }
    if (t > 45.0) late_ok += r->status == rppg::ReadingStatus::Ok && std::abs(r->bpm - 96) < 3;
    expect(r->waveform != nullptr && r->waveform_size > 0, "a reading carries its waveform");
    expect(r->confidence >= 0.0 && r->confidence <= 1.0, "confidence in 0..1");
  }
  expect(warming >= 3, "the first readings warm up");
  expect(ok_total > 30 && ok_near == ok_total,
        "every clean OK reading within 3 bpm (" + std::to_string(ok_near) + "/" +
            std::to_string(ok_total) + ")");
  expect(late_ok >= 10, "the tracker follows the change to 96 bpm");
}

// One channel (a 940 nm camera) at a steady `bpm` for `seconds`, the level scaled by
// `level(t)`: how many readings there were, how many within 3 bpm, and the allocations in the
// readings after 20 s (warm-up).
struct MonoRun {
  int near = 0;
  int readings = 0;
  std::size_t allocs_after_warmup = 0;
};

template <typename Level>
MonoRun run_mono(double bpm, int seconds, Level level) {
  rppg::PulseMonitorConfig cfg;
  cfg.method = rppg::ClassicalMethod::Mono;
  cfg.channels = 1;
  rppg::PulseMonitor mon(cfg);
  rppg_demo::TraceGenerator gen;
  gen.bpm_at = [bpm](double) { return bpm; };
  MonoRun run;
  for (int i = 0; i < seconds * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    const double grey = rgb[1] * level(t);  // the green-weighted channel stands in for 940 nm
    const std::size_t before = rppg_test::allocations();
    const rppg::Reading* r = mon.push(t, &grey, 1);
    const std::size_t used = rppg_test::allocations() - before;
    if (r == nullptr || r->status == rppg::ReadingStatus::WarmingUp) continue;
    if (t > 20.0) run.allocs_after_warmup += used;
    ++run.readings;
    run.near += std::abs(r->bpm - bpm) <= 3.0;
  }
  return run;
}

void test_mono_near_infrared() {
  const MonoRun run = run_mono(81.0, 40, [](double) { return 1.0; });
  std::printf("mono: %d/%d readings within 3 bpm; %zu allocations in the readings after 20 s\n",
              run.near, run.readings, run.allocs_after_warmup);
  expect(run.readings > 30 && run.near == run.readings, "mono readings within 3 bpm");
  expect(run.allocs_after_warmup == 0, "mono readings allocate nothing after warm-up");
}

void test_mono_transients_are_gaps() {
  // A 940 nm face with a hand over it (the level up by a fifth, 2.5 s) and a head turn (down by
  // a tenth, 1.5 s) every 10 s: pulse_mono leaves the moves out as gaps and filters each
  // stretch between them on its own, at one padded length, so after warm-up the readings still
  // allocate nothing however the stretches fall.
  const MonoRun run = run_mono(72.0, 60, [](double t) {
    const double u = std::fmod(t, 10.0);
    return u >= 3.0 && u < 5.5 ? 1.2 : (u >= 7.0 && u < 8.5 ? 0.9 : 1.0);
  });
  std::printf("mono with transients: %d/%d readings within 3 bpm; %zu allocations after 20 s\n",
              run.near, run.readings, run.allocs_after_warmup);
  expect(run.readings > 40 && run.near == run.readings,
         "mono readings through transients within 3 bpm");
  expect(run.allocs_after_warmup == 0,
         "mono readings with transients allocate nothing after warm-up");
}

void test_no_pulse_scores_low() {
  rppg::PulseMonitorConfig cfg;
  cfg.confidence = pos_coefficients();
  rppg::PulseMonitor mon(cfg);
  rppg_demo::TraceGenerator gen;
  gen.pulse_amplitude = 0.0;
  gen.noise = 0.2;
  int readings = 0, confident = 0;
  for (int i = 0; i < 40 * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    const rppg::Reading* r = mon.push(t, rgb, 3);
    if (r == nullptr || r->status == rppg::ReadingStatus::WarmingUp) continue;
    ++readings;
    confident += r->confidence >= 0.6;
  }
  expect(readings > 30, "readings without a pulse");
  expect(confident * 10 <= readings,
        "without a pulse at most 1 in 10 readings is confident (" + std::to_string(confident) +
            "/" + std::to_string(readings) + ")");
}

// The surround's light (Evidence::reference_share), through the monitor's pushes: `lamp` adds a
// tinted 90 bpm flicker to skin and surround alike, `pulse` (72 bpm) changes the skin and the
// surround a sixth as much (head motion with each beat), `nod_px` moves the head at the lamp's
// rate. Returns the median share over the readings after warm-up.
double median_surround_light(double lamp, double pulse, double nod_px) {
  rppg::PulseMonitorConfig cfg;
  cfg.confidence = pos_coefficients();
  rppg::PulseMonitor mon(cfg);
  rppg_demo::TraceGenerator gen;
  gen.pulse_amplitude = pulse;
  const double two_pi = 2.0 * std::acos(-1.0);
  std::mt19937 rng(7);
  std::normal_distribution<double> gauss(0.0, 0.05);
  std::vector<double> shares;
  for (int i = 0; i < 30 * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    const double flicker = lamp * std::sin(two_pi * 1.5 * t);
    const double tint[3] = {0.9, 1.3, 0.8};  // green-tinted: blood's own colour change
    const double beat = pulse * std::sin(two_pi * 1.2 * t);
    double ref[3];
    for (int c = 0; c < 3; ++c) {
      rgb[c] *= 1.0 + 0.004 * tint[c] * flicker;
      ref[c] = (70.0 + 10.0 * c) * (1.0 + 0.004 * tint[c] * flicker - 0.0003 * beat) + gauss(rng);
    }
    rppg::FrameExtras extras;
    extras.reference = ref;
    extras.face_x_px = nod_px * std::sin(two_pi * 1.5 * t);
    const rppg::Reading* r = mon.push(t, rgb, 3, extras);
    if (r != nullptr && r->status != rppg::ReadingStatus::WarmingUp && t > 12.0) {
      shares.push_back(r->evidence.reference_share);
    }
  }
  expect(shares.size() > 10, "readings to judge the surround on");
  std::sort(shares.begin(), shares.end());
  return shares[shares.size() / 2];
}

void test_surround_light() {
  const double lamp = median_surround_light(1.0, 0.0, 0.0);
  const double pulse = median_surround_light(0.0, 1.0, 0.0);
  const double nod = median_surround_light(1.0, 0.0, 2.0);
  expect(lamp > 0.7, "a lamp on skin and surround alike is light (" + std::to_string(lamp) + ")");
  expect(pulse < 0.25,
         "a pulse the surround shows a sixth as strongly is not (" + std::to_string(pulse) + ")");
  expect(nod < 0.3, "a surround moving with the head at the rate is motion, not light (" +
                        std::to_string(nod) + ")");
}

void test_bad_input() {
  rppg::PulseMonitorConfig cfg;
  rppg::PulseMonitor mon(cfg);
  const double rgb[3] = {150.0, 110.0, 90.0};
  mon.push(1.0, rgb, 3);
  expect_invalid([&] { mon.push(1.0, rgb, 3); }, "a repeated timestamp");
  expect_invalid([&] { mon.push(0.5, rgb, 3); }, "a timestamp going back");
  expect_invalid([&] { mon.push(2.0, rgb, 1); }, "one channel into a colour monitor");
  const double nan_rgb[3] = {std::nan(""), 1.0, 1.0};
  expect_invalid([&] { mon.push(2.0, nan_rgb, 3); }, "a NaN mean");
  mon.push(2.0, rgb, 3);  // still usable: the refused pushes stored nothing
  rppg::PulseMonitorConfig bad = cfg;
  bad.method = rppg::ClassicalMethod::Mono;  // mono with 3 channels
  expect_invalid([&] { rppg::PulseMonitor m(bad); }, "mono on colour");
  bad = cfg;
  bad.min_window_s = 20.0;
  expect_invalid([&] { rppg::PulseMonitor m(bad); }, "min_window_s > window_s");
  bad = cfg;
  bad.tracker.median_length = 0;
  expect_invalid([&] { rppg::PulseMonitor m(bad); }, "median_length 0");
}

void test_no_allocation_per_frame() {
  rppg::PulseMonitorConfig cfg;
  cfg.confidence = pos_coefficients();
  rppg::PulseMonitor mon(cfg);
  rppg_demo::TraceGenerator gen;
  const double ref[3] = {60.0, 62.0, 64.0};
  rppg::FrameExtras extras;
  extras.reference = ref;
  // Warm-up: fill the window and compute readings (the FFT plans and caches of the core).
  for (int i = 0; i < 15 * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    extras.face_x_px = 0.1 * std::sin(t);
    mon.push(t, rgb, 3, extras);
  }
  std::size_t frame_allocs = 0, reading_allocs = 0, readings = 0, frames = 0;
  for (int i = 0; i < 30 * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    extras.face_x_px = 0.1 * std::sin(t);
    const std::size_t before = rppg_test::allocations();
    const rppg::Reading* r = mon.push(t, rgb, 3, extras);
    const std::size_t used = rppg_test::allocations() - before;
    if (r == nullptr) {
      frame_allocs += used;
      ++frames;
    } else {
      reading_allocs += used;
      ++readings;
    }
  }
  std::printf("after warm-up: %zu allocations over %zu pushes without a reading; %.1f per reading "
              "(%zu readings)\n",
              frame_allocs, frames, readings ? double(reading_allocs) / double(readings) : 0.0,
              readings);
  expect(frame_allocs == 0, "pushes without a reading allocate nothing after warm-up");
  // Readings too: the core's spectra, band-pass and methods reuse per-thread scratch, and the
  // FFT plans of these (regular) window lengths exist since the warm-up.
  expect(reading_allocs == 0, "readings allocate nothing after warm-up on a regular stream");
}

void test_allocations_with_jittered_timestamps() {
  // Camera clocks jitter: the grid length of a window varies by a sample or two, and the
  // band-pass FFT plan of a length seen for the first time is made then (once per length).
  rppg::PulseMonitorConfig cfg;
  rppg::PulseMonitor mon(cfg);
  rppg_demo::TraceGenerator gen;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> jitter(-0.004, 0.004);
  std::size_t frame_allocs = 0, reading_allocs = 0, late_reading_allocs = 0;
  for (int i = 0; i < 300 * 30; ++i) {
    double rgb[3];
    const double t = gen.next(rgb) + jitter(rng);
    const std::size_t before = rppg_test::allocations();
    const rppg::Reading* r = mon.push(t, rgb, 3);
    const std::size_t used = rppg_test::allocations() - before;
    if (t < 15.0) continue;
    (r == nullptr ? frame_allocs : reading_allocs) += used;
    if (r != nullptr && t > 150.0) late_reading_allocs += used;
  }
  std::printf("jittered clock, after 15 s: %zu allocations in pushes without a reading, %zu in "
              "285 readings (%zu in the last 150)\n",
              frame_allocs, reading_allocs, late_reading_allocs);
  expect(frame_allocs == 0, "jittered pushes without a reading allocate nothing");
}

void test_long_signals_do_not_stay_resident() {
  // The per-thread scratch keeps a window's buffers (no allocation when the same length comes
  // again) but drops one that a long signal grew past kScratchKeep.
  std::vector<double> small(600), big(400000), out(400000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::sin(0.2 * static_cast<double>(i));
  for (std::size_t i = 0; i < small.size(); ++i) small[i] = big[i];
  rppg::bandpass(small.data(), small.size(), 30.0, 0.7, 4.0, 0.1, out.data());
  std::size_t before = rppg_test::allocations();
  rppg::bandpass(small.data(), small.size(), 30.0, 0.7, 4.0, 0.1, out.data());
  // Counted before expect() builds its message (a std::string allocates).
  const std::size_t repeated = rppg_test::allocations() - before;
  expect(repeated == 0, "a repeated band-pass allocates nothing");
  rppg::bandpass(big.data(), big.size(), 30.0, 0.7, 4.0, 0.1, out.data());
  before = rppg_test::allocations();
  rppg::bandpass(small.data(), small.size(), 30.0, 0.7, 4.0, 0.1, out.data());
  const std::size_t after_long = rppg_test::allocations() - before;
  expect(after_long > 0, "the long signal's buffers were given back");
}

void test_long_window_for_variability() {
  // A 60 s window at 120 fps (pulse-rate variability) fits the default buffer.
  rppg::PulseWindowConfig wc;
  wc.channels = 3;
  rppg::PulseWindowBuilder b(wc);
  rppg_demo::TraceGenerator gen;
  gen.fps = 120.0;
  for (int i = 0; i < 63 * 120; ++i) {
    double rgb[3];
    const double t = gen.next(rgb);
    b.push(t, rgb, nullptr, 0.0, 0.0, false);
  }
  expect(b.build(62.9, 60.0, 30.0), "a 60 s window builds");
  expect(std::abs(b.span_s() - 60.0) < 0.02, "the 60 s window spans 60 s");
  expect_invalid([&] { b.build(62.9, 65.0, 30.0); }, "a window beyond max_window_s");
}

void test_confidence_terms() {
  rppg::ConfidenceCoefficients c = pos_coefficients();
  rppg::Evidence e;
  e.snr_db = 8.0;
  e.irrelevant_power_ratio = 0.2;
  e.harmonic_ratio = 0.1;
  const double full = rppg::confidence(e, c);
  e.window_fraction = 0.5;
  expect(std::abs(rppg::confidence(e, c) - 0.25 * full) < 1e-12, "half a window scores a quarter");
  e.window_fraction = 1.0;
  e.snr_db = -2.0;
  expect(rppg::confidence(e, c) == 0.0, "no confidence at the SNR floor");
  e.snr_db = std::nan("");
  expect(rppg::confidence(e, c) == 0.0, "no confidence for a NaN SNR");
  e.snr_db = 8.0;
  e.edge_distance_bpm = 0.0;
  expect(rppg::confidence(e, c) == 0.0, "no confidence on the band's edge");
}
}  // namespace

int main() {
  test_surround_light();
  test_confidence_terms();
  test_follows_pulse_and_change();
  test_mono_transients_are_gaps();
  test_no_pulse_scores_low();
  test_mono_near_infrared();
  test_bad_input();
  test_no_allocation_per_frame();
  test_allocations_with_jittered_timestamps();
  test_long_window_for_variability();
  test_long_signals_do_not_stay_resident();
  return rppg_test::finish("pulse monitor");
}
