// Cost of rppg::PulseMonitor::push per frame, and heap allocations after warm-up.
//
// Prints (same run, same trace): the push cost on frames without a reading, the amortised cost
// including the readings (one per second), the cost of one reading, and for reference the bare
// rppg::TimeSeriesBuffer::push the monitor stores each frame with (push / buffer ratio).
// Allocations are counted with a global operator new. Asserts nothing: timings are noisy.
//
//   bench_pulse_monitor [seconds_of_video=600] [fps=30]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../csrc/tests/alloc_counter.hpp"
#include "../csrc/tests/synthetic_trace.hpp"
#include "rppg/pulse_monitor.hpp"
#include "rppg/time_series.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double ns(Clock::duration d) { return std::chrono::duration<double, std::nano>(d).count(); }
}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 600.0;
  const double fps = argc > 2 ? std::atof(argv[2]) : 30.0;
  const auto n = static_cast<std::size_t>(seconds * fps);
  // The trace first (generation is not part of the cost).
  rppg_demo::TraceGenerator gen;
  gen.fps = fps;
  std::vector<double> t(n), rgb(3 * n);
  for (std::size_t i = 0; i < n; ++i) t[i] = gen.next(&rgb[3 * i]);

  rppg::PulseMonitorConfig cfg;
  rppg::PulseMonitor mon(cfg);
  const std::size_t warm = static_cast<std::size_t>(15.0 * fps);
  for (std::size_t i = 0; i < warm; ++i) mon.push(t[i], &rgb[3 * i], 3);

  double push_ns = 0.0, reading_ns = 0.0;
  std::size_t pushes = 0, readings = 0, push_allocs = 0, reading_allocs = 0;
  const auto all0 = Clock::now();
  for (std::size_t i = warm; i < n; ++i) {
    const std::size_t a0 = rppg_test::allocations();
    const auto c0 = Clock::now();
    const rppg::Reading* r = mon.push(t[i], &rgb[3 * i], 3);
    const auto c1 = Clock::now();
    const std::size_t used = rppg_test::allocations() - a0;
    if (r == nullptr) {
      push_ns += ns(c1 - c0);
      push_allocs += used;
      ++pushes;
    } else {
      reading_ns += ns(c1 - c0);
      reading_allocs += used;
      ++readings;
    }
  }
  const double total_ns = ns(Clock::now() - all0);

  // Reference: the bare trace buffer the monitor stores each frame in, same row count.
  rppg::TimeSeriesBuffer buf(static_cast<std::size_t>(66 * 120), 10);
  std::vector<double> row(10, 1.0);
  for (std::size_t i = 0; i < buf.capacity(); ++i) buf.push(row.data(), -1e9 + double(i));
  const auto b0 = Clock::now();
  for (std::size_t i = warm; i < n; ++i) {
    row[0] = rgb[3 * i];
    buf.push(row.data(), t[i]);
  }
  const double buffer_ns = ns(Clock::now() - b0) / static_cast<double>(n - warm);

  // Timer overhead (two clock reads per timed push).
  const auto o0 = Clock::now();
  for (int i = 0; i < 100000; ++i) (void)Clock::now();
  const double clock_ns = ns(Clock::now() - o0) / 100000.0;

  const double push_avg = push_ns / static_cast<double>(pushes);
  std::printf("frames %zu at %.0f fps after %zu warm-up frames; %zu readings\n", n - warm, fps,
              warm, readings);
  std::printf("push without a reading: %.1f ns (timer read ~%.1f ns included)\n", push_avg,
              clock_ns);
  std::printf("push with a reading:    %.1f us per reading\n",
              readings ? reading_ns / static_cast<double>(readings) / 1000.0 : 0.0);
  std::printf("amortised over all frames (untimed loop incl. readings): %.1f ns per frame\n",
              total_ns / static_cast<double>(n - warm));
  std::printf("reference TimeSeriesBuffer::push: %.1f ns; push / buffer = %.2f\n", buffer_ns,
              push_avg / buffer_ns);
  std::printf("allocations after warm-up: %zu over %zu pushes without a reading; %.1f per reading\n",
              push_allocs, pushes,
              readings ? static_cast<double>(reading_allocs) / static_cast<double>(readings) : 0.0);
  return 0;
}
