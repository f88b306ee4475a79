// C++ tests of the core (run by ctest). The thorough numerical tests against numpy/scipy
// references live in tests/ (pytest); these check the C++ API itself: errors, edge cases,
// and that the library works with no Python present.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "rppg/rppg.hpp"
#include "expect.hpp"

namespace {
using rppg_test::expect;
using rppg_test::expect_invalid;

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

  // A frame size that wraps around size_t used to allocate a tiny buffer that push() overran.
  expect_invalid([] { rppg::FrameRingBuffer(1, std::size_t{1} << 32, std::size_t{1} << 32, 1,
                                            rppg::PixelType::UInt8); },
                 "frame ring whose size overflows size_t");

  // Time-series buffer: order, overwrite, since(), validation that leaves it unchanged.
  expect_invalid([] { rppg::TimeSeriesBuffer(0, 3); }, "time series of capacity 0");
  expect_invalid([] { rppg::TimeSeriesBuffer(3, 0); }, "time series of 0 channels");
  expect_invalid([] { rppg::TimeSeriesBuffer(std::size_t{1} << 62, 4); },
                 "time series whose size overflows size_t");
  rppg::TimeSeriesBuffer tsb(4, 2);
  expect(tsb.size() == 0 && std::isnan(tsb.last_timestamp_s()), "empty time series");
  expect(tsb.since(-1e300, 0, nullptr, nullptr) == 0, "since() on an empty buffer counts 0");
  for (int i = 0; i < 6; ++i) {
    const double v[2] = {1.0 * i, -1.0 * i};
    tsb.push(v, 0.5 * i);
  }
  std::vector<double> vals(8), times(4);
  tsb.window(4, vals.data(), times.data());
  expect(tsb.size() == 4 && vals[0] == 2 && vals[1] == -2 && vals[6] == 5 && times[0] == 1.0 &&
             times[3] == 2.5,
         "time-series window is the newest samples, oldest first, after wrap");
  expect(tsb.since(2.0, 4, vals.data(), times.data()) == 2 && times[0] == 2.0 && vals[2] == 5,
         "since() includes a sample exactly at start_s");
  expect(tsb.since(2.0, 1, vals.data(), times.data()) == 2,
         "since() reports the count it needs when max_n is too small");
  expect(tsb.since(2.6, 4, vals.data(), times.data()) == 0, "since() after the newest sample");
  const double nan_v[2] = {1.0, std::nan("")};
  expect_invalid([&] { tsb.push(nan_v, 10.0); }, "NaN value rejected");
  const double ok_v[2] = {1.0, 2.0};
  expect_invalid([&] { tsb.push(ok_v, 2.5); }, "repeated time-series timestamp rejected");
  expect_invalid([&] { tsb.since(std::nan(""), 4, vals.data(), times.data()); }, "NaN start_s");
  const double many_v[6] = {7, 7, 8, 8, 9, 9};
  const double bad_t[3] = {3.0, 4.0, 4.0};
  expect_invalid([&] { tsb.push_many(many_v, bad_t, 3); }, "push_many with a repeated time");
  expect(tsb.size() == 4 && tsb.last_timestamp_s() == 2.5, "a rejected push_many stores nothing");
  const double good_t[3] = {3.0, 4.0, 5.0};
  tsb.push_many(many_v, good_t, 3);
  tsb.window(4, vals.data(), times.data());
  expect(times[0] == 2.5 && times[3] == 5.0 && vals[7] == 9, "push_many wraps like single pushes");
  std::vector<double> big_v(20), big_t(10);
  for (int i = 0; i < 10; ++i) {
    big_t[i] = 10.0 + i;
    big_v[2 * i] = i;
    big_v[2 * i + 1] = i;
  }
  tsb.push_many(big_v.data(), big_t.data(), 10);
  tsb.window(4, vals.data(), times.data());
  expect(times[0] == 16.0 && vals[0] == 6 && times[3] == 19.0,
         "push_many of more than capacity keeps the newest");
  tsb.clear();
  tsb.push(ok_v, -3.0);
  expect(tsb.size() == 1 && tsb.last_timestamp_s() == -3.0, "clear resets the time order");

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

  // Found by the fuzzer (csrc/fuzz): each case once gave a wrong number, UB or a hang instead
  // of std::invalid_argument or the right answer.
  auto huge = tone(1.2, 30, 300);
  huge[17] = 1.7e308;  // finite, but its sums overflow: the band-pass returned all NaN
  expect_invalid([&] { rppg::bandpass(huge, 30, 0.7, 4.0, 0.1); }, "band-pass of a 1.7e308 sample");
  expect_invalid([&] { rppg::detrend(huge, 100.0); }, "detrend of a 1.7e308 sample");
  auto with_nan = tone(1.2, 30, 300);
  with_nan[5] = std::nan("");  // estimate_heart_rate answered 42 bpm with a NaN SNR
  expect_invalid([&] { rppg::estimate_heart_rate(with_nan, cfg); }, "heart rate of a NaN signal");
  const auto plain = rppg::estimate_heart_rate(tone(1.3, 30, 300), cfg);
  for (double scale : {1e-160, 1e-300, 1e150}) {  // squares under/overflow without rescaling
    auto scaled = tone(1.3, 30, 300);
    for (double& v : scaled) v *= scale;
    const auto r = rppg::estimate_heart_rate(scaled, cfg);
    expect(std::abs(r.frequency_hz - plain.frequency_hz) < 1e-9 &&
               std::abs(r.snr_db - plain.snr_db) < 1e-9 &&
               std::abs(r.irrelevant_power_ratio - plain.irrelevant_power_ratio) < 1e-12,
           "heart rate does not depend on the signal's scale " + std::to_string(scale) + ": " +
               std::to_string(r.bpm()) + " bpm, SNR " + std::to_string(r.snr_db));
  }
  rppg::SpectralConfig tiny_lambda = cfg;
  tiny_lambda.detrend_lambda = 1e-300;  // 1 / lambda^2 overflowed the detrender: a NaN SNR
  expect_invalid([&] { rppg::estimate_heart_rate(tone(1.0, 30, 300), tiny_lambda); },
                 "detrend lambda of 1e-300");
  expect_invalid([] { rppg::detrend(tone(1.0, 30, 300), 1e-300); }, "detrend with lambda 1e-300");
  rppg::SpectralConfig wide = cfg;
  wide.snr_halfwidth_hz = 1e3;  // the harmonic guard searched up to Nyquist and left the band
  for (double f : {0.8, 1.5, 3.9}) {
    const auto r = rppg::estimate_heart_rate(tone(f, 30, 300, 1.5), wide);
    expect(r.frequency_hz >= wide.f_lo_hz && r.frequency_hz <= wide.f_hi_hz,
           "heart rate with a 1 kHz SNR half-width stays in the band: " + std::to_string(r.bpm()));
  }
  rppg::SpectralConfig absurd = cfg;
  absurd.nfft = static_cast<std::size_t>(-1);  // next_fast_length wrapped to 0 and spun forever
  expect_invalid([&] { rppg::estimate_heart_rate(tone(1.0, 30, 300), absurd); }, "nfft of 2^64-1");
  const double gap[2] = {0.0, 1e300};  // span * fs cast to size_t: undefined behaviour
  expect_invalid([&] { rppg::resampled_length(gap, 2, 30.0); }, "resampling a 1e300 s gap");
  const double pi = std::acos(-1.0);
  const double wc = 2 * pi * 1e-9 / 30.0;  // 2 - 2 cos(wc) cancelled to 0: lambda was inf
  const double lam = rppg::detrend_lambda_for_cutoff(30.0, 1e-9);
  expect(std::abs(lam * wc * wc - 1.0) < 1e-6, "detrend lambda for a tiny cut-off: " +
                                                    std::to_string(lam));

  return rppg_test::finish("C++ core");
}
