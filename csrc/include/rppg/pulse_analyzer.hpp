// A pulse window -> tracked heart rate -> evidence -> confidence -> status.
//
// The one implementation behind every reading: the classical chain (rppg::PulseMonitor) and the
// learned models (whose Python extractor makes the pulse windows) both analyse through this
// class. Evidence (rppg_sdk.confidence documents each term): the tracker's SNR, the IPR of the
// un-detrended pulse, the harmonic ratio, the surround's and the head motion's power share at the
// rate, box re-alignments, the window's coverage and the distance from the band's edges.
//
// Threading: one thread per instance. Allocation: buffers sized at construction for
// `max_samples`; the core's spectra and band-pass keep their temporaries in per-thread scratch,
// so analyze() allocates nothing after the first windows (an FFT plan per new window length).
#pragma once

#include <cstddef>
#include <vector>

#include "rppg/confidence.hpp"
#include "rppg/illumination.hpp"
#include "rppg/tracker.hpp"

namespace rppg {

struct PulseAnalyzerConfig {
  double f_lo_hz = 0.7;  // heart-rate band
  double f_hi_hz = 4.0;
  double window_s = 10.0;               // the full window (coverage is measured against it)
  TrackerConfig tracker;
  double low_quality_confidence = 0.3;  // below: status LowQuality
  double waveform_s = 6.0;              // pulse waveform attached to each reading
  double snr_halfwidth_bpm = 6.0;       // around f0 and 2 f0, counted as signal
};

void validate(const PulseAnalyzerConfig& config);

/// One pulse window, as any extractor makes it. `reference` (n x reference_channels) and
/// `motion` (n x motion_channels) lie on the pulse's grid, or are nullptr.
struct PulseWindowView {
  const double* pulse = nullptr;
  std::size_t n = 0;
  double fs_hz = 0.0;
  double span_s = 0.0;  // first to newest camera sample
  int box_moves = 0;
  // Share of the window with a face: below 1 when a face loss was bridged (no data, only the
  // resampler's interpolation); scales the confidence.
  double face_fraction = 1.0;
  const double* reference = nullptr;
  std::size_t reference_channels = 0;
  const double* motion = nullptr;
  std::size_t motion_channels = 0;
  // Learned models: a classical pulse from the same skin, n samples on the same grid (or null).
  const double* classical = nullptr;
  // The skin's mean per channel on the same grid (n x skin_channels rows, un-detrended), or
  // null: the surround's light is weighed against it (reference_share), and on colour video
  // (3 channels: R, G, B, or B, G, R when skin_bgr) it gives the pulse signature.
  const double* skin = nullptr;
  std::size_t skin_channels = 0;
  bool skin_bgr = false;
};

enum class ReadingStatus : int { WarmingUp = 0, Ok = 1, LowQuality = 2, NoFace = 3 };

/// "warming_up", "ok", "low_quality", "no_face" (rppg_sdk.ReadingStatus values).
const char* status_name(ReadingStatus status) noexcept;

struct Analysis {
  TrackedEstimate tracked;
  Evidence evidence;
  double confidence = 0.0;
  ReadingStatus status = ReadingStatus::LowQuality;
  /// The band-passed pulse's newest waveform_s (valid until the next analyze/reset).
  const double* waveform = nullptr;
  std::size_t waveform_size = 0;
};

class PulseAnalyzer {
 public:
  /// `max_samples`: the longest pulse window analyze() will see (0: grow on demand).
  explicit PulseAnalyzer(const PulseAnalyzerConfig& config, std::size_t max_samples = 0);

  /// Tracks, gathers the evidence and scores it with `coefficients`. Throws
  /// std::invalid_argument for a window the spectra cannot use (too short, band past Nyquist).
  const Analysis& analyze(const PulseWindowView& window, const ConfidenceCoefficients& coefficients);

  /// Forget the tracked rate (a new face or a new stream).
  void reset() noexcept { tracker_.reset(); }
  const PulseAnalyzerConfig& config() const noexcept { return config_; }
  const HeartRateTracker& tracker() const noexcept { return tracker_; }

 private:
  double harmonic_ratio(const double* pulse, std::size_t n, double fs_hz, double bpm);
  // Degrees between the colour change at `bpm` and a blood-volume pulse's (Evidence).
  // `amplitude`: the colour channels' relative change at the rate (relative_amplitudes), in R, G,
  // B order, or B, G, R when `bgr`.
  static double signature_deg(const double* amplitude, bool bgr);
  // Each channel's relative change (x / mean - 1) at `bpm` +- the SNR half-width: the root of
  // its power there. `out`: channels values; false when a channel's mean is not positive.
  bool relative_amplitudes(const double* x, std::size_t n, std::size_t channels, double fs_hz,
                           double bpm, double* out);
  // The surround's light at `bpm` (Evidence::reference_share). `skin_amplitude`: the skin's
  // relative_amplitudes (w.skin_channels values), or null: its strength taken as the skin's.
  double surround_light(const PulseWindowView& w, double bpm, double motion_share,
                        const double* skin_amplitude, const SpectralConfig& spectral);

  PulseAnalyzerConfig config_;
  HeartRateTracker tracker_;
  Analysis result_;
  std::vector<double> wave_, freqs_, power_;
  IlluminationWorkspace ws_;
};

}  // namespace rppg
