// C++ tests of rppg::EventDetector (ctest: events_tests). The Python side (tests/test_events.py)
// checks the same detector through the monitor.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "rppg/events.hpp"
#include "expect.hpp"

namespace {
using rppg_test::expect;

using rppg::EventKind;
using rppg::ReadingState;

rppg::ReadingInput ok(double t, double bpm, double conf = 0.9) {
  rppg::ReadingInput r;
  r.timestamp_s = t;
  r.state = ReadingState::Ok;
  r.bpm = bpm;
  r.confidence = conf;
  r.motion_share = 0.1;
  r.skin_level = 0.5;
  return r;
}

rppg::ReadingInput bad(double t, ReadingState s, double motion = 0.1, double level = 0.5) {
  rppg::ReadingInput r;
  r.timestamp_s = t;
  r.state = s;
  r.bpm = s == ReadingState::LowQuality ? 70.0 : rppg::kNoValue;
  r.confidence = 0.1;
  r.motion_share = motion;
  r.skin_level = level;
  return r;
}

int count(const std::vector<rppg::Event>& ev, EventKind k) {
  int n = 0;
  for (const auto& e : ev) n += e.kind == k;
  return n;
}

const rppg::Event* find(const std::vector<rppg::Event>& ev, EventKind k) {
  for (const auto& e : ev) {
    if (e.kind == k) return &e;
  }
  return nullptr;
}

void test_reading_and_quality() {
  rppg::EventDetector d;
  auto ev = d.push(bad(1.0, ReadingState::WarmingUp));
  expect(ev.size() == 1 && ev[0].kind == EventKind::Reading, "first reading: one Reading event");
  ev = d.push(ok(2.0, 70.0));
  expect(ev[0].kind == EventKind::Reading, "Reading comes first");
  const auto* q = find(ev, EventKind::QualityChanged);
  expect(q != nullptr && q->previous_state == ReadingState::WarmingUp &&
             q->state == ReadingState::Ok,
         "QualityChanged names both states");
  expect(count(ev, EventKind::PulseRegained) == 1, "the stream's first pulse raises PulseRegained");
  ev = d.push(ok(3.0, 71.0));
  expect(ev.size() == 1, "a steady reading raises only Reading");
}

void test_pulse_lost_reasons() {
  struct Case {
    rppg::ReadingInput r;
    rppg::PulseLostReason want;
    const char* name;
  };
  const std::vector<Case> cases = {
      {bad(0, ReadingState::NoFace), rppg::PulseLostReason::NoFace, "no face"},
      {bad(0, ReadingState::LowQuality, 0.8), rppg::PulseLostReason::Motion, "motion"},
      {bad(0, ReadingState::LowQuality, 0.1, 0.02), rppg::PulseLostReason::LowLight, "low light"},
      {bad(0, ReadingState::LowQuality), rppg::PulseLostReason::NoPulse, "no pulse"},
  };
  for (const auto& c : cases) {
    rppg::EventDetector d;  // lost_after_s = 2
    d.push(ok(1.0, 70.0));
    auto r = c.r;
    r.timestamp_s = 2.0;
    auto ev = d.push(r);
    expect(count(ev, EventKind::PulseLost) == 0, std::string(c.name) + ": not lost after 0 s");
    r.timestamp_s = 3.0;
    ev = d.push(r);
    expect(count(ev, EventKind::PulseLost) == 0, std::string(c.name) + ": not lost after 1 s");
    r.timestamp_s = 4.0;
    ev = d.push(r);
    const auto* e = find(ev, EventKind::PulseLost);
    expect(e != nullptr && e->reason == c.want && e->since_s == 2.0,
           std::string(c.name) + ": lost after 2 s with its reason and start");
    r.timestamp_s = 5.0;
    expect(count(d.push(r), EventKind::PulseLost) == 0, std::string(c.name) + ": lost once");
    ev = d.push(ok(6.0, 72.0));
    const auto* g = find(ev, EventKind::PulseRegained);
    expect(g != nullptr && g->since_s == 2.0, std::string(c.name) + ": regained, lost since 2 s");
  }
  // A short dip (1 s) is no loss.
  rppg::EventDetector d;
  d.push(ok(1.0, 70.0));
  d.push(bad(2.0, ReadingState::NoFace));
  auto ev = d.push(ok(3.0, 70.0));
  expect(count(ev, EventKind::PulseLost) == 0 && count(ev, EventKind::PulseRegained) == 0,
         "a 1 s dip raises neither lost nor regained");
}

void test_sustained_tachycardia() {
  rppg::EventOptions o;
  o.sustain_s = 30.0;
  rppg::EventDetector d(o);
  int starts = 0;
  double start_t = -1.0, since = -1.0;
  for (int k = 0; k <= 40; ++k) {
    const auto& ev = d.push(ok(k, k < 5 ? 80.0 : 110.0));
    if (const auto* e = find(ev, EventKind::TachycardiaStart)) {
      ++starts;
      start_t = e->timestamp_s;
      since = e->since_s;
    }
  }
  expect(starts == 1 && start_t == 35.0 && since == 5.0, "tachycardia after 30 s above 100");
  // Unconfident readings inside the run neither count against it nor break it.
  auto ev = d.push(ok(41.0, 60.0, 0.2));
  expect(count(ev, EventKind::TachycardiaEnd) == 0, "an unconfident low reading ends nothing");
  ev = d.push(ok(42.0, 98.0));
  expect(count(ev, EventKind::TachycardiaEnd) == 0, "inside the hysteresis: no end");
  ev = d.push(ok(43.0, 90.0));
  expect(count(ev, EventKind::TachycardiaEnd) == 1, "back below 95: end");
}

void test_run_broken_by_gap_and_bradycardia() {
  rppg::EventOptions o;
  o.sustain_s = 10.0;
  rppg::EventDetector d(o);
  int starts = 0;
  for (int k = 0; k <= 8; ++k) starts += count(d.push(ok(k, 45.0)), EventKind::BradycardiaStart);
  // 6 s without a confident reading (> max_gap_s) breaks the run.
  for (int k = 15; k <= 23; ++k) starts += count(d.push(ok(k, 45.0)), EventKind::BradycardiaStart);
  expect(starts == 0, "a gap longer than max_gap_s restarts the run");
  for (int k = 24; k <= 26; ++k) starts += count(d.push(ok(k, 45.0)), EventKind::BradycardiaStart);
  expect(starts == 1, "bradycardia after 10 s of confident readings below 50");
}

void test_abrupt_change() {
  rppg::EventDetector d;
  int n = 0;
  const rppg::Event* e = nullptr;
  double from = 0.0;
  for (int k = 0; k < 30; ++k) {
    const double bpm = k < 10 ? 70.0 : (k < 14 ? 70.0 + 5.0 * (k - 9) : 90.0);
    const auto& ev = d.push(ok(k, bpm));
    if ((e = find(ev, EventKind::AbruptChange)) != nullptr) {
      ++n;
      from = e->previous_bpm;
    }
  }
  expect(n == 1 && from == 70.0, "70 -> 90 bpm within 4 s: one abrupt change from 70");
  // A slow drift of 20 bpm over 40 s is no abrupt change.
  rppg::EventDetector slow;
  n = 0;
  for (int k = 0; k < 40; ++k) n += count(slow.push(ok(k, 70.0 + 0.5 * k)), EventKind::AbruptChange);
  expect(n == 0, "0.5 bpm/s drift: no abrupt change");
  // Unconfident readings are ignored.
  rppg::EventDetector weak;
  weak.push(ok(0.0, 70.0));
  expect(count(weak.push(ok(1.0, 120.0, 0.3)), EventKind::AbruptChange) == 0,
         "an unconfident jump is ignored");
}

void test_bad_input() {
  rppg::EventDetector d;
  d.push(ok(1.0, 70.0));
  bool threw = false;
  try {
    d.push(ok(1.0, 70.0));
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  expect(threw, "a repeated timestamp is rejected");
  threw = false;
  try {
    d.push(ok(2.0, 70.0, 1.5));
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  expect(threw, "confidence 1.5 is rejected");
  threw = false;
  try {
    rppg::EventOptions o;
    o.bradycardia_bpm = 120.0;
    rppg::EventDetector bad_options(o);
  } catch (const std::invalid_argument& e) {
    threw = std::string(e.what()).find("bradycardia_bpm") != std::string::npos;
  }
  expect(threw, "bradycardia above tachycardia is rejected by name");
  d.reset();
  expect(d.push(ok(0.5, 70.0)).size() == 2, "after reset: time may restart; the pulse is new");
}
}  // namespace

int main() {
  test_reading_and_quality();
  test_pulse_lost_reasons();
  test_sustained_tachycardia();
  test_run_broken_by_gap_and_bradycardia();
  test_abrupt_change();
  test_bad_input();
  return rppg_test::finish("events");
}
