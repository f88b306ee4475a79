// Internal: argument checks whose messages are built only when the check fails (the checks sit
// on hot paths; formatting a message every call would cost more than the work).
#pragma once

#include <cmath>
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
