// Internal: argument checks whose messages are built only when the check fails (the checks sit
// on hot paths; formatting a message every call would cost more than the work).
#pragma once

#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

#define RPPG_REQUIRE(cond, message)                                 \
  do {                                                              \
    if (!(cond)) throw std::invalid_argument(std::string(message)); \
  } while (0)

namespace rppg::detail {
inline std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Largest magnitude accepted in a signal (as rppg_sdk.dsp): sums of many such values stay
// finite. Spectra rescale internally, so their squares cannot overflow either.
constexpr double kMaxAbsSignal = 1e150;

// Throws std::invalid_argument unless every x[i] is finite with |x[i]| <= kMaxAbsSignal: a NaN
// would otherwise come out as a confident-looking number, and a huge value overflow to NaN.
inline void check_signal(const char* name, const double* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::abs(x[i]) <= kMaxAbsSignal)) {
      std::ostringstream msg;
      msg << name << ": expected finite values with |x| <= " << kMaxAbsSignal << ", got " << x[i]
          << " at sample " << i;
      throw std::invalid_argument(msg.str());
    }
  }
}

// The timestamp rule shared by both buffers: finite, and after the previous `what` (when there is
// one). `name` is the argument as the caller knows it ("timestamp_s", "timestamps_s[3]").
inline void check_next_timestamp(const std::string& name, double timestamp_s, bool has_previous,
                                 double previous_s, const char* what) {
  if (!std::isfinite(timestamp_s)) {
    std::ostringstream msg;
    msg << name << ": expected a finite number of seconds, got " << timestamp_s;
    throw std::invalid_argument(msg.str());
  }
  if (has_previous && !(timestamp_s > previous_s)) {
    std::ostringstream msg;
    msg.precision(17);
    msg << name << ": expected a time after the previous " << what << "'s " << previous_s
        << " s, got " << timestamp_s << " s (clear the buffer after a camera restart)";
    throw std::invalid_argument(msg.str());
  }
}
}  // namespace rppg::detail
