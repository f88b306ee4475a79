// A driver-monitoring (DMS) integration: the DMS's own face tracker gives the mean colour of the
// driver's face skin on each frame; rppg::PulseMonitor turns those means into heart-rate
// readings, and rppg::EventDetector turns readings into events for the fusion layer.
//
// The ROI means here come from a synthetic trace (a resting driver at 68 bpm whose heart rate
// rises to 112 bpm after 60 s); in a car they come from the camera pipeline, one push per frame.
// Exits non-zero when a confident reading is more than 3 bpm from the truth, or the tachycardia
// is not reported (ctest runs it).
//
//   dms_example [seconds]
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "../tests/synthetic_trace.hpp"
#include "rppg/events.hpp"
#include "rppg/pulse_monitor.hpp"

namespace {
const char* event_name(rppg::EventKind k) {
  switch (k) {
    case rppg::EventKind::Reading: return "reading";
    case rppg::EventKind::QualityChanged: return "quality_changed";
    case rppg::EventKind::PulseLost: return "pulse_lost";
    case rppg::EventKind::PulseRegained: return "pulse_regained";
    case rppg::EventKind::TachycardiaStart: return "tachycardia_start";
    case rppg::EventKind::TachycardiaEnd: return "tachycardia_end";
    case rppg::EventKind::BradycardiaStart: return "bradycardia_start";
    case rppg::EventKind::BradycardiaEnd: return "bradycardia_end";
    case rppg::EventKind::AbruptChange: return "abrupt_change";
  }
  return "?";
}
}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 120.0;

  rppg::PulseMonitorConfig config;  // 10 s windows, a reading every second, POS
  // The fitted POS confidence (python/rppg_sdk/confidence.json, "pos" -> "coefficients").
  config.confidence.intercept = 4.1426;
  config.confidence.snr_coef = 0.1976;
  config.confidence.ipr_coef = -4.1884;
  config.confidence.harmonic_coef = -2.3707;
  config.confidence.signature_coef = -0.098;
  config.confidence.reference_coef = -5.3079;
  config.confidence.move_coef = 0.0;
  config.confidence.motion_coef = -0.4337;
  rppg::PulseMonitor monitor(config);

  rppg::EventOptions event_options;
  event_options.sustain_s = 15.0;  // a short demo: tachycardia after 15 s above 100 bpm
  rppg::EventDetector events(event_options);

  rppg_demo::TraceGenerator camera;  // 30 fps
  camera.bpm_at = [](double t) { return t < 60.0 ? 68.0 : 112.0; };

  int confident = 0, wrong = 0;
  bool tachycardia = false;
  for (long frame = 0; frame < static_cast<long>(seconds * camera.fps); ++frame) {
    double rgb[3];
    const double t = camera.next(rgb);
    const rppg::Reading* r = monitor.push(t, rgb, 3);  // per frame: no allocation
    if (r == nullptr) continue;                         // no reading due on this frame

    rppg::ReadingInput in;
    in.timestamp_s = r->timestamp_s;
    in.state = static_cast<rppg::ReadingState>(static_cast<int>(r->status));
    in.bpm = r->status == rppg::ReadingStatus::WarmingUp ? rppg::kNoValue : r->bpm;
    in.confidence = r->confidence;
    in.motion_share = r->evidence.motion_share;
    in.box_moves = r->box_moves;
    for (const rppg::Event& e : events.push(in)) {
      if (e.kind == rppg::EventKind::Reading) {
        std::printf("t=%6.1f s  %-11s  %6.1f bpm  confidence %.2f  snr %5.1f dB\n",
                    e.timestamp_s, rppg::status_name(r->status), r->bpm, r->confidence,
                    r->snr_db);
      } else {
        std::printf("t=%6.1f s  EVENT %s (bpm %.1f)\n", e.timestamp_s, event_name(e.kind), e.bpm);
      }
      tachycardia = tachycardia || e.kind == rppg::EventKind::TachycardiaStart;
    }
    // Judge confident readings whose window holds one heart rate only.
    const double truth = camera.bpm_at(t);
    const bool clean = t < 60.0 || t >= 60.0 + config.window_s + 5.0;
    if (clean && r->status == rppg::ReadingStatus::Ok && r->confidence >= 0.6) {
      ++confident;
      if (std::abs(r->bpm - truth) > 3.0) {
        ++wrong;
        std::printf("  ^ off by %.1f bpm (truth %.1f)\n", r->bpm - truth, truth);
      }
    }
  }
  std::printf("%d confident readings, %d off by more than 3 bpm; tachycardia %s\n", confident,
              wrong, tachycardia ? "reported" : "NOT reported");
  const bool expect_tachy = seconds >= 60.0 + config.window_s + event_options.sustain_s + 10.0;
  return (confident > 0 && wrong == 0 && (tachycardia || !expect_tachy)) ? 0 : 1;
}
