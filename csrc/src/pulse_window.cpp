#include "rppg/pulse_window.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "chain_detail.hpp"
#include "check.hpp"
#include "rppg/pulse.hpp"
#include "rppg/signal.hpp"

namespace rppg {

namespace {
// A mean colour at or below this (out of 255) has no skin in it to measure: POS and CHROM
// divide by the mean, so such samples are floored rather than trusted.
constexpr double kMinMean = 1.0;

std::size_t buffer_rows(const PulseWindowConfig& c) {
  return static_cast<std::size_t>(std::ceil((c.max_window_s + 2.0) * c.max_camera_fps));
}
}  // namespace

const char* method_name(ClassicalMethod m) noexcept {
  switch (m) {
    case ClassicalMethod::Pos: return "pos";
    case ClassicalMethod::Chrom: return "chrom";
    case ClassicalMethod::Green: return "green";
    case ClassicalMethod::Mono: return "mono";
  }
  return "?";
}

void validate(const PulseWindowConfig& c) {
  using detail::num;
  if (!(c.f_lo_hz > 0 && c.f_lo_hz < c.f_hi_hz && std::isfinite(c.f_hi_hz))) {
    throw std::invalid_argument("band: expected 0 < f_lo_hz < f_hi_hz, got (" + num(c.f_lo_hz) +
                                ", " + num(c.f_hi_hz) + ")");
  }
  const bool mono = c.method == ClassicalMethod::Mono;
  if (mono && c.channels != 1) {
    throw std::invalid_argument("method mono: expected 1 channel, got " +
                                std::to_string(c.channels) + "; use green for colour");
  }
  if (!mono && c.channels != 3) {
    throw std::invalid_argument(std::string("method ") + method_name(c.method) +
                                ": expected 3 (colour) channels, got " +
                                std::to_string(c.channels) +
                                "; POS, CHROM and GREEN need colour, use mono for one channel");
  }
  if (!(c.max_window_s > 0 && c.max_window_s <= 3600.0)) {
    throw std::invalid_argument("max_window_s: expected 0 < seconds <= 3600, got " +
                                num(c.max_window_s));
  }
  if (!(c.max_camera_fps >= 2.5 * c.f_hi_hz && c.max_camera_fps <= 1000.0)) {
    throw std::invalid_argument("max_camera_fps: expected 2.5 f_hi_hz .. 1000, got " +
                                num(c.max_camera_fps));
  }
  if (!(c.fps > 0 && std::isfinite(c.fps))) {
    throw std::invalid_argument("fps: expected > 0, got " + num(c.fps));
  }
  if (!(c.method_window_s > 0 && std::isfinite(c.method_window_s))) {
    throw std::invalid_argument("method_window_s: expected > 0, got " + num(c.method_window_s));
  }
}

PulseWindowBuilder::PulseWindowBuilder(const PulseWindowConfig& config)
    : config_((validate(config), config)),
      width_(2 * config.channels + 4),
      buffer_(buffer_rows(config), 2 * config.channels + 4) {
  const std::size_t cap = buffer_.capacity();
  const std::size_t c = config_.channels;
  // The grid: at most max_window_s at max_camera_fps (the analysis rate is capped there).
  const std::size_t grid =
      static_cast<std::size_t>(std::ceil(config_.max_window_s * config_.max_camera_fps)) + 2;
  row_.assign(width_, 0.0);
  rows_.assign(cap * width_, 0.0);
  times_.assign(cap, 0.0);
  scratch_.assign(std::max(cap, grid), 0.0);
  grid_.assign(grid, 0.0);
  uni_.assign(grid * width_, 0.0);
  traces_.assign(grid * c, 0.0);
  reference_.assign(grid * c, 0.0);
  motion_.assign(grid * 2, 0.0);
  skin_.assign(grid * c, 0.0);
  rgb_.assign(grid * 3, 0.0);
  pulse_.assign(grid, 0.0);
  known_.assign(grid, 0);
  // Workspaces of the step and light removal at their largest.
  ws_.a.reserve(grid * c);
  ws_.b.reserve(grid * c);
  ws_.c.reserve(grid * c);
  ws_.d.reserve(grid * c);
  ws_.e.reserve(2 * c);
  const std::size_t bins = detail::next_pow2(std::max<std::size_t>(2 * grid, 512)) / 2 + 1;
  ws_.freqs.reserve(std::max(bins, grid));
  ws_.power.reserve(std::max(bins, grid));
}

void PulseWindowBuilder::push(double timestamp_s, const double* means, const double* reference,
                              double x_px, double y_px, bool moved) {
  const std::size_t c = config_.channels;
  std::copy(means, means + c, row_.begin());
  if (reference != nullptr) {
    std::copy(reference, reference + c, row_.begin() + static_cast<std::ptrdiff_t>(c));
    row_[2 * c] = 1.0;
  } else {
    std::fill(row_.begin() + static_cast<std::ptrdiff_t>(c), row_.begin() + 2 * c + 1, 0.0);
  }
  row_[2 * c + 1] = x_px;
  row_[2 * c + 2] = y_px;
  row_[2 * c + 3] = moved ? 1.0 : 0.0;
  buffer_.push(row_.data(), timestamp_s);  // checks values and the timestamp
}

void PulseWindowBuilder::clear() noexcept {
  buffer_.clear();
  frames_ = samples_ = 0;
}

bool PulseWindowBuilder::build(double end_s, double window_s, double min_window_s) {
  using detail::num;
  if (!(window_s > 0 && window_s <= config_.max_window_s)) {
    throw std::invalid_argument("window_s: expected 0 < seconds <= max_window_s (" +
                                num(config_.max_window_s) + "), got " + num(window_s));
  }
  if (!std::isfinite(end_s)) throw std::invalid_argument("end_s: expected a finite time");
  const std::size_t c = config_.channels, w = width_;
  frames_ = samples_ = 0;
  std::size_t n = buffer_.since(end_s - window_s, buffer_.capacity(), rows_.data(), times_.data());
  while (n > 0 && !(times_[n - 1] <= end_s + 1e-9)) --n;
  if (n < 2 || times_[n - 1] - times_[0] + 1e-6 < min_window_s) return false;
  frames_ = n;

  box_moves_ = 0;  // the first frame's placement is no step
  for (std::size_t i = 1; i < n; ++i) box_moves_ += rows_[i * w + w - 1] != 0.0 ? 1 : 0;
  // The camera's own median rate (resampling to it changes the samples least), at least 2.5x
  // the band's top so the band stays below Nyquist.
  for (std::size_t i = 1; i < n; ++i) scratch_[i - 1] = times_[i] - times_[i - 1];
  const double dt = detail::median_inplace(scratch_.data(), n - 1);
  const double fs0 = dt > 0 ? 1.0 / dt : config_.fps;
  fs_hz_ = std::min(config_.max_camera_fps, std::max(fs0, 2.5 * config_.f_hi_hz));
  has_reference_ = true;
  for (std::size_t i = 0; i < n && has_reference_; ++i) has_reference_ = rows_[i * w + 2 * c] == 1.0;

  const std::size_t m = resampled_length(times_.data(), n, fs_hz_);
  if (m > grid_.size()) {
    throw std::invalid_argument("window: expected at most " + std::to_string(grid_.size()) +
                                " grid samples, got " + std::to_string(m));
  }
  resample_uniform(times_.data(), rows_.data(), n, w, fs_hz_, grid_.data(), uni_.data());
  samples_ = m;
  for (std::size_t k = 0; k < m; ++k) {
    for (std::size_t j = 0; j < c; ++j) {
      traces_[k * c + j] = uni_[k * w + j];
      reference_[k * c + j] = uni_[k * w + c + j];
    }
    motion_[2 * k] = uni_[k * w + 2 * c + 1];
    motion_[2 * k + 1] = uni_[k * w + 2 * c + 2];
  }
  // Face-box re-alignments are known steps: at the first grid sample at or after each.
  std::fill(known_.begin(), known_.begin() + static_cast<std::ptrdiff_t>(m), 0);
  for (std::size_t i = 1; i < n; ++i) {
    if (!(rows_[i * w + w - 1] > 0)) continue;
    auto it = std::lower_bound(grid_.begin(), grid_.begin() + static_cast<std::ptrdiff_t>(m),
                               times_[i]);
    const auto k = std::min<std::size_t>(static_cast<std::size_t>(it - grid_.begin()), m - 1);
    known_[k] = 1;
  }
  const bool mono = config_.method == ClassicalMethod::Mono;
  // MONO leaves steps in: pulse_mono takes every transient out as a gap, the known steps with
  // them (patching a step with the median change, as here for colour, leaves the ramps of a
  // head turn or a hand on either side of it in the trace).
  steps_removed_ =
      mono ? 0 : remove_steps(traces_.data(), m, c, known_.data(), traces_.data(), ws_);
  // The surround sees the same exposure and white-balance steps as the skin, and a re-aligned
  // box moves it: taken out the same way (for mono too: its gaps are the skin's alone), or a
  // step's broadband power hides a lamp's line from the evidence and steers the regression.
  if (has_reference_) {
    remove_steps(reference_.data(), m, c, known_.data(), reference_.data(), ws_);
  }
  const double* skin = traces_.data();
  if (has_reference_ && config_.remove_reference) {
    remove_reference(traces_.data(), reference_.data(), m, c, fs_hz_, config_.f_lo_hz,
                     config_.f_hi_hz, skin_.data(), ws_);
    skin = skin_.data();
  }
  // The pulse method, on R, G, B columns floored at kMinMean (GREEN reads column 1).
  const bool bgr = config_.bgr && c == 3;
  for (std::size_t k = 0; k < m; ++k) {
    for (std::size_t j = 0; j < 3; ++j) {
      const std::size_t src = c == 1 ? 0 : (bgr ? 2 - j : j);
      rgb_[3 * k + j] = std::max(skin[k * c + src], kMinMean);
    }
  }
  const double win_f = std::nearbyint(config_.method_window_s * fs_hz_);
  const auto win = static_cast<std::size_t>(win_f);
  if (win < 2) {
    throw std::invalid_argument("method_window_s: expected at least 2 samples at " +
                                num(fs_hz_) + " Hz");
  }
  detail::require_min_samples(m, fs_hz_, config_.f_lo_hz, "rgb_traces");
  if (m < win) {
    throw std::invalid_argument("rgb_traces: expected at least " + std::to_string(win) +
                                " samples, got " + std::to_string(m));
  }
  if (!(config_.f_hi_hz < fs_hz_ / 2.0)) {
    throw std::invalid_argument("band: expected the high edge below Nyquist (" +
                                num(fs_hz_ / 2.0) + " Hz)");
  }
  switch (config_.method) {
    case ClassicalMethod::Pos: pulse_pos(rgb_.data(), m, win, pulse_.data()); break;
    case ClassicalMethod::Chrom:
      pulse_chrom(rgb_.data(), m, fs_hz_, config_.f_lo_hz, config_.f_hi_hz, win, pulse_.data());
      break;
    case ClassicalMethod::Green: pulse_green(rgb_.data(), m, pulse_.data()); break;
    case ClassicalMethod::Mono:
      // One channel: its relative change with head-turn / hand transients taken out.
      pulse_mono(rgb_.data(), m, fs_hz_, config_.f_lo_hz, config_.f_hi_hz, pulse_.data(),
                 known_.data());
      break;
  }
  return true;
}

}  // namespace rppg
