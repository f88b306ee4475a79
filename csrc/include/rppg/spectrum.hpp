// Power spectra and heart rate from a pulse waveform.
#pragma once

#include <cstddef>
#include <vector>

namespace rppg {

struct SpectralConfig {
  double fs_hz = 30.0;
  double f_lo_hz = 0.7;  // heart-rate band: 0.7-4.0 Hz is 42-240 bpm
  double f_hi_hz = 4.0;
  /// FFT length after zero-padding, rounded up to the next length whose prime factors are 2, 3
  /// and 5 (fast); 0 picks the next power of two >= max(2 * L, 512), L the
  /// segment length (the peak is refined on the continuous spectrum afterwards, so a finer
  /// grid only costs time).
  std::size_t nfft = 0;
  bool hann = true;
  /// 0: periodogram of the whole signal. Otherwise Welch with segments of this many samples,
  /// overlapping by half.
  std::size_t welch_segment = 0;
  /// Smoothness-priors detrend before the spectrum (lambda in samples). < 0 (default): automatic,
  /// the lambda whose cut-off is half the band's low edge at this rate (so the band itself is
  /// not attenuated, at any fs); 0: remove only the mean; otherwise >= 1e-6.
  double detrend_lambda = -1.0;
  /// Harmonic guard: report half the peak frequency when the spectrum there holds more than this
  /// share of the peak's power.
  double half_harmonic_ratio = 0.5;
  /// Missed-fundamental guard: report twice the peak frequency when the spectrum there holds more
  /// than this share of the peak's power while 3x the peak holds under a fifth of it. <= 0: off.
  double missed_fundamental_ratio = 0.9;
  /// Half-width (Hz) around f0 and 2 f0 counted as signal in the SNR.
  double snr_halfwidth_hz = 0.1;
};

enum class HarmonicCorrection : int { None = 0, Halved = 1, Doubled = 2 };

struct SignalQuality {
  double snr_db = 0.0;                  // in-band signal-to-noise ratio around f0 and 2 f0
  double irrelevant_power_ratio = 1.0;  // share of power outside the band, 0..1
};

struct HeartRateResult {
  double frequency_hz = 0.0;  // after the harmonic guard
  double raw_peak_hz = 0.0;   // strongest in-band peak before it
  HarmonicCorrection correction = HarmonicCorrection::None;
  double snr_db = 0.0;
  double irrelevant_power_ratio = 1.0;
  double bpm() const noexcept { return frequency_hz * 60.0; }
};

/// Throws std::invalid_argument when `config` cannot be used for a signal of n samples.
void validate(const SpectralConfig& config, std::size_t n);

/// The FFT length used for a signal of n samples.
std::size_t effective_nfft(const SpectralConfig& config, std::size_t n);

/// One-sided power spectral density (density scaling, as scipy.signal.periodogram / welch) of
/// the mean-removed, optionally detrended signal; `freqs_out` and `power_out` hold
/// effective_nfft(config, n) / 2 + 1 values.
void power_spectrum(const double* x, std::size_t n, const SpectralConfig& config,
                    double* freqs_out, double* power_out);

/// Heart rate: the strongest in-band bin, refined on the continuous (DTFT) spectrum to far below
/// the bin spacing, then the harmonic guard; with SNR and irrelevant power ratio around it.
HeartRateResult estimate_heart_rate(const double* x, std::size_t n, const SpectralConfig& config);
HeartRateResult estimate_heart_rate(const std::vector<double>& x, const SpectralConfig& config);

/// SNR and irrelevant power ratio of a waveform around a given fundamental f0_hz.
SignalQuality signal_quality(const double* x, std::size_t n, double f0_hz,
                             const SpectralConfig& config);

}  // namespace rppg
