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

/// MONO, one-channel cameras (940 nm near-infrared): the channel's relative change
/// 1 - g / mean(g) read from the G column of `rgb` (a one-channel trace stored three times, as
/// pulse_green reads it), band-passed to [f_lo, f_hi], with motion transients taken out. With
/// no colour there is no projection that cancels motion, and a head turn or a hand changes the
/// skin's level by 5-30 % where a 940 nm pulse is 0.1 %: samples whose band-passed value
/// exceeds kMonoArtefactSigmas robust standard deviations (1.4826 x the median absolute
/// deviation of the samples not yet masked), widened by kMonoArtefactPadS on each side, are
/// bridged by straight lines in the relative change and the band-pass is redone; up to
/// kMonoArtefactPasses passes (a pass that masks nothing new, or would mask more than
/// kMonoArtefactMaxShare of the window, ends it). Masked samples are 0 in `out`. The
/// band-pass pads both ends by reflection (two periods of f_lo) so the window's newest
/// samples are not bent by the FFT's wrap-around. Allocates its temporaries (O(n)).
void pulse_mono(const double* rgb, std::size_t n, double fs_hz, double f_lo_hz, double f_hi_hz,
                double* out);

inline constexpr double kMonoArtefactSigmas = 3.0;
inline constexpr double kMonoArtefactPadS = 0.5;
inline constexpr int kMonoArtefactPasses = 5;
inline constexpr double kMonoArtefactMaxShare = 0.6;

}  // namespace rppg
