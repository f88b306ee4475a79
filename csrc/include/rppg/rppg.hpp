// rppg core: the whole public C++ API.
#pragma once

#include "rppg/pulse.hpp"
#include "rppg/pulse_monitor.hpp"  // the pulse chain: PulseMonitor, PulseAnalyzer, tracker, confidence
#include "rppg/ring_buffer.hpp"
#include "rppg/signal.hpp"
#include "rppg/spectrum.hpp"
#include "rppg/time_series.hpp"
