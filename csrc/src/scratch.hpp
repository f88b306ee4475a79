// Internal: per-thread scratch vectors that keep their capacity between calls, so that once a
// thread has processed its longest signal the spectra, detrend, band-pass and pulse methods
// allocate nothing more for their temporaries (rppg::PulseMonitor's readings rely on it; a
// stream repeats the same lengths every update). Each use has its own tag: a function never
// shares a buffer with one it calls. A lease gives the buffer back when it ends, dropping it if it
// grew past kScratchKeep elements (a one-off long signal must not stay resident in the thread).
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

namespace rppg::detail {

enum class Scratch : int {
  SpecSignal,
  SpecDetrended,
  SpecSegments,
  SpecPower,
  SpecFftIn,
  DetrendY,
  BandpassIn,
  BandpassOut,
  PosS1,
  PosS2,
  PosH,
  ChromPrefix,
  ChromXs,
  ChromYs,
  ChromXf,
  ChromYf,
  ChromWindow,
  ChromWeight,
  MonoR,
  MonoRi,
  MonoHp,
  MonoPadded,
  MonoFiltered,
  MonoDev,
  MonoMask,
  MonoGrown,
};

/// Buffers up to this many elements stay allocated between calls (2 MiB of doubles: a 64 s
/// window at 120 Hz needs about 23 k for its band-pass FFT).
inline constexpr std::size_t kScratchKeep = std::size_t{1} << 18;

/// The use of one scratch vector for a scope (not copyable, not movable; C++17 elides it).
template <class V>
class Lease {
 public:
  explicit Lease(V& v) noexcept : v_(v) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (v_.capacity() > kScratchKeep) V().swap(v_);
  }
  V& operator*() const noexcept { return v_; }

 private:
  V& v_;
};

/// The calling thread's buffer for `tag` (contents unspecified; resize/assign it).
template <Scratch tag>
Lease<std::vector<double>> scratch() {
  thread_local std::vector<double> v;
  return Lease<std::vector<double>>(v);
}

enum class ComplexScratch : int { SpecFft, BandpassFft };

template <ComplexScratch tag>
Lease<std::vector<std::complex<double>>> complex_scratch() {
  thread_local std::vector<std::complex<double>> v;
  return Lease<std::vector<std::complex<double>>>(v);
}

}  // namespace rppg::detail
