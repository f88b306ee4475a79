// The only file that knows about Python: converts numpy arrays to pointers and back.
//
// Inputs were validated by rppg_sdk.dsp before they arrive; what is checked here is what the
// hot path (FrameRingBuffer.push) cannot afford to check in Python. Outputs are allocated with
// the GIL held; the GIL is released only around pure C++ work. C++ std::invalid_argument becomes
// Python ValueError (pybind11's standard translation).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <algorithm>
#include <array>
#include <sstream>
#include <string>

#include "rppg/events.hpp"  // driver-monitoring events (rppg_sdk.events)
#include "rppg/rppg.hpp"
#include "rppg/pulse_monitor.hpp"  // the pulse chain (rppg_sdk.analysis, extractors)
#include <memory>
#include <optional>
#include "rppg/breathing.hpp"    // issue 12: pulse-rate variability and breathing
#include "rppg/variability.hpp"

namespace py = pybind11;

namespace {

using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
// Frames of either dtype, named in the stubs as numpy.typing does (py::array reads "ndarray",
// which strict mypy rejects without type arguments).
class AnyArray : public py::array {
 public:
  using py::array::array;
};
}  // namespace

namespace pybind11::detail {
template <>
struct handle_type_name<AnyArray> {
  static constexpr auto name = const_name("numpy.typing.NDArray[typing.Any]");
};
}  // namespace pybind11::detail

namespace {
// Typed tuples so that the generated stubs (`nox -s stubs`) name the arrays returned.
using FramesAndTimes = py::typing::Tuple<AnyArray, Doubles>;
using ValuesAndTimes = py::typing::Tuple<Doubles, Doubles>;

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

Doubles new_doubles(py::ssize_t n) { return Doubles(n); }

double seconds(const py::handle& obj) {
  // Any real number (float, int, numpy scalar) converts; anything else is named in the error.
  if (!py::isinstance<py::str>(obj) && !py::isinstance<py::bytes>(obj)) {
    const double v = PyFloat_AsDouble(obj.ptr());
    if (!(v == -1.0 && PyErr_Occurred())) return v;
    PyErr_Clear();
  }
  throw py::type_error("timestamp_s: expected a number of seconds, got " +
                       std::string(py::str(obj.get_type().attr("__name__"))));
}

void push_frame(rppg::FrameRingBuffer& rb, const py::handle& obj, const py::handle& ts) {
  const double timestamp_s = seconds(ts);
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error("frame: expected a numpy array, got " +
                         std::string(py::str(obj.get_type().attr("__name__"))));
  }
  const auto frame = py::reinterpret_borrow<py::array>(obj);
  const bool u8 = rb.pixel_type() == rppg::PixelType::UInt8;
  const bool dtype_ok = u8 ? frame.dtype().is(py::dtype::of<std::uint8_t>())
                           : frame.dtype().is(py::dtype::of<float>());
  if (!dtype_ok && !frame.dtype().equal(u8 ? py::dtype::of<std::uint8_t>() : py::dtype::of<float>())) {
    throw py::type_error(std::string("frame: expected dtype ") + (u8 ? "uint8" : "float32") +
                         ", got " + std::string(py::str(frame.dtype())));
  }
  const auto h = static_cast<py::ssize_t>(rb.height());
  const auto w = static_cast<py::ssize_t>(rb.width());
  const auto c = static_cast<py::ssize_t>(rb.channels());
  const bool shape_ok =
      (frame.ndim() == 3 && frame.shape(0) == h && frame.shape(1) == w && frame.shape(2) == c) ||
      (frame.ndim() == 2 && c == 1 && frame.shape(0) == h && frame.shape(1) == w);
  if (!shape_ok) {
    std::ostringstream m;
    m << "frame: expected shape (" << h << ", " << w << ", " << c << ")"
      << (c == 1 ? " or (" + std::to_string(h) + ", " + std::to_string(w) + ")" : "")
      << ", got " << shape_str(frame);
    throw py::value_error(m.str());
  }
  const std::array<std::ptrdiff_t, 3> strides = {frame.strides(0), frame.strides(1),
                                                 frame.ndim() == 3 ? frame.strides(2)
                                                                   : frame.itemsize()};
  const void* data = frame.data();
  if (rb.frame_bytes() >= (1u << 16)) {  // large frames: let other Python threads run meanwhile
    py::gil_scoped_release release;
    rb.push(data, strides, timestamp_s);
  } else {
    rb.push(data, strides, timestamp_s);
  }
}

FramesAndTimes window(const rppg::FrameRingBuffer& rb, py::ssize_t n) {
  const auto held = static_cast<py::ssize_t>(rb.size());
  if (n < 1 || n > held) {
    throw py::value_error("window: expected 1 <= n <= " + std::to_string(held) +
                          " (frames held), got " + std::to_string(n));
  }
  const std::vector<py::ssize_t> shape = {n, static_cast<py::ssize_t>(rb.height()),
                                          static_cast<py::ssize_t>(rb.width()),
                                          static_cast<py::ssize_t>(rb.channels())};
  py::array frames = rb.pixel_type() == rppg::PixelType::UInt8
                         ? py::array(py::dtype::of<std::uint8_t>(), shape)
                         : py::array(py::dtype::of<float>(), shape);
  Doubles ts(n);
  void* out = frames.mutable_data();
  double* tout = ts.mutable_data();
  {
    py::gil_scoped_release release;
    rb.window(static_cast<std::size_t>(n), out, tout);
  }
  return py::make_tuple(frames, ts);
}

// Copies worth releasing the GIL for: below this many bytes the release costs more than the copy.
constexpr std::size_t kReleaseBytes = 1u << 16;

void push_sample(rppg::TimeSeriesBuffer& tb, const Doubles& values, const py::handle& ts) {
  const double timestamp_s = seconds(ts);
  const auto c = static_cast<py::ssize_t>(tb.channels());
  if (values.ndim() != 1 || values.shape(0) != c) {
    throw py::value_error("values: expected shape (" + std::to_string(c) + ",), got " +
                          shape_str(values));
  }
  tb.push(values.data(), timestamp_s);  // one sample: not worth a GIL release
}

void push_samples(rppg::TimeSeriesBuffer& tb, const Doubles& values, const Doubles& ts) {
  const auto c = static_cast<py::ssize_t>(tb.channels());
  if (values.ndim() != 2 || values.shape(1) != c || ts.ndim() != 1 ||
      ts.shape(0) != values.shape(0)) {
    throw py::value_error("push_many: expected values (n, " + std::to_string(c) +
                          ") and timestamps_s (n,), got " + shape_str(values) + " and " +
                          shape_str(ts));
  }
  const auto n = static_cast<std::size_t>(ts.shape(0));
  const double *vp = values.data(), *tp = ts.data();
  if (n * tb.channels() * sizeof(double) >= kReleaseBytes) {
    py::gil_scoped_release release;
    tb.push_many(vp, tp, n);
  } else {
    tb.push_many(vp, tp, n);
  }
}

ValuesAndTimes series_window(const rppg::TimeSeriesBuffer& tb, py::ssize_t n) {
  const auto held = static_cast<py::ssize_t>(tb.size());
  if (n < 1 || n > held) {
    throw py::value_error("window: expected 1 <= n <= " + std::to_string(held) +
                          " (samples held), got " + std::to_string(n));
  }
  Doubles values({n, static_cast<py::ssize_t>(tb.channels())});
  Doubles ts(n);
  double *vp = values.mutable_data(), *tp = ts.mutable_data();
  if (static_cast<std::size_t>(n) * tb.channels() * sizeof(double) >= kReleaseBytes) {
    py::gil_scoped_release release;
    tb.window(static_cast<std::size_t>(n), vp, tp);
  } else {
    tb.window(static_cast<std::size_t>(n), vp, tp);
  }
  return py::make_tuple(values, ts);
}

ValuesAndTimes series_since(const rppg::TimeSeriesBuffer& tb, double start_s) {
  // Outputs are allocated before the copy (with the GIL); a writer may push in between, so the
  // copy reports the count it needed and we retry with that size (one retry per concurrent push).
  const auto c = static_cast<py::ssize_t>(tb.channels());
  std::size_t guess = tb.since(start_s, 0, nullptr, nullptr);
  for (;;) {
    const auto rows = static_cast<py::ssize_t>(guess);
    Doubles values({rows, c});
    Doubles ts(rows);
    double *vp = values.mutable_data(), *tp = ts.mutable_data();
    std::size_t got;
    if (guess * tb.channels() * sizeof(double) >= kReleaseBytes) {
      py::gil_scoped_release release;
      got = tb.since(start_s, guess, vp, tp);
    } else {
      got = tb.since(start_s, guess, vp, tp);
    }
    if (got == guess) return py::make_tuple(values, ts);
    if (got < guess) {  // samples dropped out meanwhile: keep the copied rows only
      const auto k = static_cast<py::ssize_t>(got);
      Doubles v2({k, c});
      Doubles t2(k);
      std::copy(vp, vp + k * c, v2.mutable_data());
      std::copy(tp, tp + k, t2.mutable_data());
      return py::make_tuple(v2, t2);
    }
    guess = got;
  }
}

// ---- the pulse chain (rppg::PulseMonitor, PulseWindowBuilder, PulseAnalyzer) ------------------
// rppg_sdk.extractors.classical and rppg_sdk.analysis wrap these. The objects hold per-stream
// state that Python may touch from two threads (the live worker and reset()), so the GIL stays
// held around every call: it serialises them (a reading's work is a few milliseconds a second).
py::array_t<double> chain_copy(const double* p, std::size_t rows, std::size_t cols) {
  py::array_t<double> out = cols == 0 ? py::array_t<double>(static_cast<py::ssize_t>(rows))
                                      : py::array_t<double>({static_cast<py::ssize_t>(rows),
                                                             static_cast<py::ssize_t>(cols)});
  std::copy(p, p + rows * std::max<std::size_t>(cols, 1), out.mutable_data());
  return out;
}

rppg::ClassicalMethod chain_method(const std::string& name) {
  if (name == "pos") return rppg::ClassicalMethod::Pos;
  if (name == "chrom") return rppg::ClassicalMethod::Chrom;
  if (name == "green") return rppg::ClassicalMethod::Green;
  if (name == "mono") return rppg::ClassicalMethod::Mono;
  throw std::invalid_argument("method: expected 'pos', 'chrom', 'green' or 'mono', got '" + name +
                              "'");
}

// A (rows, cols) C-contiguous float64 array's rows, checking its column count.
std::size_t chain_rows(const Doubles& a, std::size_t cols, const char* name) {
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(1)) != cols) {
    std::ostringstream m;
    m << name << ": expected shape (T, " << cols << "), got ndim " << a.ndim();
    throw std::invalid_argument(m.str());
  }
  return static_cast<std::size_t>(a.shape(0));
}

py::dict chain_analysis(const rppg::Analysis& a) {
  py::dict d;
  d["bpm"] = a.tracked.bpm;
  d["window_bpm"] = a.tracked.window_bpm;
  d["raw_bpm"] = a.tracked.raw_bpm;
  d["snr_db"] = a.tracked.snr_db;
  d["irrelevant_power_ratio"] = a.tracked.irrelevant_power_ratio;
  d["jumped"] = a.tracked.jumped;
  const rppg::Evidence& e = a.evidence;
  d["evidence"] = py::make_tuple(e.snr_db, e.irrelevant_power_ratio, e.face_fraction, e.box_moves,
                                 e.window_fraction, e.edge_distance_bpm, e.reference_share,
                                 e.harmonic_ratio, e.motion_share, e.classical_share,
                                 e.classical_harmonic_ratio, e.signature_deg);
  d["confidence"] = a.confidence;
  d["status"] = rppg::status_name(a.status);
  d["waveform"] = chain_copy(a.waveform, a.waveform_size, 0);
  return d;
}

// Binds `score(evidence, coefficients)` as `name(<evidence tuple>, coefficients)`: the tuple in
// the order of chain_analysis's "evidence".
template <typename Score>
void def_evidence_score(py::module_& m, const char* name, Score score) {
  m.def(
      name,
      [score](double snr_db, double ipr, double face_fraction, int box_moves,
              double window_fraction, double edge_distance_bpm, double reference_share,
              double harmonic_ratio, double motion_share, double classical_share,
              double classical_harmonic_ratio, double signature_deg,
              const rppg::ConfidenceCoefficients& c) {
        const rppg::Evidence e{snr_db,          ipr,            face_fraction,
                               box_moves,       window_fraction, edge_distance_bpm,
                               reference_share, harmonic_ratio,  motion_share,
                               classical_share, classical_harmonic_ratio, signature_deg};
        return score(e, c);
      },
      py::arg("snr_db"), py::arg("irrelevant_power_ratio"), py::arg("face_fraction"),
      py::arg("box_moves"), py::arg("window_fraction"), py::arg("edge_distance_bpm"),
      py::arg("reference_share"), py::arg("harmonic_ratio"), py::arg("motion_share"),
      py::arg("classical_share"), py::arg("classical_harmonic_ratio"), py::arg("signature_deg"),
      py::arg("coefficients"));
}

void bind_pulse_chain(py::module_& m) {
  py::class_<rppg::ConfidenceCoefficients>(m, "ConfidenceCoefficients")
      .def(py::init<>())
      .def_readwrite("intercept", &rppg::ConfidenceCoefficients::intercept)
      .def_readwrite("snr_coef", &rppg::ConfidenceCoefficients::snr_coef)
      .def_readwrite("ipr_coef", &rppg::ConfidenceCoefficients::ipr_coef)
      .def_readwrite("reference_coef", &rppg::ConfidenceCoefficients::reference_coef)
      .def_readwrite("move_coef", &rppg::ConfidenceCoefficients::move_coef)
      .def_readwrite("harmonic_coef", &rppg::ConfidenceCoefficients::harmonic_coef)
      .def_readwrite("motion_coef", &rppg::ConfidenceCoefficients::motion_coef)
      .def_readwrite("classical_coef", &rppg::ConfidenceCoefficients::classical_coef)
      .def_readwrite("classical_harmonic_coef",
                     &rppg::ConfidenceCoefficients::classical_harmonic_coef)
      .def_readwrite("signature_coef", &rppg::ConfidenceCoefficients::signature_coef)
      .def_readwrite("edge_margin_bpm", &rppg::ConfidenceCoefficients::edge_margin_bpm)
      .def_readwrite("ipr_knee", &rppg::ConfidenceCoefficients::ipr_knee)
      .def_readwrite("snr_floor_db", &rppg::ConfidenceCoefficients::snr_floor_db);

  py::class_<rppg::TrackerConfig>(m, "TrackerConfig")
      .def(py::init<>())
      .def_readwrite("search_halfwidth_bpm", &rppg::TrackerConfig::search_halfwidth_bpm)
      .def_readwrite("switch_margin_db", &rppg::TrackerConfig::switch_margin_db)
      .def_readwrite("switch_persistence", &rppg::TrackerConfig::switch_persistence)
      .def_readwrite("harmonic_tolerance", &rppg::TrackerConfig::harmonic_tolerance)
      .def_readwrite("lost_snr_db", &rppg::TrackerConfig::lost_snr_db)
      .def_readwrite("median_length", &rppg::TrackerConfig::median_length)
      .def_readwrite("outlier_bpm", &rppg::TrackerConfig::outlier_bpm)
      .def_readwrite("prior_center_bpm", &rppg::TrackerConfig::prior_center_bpm)
      .def_readwrite("prior_log_sd", &rppg::TrackerConfig::prior_log_sd)
      .def_readwrite("harmonic_weight", &rppg::TrackerConfig::harmonic_weight);

  // Confidence of an evidence tuple (the order of chain_analysis's "evidence").
  def_evidence_score(m, "pulse_confidence", &rppg::confidence);
  def_evidence_score(m, "pulse_confidence_logit", &rppg::confidence_logit);

  // rppg_sdk.illumination: (T, C) C-contiguous arrays, validated there.
  m.def(
      "remove_steps",
      [](const Doubles& traces, std::optional<py::array_t<bool, py::array::c_style |
                                                                   py::array::forcecast>> known) {
        if (traces.ndim() != 2) throw std::invalid_argument("traces: expected (T, C)");
        const auto n = static_cast<std::size_t>(traces.shape(0));
        const auto c = static_cast<std::size_t>(traces.shape(1));
        py::array_t<double> out({traces.shape(0), traces.shape(1)});
        std::vector<unsigned char> flags;
        if (known) {
          if (static_cast<std::size_t>(known->size()) != n) {
            throw std::invalid_argument("known_steps: expected " + std::to_string(n) + " flags");
          }
          flags.assign(known->data(), known->data() + n);
        }
        rppg::IlluminationWorkspace ws;
        const std::size_t steps = rppg::remove_steps(traces.data(), n, c,
                                                     known ? flags.data() : nullptr,
                                                     out.mutable_data(), ws);
        return py::make_tuple(out, steps);
      },
      py::arg("traces"), py::arg("known_steps"));
  m.def(
      "remove_reference",
      [](const Doubles& skin, const Doubles& reference, double fs_hz, double f_lo_hz,
         double f_hi_hz) {
        if (skin.ndim() != 2 || reference.ndim() != 2 || skin.shape(0) != reference.shape(0) ||
            skin.shape(1) != reference.shape(1)) {
          throw std::invalid_argument("skin, reference: expected two (T, C) arrays of one shape");
        }
        py::array_t<double> out({skin.shape(0), skin.shape(1)});
        rppg::IlluminationWorkspace ws;
        rppg::remove_reference(skin.data(), reference.data(),
                               static_cast<std::size_t>(skin.shape(0)),
                               static_cast<std::size_t>(skin.shape(1)), fs_hz, f_lo_hz, f_hi_hz,
                               out.mutable_data(), ws);
        return out;
      },
      py::arg("skin"), py::arg("reference"), py::arg("fs_hz"), py::arg("f_lo_hz"),
      py::arg("f_hi_hz"));
  m.def(
      "power_share_at",
      [](const Doubles& traces, double bpm, const rppg::SpectralConfig& spectral, bool relative) {
        if (traces.ndim() != 2) throw std::invalid_argument("traces: expected (T, C)");
        rppg::IlluminationWorkspace ws;
        return rppg::power_share_at(traces.data(), static_cast<std::size_t>(traces.shape(0)),
                                    static_cast<std::size_t>(traces.shape(1)), bpm, spectral,
                                    relative, ws);
      },
      py::arg("traces"), py::arg("bpm"), py::arg("spectral"), py::arg("relative"));

  py::class_<rppg::HeartRateTracker>(m, "HeartRateTracker")
      .def(py::init<const rppg::TrackerConfig&>(), py::arg("config"))
      .def(
          "update",
          [](rppg::HeartRateTracker& self, const Doubles& pulse,
             const rppg::SpectralConfig& spectral) {
            if (pulse.ndim() != 1) throw std::invalid_argument("pulse: expected a 1-D array");
            const rppg::TrackedEstimate e =
                self.update(pulse.data(), static_cast<std::size_t>(pulse.shape(0)), spectral);
            return py::make_tuple(e.bpm, e.window_bpm, e.raw_bpm, e.snr_db,
                                  e.irrelevant_power_ratio, e.jumped);
          },
          py::arg("pulse"), py::arg("spectral"))
      .def("reset", &rppg::HeartRateTracker::reset)
      .def_property_readonly("tracked_bpm", [](const rppg::HeartRateTracker& self) -> py::object {
        if (!self.has_tracked()) return py::none();
        return py::float_(self.tracked_bpm());
      });

  py::class_<rppg::PulseAnalyzer>(m, "PulseAnalyzer")
      .def(py::init([](double f_lo_hz, double f_hi_hz, double window_s,
                       const rppg::TrackerConfig& tracker, double low_quality_confidence,
                       double waveform_s) {
             rppg::PulseAnalyzerConfig c;
             c.f_lo_hz = f_lo_hz;
             c.f_hi_hz = f_hi_hz;
             c.window_s = window_s;
             c.tracker = tracker;
             c.low_quality_confidence = low_quality_confidence;
             c.waveform_s = waveform_s;
             return std::make_unique<rppg::PulseAnalyzer>(c);
           }),
           py::arg("f_lo_hz"), py::arg("f_hi_hz"), py::arg("window_s"), py::arg("tracker"),
           py::arg("low_quality_confidence"), py::arg("waveform_s"))
      .def(
          "analyze",
          [](rppg::PulseAnalyzer& self, const Doubles& pulse, double fs_hz, double span_s,
             int box_moves, std::optional<Doubles> reference, std::optional<Doubles> motion,
             const rppg::ConfidenceCoefficients& coefficients, double face_fraction,
             std::optional<Doubles> classical, std::optional<Doubles> skin, bool skin_bgr) {
            rppg::PulseWindowView v;
            if (pulse.ndim() != 1) throw std::invalid_argument("pulse: expected a 1-D array");
            if (!(face_fraction >= 0.0 && face_fraction <= 1.0)) {
              throw std::invalid_argument("face_fraction: expected a number in [0, 1]");
            }
            v.face_fraction = face_fraction;
            v.pulse = pulse.data();
            v.n = static_cast<std::size_t>(pulse.shape(0));
            v.fs_hz = fs_hz;
            v.span_s = span_s;
            v.box_moves = box_moves;
            if (reference) {
              v.reference_channels = reference->ndim() == 2
                                         ? static_cast<std::size_t>(reference->shape(1))
                                         : 0;
              if (chain_rows(*reference, v.reference_channels, "reference") != v.n) {
                throw std::invalid_argument("reference: expected one row per pulse sample");
              }
              v.reference = reference->data();
            }
            if (motion) {
              v.motion_channels =
                  motion->ndim() == 2 ? static_cast<std::size_t>(motion->shape(1)) : 0;
              if (chain_rows(*motion, v.motion_channels, "motion") != v.n) {
                throw std::invalid_argument("motion: expected one row per pulse sample");
              }
              v.motion = motion->data();
            }
            if (classical) {
              if (classical->ndim() != 1 || static_cast<std::size_t>(classical->shape(0)) != v.n) {
                throw std::invalid_argument("classical: expected one sample per pulse sample");
              }
              v.classical = classical->data();
            }
            if (skin) {
              if (skin->ndim() != 2 || (skin->shape(1) != 1 && skin->shape(1) != 3) ||
                  static_cast<std::size_t>(skin->shape(0)) != v.n) {
                throw std::invalid_argument(
                    "skin: expected (n, 1) or (n, 3) rows, one per pulse sample");
              }
              v.skin = skin->data();
              v.skin_channels = static_cast<std::size_t>(skin->shape(1));
              v.skin_bgr = skin_bgr;
            }
            return chain_analysis(self.analyze(v, coefficients));
          },
          py::arg("pulse"), py::arg("fs_hz"), py::arg("span_s"), py::arg("box_moves"),
          py::arg("reference"), py::arg("motion"), py::arg("coefficients"),
          py::arg("face_fraction") = 1.0, py::arg("classical") = py::none(),
          py::arg("skin") = py::none(), py::arg("skin_bgr") = false)
      .def("reset", &rppg::PulseAnalyzer::reset);

  py::class_<rppg::PulseWindowBuilder>(m, "PulseWindowBuilder")
      .def(py::init([](double f_lo_hz, double f_hi_hz, const std::string& method,
                       std::size_t channels, bool bgr, double max_window_s, double fps,
                       bool remove_reference) {
             rppg::PulseWindowConfig c;
             c.remove_reference = remove_reference;
             c.f_lo_hz = f_lo_hz;
             c.f_hi_hz = f_hi_hz;
             c.method = chain_method(method);
             c.channels = channels;
             c.bgr = bgr;
             c.max_window_s = max_window_s;
             c.fps = fps;
             return std::make_unique<rppg::PulseWindowBuilder>(c);
           }),
           py::arg("f_lo_hz"), py::arg("f_hi_hz"), py::arg("method"), py::arg("channels"),
           py::arg("bgr"), py::arg("max_window_s"), py::arg("fps"),
           py::arg("remove_reference") = true)
      .def(
          "push",
          [](rppg::PulseWindowBuilder& self, double timestamp_s, const Doubles& means,
             std::optional<Doubles> reference, double x_px, double y_px, bool moved) {
            const std::size_t c = self.config().channels;
            if (means.ndim() != 1 || static_cast<std::size_t>(means.shape(0)) != c) {
              throw std::invalid_argument("means: expected " + std::to_string(c) + " values");
            }
            if (reference &&
                (reference->ndim() != 1 || static_cast<std::size_t>(reference->shape(0)) != c)) {
              throw std::invalid_argument("reference: expected " + std::to_string(c) + " values");
            }
            self.push(timestamp_s, means.data(), reference ? reference->data() : nullptr, x_px,
                      y_px, moved);
          },
          py::arg("timestamp_s"), py::arg("means"), py::arg("reference"), py::arg("x_px"),
          py::arg("y_px"), py::arg("moved"))
      .def(
          "build",
          [](rppg::PulseWindowBuilder& self, double end_s, double window_s,
             double min_window_s) -> py::object {
            if (!self.build(end_s, window_s, min_window_s)) return py::none();
            const std::size_t n = self.samples(), c = self.config().channels;
            py::dict d;
            d["times_s"] = chain_copy(self.times_s(), self.frames(), 0);
            d["pulse"] = chain_copy(self.pulse(), n, 0);
            d["fs_hz"] = self.fs_hz();
            d["box_moves"] = self.box_moves();
            d["traces"] = chain_copy(self.traces(), n, c);
            d["reference"] =
                self.reference() ? py::object(chain_copy(self.reference(), n, c)) : py::none();
            d["motion"] = chain_copy(self.motion(), n, 2);
            return std::move(d);
          },
          py::arg("end_s"), py::arg("window_s"), py::arg("min_window_s"))
      .def("clear", &rppg::PulseWindowBuilder::clear)
      .def("__len__", &rppg::PulseWindowBuilder::size)
      .def_property_readonly("capacity", &rppg::PulseWindowBuilder::capacity);

  py::class_<rppg::PulseMonitor>(m, "PulseMonitor")
      .def(py::init([](const std::string& method, std::size_t channels, bool bgr, double f_lo_hz,
                       double f_hi_hz, double window_s, double min_window_s,
                       double update_interval_s, double fps, const rppg::TrackerConfig& tracker,
                       const rppg::ConfidenceCoefficients& confidence,
                       double low_quality_confidence, double waveform_s,
                       bool remove_reference) {
             rppg::PulseMonitorConfig c;
             c.remove_reference = remove_reference;
             c.method = chain_method(method);
             c.channels = channels;
             c.bgr = bgr;
             c.f_lo_hz = f_lo_hz;
             c.f_hi_hz = f_hi_hz;
             c.window_s = window_s;
             c.min_window_s = min_window_s;
             c.update_interval_s = update_interval_s;
             c.fps = fps;
             c.tracker = tracker;
             c.confidence = confidence;
             c.low_quality_confidence = low_quality_confidence;
             c.waveform_s = waveform_s;
             return std::make_unique<rppg::PulseMonitor>(c);
           }),
           py::arg("method"), py::arg("channels"), py::arg("bgr"), py::arg("f_lo_hz"),
           py::arg("f_hi_hz"), py::arg("window_s"), py::arg("min_window_s"),
           py::arg("update_interval_s"), py::arg("fps"), py::arg("tracker"),
           py::arg("confidence"), py::arg("low_quality_confidence"), py::arg("waveform_s"),
           py::arg("remove_reference") = false)
      .def(
          "push",
          [](rppg::PulseMonitor& self, double timestamp_s, const Doubles& roi_mean,
             std::optional<Doubles> reference, double face_x_px, double face_y_px,
             bool box_moved) -> py::object {
            if (roi_mean.ndim() != 1) throw std::invalid_argument("roi_mean: expected 1-D");
            const std::size_t c = static_cast<std::size_t>(roi_mean.shape(0));
            rppg::FrameExtras x;
            if (reference) {
              if (reference->ndim() != 1 || static_cast<std::size_t>(reference->shape(0)) != c) {
                throw std::invalid_argument("reference: expected as many values as roi_mean");
              }
              x.reference = reference->data();
            }
            x.face_x_px = face_x_px;
            x.face_y_px = face_y_px;
            x.box_moved = box_moved;
            const rppg::Reading* r = self.push(timestamp_s, roi_mean.data(), c, x);
            if (r == nullptr) return py::none();
            py::dict d;
            d["timestamp_s"] = r->timestamp_s;
            d["status"] = rppg::status_name(r->status);
            d["bpm"] = r->bpm;
            d["raw_bpm"] = r->raw_bpm;
            d["confidence"] = r->confidence;
            d["snr_db"] = r->snr_db;
            d["irrelevant_power_ratio"] = r->irrelevant_power_ratio;
            d["window_s"] = r->window_s;
            d["window_end_s"] = r->window_end_s;
            d["waveform"] = chain_copy(r->waveform, r->waveform_size, 0);
            d["waveform_fs_hz"] = r->waveform_fs_hz;
            return std::move(d);
          },
          py::arg("timestamp_s"), py::arg("roi_mean"), py::arg("reference") = py::none(),
          py::arg("face_x_px") = 0.0, py::arg("face_y_px") = 0.0, py::arg("box_moved") = false)
      .def("reset", &rppg::PulseMonitor::reset)
      .def_property_readonly("method", &rppg::PulseMonitor::method_name);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "rppg C++ signal core (see rppg_sdk.dsp for the documented Python API)";
  bind_pulse_chain(m);  // the pulse chain (rppg::PulseMonitor), defined above

  // ---- driver-monitoring events (rppg::EventDetector; rppg_sdk.events wraps it) -------------
  // Plain numbers in, tuples out: rppg_sdk.events turns the codes into its enums. The work per
  // reading is a few comparisons, so the GIL stays held.
  py::class_<rppg::EventDetector>(m, "EventDetector")
      .def(py::init([](double min_confidence, double tachycardia_bpm, double bradycardia_bpm,
                       double sustain_s, double hysteresis_bpm, double max_gap_s,
                       double abrupt_change_bpm, double abrupt_window_s, double lost_after_s,
                       double motion_share_threshold, int box_moves_threshold,
                       double low_light_level) {
             rppg::EventOptions o;
             o.min_confidence = min_confidence;
             o.tachycardia_bpm = tachycardia_bpm;
             o.bradycardia_bpm = bradycardia_bpm;
             o.sustain_s = sustain_s;
             o.hysteresis_bpm = hysteresis_bpm;
             o.max_gap_s = max_gap_s;
             o.abrupt_change_bpm = abrupt_change_bpm;
             o.abrupt_window_s = abrupt_window_s;
             o.lost_after_s = lost_after_s;
             o.motion_share_threshold = motion_share_threshold;
             o.box_moves_threshold = box_moves_threshold;
             o.low_light_level = low_light_level;
             return new rppg::EventDetector(o);
           }),
           py::arg("min_confidence") = 0.6, py::arg("tachycardia_bpm") = 100.0,
           py::arg("bradycardia_bpm") = 50.0, py::arg("sustain_s") = 30.0,
           py::arg("hysteresis_bpm") = 5.0, py::arg("max_gap_s") = 5.0,
           py::arg("abrupt_change_bpm") = 15.0, py::arg("abrupt_window_s") = 10.0,
           py::arg("lost_after_s") = 2.0, py::arg("motion_share_threshold") = 0.5,
           py::arg("box_moves_threshold") = 2, py::arg("low_light_level") = 0.08)
      .def(
          "push",
          [](rppg::EventDetector& d, double timestamp_s, int state, double bpm, double confidence,
             double motion_share, int box_moves, double skin_level) {
            if (state < 0 || state > 3) {
              throw py::value_error("state: expected 0..3 (warming_up, ok, low_quality, "
                                    "no_face), got " + std::to_string(state));
            }
            rppg::ReadingInput r;
            r.timestamp_s = timestamp_s;
            r.state = static_cast<rppg::ReadingState>(state);
            r.bpm = bpm;
            r.confidence = confidence;
            r.motion_share = motion_share;
            r.box_moves = box_moves;
            r.skin_level = skin_level;
            py::typing::List<py::typing::Tuple<int, double, int, int, double, double, double, int,
                                               double>>
                out;
            for (const rppg::Event& e : d.push(r)) {
              out.append(py::make_tuple(static_cast<int>(e.kind), e.timestamp_s,
                                        static_cast<int>(e.state),
                                        static_cast<int>(e.previous_state), e.bpm, e.previous_bpm,
                                        e.confidence, static_cast<int>(e.reason), e.since_s));
            }
            return out;
          },
          py::arg("timestamp_s"), py::arg("state"), py::arg("bpm"), py::arg("confidence"),
          py::arg("motion_share"), py::arg("box_moves"), py::arg("skin_level"),
          "(kind, timestamp_s, state, previous_state, bpm, previous_bpm, confidence, reason, "
          "since_s) per event raised")
      .def("reset", &rppg::EventDetector::reset);

  py::class_<rppg::FrameRingBuffer>(m, "FrameRingBuffer")
      .def(py::init([](std::size_t capacity, std::size_t h, std::size_t w, std::size_t c,
                       const std::string& dtype) {
             if (dtype != "uint8" && dtype != "float32") {
               throw py::type_error("dtype: expected 'uint8' or 'float32', got '" + dtype + "'");
             }
             return new rppg::FrameRingBuffer(
                 capacity, h, w, c,
                 dtype == "uint8" ? rppg::PixelType::UInt8 : rppg::PixelType::Float32);
           }),
           py::arg("capacity"), py::arg("height"), py::arg("width"), py::arg("channels"),
           py::arg("dtype"))
      .def("push", &push_frame, py::arg("frame"), py::arg("timestamp_s"))
      .def("window", &window, py::arg("n"))
      .def("clear", &rppg::FrameRingBuffer::clear)
      .def_property_readonly("size", &rppg::FrameRingBuffer::size)
      .def_property_readonly("capacity", &rppg::FrameRingBuffer::capacity)
      .def_property_readonly("last_timestamp_s", &rppg::FrameRingBuffer::last_timestamp_s)
      .def_property_readonly("frame_shape",
                             [](const rppg::FrameRingBuffer& rb) {
                               return py::make_tuple(rb.height(), rb.width(), rb.channels());
                             })
      .def_property_readonly("dtype", [](const rppg::FrameRingBuffer& rb) {
        return rb.pixel_type() == rppg::PixelType::UInt8 ? "uint8" : "float32";
      });

  py::class_<rppg::TimeSeriesBuffer>(m, "TimeSeriesBuffer")
      .def(py::init<std::size_t, std::size_t>(), py::arg("capacity"), py::arg("channels"))
      .def("push", &push_sample, py::arg("values"), py::arg("timestamp_s"))
      .def("push_many", &push_samples, py::arg("values"), py::arg("timestamps_s"))
      .def("window", &series_window, py::arg("n"))
      .def("since", &series_since, py::arg("start_s"))
      .def("clear", &rppg::TimeSeriesBuffer::clear)
      .def_property_readonly("size", &rppg::TimeSeriesBuffer::size)
      .def_property_readonly("capacity", &rppg::TimeSeriesBuffer::capacity)
      .def_property_readonly("channels", &rppg::TimeSeriesBuffer::channels)
      .def_property_readonly("last_timestamp_s", &rppg::TimeSeriesBuffer::last_timestamp_s);

  m.def(
      "resample_uniform",
      [](const Doubles& t, const Doubles& v, double fs_hz) {
        if (t.ndim() != 1 || v.ndim() != 2 || v.shape(0) != t.shape(0)) {
          throw py::value_error("resample_uniform: expected t (T,) and values (T, C), got " +
                                shape_str(t) + " and " + shape_str(v));
        }
        const auto n = static_cast<std::size_t>(t.shape(0));
        const auto ch = static_cast<std::size_t>(v.shape(1));
        const auto len = static_cast<py::ssize_t>(rppg::resampled_length(t.data(), n, fs_hz));
        Doubles grid(len);
        Doubles out({len, static_cast<py::ssize_t>(ch)});
        const double *tp = t.data(), *vp = v.data();
        double *gp = grid.mutable_data(), *op = out.mutable_data();
        {
          py::gil_scoped_release release;
          rppg::resample_uniform(tp, vp, n, ch, fs_hz, gp, op);
        }
        return py::make_tuple(grid, out);
      },
      py::arg("timestamps_s"), py::arg("values"), py::arg("fs_hz"));

  m.def(
      "detrend",
      [](const Doubles& x, double lambda) {
        Doubles out = new_doubles(x.size());
        const double* xp = x.data();
        double* op = out.mutable_data();
        const auto n = static_cast<std::size_t>(x.size());
        {
          py::gil_scoped_release release;
          rppg::detrend(xp, n, lambda, op);
        }
        return out;
      },
      py::arg("x"), py::arg("lambda_"));

  m.def(
      "bandpass",
      [](const Doubles& x, double fs_hz, double f_lo, double f_hi, double taper_hz) {
        Doubles out = new_doubles(x.size());
        const double* xp = x.data();
        double* op = out.mutable_data();
        const auto n = static_cast<std::size_t>(x.size());
        {
          py::gil_scoped_release release;
          rppg::bandpass(xp, n, fs_hz, f_lo, f_hi, taper_hz, op);
        }
        return out;
      },
      py::arg("x"), py::arg("fs_hz"), py::arg("f_lo_hz"), py::arg("f_hi_hz"),
      py::arg("taper_hz"));

  py::class_<rppg::SpectralConfig>(m, "SpectralConfig")
      .def(py::init<>())
      .def_readwrite("fs_hz", &rppg::SpectralConfig::fs_hz)
      .def_readwrite("f_lo_hz", &rppg::SpectralConfig::f_lo_hz)
      .def_readwrite("f_hi_hz", &rppg::SpectralConfig::f_hi_hz)
      .def_readwrite("nfft", &rppg::SpectralConfig::nfft)
      .def_readwrite("hann", &rppg::SpectralConfig::hann)
      .def_readwrite("welch_segment", &rppg::SpectralConfig::welch_segment)
      .def_readwrite("detrend_lambda", &rppg::SpectralConfig::detrend_lambda)
      .def_readwrite("half_harmonic_ratio", &rppg::SpectralConfig::half_harmonic_ratio)
      .def_readwrite("missed_fundamental_ratio", &rppg::SpectralConfig::missed_fundamental_ratio)
      .def_readwrite("snr_halfwidth_hz", &rppg::SpectralConfig::snr_halfwidth_hz);

  py::class_<rppg::HeartRateResult>(m, "HeartRateResult")
      .def_readonly("frequency_hz", &rppg::HeartRateResult::frequency_hz)
      .def_readonly("raw_peak_hz", &rppg::HeartRateResult::raw_peak_hz)
      .def_readonly("snr_db", &rppg::HeartRateResult::snr_db)
      .def_readonly("irrelevant_power_ratio", &rppg::HeartRateResult::irrelevant_power_ratio)
      .def_property_readonly("correction", [](const rppg::HeartRateResult& r) {
        switch (r.correction) {
          case rppg::HarmonicCorrection::Halved: return "halved";
          case rppg::HarmonicCorrection::Doubled: return "doubled";
          default: return "none";
        }
      });

  m.def(
      "power_spectrum",
      [](const Doubles& x, const rppg::SpectralConfig& cfg) {
        const auto n = static_cast<std::size_t>(x.size());
        rppg::validate(cfg, n);
        const auto bins = static_cast<py::ssize_t>(rppg::effective_nfft(cfg, n) / 2 + 1);
        Doubles freqs(bins), power(bins);
        const double* xp = x.data();
        double *fp = freqs.mutable_data(), *pp = power.mutable_data();
        {
          py::gil_scoped_release release;
          rppg::power_spectrum(xp, n, cfg, fp, pp);
        }
        return py::make_tuple(freqs, power);
      },
      py::arg("x"), py::arg("config"));

  m.def(
      "estimate_heart_rate",
      [](const Doubles& x, const rppg::SpectralConfig& cfg) {
        const double* xp = x.data();
        const auto n = static_cast<std::size_t>(x.size());
        py::gil_scoped_release release;
        return rppg::estimate_heart_rate(xp, n, cfg);
      },
      py::arg("x"), py::arg("config"));

  m.def(
      "signal_quality",
      [](const Doubles& x, double f0_hz, const rppg::SpectralConfig& cfg) {
        const double* xp = x.data();
        const auto n = static_cast<std::size_t>(x.size());
        rppg::SignalQuality q;
        {
          py::gil_scoped_release release;
          q = rppg::signal_quality(xp, n, f0_hz, cfg);
        }
        return py::make_tuple(q.snr_db, q.irrelevant_power_ratio);
      },
      py::arg("x"), py::arg("f0_hz"), py::arg("config"));

  auto rgb_shape = [](const Doubles& rgb) {
    if (rgb.ndim() != 2 || rgb.shape(1) != 3) {
      throw py::value_error("rgb_traces: expected shape (T, 3), got " + shape_str(rgb));
    }
    return static_cast<std::size_t>(rgb.shape(0));
  };

  m.def(
      "pulse_green",
      [rgb_shape](const Doubles& rgb) {
        const std::size_t n = rgb_shape(rgb);
        Doubles out = new_doubles(static_cast<py::ssize_t>(n));
        const double* ip = rgb.data();
        double* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          rppg::pulse_green(ip, n, op);
        }
        return out;
      },
      py::arg("rgb"));

  // nir: MONO for one-channel (940 nm) traces, motion transients taken out.
  m.def(
      "pulse_mono",
      [rgb_shape](const Doubles& rgb, double fs_hz, double f_lo_hz, double f_hi_hz) {
        const std::size_t n = rgb_shape(rgb);
        Doubles out = new_doubles(static_cast<py::ssize_t>(n));
        const double* ip = rgb.data();
        double* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          rppg::pulse_mono(ip, n, fs_hz, f_lo_hz, f_hi_hz, op);
        }
        return out;
      },
      py::arg("rgb"), py::arg("fs_hz"), py::arg("f_lo_hz"), py::arg("f_hi_hz"));

  m.def(
      "pulse_pos",
      [rgb_shape](const Doubles& rgb, std::size_t window) {
        const std::size_t n = rgb_shape(rgb);
        Doubles out = new_doubles(static_cast<py::ssize_t>(n));
        const double* ip = rgb.data();
        double* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          rppg::pulse_pos(ip, n, window, op);
        }
        return out;
      },
      py::arg("rgb"), py::arg("window"));

  m.def(
      "pulse_chrom",
      [rgb_shape](const Doubles& rgb, double fs_hz, double f_lo, double f_hi, std::size_t window) {
        const std::size_t n = rgb_shape(rgb);
        Doubles out = new_doubles(static_cast<py::ssize_t>(n));
        const double* ip = rgb.data();
        double* op = out.mutable_data();
        {
          py::gil_scoped_release release;
          rppg::pulse_chrom(ip, n, fs_hz, f_lo, f_hi, window, op);
        }
        return out;
      },
      py::arg("rgb"), py::arg("fs_hz"), py::arg("f_lo_hz"), py::arg("f_hi_hz"),
      py::arg("window"));

  // ---- pulse-rate variability and breathing rate (issue 12) ---------------------------------
  // Inputs are validated by rppg_sdk.dsp (and again by the core, which throws ValueError);
  // the GIL is released only around the C++ work, outputs are built with it held.
  auto beat_config = [](double fs_hz, double f_lo, double f_hi, double timing_f_hi) {
    rppg::BeatConfig bc;
    bc.fs_hz = fs_hz;
    bc.f_lo_hz = f_lo;
    bc.f_hi_hz = f_hi;
    bc.timing_f_hi_hz = timing_f_hi;
    return bc;
  };
  auto one_d = [](const Doubles& x, const char* name) {
    if (x.ndim() != 1) {
      throw py::value_error(std::string(name) + ": expected a 1-D array, got shape " +
                            shape_str(x));
    }
    return static_cast<std::size_t>(x.shape(0));
  };

  py::class_<rppg::VariabilityResult>(m, "VariabilityResult")
      .def_readonly("rmssd_ms", &rppg::VariabilityResult::rmssd_ms)
      .def_readonly("sdnn_ms", &rppg::VariabilityResult::sdnn_ms)
      .def_readonly("pnn50_percent", &rppg::VariabilityResult::pnn50_percent)
      .def_readonly("mean_interval_ms", &rppg::VariabilityResult::mean_interval_ms)
      .def_readonly("beats_detected", &rppg::VariabilityResult::beats_detected)
      .def_readonly("beats_used", &rppg::VariabilityResult::beats_used)
      .def_readonly("intervals_used", &rppg::VariabilityResult::intervals_used)
      .def_readonly("differences_used", &rppg::VariabilityResult::differences_used)
      .def_readonly("rejected_share", &rppg::VariabilityResult::rejected_share)
      .def_readonly("timing_noise_ms", &rppg::VariabilityResult::timing_noise_ms)
      .def_readonly("confidence", &rppg::VariabilityResult::confidence);

  py::class_<rppg::ModulationEstimate>(m, "ModulationEstimate")
      .def_readonly("rate_hz", &rppg::ModulationEstimate::rate_hz)
      .def_readonly("quality", &rppg::ModulationEstimate::quality)
      .def_readonly("valid", &rppg::ModulationEstimate::valid)
      .def_readonly("used", &rppg::ModulationEstimate::used);

  py::class_<rppg::BreathingResult>(m, "BreathingResult")
      .def_readonly("rate_hz", &rppg::BreathingResult::rate_hz)
      .def_readonly("confidence", &rppg::BreathingResult::confidence)
      .def_readonly("amplitude", &rppg::BreathingResult::amplitude)
      .def_readonly("frequency", &rppg::BreathingResult::frequency)
      .def_readonly("baseline", &rppg::BreathingResult::baseline)
      .def_readonly("beats", &rppg::BreathingResult::beats);

  m.def(
      "detect_beats",
      [beat_config, one_d](const Doubles& x, double fs_hz, double f_lo_hz, double f_hi_hz,
                           double timing_f_hi_hz) {
        const std::size_t n = one_d(x, "pulse");
        const rppg::BeatConfig bc = beat_config(fs_hz, f_lo_hz, f_hi_hz, timing_f_hi_hz);
        const double* xp = x.data();
        rppg::Beats b;
        {
          py::gil_scoped_release release;
          b = rppg::detect_beats(xp, n, bc);
        }
        auto arr = [](const std::vector<double>& v) {
          Doubles a(static_cast<py::ssize_t>(v.size()));
          std::copy(v.begin(), v.end(), a.mutable_data());
          return a;
        };
        return py::typing::Tuple<Doubles, Doubles, Doubles, double, double, double>(
            py::make_tuple(arr(b.times_s), arr(b.amplitudes), arr(b.baselines), b.rate_hz,
                           b.snr_db, b.shape_correlation));
      },
      py::arg("pulse"), py::arg("fs_hz"), py::arg("f_lo_hz"), py::arg("f_hi_hz"),
      py::arg("timing_f_hi_hz"));

  m.def(
      "pulse_rate_variability",
      [beat_config, one_d](const Doubles& x, double fs_hz, double f_lo_hz, double f_hi_hz,
                           double timing_f_hi_hz, double max_deviation) {
        const std::size_t n = one_d(x, "pulse");
        const rppg::BeatConfig bc = beat_config(fs_hz, f_lo_hz, f_hi_hz, timing_f_hi_hz);
        rppg::IntervalConfig ic;
        ic.max_deviation = max_deviation;
        const double* xp = x.data();
        py::gil_scoped_release release;
        return rppg::pulse_rate_variability(xp, n, bc, ic);
      },
      py::arg("pulse"), py::arg("fs_hz"), py::arg("f_lo_hz"), py::arg("f_hi_hz"),
      py::arg("timing_f_hi_hz"), py::arg("max_deviation"));

  m.def(
      "variability_from_beats",
      [one_d](const Doubles& beat_times_s, double max_deviation) {
        const std::size_t n = one_d(beat_times_s, "beat_times_s");
        rppg::IntervalConfig ic;
        ic.max_deviation = max_deviation;
        const double* tp = beat_times_s.data();
        py::gil_scoped_release release;
        return rppg::variability_from_beats(tp, n, ic);
      },
      py::arg("beat_times_s"), py::arg("max_deviation"));

  m.def(
      "estimate_breathing",
      [beat_config, one_d](const Doubles& x, double fs_hz, double f_lo_hz, double f_hi_hz,
                           double breath_lo_hz, double breath_hi_hz) {
        const std::size_t n = one_d(x, "pulse");
        rppg::BreathingConfig c;
        c.beats = beat_config(fs_hz, f_lo_hz, f_hi_hz, rppg::BeatConfig{}.timing_f_hi_hz);
        c.f_lo_hz = breath_lo_hz;
        c.f_hi_hz = breath_hi_hz;
        const double* xp = x.data();
        py::gil_scoped_release release;
        return rppg::estimate_breathing(xp, n, c);
      },
      py::arg("pulse"), py::arg("fs_hz"), py::arg("f_lo_hz"), py::arg("f_hi_hz"),
      py::arg("breath_lo_hz"), py::arg("breath_hi_hz"));
}
