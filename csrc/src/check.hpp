// Internal: argument checks whose messages are built only when the check fails (the checks sit
// on hot paths; formatting a message every call would cost more than the work).
#pragma once

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
}  // namespace rppg::detail
