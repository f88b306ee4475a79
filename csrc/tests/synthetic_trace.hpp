// A synthetic ROI mean trace for the pulse-chain tests, example and benchmark: mean R, G, B of a
// face with a blood-volume pulse (fundamental plus a second harmonic), sensor noise and a slow
// lighting drift, at a heart rate that may change over time.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>

namespace rppg_demo {

struct TraceGenerator {
  double fps = 30.0;
  std::function<double(double)> bpm_at = [](double) { return 72.0; };
  double pulse_amplitude = 1.0;  // 1: a typical face; 0: no pulse
  double noise = 0.05;           // sensor noise of the mean (out of 255)
  std::mt19937_64 rng{7};
  double phase = 0.0;
  double t = 0.0;

  /// The next frame's time and (R, G, B) means.
  double next(double rgb[3]) {
    std::normal_distribution<double> gauss(0.0, noise);
    const double two_pi = 2.0 * std::acos(-1.0);
    phase += two_pi * bpm_at(t) / 60.0 / fps;
    const double pulse = pulse_amplitude * (std::sin(phase) + 0.3 * std::sin(2.0 * phase + 0.6));
    const double light = 1.0 + 0.01 * std::sin(two_pi * 0.05 * t);
    // More blood absorbs more light, green most (Verkruysse et al. 2008).
    rgb[0] = 160.0 * light * (1.0 - 0.0008 * pulse) + gauss(rng);
    rgb[1] = 120.0 * light * (1.0 - 0.0025 * pulse) + gauss(rng);
    rgb[2] = 90.0 * light * (1.0 - 0.0010 * pulse) + gauss(rng);
    const double now = t;
    t += 1.0 / fps;
    return now;
  }
};

}  // namespace rppg_demo
