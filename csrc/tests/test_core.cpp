// C++ tests of the core (run by ctest). The thorough numerical tests against numpy/scipy
// references live in tests/ (pytest); these check the C++ API itself: errors, edge cases,
// and that the library works with no Python present.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "rppg/rppg.hpp"

namespace {
int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what.c_str());
    ++failures;
  }
}

template <class F>
void expect_invalid(F f, const std::string& what) {
  try {
    f();
    expect(false, what + " (no exception)");
  } catch (const std::invalid_argument&) {
  }
}

std::vector<double> tone(double f_hz, double fs_hz, std::size_t n, double h2 = 0.0) {
  const double pi = std::acos(-1.0);
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / fs_hz;
    x[i] = std::sin(2 * pi * f_hz * t) + h2 * std::sin(4 * pi * f_hz * t + 0.3);
  }
  return x;
}
}  // namespace

int main() {
  // Ring buffer: order, overwrite, timestamps.
  rppg::FrameRingBuffer rb(3, 2, 2, 1, rppg::PixelType::UInt8);
  for (int i = 0; i < 5; ++i) {
    const unsigned char px[4] = {static_cast<unsigned char>(i), 0, 0, 0};
    rb.push(px, i * 0.1);
  }
  std::vector<unsigned char> out(3 * 4);
  std::vector<double> ts(3);
  rb.window(3, out.data(), ts.data());
  expect(rb.size() == 3, "ring buffer keeps capacity frames");
  expect(out[0] == 2 && out[4] == 3 && out[8] == 4, "window is oldest-first after wrap");
  expect(std::abs(ts[0] - 0.2) < 1e-12 && std::abs(ts[2] - 0.4) < 1e-12, "window timestamps");
  const unsigned char px[4] = {0, 0, 0, 0};
  expect_invalid([&] { rb.push(px, 0.4); }, "repeated timestamp rejected");
  expect_invalid([&] { rb.push(px, std::nan("")); }, "NaN timestamp rejected");
  expect_invalid([&] { rb.window(4, out.data(), ts.data()); }, "window larger than size");
  rb.clear();
  rb.push(px, -5.0);
  expect(rb.size() == 1, "clear resets the timestamp order");

  // Heart rate: sub-bin accuracy and the harmonic guard.
  rppg::SpectralConfig cfg;
  cfg.fs_hz = 30.0;
  for (double bpm : {45.3, 61.7, 72.0, 98.4, 143.9, 185.2}) {
    const auto r = rppg::estimate_heart_rate(tone(bpm / 60, 30, 300, 0.3), cfg);
    expect(std::abs(r.bpm() - bpm) < 0.1, "heart rate of a " + std::to_string(bpm) + " bpm tone: " +
                                               std::to_string(r.bpm()));
    expect(r.correction == rppg::HarmonicCorrection::None, "clean pulse not corrected");
    expect(r.snr_db > 5 && r.irrelevant_power_ratio < 0.15,
           "clean pulse has high quality: SNR " + std::to_string(r.snr_db) + " dB, IPR " +
               std::to_string(r.irrelevant_power_ratio));
  }
  const auto h = rppg::estimate_heart_rate(tone(1.0, 30, 300, 1.2), cfg);
  expect(std::abs(h.bpm() - 60.0) < 0.2 && h.correction == rppg::HarmonicCorrection::Halved,
         "strong 2nd harmonic is reported at the fundamental: " + std::to_string(h.bpm()));

  // Detrend removes a ramp; band-pass removes out-of-band tones.
  std::vector<double> ramp(200);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = 0.05 * static_cast<double>(i);
  const auto d = rppg::detrend(ramp, 100.0);
  double worst = 0;
  for (double v : d) worst = std::max(worst, std::abs(v));
  expect(worst < 1e-6, "detrend removes a linear ramp exactly");
  auto mix = tone(1.2, 30, 300);
  const auto slow = tone(0.1, 30, 300);
  for (std::size_t i = 0; i < mix.size(); ++i) mix[i] += 3 * slow[i];
  const auto bp = rppg::bandpass(mix, 30, 0.7, 4.0, 0.1);
  const auto ref = tone(1.2, 30, 300);
  double err = 0;
  for (std::size_t i = 30; i < 270; ++i) err = std::max(err, std::abs(bp[i] - ref[i]));
  expect(err < 0.1, "band-pass keeps the in-band tone and drops the slow one: " + std::to_string(err));

  // Errors name what was wrong.
  expect_invalid([] { rppg::detrend(std::vector<double>{1.0, 2.0}, 10.0); }, "detrend of 2 samples");
  rppg::SpectralConfig bad = cfg;
  bad.f_hi_hz = 20.0;
  expect_invalid([&] { rppg::estimate_heart_rate(tone(1.0, 30, 300), bad); }, "band above Nyquist");

  if (failures == 0) std::printf("all C++ core tests passed\n");
  return failures == 0 ? 0 : 1;
}
