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

/// MONO, one-channel cameras (940 nm near-infrared): the channel's relative change (minus the
/// log level), band-passed to [f_lo, f_hi], with motion transients left out as gaps. The
/// channel is the G column of `rgb` (a one-channel trace stored three times, as pulse_green
/// reads it). With no colour there is no projection that cancels motion, and a head turn or a
/// hand moves the skin's level by 5-30 % within a fraction of a second, where a 940 nm pulse is
/// 0.1 %: a frame-to-frame change of the log level more than kMonoTransientSigmas robust
/// standard deviations (1.4826 x the median absolute deviation of all changes) from the median
/// change starts a transient, which spans its neighbouring changes beyond
/// kMonoTransientLowSigmas and kMonoTransientPadS on each side; `known_steps` (nullable, n
/// flags: a step into sample i, e.g. a re-aligned face box) adds transients. The samples
/// between transients are clean segments; each is taken relative to its own level (a turned
/// face or a hand lies at another level but carries the same heart rate) and band-passed on its
/// own (odd reflection at its ends, like the window's), and its ends that meet a gap taper to 0
/// over kMonoTaperS. Transient samples and clean segments shorter than kMonoMinSegmentS are 0
/// in `out` (a gap, not an interpolation that would leave a step for the band-pass to ring on).
/// What the change test misses (a dip of a frame or two that noise or a codec spreads over
/// several changes) shows in the filtered pulse: samples beyond kMonoResidualSigmas robust
/// standard deviations of the pulse's clean samples, widened by kMonoResidualPadS, become gaps
/// too and the segments are filtered again, up to kMonoResidualPasses times while the gaps stay
/// under kMonoMaxGapShare of the window. A window without any clean segment is taken whole.
/// Temporaries are per-thread scratch, and every segment is filtered at the window's padded
/// length, so repeated windows of one length allocate nothing.
void pulse_mono(const double* rgb, std::size_t n, double fs_hz, double f_lo_hz, double f_hi_hz,
                double* out, const unsigned char* known_steps = nullptr);

inline constexpr double kMonoTransientSigmas = 4.0;
inline constexpr double kMonoTransientLowSigmas = 2.0;
inline constexpr double kMonoTransientPadS = 0.2;
inline constexpr double kMonoMinSegmentS = 1.5;
inline constexpr double kMonoTaperS = 0.25;
inline constexpr double kMonoResidualSigmas = 4.0;
inline constexpr double kMonoResidualPadS = 0.25;
inline constexpr int kMonoResidualPasses = 5;
inline constexpr double kMonoMaxGapShare = 0.6;

}  // namespace rppg
