// Time-domain signal conditioning: resampling onto a uniform grid, detrending, band-pass.
//
// Arrays are raw pointers with explicit lengths so that callers (the Python binding, a C++
// driver-monitoring stack) own their memory. Invalid sizes or parameters throw
// std::invalid_argument with a message naming what was expected and what arrived.
#pragma once

#include <cstddef>
#include <vector>

namespace rppg {

/// Number of samples of the uniform grid t[0] + k / fs_hz that lies within [t[0], t[n-1]].
std::size_t resampled_length(const double* timestamps_s, std::size_t n, double fs_hz);

/// Linear interpolation of `values` (n rows x channels, row-major) sampled at strictly
/// increasing `timestamps_s` onto the grid t[0] + k / fs_hz, k < resampled_length(...).
/// Writes the grid to `grid_out` and the values (row-major) to `values_out`.
void resample_uniform(const double* timestamps_s, const double* values, std::size_t n,
                      std::size_t channels, double fs_hz, double* grid_out, double* values_out);

/// Smoothness-priors detrending (Tarvainen, Ranta-aho & Karjalainen 2002): returns
/// x - (I + lambda^2 D2' D2)^-1 x, in O(n) through a banded factorisation. n >= 3, lambda >= 1e-6.
void detrend(const double* x, std::size_t n, double lambda, double* out);

/// The lambda that puts the detrender's cut-off at `cutoff_hz` for `fs_hz`. The detrender is a
/// high-pass with gain H = (lambda s)^2 / (1 + (lambda s)^2), s = 2 - 2 cos(w) ~ w^2 (w in
/// rad/sample); this returns lambda = 1 / s(w_c), where the gain is 1/2 (lambda = 100 at 30 Hz:
/// ~0.48 Hz).
/// Twice the cut-off frequency already passes 0.94 of the amplitude.
double detrend_lambda_for_cutoff(double fs_hz, double cutoff_hz);
std::vector<double> detrend(const std::vector<double>& x, double lambda);

/// Zero-phase FFT band-pass. The signal is mirror-padded on both sides (so the FFT's circular
/// wrap joins matching samples), transformed, multiplied by a mask that is 1 on [f_lo, f_hi] and
/// falls to 0 along a raised cosine `taper_hz` wide outside each edge, and transformed back.
void bandpass(const double* x, std::size_t n, double fs_hz, double f_lo_hz, double f_hi_hz,
              double taper_hz, double* out);
std::vector<double> bandpass(const std::vector<double>& x, double fs_hz, double f_lo_hz,
                             double f_hi_hz, double taper_hz);

}  // namespace rppg
