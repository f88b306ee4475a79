// Internal: per-thread scratch vectors that keep their capacity between calls, so that once a
// thread has processed its longest signal the spectra, detrend, band-pass and pulse methods
// allocate nothing more for their temporaries (rppg::PulseMonitor's readings rely on it; a
// stream repeats the same lengths every update). Each use has its own tag: a function never
// shares a buffer with one it calls.
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
};

/// The calling thread's buffer for `tag` (contents unspecified; resize/assign it).
template <Scratch tag>
std::vector<double>& scratch() {
  thread_local std::vector<double> v;
  return v;
}

enum class ComplexScratch : int { SpecFft, BandpassFft };

template <ComplexScratch tag>
std::vector<std::complex<double>>& complex_scratch() {
  thread_local std::vector<std::complex<double>> v;
  return v;
}

}  // namespace rppg::detail
