// Cost of rppg::PulseMonitor::push per frame, and heap allocations after warm-up.
//
// Same run, same synthetic trace (30 fps ROI means with a pulse), each timing the best of
// several repetitions of a whole pass (no clock read per push):
//   push only   a monitor whose update interval is never reached: the per-frame work
//   amortised   the default monitor (a reading every second), readings included
//   reference   the bare rppg::TimeSeriesBuffer::push the monitor stores each frame with
// Allocations are counted with a global operator new on a separate pass, per push without a
// reading and per reading. Prints; asserts nothing (timings are noisy).
//
//   bench_pulse_monitor [seconds_of_video=600] [fps=30] [repeats=5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "../csrc/tests/alloc_counter.hpp"
#include "../csrc/tests/synthetic_trace.hpp"
#include "rppg/pulse_monitor.hpp"
#include "rppg/time_series.hpp"

namespace {
using Clock = std::chrono::steady_clock;

struct Trace {
  std::vector<double> t, rgb;
};

// Best wall time (ns) of `repeats` passes of push() over the trace after `warm` frames.
double best_pass_ns(const rppg::PulseMonitorConfig& cfg, const Trace& tr, std::size_t warm,
                    int repeats, std::size_t* readings) {
  double best = std::numeric_limits<double>::infinity();
  const std::size_t n = tr.t.size();
  for (int rep = 0; rep < repeats; ++rep) {
    rppg::PulseMonitor mon(cfg);
    for (std::size_t i = 0; i < warm; ++i) mon.push(tr.t[i], &tr.rgb[3 * i], 3);
    std::size_t got = 0;
    const auto c0 = Clock::now();
    for (std::size_t i = warm; i < n; ++i) got += mon.push(tr.t[i], &tr.rgb[3 * i], 3) != nullptr;
    best = std::min(best, std::chrono::duration<double, std::nano>(Clock::now() - c0).count());
    *readings = got;
  }
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 600.0;
  const double fps = argc > 2 ? std::atof(argv[2]) : 30.0;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  const auto n = static_cast<std::size_t>(seconds * fps);
  const auto warm = static_cast<std::size_t>(15.0 * fps);
  Trace tr;
  rppg_demo::TraceGenerator gen;
  gen.fps = fps;
  tr.t.resize(n);
  tr.rgb.resize(3 * n);
  for (std::size_t i = 0; i < n; ++i) tr.t[i] = gen.next(&tr.rgb[3 * i]);
  const double frames = static_cast<double>(n - warm);

  rppg::PulseMonitorConfig never;
  never.update_interval_s = 1e9;  // no reading: only the per-frame work
  std::size_t readings = 0;
  const double push_ns = best_pass_ns(never, tr, warm, repeats, &readings) / frames;
  const rppg::PulseMonitorConfig deflt;
  const double all_ns = best_pass_ns(deflt, tr, warm, repeats, &readings) / frames;

  // Reference: the bare trace buffer (same row width and capacity), already full.
  double buffer_ns = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < repeats; ++rep) {
    rppg::TimeSeriesBuffer buf(static_cast<std::size_t>(66 * 120), 10);
    std::vector<double> row(10, 1.0);
    for (std::size_t i = 0; i < buf.capacity(); ++i) buf.push(row.data(), -1e9 + double(i));
    const auto c0 = Clock::now();
    for (std::size_t i = warm; i < n; ++i) {
      std::copy(&tr.rgb[3 * i], &tr.rgb[3 * i] + 3, row.begin());
      buf.push(row.data(), tr.t[i]);
    }
    buffer_ns = std::min(
        buffer_ns, std::chrono::duration<double, std::nano>(Clock::now() - c0).count() / frames);
  }

  // Allocations after warm-up, per push without a reading and per reading.
  rppg::PulseMonitor mon(deflt);
  for (std::size_t i = 0; i < warm; ++i) mon.push(tr.t[i], &tr.rgb[3 * i], 3);
  std::size_t push_allocs = 0, reading_allocs = 0, pushes = 0, counted = 0;
  for (std::size_t i = warm; i < n; ++i) {
    const std::size_t a0 = rppg_test::allocations();
    const bool reading = mon.push(tr.t[i], &tr.rgb[3 * i], 3) != nullptr;
    const std::size_t used = rppg_test::allocations() - a0;
    (reading ? reading_allocs : push_allocs) += used;
    (reading ? counted : pushes) += 1;
  }

  std::printf("%zu frames at %.0f fps after %zu warm-up frames, best of %d passes\n", n - warm,
              fps, warm, repeats);
  std::printf("push only (no reading due):     %8.1f ns per frame\n", push_ns);
  std::printf("amortised (%zu readings):       %8.1f ns per frame (%.0f us per reading)\n",
              readings, all_ns, (all_ns - push_ns) * frames / static_cast<double>(readings) / 1e3);
  std::printf("reference TimeSeriesBuffer::push: %6.1f ns per frame; push only / reference = %.2f\n",
              buffer_ns, push_ns / buffer_ns);
  std::printf("allocations after warm-up: %zu over %zu pushes without a reading; %.1f per reading\n",
              push_allocs, pushes,
              counted ? static_cast<double>(reading_allocs) / static_cast<double>(counted) : 0.0);
  return 0;
}
