// The ctest programs' one way to check: print each failure, count them, and refuse a call that
// should have thrown std::invalid_argument but did not. main() returns finish("suite name").
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace rppg_test {

inline int failures = 0;

inline void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what.c_str());
    ++failures;
  }
}

template <class F>
void expect_invalid(F&& f, const std::string& what) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return;
  }
  expect(false, what + " (no std::invalid_argument)");
}

/// The exit status of a test program: 0 when nothing failed.
inline int finish(const char* suite) {
  if (failures == 0) {
    std::printf("%s: all tests passed\n", suite);
    return 0;
  }
  std::printf("%s: %d failure(s)\n", suite, failures);
  return 1;
}

}  // namespace rppg_test
