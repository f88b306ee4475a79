// A small stand-in for libFuzzer where clang is not installed (gcc builds): replays the files and
// directories named on the command line, then runs random and mutated inputs through
// LLVMFuzzerTestOneInput until -max_total_time seconds or -runs inputs have passed. It has no
// coverage feedback, so the target's structured input does the steering.
//
// Flags use libFuzzer's spelling: -max_total_time=S (default 10) -runs=N -seed=N -max_len=N;
// files alone, with neither -max_total_time nor -runs, are only replayed. When a
// sanitizer or the target aborts, the input is written to crash-<seed>-<run> (in
// -artifact_prefix=DIR/ if given) so `driver crash-...` replays it.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Present when a sanitizer runtime is linked in; called before it aborts on an error.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

std::vector<std::uint8_t> current;  // the input being run, for the crash report
std::string crash_path;

void save_current() {
  if (FILE* f = std::fopen(crash_path.c_str(), "wb")) {
    std::fwrite(current.data(), 1, current.size(), f);
    std::fclose(f);
    std::fprintf(stderr, "driver: input that crashed written to %s (%zu bytes)\n",
                 crash_path.c_str(), current.size());
  }
}

extern "C" void on_abort(int) {
  save_current();
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

void run(const std::vector<std::uint8_t>& input) {
  current = input;
  LLVMFuzzerTestOneInput(current.data(), current.size());
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void mutate(std::vector<std::uint8_t>& x, std::mt19937_64& rng, std::size_t max_len) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % (n ? n : 1)); };
  for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) {
    switch (rng() % 6) {
      case 0:
        if (!x.empty()) x[pick(x.size())] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        if (!x.empty()) {
          static const std::uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40};
          x[pick(x.size())] = interesting[rng() % sizeof interesting];
        }
        break;
      case 2:
        if (x.size() < max_len) {
          x.insert(x.begin() + static_cast<std::ptrdiff_t>(pick(x.size() + 1)),
                   static_cast<std::uint8_t>(rng()));
        }
        break;
      case 3:
        if (!x.empty()) {
          const std::size_t at = pick(x.size());
          const std::size_t len = 1 + pick(std::min<std::size_t>(16, x.size() - at));
          x.erase(x.begin() + static_cast<std::ptrdiff_t>(at),
                  x.begin() + static_cast<std::ptrdiff_t>(std::min(x.size(), at + len)));
        }
        break;
      case 4:
        if (!x.empty()) x[pick(x.size())] = static_cast<std::uint8_t>(rng());
        break;
      default:  // duplicate a chunk: repeats an operation of a buffer program
        if (!x.empty() && x.size() < max_len) {
          const std::size_t at = pick(x.size());
          const std::size_t len = 1 + pick(std::min<std::size_t>(32, x.size() - at));
          std::vector<std::uint8_t> chunk(x.begin() + static_cast<std::ptrdiff_t>(at),
                                          x.begin() + static_cast<std::ptrdiff_t>(at + len));
          x.insert(x.begin() + static_cast<std::ptrdiff_t>(pick(x.size() + 1)), chunk.begin(),
                   chunk.end());
        }
        break;
    }
  }
  if (x.size() > max_len) x.resize(max_len);
}

}  // namespace

int main(int argc, char** argv) {
  double max_seconds = 10.0;
  bool bounded = false;  // -max_total_time or -runs given: fuzz after replaying
  long long max_runs = -1;  // -1: until the time is up; 0: replay only (as libFuzzer)
  std::uint64_t seed = 1;
  std::size_t max_len = 512;
  std::string prefix;
  std::vector<std::filesystem::path> replay;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
    };
    if (const char* v = value("-max_total_time=")) {
      max_seconds = std::atof(v);
      bounded = true;
    } else if (const char* v = value("-runs=")) {
      max_runs = std::atoll(v);
      bounded = true;
    } else if (const char* v = value("-seed=")) {
      seed = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("-max_len=")) {
      max_len = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("-artifact_prefix=")) {
      prefix = v;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "driver: unknown flag %s\n", a.c_str());
      return 2;
    } else {
      replay.emplace_back(a);
    }
  }
  std::signal(SIGABRT, on_abort);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(save_current);

  std::vector<std::vector<std::uint8_t>> pool;
  std::size_t replayed = 0;
  for (const auto& p : replay) {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) files.push_back(e.path());
    } else if (std::filesystem::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "driver: no such file or directory: %s\n", p.c_str());
      return 2;
    }
    for (const auto& f : files) {
      crash_path = prefix + "crash-replay-" + f.filename().string();
      pool.push_back(read_file(f));
      run(pool.back());
      ++replayed;
    }
  }
  std::printf("driver: replayed %zu inputs\n", replayed);
  if ((!replay.empty() && !bounded) || max_runs == 0) return 0;  // files alone: replay only

  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  long long runs = 0;
  std::vector<std::uint8_t> input;
  for (;;) {
    if (max_runs > 0 && runs >= max_runs) break;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (max_runs < 0 && elapsed >= max_seconds) break;
    if (pool.empty() || rng() % 4 == 0) {
      input.resize(rng() % (max_len + 1));
      for (auto& b : input) b = static_cast<std::uint8_t>(rng());
    } else {
      input = pool[rng() % pool.size()];
      mutate(input, rng, max_len);
    }
    crash_path = prefix + "crash-" + std::to_string(seed) + "-" + std::to_string(runs);
    run(input);
    ++runs;
    // Without coverage, keep a random sample of what ran as parents for later mutations.
    if (pool.size() < 256) {
      pool.push_back(input);
    } else if (rng() % 8 == 0) {
      pool[rng() % pool.size()] = input;
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("driver: %lld runs in %.1f s (%.0f/s), seed %llu: no crash\n",
              runs, elapsed,
              elapsed > 0 ? static_cast<double>(runs) / elapsed : 0.0,
              static_cast<unsigned long long>(seed));
  return 0;
}
