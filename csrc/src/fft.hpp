// Internal: real FFTs through Eigen's FFT module (KissFFT backend), one plan cache per thread.
#pragma once

#include <complex>
#include <cstddef>
#include <vector>

namespace rppg::detail {

/// Forward real FFT of `in` (length nfft), writing nfft / 2 + 1 bins to `out`.
void rfft(const std::vector<double>& in, std::vector<std::complex<double>>& out);

/// Inverse of rfft: nfft / 2 + 1 bins to a real signal of length nfft (scaled by 1 / nfft).
void irfft(const std::vector<std::complex<double>>& in, std::size_t nfft, std::vector<double>& out);

/// Smallest n' >= n whose only prime factors are 2, 3 and 5 (fast for KissFFT).
std::size_t next_fast_length(std::size_t n);

/// Smallest power of two >= n.
std::size_t next_pow2(std::size_t n);

}  // namespace rppg::detail
