// Breathing rate from a pulse waveform's respiratory modulations.
//
// Breathing modulates the pulse three ways (Karlen et al. 2013, Charlton et al. 2016):
// - amplitude (RIAV): stroke volume falls with inspiration, so do the beats' amplitudes;
// - frequency (RIFV): respiratory sinus arrhythmia speeds the heart with inspiration;
// - baseline (RIIV): the venous volume under the skin follows the chest pressure.
// Each is a series sampled at the beats; each gives a rate from its spectrum in the breathing
// band, with a quality (the share of the band's power at that rate); the rates that agree are
// fused ("smart fusion": a disagreeing modulation is dropped, and the confidence says so).
#pragma once

#include <cstddef>

#include "rppg/variability.hpp"

namespace rppg {

struct BreathingConfig {
  /// The beats the modulations are sampled at (fs_hz is the pulse's sample rate).
  BeatConfig beats;
  /// Breathing band in Hz: 0.08-0.5 Hz is 4.8-30 breaths per minute (at rest 12-20; slow,
  /// paced breathing at 6 per minute must not sit on the band's edge).
  double f_lo_hz = 0.08;
  double f_hi_hz = 0.5;
  /// Rate the beat-sampled series are interpolated to before their spectra.
  double series_fs_hz = 4.0;
  /// Modulation rates within this many Hz of each other agree (0.05 Hz: 3 breaths per minute).
  double agreement_hz = 0.05;
};

struct ModulationEstimate {
  double rate_hz = 0.0;
  /// Share of the band's power within +-0.03 Hz of the rate (0..1; 0 when not estimated).
  double quality = 0.0;
  bool valid = false;
  bool used = false;  // agreed with the fused rate
};

struct BreathingResult {
  double rate_hz = 0.0;  // fused; 0 when no modulation gave a rate
  /// 0..1: agreement of the modulations, their qualities, the beats' shape and how many
  /// breaths the window holds.
  double confidence = 0.0;
  ModulationEstimate amplitude;  // RIAV
  ModulationEstimate frequency;  // RIFV
  ModulationEstimate baseline;   // RIIV
  std::size_t beats = 0;
  double breaths_per_min() const noexcept { return 60.0 * rate_hz; }
};

/// Breathing rate of a pulse waveform (beats from detect_beats).
BreathingResult estimate_breathing(const double* x, std::size_t n, const BreathingConfig& config);

/// The same from beats already detected in a signal of `duration_s` seconds.
BreathingResult breathing_from_beats(const Beats& beats, double duration_s,
                                     const BreathingConfig& config);

}  // namespace rppg
