// Classical rPPG: one pulse waveform from mean skin-colour traces.
//
// `rgb` is n rows of (R, G, B), row-major, uniformly sampled, all values > 0. Every method
// returns a waveform that rises with blood volume, like a contact PPG: skin reflects less
// light (green most) when it holds more blood, so the raw projections are negated where needed.
#pragma once

#include <cstddef>

namespace rppg {

/// 1 minus the green channel normalised by its mean (Verkruysse et al. 2008).
void pulse_green(const double* rgb, std::size_t n, double* out);

/// CHROM (de Haan & Jeanne 2013): channels normalised by their moving mean over `window`
/// samples; X = 3R - 2G, Y = 1.5R + G - 1.5B band-passed to [f_lo, f_hi]; per window (step
/// window / 2) S = Xf - (std Xf / std Yf) Yf, Hann-weighted and overlap-added.
void pulse_chrom(const double* rgb, std::size_t n, double fs_hz, double f_lo_hz, double f_hi_hz,
                 std::size_t window, double* out);

/// POS (Wang, den Brinker, Stuijk & de Haan 2017, Algorithm 1): for every window of `window`
/// samples (step 1), temporally normalised colours are projected onto the plane orthogonal to
/// skin, S1 = G - B and S2 = -2R + G + B; h = S1 + (std S1 / std S2) S2, mean-removed and
/// overlap-added; the result is negated (more blood lowers G - B).
void pulse_pos(const double* rgb, std::size_t n, std::size_t window, double* out);

}  // namespace rppg
