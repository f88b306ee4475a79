// Beats and pulse-rate variability (PRV) from a pulse waveform.
//
// From video (or a fingertip PPG) the beat intervals come from the pulse wave's peaks, not from
// the ECG's R-peaks: the pulse transit time varies a little from beat to beat, so this is
// pulse-rate variability, which approximates ECG heart-rate variability at rest (Schäfer &
// Vagedes 2013). Names say "pulse" / "PRV" for that reason.
//
// Arrays are raw pointers with explicit lengths; invalid input throws std::invalid_argument
// naming what was expected and what arrived.
#pragma once

#include <cstddef>
#include <vector>

namespace rppg {

struct BeatConfig {
  double fs_hz = 30.0;
  /// Pulse-rate band searched for the mean rate that guides the beat search (Hz).
  double f_lo_hz = 0.7;
  double f_hi_hz = 3.5;
  /// Highest frequency kept in the band-passed pulse whose peaks time the beats: the pulse's
  /// first harmonics sharpen the systolic peak; more only adds noise. Capped at 0.4 fs.
  double timing_f_hi_hz = 5.0;
};

struct Beats {
  /// Systolic peak times of the band-passed pulse, refined to sub-sample time by a parabola
  /// through the peak sample and its neighbours; seconds from the first sample.
  std::vector<double> times_s;
  /// Times of the steepest upstroke before each peak (the derivative's maximum, refined the
  /// same way): a second fiducial. Its offset from the peak is nearly constant beat to beat in
  /// a clean pulse; noise moves the two differently, so the offset's beat-to-beat change
  /// measures the timing noise.
  std::vector<double> upstroke_times_s;
  /// Peak height above the preceding trough (the beat's amplitude), per beat.
  std::vector<double> amplitudes;
  /// The un-band-passed pulse averaged over each beat (its baseline), per beat.
  std::vector<double> baselines;
  /// The mean pulse rate that guided the search (Hz), and its spectral SNR (dB).
  double rate_hz = 0.0;
  double snr_db = 0.0;
  /// Median correlation of each beat's shape with the median beat (-1..1): a clean pulse
  /// repeats its shape, noise does not.
  double shape_correlation = 0.0;
};

/// Beats of a pulse waveform: the mean rate from the spectrum (estimate_heart_rate), a narrow
/// band-pass around it that leaves one smooth maximum per beat (which peak belongs to which
/// beat), and the peak of the wider band-passed pulse near each (its time).
Beats detect_beats(const double* x, std::size_t n, const BeatConfig& config);
Beats detect_beats(const std::vector<double>& x, const BeatConfig& config);

struct IntervalConfig {
  /// Intervals outside [min_s, max_s] are rejected (0.25-2 s: 30-240 beats per minute).
  double min_interval_s = 0.25;
  double max_interval_s = 2.0;
  /// An interval further than this share from the median of its neighbours is rejected: a
  /// missed beat doubles an interval, an extra (ectopic or noise) beat splits one.
  double max_deviation = 0.2;
  /// Neighbours on each side forming that local median.
  std::size_t half_window = 5;
};

struct Intervals {
  std::vector<double> intervals_s;  // beat i to beat i + 1
  std::vector<unsigned char> accepted;
  double rejected_share = 0.0;  // of the intervals, 0..1
};

/// Intervals between successive beat times, each accepted or rejected (see IntervalConfig).
Intervals clean_intervals(const double* beat_times_s, std::size_t n, const IntervalConfig& config);

struct VariabilityResult {
  double rmssd_ms = 0.0;         // root mean square of successive accepted-interval differences
  double sdnn_ms = 0.0;          // standard deviation of the accepted intervals
  double pnn50_percent = 0.0;    // share of successive differences over 50 ms
  double mean_interval_ms = 0.0; // mean accepted interval
  std::size_t beats_detected = 0;
  std::size_t beats_used = 0;      // beats that bound an accepted interval
  std::size_t intervals_used = 0;  // accepted intervals
  std::size_t differences_used = 0;  // successive pairs of accepted intervals
  double rejected_share = 0.0;
  /// Per-beat timing noise (ms) estimated from the two fiducials (peak and steepest upstroke):
  /// the RMS successive change of their offset over 2. Noise adds about sqrt(6) times this to
  /// RMSSD in quadrature. 0 when not measured (variability_from_beats).
  double timing_noise_ms = 0.0;
  /// 0..1: how far the numbers can be trusted (timing noise small against the RMSSD, clean
  /// beat shapes, few rejected intervals, enough beats).
  double confidence = 0.0;
};

/// RMSSD, SDNN and pNN50 of beat times (seconds); no confidence from shapes (set 1 for them).
VariabilityResult variability_from_beats(const double* beat_times_s, std::size_t n,
                                         const IntervalConfig& config);

/// Pulse-rate variability of a pulse waveform: detect_beats, clean_intervals, then the
/// statistics over accepted intervals only (differences only between two accepted neighbours,
/// never across a rejected gap).
VariabilityResult pulse_rate_variability(const double* x, std::size_t n, const BeatConfig& beats,
                                         const IntervalConfig& intervals);

}  // namespace rppg
