#!/usr/bin/env bash
# The C++ core and its ctest suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the
# fuzz target (csrc/fuzz/fuzz_core.cpp) for a fixed time on each part: the spectral estimator,
# the resampler, the buffers. Needs a C++17 compiler, CMake and Eigen (found as in the main
# build: a system package, or the cmeel-eigen wheel in $PYTHON's environment, whose cmake and
# ninja wheels are used too when present).
#
#   csrc/tools/sanitize.sh [--fuzz-seconds S (per part, default 60; 0: none)]
#                          [--build-dir DIR] [--seed N]
#
# CXX=clang++ builds the fuzz target with libFuzzer; otherwise (gcc) csrc/fuzz/driver.cpp runs
# it. Exits non-zero on any sanitizer report, test failure or fuzz crash; a crashing input is
# left in the build directory as crash-* (add it to csrc/fuzz/corpus/ with the fix).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
fuzz_seconds=60
build="$root/build/sanitize"
seed="${RPPG_FUZZ_SEED:-$RANDOM}"
while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "sanitize.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$build"
build="$(cd "$build" && pwd)"  # the fuzzer runs inside it: relative paths would dangle
python="$(command -v "${PYTHON:-python3}")"
# The pip-installed cmake and ninja live beside the interpreter of a virtual environment.
PATH="$(cd "$(dirname "$python")" && pwd):$PATH"
prefix_path=""
if eigen_prefix="$("$python" -m cmeel cmake 2>/dev/null)"; then prefix_path="$eigen_prefix"; fi
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

# -O1: sanitizer reports stay readable and the build stays short (CI runs this on 2 cores).
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_PREFIX_PATH="$prefix_path" \
  -DRPPG_SANITIZE=address,undefined -DRPPG_BUILD_TESTS=ON -DRPPG_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j "${JOBS:-2}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
(cd "$build" && ctest --output-on-failure)

if [ "$fuzz_seconds" != 0 ]; then
  for part in spectral resample buffers; do
    echo "== fuzzing the ${part} part for ${fuzz_seconds} s (seed $seed)"
    # libFuzzer adds the inputs it finds to the first directory: one in the build, not the repo.
    mkdir -p "$build/corpus-$part"
    (cd "$build" && RPPG_FUZZ_PART="$part" ./rppg_fuzz_core -max_total_time="$fuzz_seconds" \
      -seed="$seed" -max_len=512 -artifact_prefix="$build/" "$build/corpus-$part" \
      "$root/csrc/fuzz/corpus/$part")
  done
fi
