// Classical pulse windows from per-frame ROI means: the trace buffer, resampling onto a uniform
// grid, exposure-step and face-box-step removal, the surround's light regressed out, and the pulse
// method (POS / CHROM / GREEN on colour, MONO on one channel).
//
// Threading: one thread per instance (push and build from the same thread, or serialised by the
// caller). Allocation: every buffer is sized at construction for `max_window_s` at
// `max_camera_fps`; push() never allocates. build() runs the core's band-pass and pulse methods,
// whose temporaries are per-thread scratch (no allocation once a thread has seen its longest
// window, apart from an FFT plan per new window length).
#pragma once

#include <cstddef>
#include <vector>

#include "rppg/illumination.hpp"
#include "rppg/time_series.hpp"

namespace rppg {

enum class ClassicalMethod : int { Pos = 0, Chrom = 1, Green = 2, Mono = 3 };

/// "pos", "chrom", "green", "mono".
const char* method_name(ClassicalMethod method) noexcept;

struct PulseWindowConfig {
  double f_lo_hz = 0.7;  // heart-rate band
  double f_hi_hz = 4.0;
  /// The method actually run: Pos / Chrom / Green need channels == 3, Mono channels == 1.
  ClassicalMethod method = ClassicalMethod::Pos;
  std::size_t channels = 3;
  /// Colour means arrive as B, G, R (OpenCV crops) instead of R, G, B.
  bool bgr = false;
  /// Longest window build() may be asked for; the buffer holds max_window_s + 2 s.
  double max_window_s = 64.0;
  /// Highest camera rate the buffer is sized for (a faster camera gets a shorter window).
  double max_camera_fps = 120.0;
  /// Rate assumed when the sample times give none.
  double fps = 30.0;
  /// Sliding window of POS and CHROM.
  double method_window_s = 1.6;
  /// Regress the surround's light (the pushed reference means) out of the skin traces before
  /// the pulse method (rppg/illumination.hpp). Off: the reference is only resampled onto the
  /// grid for the confidence's evidence. On real video the surround carries the pulse rate too
  /// (head motion with each beat, the camera's processing) and the regression can remove it.
  bool remove_reference = true;
};

/// Throws std::invalid_argument naming the bad field.
void validate(const PulseWindowConfig& config);

class PulseWindowBuilder {
 public:
  explicit PulseWindowBuilder(const PulseWindowConfig& config);

  /// One frame: `means` (channels values, > 0 for a lit face), the surround's means (nullable:
  /// none measured on this frame), the face's position inside the ROI in pixels (head motion),
  /// and whether the face box was re-aligned on this frame (a step in the means). Timestamps
  /// strictly increase until clear(). Throws std::invalid_argument for non-finite values or a
  /// timestamp that does not increase (nothing stored). Never allocates.
  void push(double timestamp_s, const double* means, const double* reference, double x_px,
            double y_px, bool moved);

  /// The pulse over the newest `window_s` up to `end_s`; false (nothing built) while less than
  /// `min_window_s` of data is in. The results below stay valid until the next build/clear.
  bool build(double end_s, double window_s, double min_window_s);

  void clear() noexcept;
  std::size_t size() const { return buffer_.size(); }
  std::size_t capacity() const noexcept { return buffer_.capacity(); }
  const PulseWindowConfig& config() const noexcept { return config_; }

  // --- the last build() ------------------------------------------------------------------
  std::size_t frames() const noexcept { return frames_; }   // camera samples in the window
  const double* times_s() const noexcept { return times_.data(); }
  std::size_t samples() const noexcept { return samples_; } // uniform grid length
  double fs_hz() const noexcept { return fs_hz_; }
  const double* pulse() const noexcept { return pulse_.data(); }
  /// Per-channel means after step removal (samples x channels, the push order of channels).
  const double* traces() const noexcept { return traces_.data(); }
  /// The surround's means on the grid (samples x channels), nullptr when not measured on every
  /// frame of the window.
  const double* reference() const noexcept { return has_reference_ ? reference_.data() : nullptr; }
  /// The face's position on the grid (samples x 2).
  const double* motion() const noexcept { return motion_.data(); }
  int box_moves() const noexcept { return box_moves_; }
  std::size_t steps_removed() const noexcept { return steps_removed_; }
  double span_s() const noexcept { return frames_ >= 2 ? times_[frames_ - 1] - times_[0] : 0.0; }
  double end_s() const noexcept { return frames_ ? times_[frames_ - 1] : 0.0; }

 private:
  PulseWindowConfig config_;
  std::size_t width_;  // row: means, reference means, has-reference flag, x, y, moved
  TimeSeriesBuffer buffer_;
  std::vector<double> row_, rows_, times_, grid_, uni_, traces_, reference_, motion_, skin_,
      rgb_, pulse_, scratch_;
  std::vector<unsigned char> known_;
  IlluminationWorkspace ws_;
  std::size_t frames_ = 0, samples_ = 0, steps_removed_ = 0;
  double fs_hz_ = 0.0;
  int box_moves_ = 0;
  bool has_reference_ = false;
};

}  // namespace rppg
