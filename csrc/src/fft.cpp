#include "fft.hpp"

#include <unsupported/Eigen/FFT>

namespace rppg::detail {

namespace {
Eigen::FFT<double>& engine() {
  // Plans (twiddles) are cached inside the engine per length; one engine per thread keeps that
  // cache without locks.
  thread_local Eigen::FFT<double> fft = [] {
    Eigen::FFT<double> f;
    f.SetFlag(Eigen::FFT<double>::HalfSpectrum);
    return f;
  }();
  return fft;
}
}  // namespace

void rfft(const std::vector<double>& in, std::vector<std::complex<double>>& out) {
  engine().fwd(out, in);
}

void irfft(const std::vector<std::complex<double>>& in, std::size_t nfft, std::vector<double>& out) {
  engine().inv(out, in, static_cast<Eigen::Index>(nfft));
}

std::size_t next_fast_length(std::size_t n) {
  if (n <= 1) return 1;
  for (std::size_t m = n;; ++m) {
    std::size_t r = m;
    for (std::size_t p : {2u, 3u, 5u}) {
      while (r % p == 0) r /= p;
    }
    if (r == 1) return m;
  }
}

std::size_t next_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace rppg::detail
