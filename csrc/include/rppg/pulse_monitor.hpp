// rppg::PulseMonitor: per-frame ROI means in, heart-rate readings out. The whole classical pulse
// chain of rppg_sdk in one streaming class, for a driver-monitoring (DMS) stack that already has
// its own camera pipeline and face tracker:
//
//   push(t, mean of the ROI's pixels per channel[, face position, surround's means, box moved])
//     -> trace buffer -> (every update_interval_s) uniform grid, step and light removal,
//        POS / CHROM / GREEN / MONO (PulseWindowBuilder)
//     -> spectral tracking across windows, evidence, confidence, status (PulseAnalyzer)
//     -> a Reading
//
// Threading: NOT thread-safe; use one instance per thread (or serialise calls). Instances share
// nothing, so one per tracked face on separate threads is fine.
//
// Allocation: every buffer (the trace buffer for max_window_s + 2 s at max_camera_fps, the
// resampling grid, the method and evidence workspaces) is allocated in the constructor. A push()
// that produces no reading allocates nothing, ever. A push() that produces a reading (once per
// update_interval_s) runs the core's FFT band-pass and spectra, whose temporaries live in
// per-thread scratch vectors that keep their capacity: after the first readings of a thread it
// allocates nothing either, except an FFT plan the first time a window length appears (a
// jittering camera clock yields a handful of lengths; csrc/tests/test_pulse_monitor.cpp counts).
//
// Errors: std::invalid_argument naming what was expected and what arrived (a timestamp that does
// not increase, a non-finite mean, a bad config); the instance is unchanged by a refused push.
#pragma once

#include <cstddef>
#include <string>

#include "rppg/confidence.hpp"
#include "rppg/pulse_analyzer.hpp"
#include "rppg/pulse_window.hpp"
#include "rppg/tracker.hpp"

namespace rppg {

struct PulseMonitorConfig {
  double f_lo_hz = 0.7;  // heart-rate band (42-240 bpm)
  double f_hi_hz = 4.0;
  double window_s = 10.0;           // analysis window
  double min_window_s = 5.0;        // first reading once this much data is in
  double update_interval_s = 1.0;   // a reading this often
  ClassicalMethod method = ClassicalMethod::Pos;
  std::size_t channels = 3;         // 3: colour (R, G, B unless bgr), 1: near-infrared / grey
  bool bgr = false;                 // colour means arrive as B, G, R
  double fps = 30.0;                // rate assumed when timestamps give none
  double max_window_s = 64.0;       // longest window the buffer keeps (pulse-rate variability)
  double max_camera_fps = 120.0;    // buffer sized for this rate
  TrackerConfig tracker;
  /// The fitted coefficients of `method` (python/rppg_sdk/confidence.json), or the defaults.
  ConfidenceCoefficients confidence;
  double low_quality_confidence = 0.3;
  double waveform_s = 6.0;
  /// Regress the pushed surround means out of the skin's (PulseWindowConfig::remove_reference).
  /// Off, as MonitorOptions.illumination_reference: the surround then only informs the
  /// confidence (Evidence::reference_share).
  bool remove_reference = false;
};

void validate(const PulseMonitorConfig& config);

struct Reading {
  double timestamp_s = 0.0;       // the push that produced it
  ReadingStatus status = ReadingStatus::WarmingUp;
  double bpm = 0.0;               // tracked heart rate (0 while warming up)
  double raw_bpm = 0.0;           // the window's own whole-band estimate
  double confidence = 0.0;        // P(|error| <= 5 bpm), 0..1
  double snr_db = 0.0;
  double irrelevant_power_ratio = 1.0;
  Evidence evidence;
  double window_s = 0.0;          // span of the data the reading used
  double window_end_s = 0.0;      // its newest sample
  int box_moves = 0;
  bool jumped = false;            // the tracker moved to a far peak
  const double* waveform = nullptr;  // band-passed pulse, newest waveform_s (valid until the
  std::size_t waveform_size = 0;     // next push or reset)
  double waveform_fs_hz = 0.0;
};

/// Optional per-frame inputs beyond the ROI means.
struct FrameExtras {
  const double* reference = nullptr;  // surround's means (channels values), nullptr: none
  double face_x_px = 0.0;             // the face's position inside the ROI (head motion)
  double face_y_px = 0.0;
  bool box_moved = false;             // the ROI was re-aligned on this frame (a step)
};

class PulseMonitor {
 public:
  explicit PulseMonitor(const PulseMonitorConfig& config);

  /// One frame. Returns the new reading when one is due (every update_interval_s after the first
  /// push; warming up until min_window_s of data is in), else nullptr. The pointer stays valid
  /// until the next push() or reset(). Throws std::invalid_argument when n_channels differs from
  /// the config, a value is not finite, or the timestamp does not increase.
  const Reading* push(double timestamp_s, const double* roi_mean, std::size_t n_channels,
                      const FrameExtras& extras = {});

  /// Forget everything (a new face, a camera restart): the next push starts a new warm-up.
  void reset() noexcept;

  /// The last reading produced (status WarmingUp before the first).
  const Reading& last() const noexcept { return reading_; }
  const PulseMonitorConfig& config() const noexcept { return config_; }
  const char* method_name() const noexcept { return rppg::method_name(config_.method); }

 private:
  PulseMonitorConfig config_;
  PulseWindowBuilder builder_;
  PulseAnalyzer analyzer_;
  Reading reading_;
  bool started_ = false;
  double next_update_s_ = 0.0;
};

}  // namespace rppg
