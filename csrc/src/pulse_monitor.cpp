#include "rppg/pulse_monitor.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "check.hpp"

namespace rppg {

namespace {
PulseWindowConfig window_config(const PulseMonitorConfig& c) {
  PulseWindowConfig w;
  w.f_lo_hz = c.f_lo_hz;
  w.f_hi_hz = c.f_hi_hz;
  w.method = c.method;
  w.channels = c.channels;
  w.bgr = c.bgr;
  w.max_window_s = std::max(c.max_window_s, c.window_s);
  w.max_camera_fps = c.max_camera_fps;
  w.fps = c.fps;
  w.remove_reference = c.remove_reference;
  return w;
}

PulseAnalyzerConfig analyzer_config(const PulseMonitorConfig& c) {
  PulseAnalyzerConfig a;
  a.f_lo_hz = c.f_lo_hz;
  a.f_hi_hz = c.f_hi_hz;
  a.window_s = c.window_s;
  a.tracker = c.tracker;
  a.low_quality_confidence = c.low_quality_confidence;
  a.waveform_s = c.waveform_s;
  return a;
}

std::size_t grid_samples(const PulseMonitorConfig& c) {
  return static_cast<std::size_t>(std::ceil(std::max(c.max_window_s, c.window_s) *
                                            c.max_camera_fps)) + 2;
}
}  // namespace

void validate(const PulseMonitorConfig& c) {
  using detail::num;
  if (!(c.window_s > 0 && std::isfinite(c.window_s))) {
    throw std::invalid_argument("window_s: expected > 0, got " + num(c.window_s));
  }
  if (!(c.min_window_s > 0 && c.min_window_s <= c.window_s)) {
    throw std::invalid_argument("min_window_s: expected 0 < min_window_s <= window_s (" +
                                num(c.window_s) + "), got " + num(c.min_window_s));
  }
  if (!(c.update_interval_s > 0 && std::isfinite(c.update_interval_s))) {
    throw std::invalid_argument("update_interval_s: expected > 0, got " +
                                num(c.update_interval_s));
  }
  validate(window_config(c));
  validate(analyzer_config(c));
}

PulseMonitor::PulseMonitor(const PulseMonitorConfig& config)
    : config_((validate(config), config)),
      builder_(window_config(config)),
      analyzer_(analyzer_config(config), grid_samples(config)) {}

void PulseMonitor::reset() noexcept {
  builder_.clear();
  analyzer_.reset();
  started_ = false;
  reading_ = Reading{};
}

const Reading* PulseMonitor::push(double timestamp_s, const double* roi_mean,
                                  std::size_t n_channels, const FrameExtras& extras) {
  if (n_channels != config_.channels) {
    throw std::invalid_argument("roi_mean: expected " + std::to_string(config_.channels) +
                                " channels, got " + std::to_string(n_channels));
  }
  builder_.push(timestamp_s, roi_mean, extras.reference, extras.face_x_px, extras.face_y_px,
                extras.box_moved);
  const double interval = config_.update_interval_s;
  if (!started_) {
    started_ = true;
    next_update_s_ = timestamp_s + interval;
  }
  if (timestamp_s + 1e-9 < next_update_s_) return nullptr;
  // The next update on the interval's grid after this frame (a gap skips the missed ones).
  next_update_s_ +=
      interval * std::max(1.0, std::floor((timestamp_s - next_update_s_) / interval) + 1.0);
  Reading& r = reading_;
  r = Reading{};
  r.timestamp_s = timestamp_s;
  r.window_end_s = timestamp_s;
  if (!builder_.build(timestamp_s, config_.window_s, config_.min_window_s)) {
    r.status = ReadingStatus::WarmingUp;
    return &r;
  }
  PulseWindowView view;
  view.pulse = builder_.pulse();
  view.n = builder_.samples();
  view.fs_hz = builder_.fs_hz();
  view.span_s = builder_.span_s();
  view.box_moves = builder_.box_moves();
  view.reference = builder_.reference();
  view.reference_channels = view.reference ? config_.channels : 0;
  view.motion = builder_.motion();
  view.motion_channels = 2;
  // The skin's traces: the surround's light is weighed against them, and on colour video they
  // give the pulse signature.
  view.skin = builder_.traces();
  view.skin_channels = config_.channels;
  view.skin_bgr = config_.bgr;
  const Analysis& a = analyzer_.analyze(view, config_.confidence);
  r.status = a.status;
  r.bpm = a.tracked.bpm;
  r.raw_bpm = a.tracked.raw_bpm;
  r.confidence = a.confidence;
  r.snr_db = a.tracked.snr_db;
  r.irrelevant_power_ratio = a.tracked.irrelevant_power_ratio;
  r.evidence = a.evidence;
  r.window_s = builder_.span_s();
  r.window_end_s = builder_.end_s();
  r.box_moves = builder_.box_moves();
  r.jumped = a.tracked.jumped;
  r.waveform = a.waveform;
  r.waveform_size = a.waveform_size;
  r.waveform_fs_hz = builder_.fs_hz();
  return &r;
}

}  // namespace rppg
