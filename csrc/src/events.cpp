#include "rppg/events.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "check.hpp"

namespace rppg {
namespace {
// Confident readings remembered for the abrupt-change test: at most one per reading inside
// `abrupt_window_s`; 1024 covers 10 s at 100 readings per second. When full, the oldest goes.
constexpr std::size_t kRecentCapacity = 1024;
// Events one reading can raise: Reading, QualityChanged, PulseLost or PulseRegained, one
// start or end per run kind, AbruptChange.
constexpr std::size_t kMaxEventsPerReading = 8;

void require_positive(const char* name, double v) {
  if (!(std::isfinite(v) && v > 0.0)) {
    throw std::invalid_argument(std::string(name) + ": expected a finite number > 0, got " +
                                detail::num(v));
  }
}

void require_non_negative(const char* name, double v) {
  if (!(std::isfinite(v) && v >= 0.0)) {
    throw std::invalid_argument(std::string(name) + ": expected a finite number >= 0, got " +
                                detail::num(v));
  }
}

bool confident(const ReadingInput& r, const EventOptions& o) {
  return r.state == ReadingState::Ok && std::isfinite(r.bpm) && r.confidence >= o.min_confidence;
}
}  // namespace

void EventOptions::validate() const {
  if (!(min_confidence >= 0.0 && min_confidence <= 1.0)) {
    throw std::invalid_argument("min_confidence: expected 0..1, got " + detail::num(min_confidence));
  }
  require_positive("tachycardia_bpm", tachycardia_bpm);
  require_positive("bradycardia_bpm", bradycardia_bpm);
  if (!(bradycardia_bpm < tachycardia_bpm)) {
    throw std::invalid_argument("bradycardia_bpm: expected below tachycardia_bpm (" +
                                detail::num(tachycardia_bpm) + "), got " +
                                detail::num(bradycardia_bpm));
  }
  require_non_negative("sustain_s", sustain_s);
  require_non_negative("hysteresis_bpm", hysteresis_bpm);
  require_positive("max_gap_s", max_gap_s);
  require_positive("abrupt_change_bpm", abrupt_change_bpm);
  require_positive("abrupt_window_s", abrupt_window_s);
  require_non_negative("lost_after_s", lost_after_s);
  if (!(motion_share_threshold > 0.0 && motion_share_threshold <= 1.0)) {
    throw std::invalid_argument("motion_share_threshold: expected a number in (0, 1], got " +
                                detail::num(motion_share_threshold));
  }
  if (box_moves_threshold < 1) {
    throw std::invalid_argument("box_moves_threshold: expected >= 1, got " +
                                std::to_string(box_moves_threshold));
  }
  if (!(low_light_level >= 0.0 && low_light_level < 1.0)) {
    throw std::invalid_argument("low_light_level: expected a number in [0, 1), got " +
                                detail::num(low_light_level));
  }
}

PulseLostReason classify_reading(const ReadingInput& r, const EventOptions& o) noexcept {
  switch (r.state) {
    case ReadingState::Ok:
      return PulseLostReason::None;
    case ReadingState::NoFace:
      return PulseLostReason::NoFace;
    case ReadingState::WarmingUp:
    case ReadingState::LowQuality:
      break;
  }
  // Light first: in the dark the motion measure is itself noise.
  if (r.skin_level < o.low_light_level) return PulseLostReason::LowLight;  // false for NaN
  if (r.motion_share >= o.motion_share_threshold || r.box_moves >= o.box_moves_threshold) {
    return PulseLostReason::Motion;
  }
  return PulseLostReason::NoPulse;
}

EventDetector::EventDetector(const EventOptions& options) : options_(options) {
  options_.validate();
  events_.reserve(kMaxEventsPerReading);
  recent_.resize(kRecentCapacity);
  reset();
}

void EventDetector::reset() noexcept {
  events_.clear();
  last_s_ = kNoValue;
  have_previous_ = false;
  previous_state_ = ReadingState::WarmingUp;
  pulse_ = Pulse::Never;
  bad_since_s_ = kNoValue;
  bad_reason_ = PulseLostReason::None;
  lost_since_s_ = kNoValue;
  tachy_ = Run();
  brady_ = Run();
  recent_head_ = recent_size_ = 0;
}

void EventDetector::emit(EventKind kind, const ReadingInput& r, double since_s,
                         double previous_bpm, PulseLostReason reason) {
  Event e;
  e.kind = kind;
  e.timestamp_s = r.timestamp_s;
  e.state = r.state;
  e.previous_state = have_previous_ ? previous_state_ : r.state;
  e.bpm = r.bpm;
  e.previous_bpm = previous_bpm;
  e.confidence = r.confidence;
  e.reason = reason;
  e.since_s = since_s;
  events_.push_back(e);  // within the reserved capacity: no allocation
}

const std::vector<Event>& EventDetector::push(const ReadingInput& r) {
  if (!std::isfinite(r.timestamp_s) || (std::isfinite(last_s_) && !(r.timestamp_s > last_s_))) {
    throw std::invalid_argument("timestamp_s: expected a finite time after the previous reading (" +
                                detail::num(last_s_) + " s), got " + detail::num(r.timestamp_s));
  }
  const int state = static_cast<int>(r.state);
  if (state < 0 || state > 3) {
    throw std::invalid_argument("state: expected 0..3 (WarmingUp, Ok, LowQuality, NoFace), got " +
                                std::to_string(state));
  }
  if (!(r.confidence >= 0.0 && r.confidence <= 1.0)) {
    throw std::invalid_argument("confidence: expected 0..1, got " + detail::num(r.confidence));
  }
  if (r.state == ReadingState::Ok && !std::isfinite(r.bpm)) {
    throw std::invalid_argument("bpm: expected a finite heart rate with state Ok, got " +
                                detail::num(r.bpm));
  }
  events_.clear();
  last_s_ = r.timestamp_s;
  const double nan = kNoValue;
  emit(EventKind::Reading, r, nan, nan, PulseLostReason::None);
  if (have_previous_ && r.state != previous_state_) {
    emit(EventKind::QualityChanged, r, nan, nan, PulseLostReason::None);
  }
  update_pulse(r, classify_reading(r, options_));
  if (confident(r, options_)) {
    update_run(tachy_, true, r);
    update_run(brady_, false, r);
    update_abrupt(r);
  }
  have_previous_ = true;
  previous_state_ = r.state;
  return events_;
}

void EventDetector::update_pulse(const ReadingInput& r, PulseLostReason why) {
  const double nan = kNoValue;
  if (why == PulseLostReason::None) {
    if (pulse_ != Pulse::Present) {
      emit(EventKind::PulseRegained, r, pulse_ == Pulse::Lost ? lost_since_s_ : nan, nan,
           PulseLostReason::None);
    }
    pulse_ = Pulse::Present;
    bad_since_s_ = lost_since_s_ = nan;
    bad_reason_ = PulseLostReason::None;
    return;
  }
  if (pulse_ != Pulse::Present) return;  // never had one, or already reported lost
  if (!std::isfinite(bad_since_s_)) bad_since_s_ = r.timestamp_s;
  // The first specific cause wins: a warm-up after a reset says nothing about why.
  if (bad_reason_ == PulseLostReason::None && r.state != ReadingState::WarmingUp) bad_reason_ = why;
  if (r.timestamp_s - bad_since_s_ + 1e-9 >= options_.lost_after_s) {
    const PulseLostReason reason =
        bad_reason_ == PulseLostReason::None ? PulseLostReason::NoPulse : bad_reason_;
    emit(EventKind::PulseLost, r, bad_since_s_, nan, reason);
    pulse_ = Pulse::Lost;
    lost_since_s_ = bad_since_s_;
  }
}

void EventDetector::update_run(Run& run, bool high, const ReadingInput& r) {
  const EventOptions& o = options_;
  const double nan = kNoValue;
  if (std::isfinite(run.last_s) && r.timestamp_s - run.last_s > o.max_gap_s) {
    run.start_s = nan;  // too long without a confident reading: the run is broken
  }
  run.last_s = r.timestamp_s;
  const bool outside = high ? r.bpm > o.tachycardia_bpm : r.bpm < o.bradycardia_bpm;
  if (outside) {
    if (!std::isfinite(run.start_s)) run.start_s = r.timestamp_s;
    if (!run.active && r.timestamp_s - run.start_s + 1e-9 >= o.sustain_s) {
      run.active = true;
      emit(high ? EventKind::TachycardiaStart : EventKind::BradycardiaStart, r, run.start_s, nan,
           PulseLostReason::None);
    }
    return;
  }
  run.start_s = nan;
  const bool back = high ? r.bpm <= o.tachycardia_bpm - o.hysteresis_bpm
                         : r.bpm >= o.bradycardia_bpm + o.hysteresis_bpm;
  if (run.active && back) {
    run.active = false;
    emit(high ? EventKind::TachycardiaEnd : EventKind::BradycardiaEnd, r, nan, nan,
         PulseLostReason::None);
  }
}

void EventDetector::update_abrupt(const ReadingInput& r) {
  const EventOptions& o = options_;
  // Drop the readings that left the window (oldest first).
  while (recent_size_ > 0) {
    const Sample& oldest = recent_[recent_head_];
    if (r.timestamp_s - oldest.t <= o.abrupt_window_s + 1e-9) break;
    recent_head_ = (recent_head_ + 1) % kRecentCapacity;
    --recent_size_;
  }
  // The earlier reading furthest from this one.
  double worst = 0.0;
  const Sample* from = nullptr;
  for (std::size_t i = 0; i < recent_size_; ++i) {
    const Sample& s = recent_[(recent_head_ + i) % kRecentCapacity];
    const double d = std::abs(r.bpm - s.bpm);
    if (d > worst) {
      worst = d;
      from = &s;
    }
  }
  if (from != nullptr && worst > o.abrupt_change_bpm) {
    emit(EventKind::AbruptChange, r, from->t, from->bpm, PulseLostReason::None);
    recent_size_ = 0;  // one event per change: compare later readings with this one only
    recent_head_ = 0;
  }
  const std::size_t tail = (recent_head_ + recent_size_) % kRecentCapacity;
  recent_[tail] = Sample{r.timestamp_s, r.bpm};
  if (recent_size_ < kRecentCapacity) {
    ++recent_size_;
  } else {
    recent_head_ = (recent_head_ + 1) % kRecentCapacity;
  }
}

}  // namespace rppg
