#include "rppg/pulse_analyzer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "chain_detail.hpp"
#include "check.hpp"
#include "rppg/signal.hpp"

namespace rppg {

namespace {
constexpr double kTaperHz = 0.1;  // rppg_sdk.dsp.bandpass's default

SpectralConfig spectral_for(const PulseAnalyzerConfig& c, double fs_hz, double detrend_lambda) {
  SpectralConfig s;
  s.fs_hz = fs_hz;
  s.f_lo_hz = c.f_lo_hz;
  s.f_hi_hz = c.f_hi_hz;
  s.detrend_lambda = detrend_lambda;
  s.snr_halfwidth_hz = c.snr_halfwidth_bpm / 60.0;
  return s;
}
}  // namespace

const char* status_name(ReadingStatus s) noexcept {
  switch (s) {
    case ReadingStatus::WarmingUp: return "warming_up";
    case ReadingStatus::Ok: return "ok";
    case ReadingStatus::LowQuality: return "low_quality";
    case ReadingStatus::NoFace: return "no_face";
  }
  return "?";
}

void validate(const PulseAnalyzerConfig& c) {
  using detail::num;
  if (!(c.f_lo_hz > 0 && c.f_lo_hz < c.f_hi_hz && std::isfinite(c.f_hi_hz))) {
    throw std::invalid_argument("band: expected 0 < f_lo_hz < f_hi_hz, got (" + num(c.f_lo_hz) +
                                ", " + num(c.f_hi_hz) + ")");
  }
  if (!(c.window_s > 0 && std::isfinite(c.window_s))) {
    throw std::invalid_argument("window_s: expected > 0, got " + num(c.window_s));
  }
  if (!(c.waveform_s > 0 && std::isfinite(c.waveform_s))) {
    throw std::invalid_argument("waveform_s: expected > 0, got " + num(c.waveform_s));
  }
  if (!(c.snr_halfwidth_bpm > 0 && std::isfinite(c.snr_halfwidth_bpm))) {
    throw std::invalid_argument("snr_halfwidth_bpm: expected > 0, got " + num(c.snr_halfwidth_bpm));
  }
  if (!std::isfinite(c.low_quality_confidence)) {
    throw std::invalid_argument("low_quality_confidence: expected a finite number");
  }
  validate(c.tracker);
}

PulseAnalyzer::PulseAnalyzer(const PulseAnalyzerConfig& config, std::size_t max_samples)
    : config_((validate(config), config)), tracker_(config.tracker, max_samples) {
  if (max_samples > 0) {
    const std::size_t bins = detail::next_pow2(std::max<std::size_t>(2 * max_samples, 512)) / 2 + 1;
    wave_.reserve(max_samples);
    freqs_.reserve(bins);
    power_.reserve(bins);
    ws_.a.reserve(max_samples);
    ws_.freqs.reserve(bins);
    ws_.power.reserve(bins);
  }
}

double PulseAnalyzer::harmonic_ratio(const double* pulse, std::size_t n, double fs, double bpm) {
  const double f0 = bpm / 60.0;
  const double hw = config_.snr_halfwidth_bpm / 60.0;
  if (2.0 * f0 + hw >= fs / 2.0) return std::numeric_limits<double>::quiet_NaN();
  detail::spectrum_into(pulse, n, spectral_for(config_, fs, -1.0), freqs_, power_);
  double p1 = 0.0, p2 = 0.0;
  for (std::size_t k = 0; k < freqs_.size(); ++k) {
    if (std::abs(freqs_[k] - f0) <= hw) p1 += power_[k];
    if (std::abs(freqs_[k] - 2.0 * f0) <= hw) p2 += power_[k];
  }
  return p1 > 0 ? p2 / p1 : std::numeric_limits<double>::quiet_NaN();
}

bool PulseAnalyzer::relative_amplitudes(const double* x, std::size_t n, std::size_t channels,
                                        double fs, double bpm, double* out) {
  const double f0 = bpm / 60.0;
  const double hw = config_.snr_halfwidth_bpm / 60.0;
  ws_.a.resize(n);
  for (std::size_t col = 0; col < channels; ++col) {
    double mean = 0.0;
    for (std::size_t i = 0; i < n; ++i) mean += x[channels * i + col];
    mean /= static_cast<double>(n);
    if (!(mean > 0.0)) return false;
    // Relative change: a channel's pulse (or a lamp's flicker) is a fraction of its own level.
    for (std::size_t i = 0; i < n; ++i) ws_.a[i] = x[channels * i + col] / mean - 1.0;
    detail::spectrum_into(ws_.a.data(), n, spectral_for(config_, fs, -1.0), freqs_, power_);
    double p = 0.0;
    for (std::size_t k = 0; k < freqs_.size(); ++k) {
      if (std::abs(freqs_[k] - f0) <= hw) p += power_[k];
    }
    out[col] = std::sqrt(std::max(p, 0.0));
  }
  return true;
}

double PulseAnalyzer::signature_deg(const double* col, bool bgr) {
  // The PBV signature (normalised R, G, B amplitudes of a pulse under white light).
  constexpr double kPbv[3] = {0.33, 0.77, 0.53};
  const double norm = std::sqrt(kPbv[0] * kPbv[0] + kPbv[1] * kPbv[1] + kPbv[2] * kPbv[2]);
  const double amp[3] = {bgr ? col[2] : col[0], col[1], bgr ? col[0] : col[2]};
  const double len = std::sqrt(amp[0] * amp[0] + amp[1] * amp[1] + amp[2] * amp[2]);
  if (!(len > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  const double cosine = (amp[0] * kPbv[0] + amp[1] * kPbv[1] + amp[2] * kPbv[2]) / (len * norm);
  return std::acos(std::min(1.0, std::max(-1.0, cosine))) * 180.0 / 3.14159265358979323846;
}

double PulseAnalyzer::surround_light(const PulseWindowView& w, double bpm, double motion_share,
                                     const double* skin_amplitude,
                                     const SpectralConfig& spectral) {
  if (w.reference == nullptr) return 0.0;
  // How narrowly the surround changes at the rate: a lamp's flicker is one line, the edges of a
  // moving head and noise spread over the band.
  const double share =
      power_share_at(w.reference, w.n, w.reference_channels, bpm, spectral, true, ws_);
  // How strongly, against the skin: light changes both by about the same fraction; a pulse
  // changes the skin, and the surround only by what the head's beat-by-beat motion and the
  // camera carry into it. Without the skin's traces the strength is taken as the skin's.
  double strength = 1.0;
  if (skin_amplitude != nullptr && w.skin_channels == w.reference_channels) {
    double ref[3] = {0.0, 0.0, 0.0};
    if (relative_amplitudes(w.reference, w.n, w.reference_channels, w.fs_hz, bpm, ref)) {
      double r2 = 0.0, s2 = 0.0;
      for (std::size_t j = 0; j < w.skin_channels; ++j) {
        r2 += ref[j] * ref[j];
        s2 += skin_amplitude[j] * skin_amplitude[j];
      }
      strength = s2 > 0.0 ? std::min(1.0, std::sqrt(r2 / s2)) : 1.0;
    }
  }
  // A head moving at the rate moves the surround's edges: that is motion (motion_share says
  // so), not light.
  const double still = std::min(1.0, std::max(0.0, 1.0 - motion_share));
  return std::isfinite(share) ? share * strength * still : 0.0;
}

const Analysis& PulseAnalyzer::analyze(const PulseWindowView& w,
                                       const ConfidenceCoefficients& coefficients) {
  if (w.pulse == nullptr || w.n == 0) throw std::invalid_argument("pulse: expected samples");
  if (!(w.fs_hz > 0 && std::isfinite(w.fs_hz) && w.fs_hz <= 1e6)) {
    throw std::invalid_argument("fs_hz: expected 0 < fs_hz <= 1e6, got " + detail::num(w.fs_hz));
  }
  detail::check_signal("pulse", w.pulse, w.n);
  const PulseAnalyzerConfig& c = config_;
  const SpectralConfig spectral = spectral_for(c, w.fs_hz, -1.0);
  // The IPR looks at the pulse before any detrending: slow drift is what it should see.
  const SpectralConfig raw = spectral_for(c, w.fs_hz, 0.0);
  Analysis& r = result_;
  r.tracked = tracker_.update(w.pulse, w.n, spectral);
  const double bpm = r.tracked.bpm;
  Evidence& e = r.evidence;
  e = Evidence{};
  e.irrelevant_power_ratio =
      detail::checked_quality(w.pulse, w.n, bpm, raw).irrelevant_power_ratio;
  e.harmonic_ratio = harmonic_ratio(w.pulse, w.n, w.fs_hz, bpm);
  e.snr_db = r.tracked.snr_db;
  e.face_fraction = w.face_fraction;
  e.box_moves = w.box_moves;
  e.window_fraction = w.span_s / c.window_s;
  e.edge_distance_bpm = std::min(bpm - 60.0 * c.f_lo_hz, 60.0 * c.f_hi_hz - bpm);
  e.motion_share =
      w.motion == nullptr
          ? 0.0
          : power_share_at(w.motion, w.n, w.motion_channels, bpm, spectral, false, ws_);
  // The skin's relative change at the rate, per channel, once: the surround's light is weighed
  // against it, and on colour video it gives the pulse signature.
  double skin_amplitude[3] = {0.0, 0.0, 0.0};
  const bool have_skin =
      w.skin != nullptr && w.skin_channels >= 1 && w.skin_channels <= 3 &&
      relative_amplitudes(w.skin, w.n, w.skin_channels, w.fs_hz, bpm, skin_amplitude);
  e.reference_share =
      surround_light(w, bpm, e.motion_share, have_skin ? skin_amplitude : nullptr, spectral);
  e.classical_share =
      w.classical == nullptr
          ? std::numeric_limits<double>::quiet_NaN()
          : power_share_at(w.classical, w.n, 1, bpm, spectral, false, ws_);
  e.classical_harmonic_ratio = w.classical == nullptr
                                   ? std::numeric_limits<double>::quiet_NaN()
                                   : harmonic_ratio(w.classical, w.n, w.fs_hz, bpm);
  e.signature_deg = have_skin && w.skin_channels == 3
                        ? signature_deg(skin_amplitude, w.skin_bgr)
                        : std::numeric_limits<double>::quiet_NaN();
  r.confidence = confidence(e, coefficients);
  r.status = r.confidence >= c.low_quality_confidence ? ReadingStatus::Ok
                                                      : ReadingStatus::LowQuality;
  detail::require_min_samples(w.n, w.fs_hz, c.f_lo_hz, "signal");
  wave_.resize(w.n);
  bandpass(w.pulse, w.n, w.fs_hz, c.f_lo_hz, c.f_hi_hz, kTaperHz, wave_.data());
  // Python's round(): halves to even, as nearbyint in the default rounding mode.
  const double want = std::nearbyint(c.waveform_s * w.fs_hz);
  std::size_t keep = want <= 0 || want >= static_cast<double>(w.n)
                         ? w.n
                         : static_cast<std::size_t>(want);
  r.waveform = wave_.data() + (w.n - keep);
  r.waveform_size = keep;
  return r;
}

}  // namespace rppg
