// Fuzz target over the core's public C++ API, with libFuzzer's entry point.
//
// The first byte picks a part: the spectral estimator (estimate_heart_rate, power_spectrum,
// signal_quality, detrend, bandpass), the resampler, or the two buffers driven by an operation
// sequence and checked against a simple model. The contract checked: bad input throws
// std::invalid_argument (anything else escaping is a crash); accepted input of finite numbers
// gives finite output; the buffers hold exactly what the model holds.
//
// Built with clang it links libFuzzer (-fsanitize=fuzzer); built with gcc, driver.cpp runs it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <vector>

#include "rppg/rppg.hpp"
#include "rppg/breathing.hpp"  // issue 12 (with rppg/variability.hpp)

namespace {

// Reads fuzzer bytes as typed values; past the end every read gives zeros, so any input is a
// complete program.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
    return v;
  }
  bool empty() const { return pos_ >= size_; }

  // A double that is usually ordinary, sometimes special (NaN, inf, 0, denormal, huge) and
  // sometimes any bit pattern at all.
  double number(double typical_scale) {
    const std::uint8_t mode = u8();
    switch (mode % 8) {
      case 0: {
        const std::uint64_t bits = u64();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
      }
      case 1: {
        static constexpr std::array<double, 12> special = {
            0.0, -0.0, std::numeric_limits<double>::quiet_NaN(),
            std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
            std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
            std::numeric_limits<double>::lowest(), 1e150, -1e150, 1e-300, 1.0};
        return special[u8() % special.size()];
      }
      default: {
        // Signed, spread over several decades around the typical scale.
        const double unit = static_cast<double>(u16()) / 65535.0;
        const double decades = static_cast<double>(static_cast<int>(mode % 5) - 2);
        return (mode & 0x80 ? -1.0 : 1.0) * unit * typical_scale * std::pow(10.0, decades);
      }
    }
  }

  // An ordinary number in [-scale, scale].
  double ordinary(double scale) { return scale * (static_cast<double>(u16()) / 32767.5 - 1.0); }

  // Usually ordinary, one time in `odds` anything number() gives. Zero bytes (as past the end
  // of the input) pick the ordinary value, so a short input still reaches the computation.
  double mostly(double scale, int odds) {
    return u8() % odds == odds - 1 ? number(scale) : ordinary(scale);
  }

  // An ordinary positive number near `scale` (a rate, a band edge).
  double positive(double scale) { return scale * (0.01 + static_cast<double>(u16()) / 4096.0); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_core: contract broken: %s\n", what);
  std::abort();
}

bool all_finite(const double* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
  }
  return true;
}

// --------------------------------------------------------------------- spectral estimator

std::vector<double> fuzz_signal(Bytes& in, std::size_t n, bool& finite) {
  std::vector<double> x(n);
  if (in.u8() % 2 == 0) {
    for (double& v : x) v = in.mostly(1.0, 64);
  } else {  // a tone with a few fuzzed samples: long signals from a short input
    const double f = in.positive(0.05), amp = in.mostly(10.0, 8), offset = in.mostly(100.0, 8);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = offset + amp * std::sin(f * static_cast<double>(i));
    }
    for (int k = in.u8() % 4; k > 0 && n > 0; --k) x[in.u16() % n] = in.number(1.0);
  }
  finite = all_finite(x.data(), n);
  return x;
}

rppg::SpectralConfig fuzz_config(Bytes& in) {
  rppg::SpectralConfig c;
  // Each field is any number one time in eight, an ordinary value otherwise (so that most
  // programs get past validation and into the estimator; zero bytes pick the ordinary one).
  c.fs_hz = in.u8() % 8 == 7 ? in.number(30.0) : in.positive(30.0);
  c.f_lo_hz = in.u8() % 8 == 7 ? in.number(1.0) : in.positive(0.7);
  c.f_hi_hz = in.u8() % 8 == 7 ? in.number(4.0) : c.f_lo_hz + in.positive(3.0);
  switch (in.u8() % 4) {
    case 0: c.nfft = 0; break;
    case 1: c.nfft = in.u16() % 4096; break;
    case 2: c.nfft = in.u16() * std::size_t{4}; break;
    default: c.nfft = static_cast<std::size_t>(in.u64()); break;  // absurd: must be rejected
  }
  c.hann = in.u8() & 1;
  c.welch_segment = in.u8() % 3 == 0 ? in.u16() % 1024 : 0;
  if (in.u8() % 4 == 3) c.detrend_lambda = in.number(100.0);
  if (in.u8() % 4 == 3) c.half_harmonic_ratio = in.number(0.5);
  if (in.u8() % 4 == 3) c.missed_fundamental_ratio = in.number(0.9);
  if (in.u8() % 4 == 3) c.snr_halfwidth_hz = in.number(0.1);
  return c;
}

bool config_is_finite(const rppg::SpectralConfig& c) {
  return std::isfinite(c.fs_hz) && std::isfinite(c.f_lo_hz) && std::isfinite(c.f_hi_hz) &&
         std::isfinite(c.detrend_lambda) && std::isfinite(c.half_harmonic_ratio) &&
         std::isfinite(c.missed_fundamental_ratio) && std::isfinite(c.snr_halfwidth_hz);
}

void fuzz_spectral(Bytes& in) {
  const std::uint8_t op = in.u8();
  const std::size_t n = in.u16() % 1500;
  bool finite = false;
  const std::vector<double> x = fuzz_signal(in, n, finite);
  switch (op % 5) {
    case 0: {
      const rppg::SpectralConfig c = fuzz_config(in);
      const rppg::HeartRateResult r = rppg::estimate_heart_rate(x.data(), n, c);
      if (finite && !(std::isfinite(r.frequency_hz) && std::isfinite(r.snr_db) &&
                      std::isfinite(r.irrelevant_power_ratio))) {
        broken("estimate_heart_rate: finite input, non-finite result");
      }
      if (!(r.frequency_hz >= c.f_lo_hz && r.frequency_hz <= c.f_hi_hz)) {
        broken("estimate_heart_rate: heart rate outside the band");
      }
      break;
    }
    case 1: {
      const rppg::SpectralConfig c = fuzz_config(in);
      rppg::validate(c, n);
      const std::size_t bins = rppg::effective_nfft(c, n) / 2 + 1;
      std::vector<double> freqs(bins), power(bins);
      rppg::power_spectrum(x.data(), n, c, freqs.data(), power.data());
      if (finite && !all_finite(power.data(), bins)) {
        broken("power_spectrum: finite input, non-finite power");
      }
      break;
    }
    case 2: {
      const rppg::SpectralConfig c = fuzz_config(in);
      const double f0 = in.u8() % 8 == 7 ? in.number(1.0) : in.positive(1.0);
      const rppg::SignalQuality q = rppg::signal_quality(x.data(), n, f0, c);
      if (finite && !(std::isfinite(q.snr_db) && std::isfinite(q.irrelevant_power_ratio))) {
        broken("signal_quality: finite input, non-finite quality");
      }
      break;
    }
    case 3: {
      const double lambda = in.u8() % 8 == 7 ? in.number(100.0) : in.positive(100.0);
      std::vector<double> out(n);
      rppg::detrend(x.data(), n, lambda, out.data());
      if (finite && !all_finite(out.data(), n)) broken("detrend: finite input, non-finite output");
      break;
    }
    default: {
      const bool odd = in.u8() % 8 == 7;
      const double fs = odd ? in.number(30.0) : in.positive(30.0);
      const double lo = odd ? in.number(1.0) : in.positive(0.7);
      const double hi = odd ? in.number(4.0) : lo + in.positive(3.0);
      const double taper = in.u8() % 8 == 7 ? in.number(0.1) : in.positive(0.1);
      std::vector<double> out(n);
      rppg::bandpass(x.data(), n, fs, lo, hi, taper, out.data());
      if (finite && !all_finite(out.data(), n)) broken("bandpass: finite input, non-finite output");
      break;
    }
  }
}

// --------------------------------------------------------------------- resampler

void fuzz_resample(Bytes& in) {
  const std::size_t n = in.u8() % 64;
  const std::size_t channels = 1 + in.u8() % 4;
  std::vector<double> t(n), v(n * channels);
  double now = in.mostly(1000.0, 8);
  for (std::size_t i = 0; i < n; ++i) {
    switch (in.u8() % 32) {
      case 0: break;                                     // repeated timestamp
      case 1: now -= in.positive(0.01); break;           // earlier
      case 2: now = in.number(1e6); break;               // anything (NaN, inf, a jump)
      case 3: now += in.positive(1.0) * 1e6; break;      // a huge gap
      default: now += in.positive(0.03); break;          // a frame interval
    }
    t[i] = now;
  }
  for (double& x : v) x = in.mostly(100.0, 64);
  const double fs = in.u8() % 4 == 0 ? in.number(30.0) : in.positive(30.0);
  const std::size_t m = rppg::resampled_length(t.data(), n, fs);
  if (m == 0) broken("resampled_length: 0 samples accepted");
  if (m > (std::size_t{1} << 20) / channels) return;  // valid, but more memory than we spend here
  std::vector<double> grid(m), out(m * channels);
  rppg::resample_uniform(t.data(), v.data(), n, channels, fs, grid.data(), out.data());
  if (!all_finite(grid.data(), m)) broken("resample_uniform: non-finite grid");
  for (std::size_t k = 1; k < m; ++k) {
    if (!(grid[k] >= grid[k - 1])) broken("resample_uniform: grid not increasing");
  }
  if (all_finite(v.data(), v.size()) && !all_finite(out.data(), out.size())) {
    // Finite samples interpolate to finite values unless their differences overflow.
    bool overflow = false;
    for (std::size_t i = 0; i + 1 < n && !overflow; ++i) {
      for (std::size_t c = 0; c < channels; ++c) {
        overflow |= !std::isfinite(v[(i + 1) * channels + c] - v[i * channels + c]);
      }
    }
    if (!overflow) broken("resample_uniform: finite input, non-finite output");
  }
}

// --------------------------------------------------------------------- buffers

// Timestamps for buffer pushes: mostly later than the last, sometimes equal, earlier or
// not finite.
double next_time(Bytes& in, double last) {
  switch (in.u8() % 8) {
    case 0: return last;
    case 1: return last - in.positive(0.01);
    case 2: return in.number(10.0);
    default: return last + in.positive(0.03);
  }
}

struct Sample {
  std::vector<double> values;
  double t;
};

void check_window(const std::deque<Sample>& model, std::size_t n, const std::vector<double>& v,
                  const std::vector<double>& t, std::size_t channels, const char* what) {
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& s = model[model.size() - n + i];
    if (t[i] != s.t) broken(what);
    for (std::size_t c = 0; c < channels; ++c) {
      if (v[i * channels + c] != s.values[c]) broken(what);
    }
  }
}

void fuzz_time_series(Bytes& in) {
  const std::size_t capacity = in.u8() % 9, channels = in.u8() % 5;
  if (capacity == 0 || channels == 0) {
    try {
      rppg::TimeSeriesBuffer bad(capacity, channels);
    } catch (const std::invalid_argument&) {
      return;
    }
    broken("TimeSeriesBuffer: zero capacity or channels accepted");
  }
  rppg::TimeSeriesBuffer buf(capacity, channels);
  std::deque<Sample> model;
  double last = 0.0;
  std::vector<double> v, t;
  while (!in.empty()) {
    const std::uint8_t op = in.u8();
    try {
      switch (op % 6) {
        case 0:
        case 1: {  // push
          std::vector<double> s(channels);
          for (double& x : s) x = in.u8() % 16 == 0 ? in.number(1.0) : in.u16();
          const double ts = next_time(in, last);
          const bool ok = all_finite(s.data(), channels) && std::isfinite(ts) &&
                          (model.empty() || ts > model.back().t);
          try {
            buf.push(s.data(), ts);
          } catch (const std::invalid_argument&) {
            if (ok) broken("TimeSeriesBuffer::push rejected a valid sample");
            break;
          }
          if (!ok) broken("TimeSeriesBuffer::push accepted an invalid sample");
          model.push_back({s, ts});
          if (model.size() > capacity) model.pop_front();
          last = ts;
          break;
        }
        case 2: {  // push_many
          const std::size_t k = in.u8() % 20;
          std::vector<double> vals(k * channels), times(k);
          double prev = last;
          bool ok = true;
          for (std::size_t i = 0; i < k; ++i) {
            times[i] = next_time(in, prev);
            ok &= std::isfinite(times[i]) && (i == 0 ? model.empty() || times[i] > prev
                                                     : times[i] > prev);
            prev = times[i];
            for (std::size_t c = 0; c < channels; ++c) {
              vals[i * channels + c] = in.u8() % 16 == 0 ? in.number(1.0) : in.u16();
            }
          }
          ok &= all_finite(vals.data(), vals.size());
          try {
            buf.push_many(vals.data(), times.data(), k);
          } catch (const std::invalid_argument&) {
            if (ok) broken("TimeSeriesBuffer::push_many rejected valid samples");
            break;
          }
          if (!ok) broken("TimeSeriesBuffer::push_many accepted invalid samples");
          for (std::size_t i = 0; i < k; ++i) {
            model.push_back({std::vector<double>(vals.begin() + static_cast<std::ptrdiff_t>(i * channels),
                                                 vals.begin() + static_cast<std::ptrdiff_t>((i + 1) * channels)),
                             times[i]});
            if (model.size() > capacity) model.pop_front();
          }
          if (k > 0) last = times[k - 1];
          break;
        }
        case 3: {  // window
          const std::size_t n = in.u8() % (capacity + 2);
          v.assign(n * channels, 0.0);
          t.assign(n, 0.0);
          try {
            buf.window(n, v.data(), t.data());
          } catch (const std::invalid_argument&) {
            if (n >= 1 && n <= model.size()) broken("TimeSeriesBuffer::window rejected valid n");
            break;
          }
          if (n == 0 || n > model.size()) broken("TimeSeriesBuffer::window accepted a bad n");
          check_window(model, n, v, t, channels, "TimeSeriesBuffer::window differs from model");
          break;
        }
        case 4: {  // since
          const double start = in.u8() % 2 ? in.number(10.0) : last - in.positive(0.05);
          std::size_t want = 0;
          for (const Sample& s : model) want += s.t >= start;
          const std::size_t room = in.u8() % 2 ? want : in.u8() % (capacity + 1);
          v.assign(room * channels + 1, 0.0);
          t.assign(room + 1, 0.0);
          std::size_t got;
          try {
            got = buf.since(start, room, v.data(), t.data());
          } catch (const std::invalid_argument&) {
            if (!std::isnan(start)) broken("TimeSeriesBuffer::since rejected a start");
            break;
          }
          if (std::isnan(start)) broken("TimeSeriesBuffer::since accepted NaN");
          if (got != want) broken("TimeSeriesBuffer::since counted wrong");
          if (got <= room) {
            check_window(model, got, v, t, channels, "TimeSeriesBuffer::since differs from model");
          }
          break;
        }
        default:
          buf.clear();
          model.clear();
          break;
      }
    } catch (const std::invalid_argument&) {
      broken("TimeSeriesBuffer: unexpected std::invalid_argument");
    }
    if (buf.size() != model.size()) broken("TimeSeriesBuffer::size differs from model");
    const double lt = buf.last_timestamp_s();
    if (model.empty() ? !std::isnan(lt) : lt != model.back().t) {
      broken("TimeSeriesBuffer::last_timestamp_s differs from model");
    }
  }
}

void fuzz_frame_ring(Bytes& in) {
  if (in.u8() % 16 == 0) {  // sizes that overflow size_t must be refused, not allocated
    const std::size_t big = (std::size_t{1} << 32) + in.u16();
    try {
      rppg::FrameRingBuffer bad(1 + in.u8(), big, big, 1 + in.u8() % 4, rppg::PixelType::UInt8);
    } catch (const std::invalid_argument&) {
      return;
    }
    broken("FrameRingBuffer: overflowing size accepted");
  }
  const std::size_t capacity = 1 + in.u8() % 6, h = 1 + in.u8() % 4, w = 1 + in.u8() % 4,
                    c = 1 + in.u8() % 3;
  const auto type = in.u8() % 2 ? rppg::PixelType::UInt8 : rppg::PixelType::Float32;
  rppg::FrameRingBuffer rb(capacity, h, w, c, type);
  const std::size_t fb = rb.frame_bytes(), elem = rppg::pixel_size(type);
  struct Frame {
    std::vector<std::uint8_t> bytes;
    double t;
  };
  std::deque<Frame> model;
  double last = 0.0;
  while (!in.empty()) {
    const std::uint8_t op = in.u8();
    if (op % 4 <= 1) {
      // A frame in a source laid out along a fuzzed axis order, with padding, maybe reversed.
      std::vector<std::uint8_t> want(fb);
      for (std::uint8_t& b : want) b = in.u8();
      const std::size_t pad = in.u8() % 3;
      const std::array<std::size_t, 3> dims = {h, w, c};
      std::array<std::size_t, 3> order = {0, 1, 2};
      for (int k = in.u8() % 6; k > 0; --k) std::next_permutation(order.begin(), order.end());
      std::array<std::ptrdiff_t, 3> strides{};
      std::ptrdiff_t step = static_cast<std::ptrdiff_t>(elem);
      for (int k = 2; k >= 0; --k) {
        strides[order[static_cast<std::size_t>(k)]] = step;
        step *= static_cast<std::ptrdiff_t>(dims[order[static_cast<std::size_t>(k)]] + pad);
      }
      std::vector<std::uint8_t> src(static_cast<std::size_t>(step), 0xAB);
      std::uint8_t* origin = src.data();
      const bool flip = in.u8() % 2;
      if (flip) {  // rows reversed: a negative row stride from the last row
        origin += strides[0] * static_cast<std::ptrdiff_t>(h - 1);
        strides[0] = -strides[0];
      }
      for (std::size_t y = 0; y < h; ++y) {
        for (std::size_t x = 0; x < w; ++x) {
          for (std::size_t ch = 0; ch < c; ++ch) {
            std::memcpy(origin + static_cast<std::ptrdiff_t>(y) * strides[0] +
                            static_cast<std::ptrdiff_t>(x) * strides[1] +
                            static_cast<std::ptrdiff_t>(ch) * strides[2],
                        want.data() + ((y * w + x) * c + ch) * elem, elem);
          }
        }
      }
      const double ts = next_time(in, last);
      const bool ok = std::isfinite(ts) && (model.empty() || ts > model.back().t);
      try {
        rb.push(origin, strides, ts);
      } catch (const std::invalid_argument&) {
        if (ok) broken("FrameRingBuffer::push rejected a valid frame");
        continue;
      }
      if (!ok) broken("FrameRingBuffer::push accepted a bad timestamp");
      model.push_back({want, ts});
      if (model.size() > capacity) model.pop_front();
      last = ts;
    } else if (op % 4 == 2) {
      const std::size_t n = in.u8() % (capacity + 2);
      std::vector<std::uint8_t> frames(n * fb + 1);
      std::vector<double> ts(n + 1);
      try {
        rb.window(n, frames.data(), ts.data());
      } catch (const std::invalid_argument&) {
        if (n >= 1 && n <= model.size()) broken("FrameRingBuffer::window rejected valid n");
        continue;
      }
      if (n == 0 || n > model.size()) broken("FrameRingBuffer::window accepted a bad n");
      for (std::size_t i = 0; i < n; ++i) {
        const Frame& f = model[model.size() - n + i];
        if (ts[i] != f.t || std::memcmp(frames.data() + i * fb, f.bytes.data(), fb) != 0) {
          broken("FrameRingBuffer::window differs from model");
        }
      }
    } else {
      rb.clear();
      model.clear();
    }
    if (rb.size() != model.size()) broken("FrameRingBuffer::size differs from model");
  }
}

// RPPG_FUZZ_PART=spectral|resample|buffers keeps a run on one part (a fixed time for each) and
// the whole input is that part's program (csrc/fuzz/corpus/<part>/ holds such inputs);
// unset, the first input byte chooses the part.
// --------------------------------------------------------------------- PRV and breathing
// (issue 12) Beats, interval cleaning, PRV and breathing on fuzzed pulses and beat times:
// finite input that is accepted gives finite statistics and confidences in [0, 1].

void fuzz_vitals(Bytes& in) {
  const std::uint8_t op = in.u8();
  const std::size_t n = in.u16() % 4000;
  bool finite = false;
  const std::vector<double> x = fuzz_signal(in, n, finite);
  rppg::BeatConfig bc;
  bc.fs_hz = in.u8() % 8 == 7 ? in.number(30.0) : 10.0 + in.positive(30.0);
  if (in.u8() % 4 == 3) bc.f_lo_hz = in.number(0.7);
  if (in.u8() % 4 == 3) bc.f_hi_hz = in.number(3.5);
  if (in.u8() % 4 == 3) bc.timing_f_hi_hz = in.number(5.0);
  rppg::IntervalConfig ic;
  if (in.u8() % 4 == 3) ic.max_deviation = in.number(0.2);
  if (in.u8() % 8 == 7) ic.half_window = in.u16();
  auto unit = [](double v) { return std::isfinite(v) && v >= 0.0 && v <= 1.0; };
  switch (op % 4) {
    case 0: {
      const rppg::Beats b = rppg::detect_beats(x.data(), n, bc);
      if (!finite) broken("detect_beats accepted a non-finite pulse");
      if (!all_finite(b.times_s.data(), b.times_s.size()) ||
          b.upstroke_times_s.size() != b.times_s.size() ||
          b.amplitudes.size() != b.times_s.size() || b.baselines.size() != b.times_s.size()) {
        broken("detect_beats: non-finite or mismatched beats");
      }
      break;
    }
    case 1: {
      const rppg::VariabilityResult r = rppg::pulse_rate_variability(x.data(), n, bc, ic);
      if (!finite) broken("pulse_rate_variability accepted a non-finite pulse");
      if (!std::isfinite(r.rmssd_ms) || !std::isfinite(r.sdnn_ms) ||
          !std::isfinite(r.timing_noise_ms) || !unit(r.confidence) || !unit(r.rejected_share)) {
        broken("pulse_rate_variability: non-finite statistics or confidence out of [0, 1]");
      }
      break;
    }
    case 2: {
      rppg::BreathingConfig c;
      c.beats = bc;
      if (in.u8() % 4 == 3) c.f_lo_hz = in.number(0.08);
      if (in.u8() % 4 == 3) c.f_hi_hz = in.number(0.5);
      if (in.u8() % 8 == 7) c.series_fs_hz = in.number(4.0);
      const rppg::BreathingResult r = rppg::estimate_breathing(x.data(), n, c);
      if (!finite) broken("estimate_breathing accepted a non-finite pulse");
      if (!std::isfinite(r.rate_hz) || !unit(r.confidence)) {
        broken("estimate_breathing: non-finite rate or confidence out of [0, 1]");
      }
      break;
    }
    default: {  // beat times: increasing by fuzzed steps, sometimes anything
      std::vector<double> t(n % 600);
      double now = in.ordinary(10.0);
      for (double& v : t) {
        now += in.u8() % 32 == 31 ? in.number(1.0) : in.positive(0.8);
        v = now;
      }
      const bool ok = all_finite(t.data(), t.size());
      const rppg::VariabilityResult r = rppg::variability_from_beats(t.data(), t.size(), ic);
      if (!ok) broken("variability_from_beats accepted non-finite times");
      if (!std::isfinite(r.rmssd_ms) || !std::isfinite(r.sdnn_ms) || !unit(r.confidence)) {
        broken("variability_from_beats: non-finite statistics or confidence out of [0, 1]");
      }
      break;
    }
  }
}

int fixed_part() {
  const char* part = std::getenv("RPPG_FUZZ_PART");
  if (part == nullptr || *part == '\0') return -1;
  if (std::strcmp(part, "spectral") == 0) return 0;
  if (std::strcmp(part, "resample") == 0) return 2;
  if (std::strcmp(part, "buffers") == 0) return 3;
  if (std::strcmp(part, "vitals") == 0) return 5;  // issue 12
  std::fprintf(stderr, "fuzz_core: RPPG_FUZZ_PART: expected spectral, resample, buffers or vitals, got %s\n",
               part);
  std::exit(2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int part = fixed_part();
  Bytes in(data, size);
  int which = part;
  if (part < 0) {
    which = in.u8() % 6;
  } else if (part == 3) {
    which = 3 + in.u8() % 2;  // either buffer
  }
  try {
    switch (which) {
      case 0:
      case 1: fuzz_spectral(in); break;
      case 2: fuzz_resample(in); break;
      case 3: fuzz_time_series(in); break;
      case 5: fuzz_vitals(in); break;  // issue 12
      default: fuzz_frame_ring(in); break;
    }
  } catch (const std::invalid_argument&) {
    // The documented answer to bad input. Anything else thrown escapes and aborts.
  }
  return 0;
}
