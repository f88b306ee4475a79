// Light that changes on skin and background alike, and steps that are not pulse
// (rppg_sdk.illumination documents the method). Arrays are row-major n x channels on a uniform
// grid; outputs are caller-owned; invalid input throws std::invalid_argument.
//
// Pure functions apart from `IlluminationWorkspace` buffers, which the caller owns (one per
// thread): after they have grown to the longest window the functions allocate nothing (the
// band-pass and spectra they call use per-thread scratch; remove_reference's least squares is
// fixed-size for up to 3 channels).
#pragma once

#include <cstddef>
#include <vector>

#include "rppg/spectrum.hpp"

namespace rppg {

/// A frame-to-frame change of the log colour this many robust standard deviations from the
/// typical one is a step (exposure, white balance, a re-aligned face box), not pulse.
constexpr double kStepThresholdSigma = 6.0;

struct IlluminationWorkspace {
  std::vector<double> a, b, c, d, e, freqs, power;
};

/// Sudden steps taken out of positive traces (n x channels, n >= 3): log-domain changes more than
/// kStepThresholdSigma robust SDs from the median change in any channel, or at a `known_steps`
/// sample (nullable, n flags), are replaced by the median change; same means. Returns the number
/// of steps removed. `out` may alias `traces`.
std::size_t remove_steps(const double* traces, std::size_t n, std::size_t channels,
                         const unsigned char* known_steps, double* out,
                         IlluminationWorkspace& ws);

/// Skin traces with what a non-skin reference region explains removed: relative traces regressed
/// (least squares, minimum norm) on the reference's, both band-passed to [f_lo, f_hi], and the fit
/// subtracted at every frequency. `skin`, `reference`: n x channels; `out` n x channels.
void remove_reference(const double* skin, const double* reference, std::size_t n,
                      std::size_t channels, double fs_hz, double f_lo_hz, double f_hi_hz,
                      double* out, IlluminationWorkspace& ws);

/// Share (0..1) of a signal's in-band power within the SNR half-width of `bpm` and of twice it,
/// the strongest of its channels counting; 0 for flat signals. `relative`: divide each channel by
/// its mean (at least 2) first, as for the light of a reference region.
double power_share_at(const double* traces, std::size_t n, std::size_t channels, double bpm,
                      const SpectralConfig& spectral, bool relative, IlluminationWorkspace& ws);

}  // namespace rppg
