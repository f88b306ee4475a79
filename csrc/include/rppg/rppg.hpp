// rppg core: the whole public C++ API.
#pragma once

#include "rppg/pulse.hpp"
#include "rppg/ring_buffer.hpp"
#include "rppg/signal.hpp"
#include "rppg/spectrum.hpp"
#include "rppg/time_series.hpp"
