// Driver-monitoring events from a stream of heart-rate readings: the one implementation, used by
// the Python SDK (rppg_sdk.events) and by C++ driver-monitoring stacks alike.
//
// Feed one ReadingInput per reading (every update interval, camera-clock timestamps strictly
// increasing); push() returns the events that reading raised:
//
//   Reading            every reading (the reading itself, as an event)
//   QualityChanged     the reading's state differs from the previous reading's
//   PulseLost          no usable pulse (state other than Ok) for `lost_after_s` after one was
//                      held; `reason` says why (no face, motion, low light, no pulse)
//   PulseRegained      the first Ok reading after a PulseLost, and the first of the stream
//   TachycardiaStart / End, BradycardiaStart / End
//                      confident readings (Ok and confidence >= min_confidence) above
//                      `tachycardia_bpm` (below `bradycardia_bpm`) for `sustain_s`; the run
//                      ends on a confident reading `hysteresis_bpm` back inside the range
//   AbruptChange       two confident readings within `abrupt_window_s` differ by more than
//                      `abrupt_change_bpm`
//
// Thread safety: none; one detector per stream, fed from one thread (a monitor's feeding
// thread). Allocation: the constructor reserves everything; push() allocates nothing.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace rppg {

/// A reading's state (rppg_sdk.ReadingStatus).
enum class ReadingState : int { WarmingUp = 0, Ok = 1, LowQuality = 2, NoFace = 3 };

/// Why there is no usable pulse.
enum class PulseLostReason : int {
  None = 0,      ///< not lost
  NoFace = 1,    ///< no face on the frames
  Motion = 2,    ///< the head's own motion lies at the reported rate, or the face box moved
  LowLight = 3,  ///< the skin is too dark to carry a measurable pulse
  NoPulse = 4,   ///< a face is tracked and lit, yet the window holds no clear pulse
};

enum class EventKind : int {
  Reading = 0,
  QualityChanged = 1,
  PulseLost = 2,
  PulseRegained = 3,
  TachycardiaStart = 4,
  TachycardiaEnd = 5,
  BradycardiaStart = 6,
  BradycardiaEnd = 7,
  AbruptChange = 8,
};

/// NaN: "unknown" / "none" in the structs below.
inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

/// What the detector needs of one reading (plain numbers; NaN where unknown).
struct ReadingInput {
  double timestamp_s = 0.0;  ///< camera clock, seconds, strictly increasing
  ReadingState state = ReadingState::WarmingUp;
  double bpm = kNoValue;         ///< NaN without a heart rate
  double confidence = 0.0;       ///< 0..1
  double motion_share = kNoValue;  ///< share of the head's motion at the reported rate, 0..1
  int box_moves = 0;             ///< face-box re-alignments inside the reading's window
  double skin_level = kNoValue;  ///< mean skin brightness as a share of full scale, 0..1
};

/// Thresholds (defaults: a resting adult driver; confidence 0.6 is the SDK's calibrated
/// "confident" threshold, rppg_sdk/confidence.json).
struct EventOptions {
  double min_confidence = 0.6;        ///< readings counted for tachycardia / bradycardia / abrupt
  double tachycardia_bpm = 100.0;     ///< above this ...
  double bradycardia_bpm = 50.0;      ///< ... below this ...
  double sustain_s = 30.0;            ///< ... for this long
  double hysteresis_bpm = 5.0;        ///< a run ends this far back inside the normal range
  double max_gap_s = 5.0;             ///< confident readings further apart break a run
  double abrupt_change_bpm = 15.0;    ///< change larger than this ...
  double abrupt_window_s = 10.0;      ///< ... within this window
  double lost_after_s = 2.0;          ///< no usable pulse this long raises PulseLost (0: at once)
  double motion_share_threshold = 0.5;  ///< motion share at or above: the reason is motion
  int box_moves_threshold = 2;        ///< box re-alignments in the window at or above: motion
  double low_light_level = 0.08;      ///< skin level below this share of full scale: low light

  /// Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

struct Event {
  EventKind kind = EventKind::Reading;
  double timestamp_s = 0.0;             ///< the reading that raised it (camera clock)
  ReadingState state = ReadingState::WarmingUp;           ///< that reading's state
  ReadingState previous_state = ReadingState::WarmingUp; ///< QualityChanged: the one before
  double bpm = kNoValue;                ///< that reading's heart rate (NaN without)
  double previous_bpm = kNoValue;       ///< AbruptChange: the earlier rate; NaN otherwise
  double confidence = 0.0;
  PulseLostReason reason = PulseLostReason::None;  ///< PulseLost: why
  double since_s = kNoValue;  ///< when the condition began (lost / run start / earlier reading); NaN
};

/// The reason a reading carries no usable pulse (None for an Ok reading).
PulseLostReason classify_reading(const ReadingInput& r, const EventOptions& o) noexcept;

class EventDetector {
 public:
  /// Throws std::invalid_argument for bad options.
  explicit EventDetector(const EventOptions& options = EventOptions());

  /// Adds one reading; returns the events it raised, Reading first. The reference stays valid
  /// until the next push() or reset(). Throws std::invalid_argument (state unchanged) for a
  /// timestamp that is not finite or not after the previous one, a state out of range, or a
  /// confidence outside 0..1.
  const std::vector<Event>& push(const ReadingInput& reading);

  /// Forget the stream (a new stream starts without a pulse).
  void reset() noexcept;

  const EventOptions& options() const noexcept { return options_; }

 private:
  struct Run {
    bool active = false;
    double start_s = kNoValue;  // first confident reading of the current run
    double last_s = kNoValue;   // newest confident reading
  };
  struct Sample {
    double t, bpm;
  };

  void emit(EventKind kind, const ReadingInput& r, double since_s, double previous_bpm,
            PulseLostReason reason);
  void update_pulse(const ReadingInput& r, PulseLostReason why);
  void update_run(Run& run, bool high, const ReadingInput& r);
  void update_abrupt(const ReadingInput& r);

  EventOptions options_;
  std::vector<Event> events_;
  double last_s_ = kNoValue;
  bool have_previous_ = false;
  ReadingState previous_state_ = ReadingState::WarmingUp;
  enum class Pulse { Never, Present, Lost } pulse_ = Pulse::Never;
  double bad_since_s_ = kNoValue;
  PulseLostReason bad_reason_ = PulseLostReason::None;
  double lost_since_s_ = kNoValue;
  Run tachy_, brady_;
  std::vector<Sample> recent_;  // confident readings inside abrupt_window_s, a fixed ring
  std::size_t recent_head_ = 0, recent_size_ = 0;
};

}  // namespace rppg
