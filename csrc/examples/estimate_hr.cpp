// Example: heart rate from a pulse waveform with the rppg core, no Python involved.
//
//   estimate_hr [bpm]   synthesises 10 s of a noisy 30 fps pulse at `bpm` (default 72) and
//                       prints the heart rate the core reads off it.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "rppg/rppg.hpp"

int main(int argc, char** argv) {
  const double bpm = argc > 1 ? std::atof(argv[1]) : 72.0;
  const double fs_hz = 30.0;
  const double pi = std::acos(-1.0);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.3);

  // A camera's frames arrive into the ring buffer; here, 1x1 "frames" holding a colour mean.
  rppg::FrameRingBuffer frames(300, 1, 1, 3, rppg::PixelType::Float32);
  for (int i = 0; i < 300; ++i) {
    const double t = i / fs_hz;
    const double pulse = std::sin(2 * pi * bpm / 60.0 * t) + 0.4 * std::sin(4 * pi * bpm / 60.0 * t);
    const float rgb[3] = {static_cast<float>(120 + 0.3 * pulse + 2 * t),
                          static_cast<float>(100 + 1.0 * pulse + noise(rng) + 2 * t),
                          static_cast<float>(80 + 0.5 * pulse + 2 * t)};
    frames.push(rgb, t);
  }
  std::vector<float> window(300 * 3);
  std::vector<double> stamps(300);
  frames.window(300, window.data(), stamps.data());

  std::vector<double> rgb(window.begin(), window.end());
  std::vector<double> pulse(300);
  rppg::pulse_pos(rgb.data(), 300, 48, pulse.data());

  rppg::SpectralConfig config;
  config.fs_hz = fs_hz;
  const rppg::HeartRateResult hr = rppg::estimate_heart_rate(pulse, config);
  std::printf("heart rate: %.1f bpm (SNR %.1f dB, irrelevant power %.2f)\n", hr.bpm(), hr.snr_db,
              hr.irrelevant_power_ratio);
  return std::abs(hr.bpm() - bpm) < 1.0 ? 0 : 1;
}
