// rppg core: the whole public C++ API.
#pragma once

#include "rppg/breathing.hpp"  // breathing rate from the pulse's respiratory modulations
#include "rppg/events.hpp"     // driver-monitoring events from readings
#include "rppg/pulse.hpp"
#include "rppg/pulse_monitor.hpp"  // the pulse chain: PulseMonitor, PulseAnalyzer, tracker, confidence
#include "rppg/ring_buffer.hpp"
#include "rppg/signal.hpp"
#include "rppg/spectrum.hpp"
#include "rppg/time_series.hpp"
#include "rppg/variability.hpp"  // beats and pulse-rate variability
