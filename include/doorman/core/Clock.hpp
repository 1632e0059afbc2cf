#pragma once
// A monotonic microsecond clock for per-request telemetry (phases in the access log and
// metrics). Not the loop clock: uv_now() is cached per loop iteration and in
// milliseconds, too coarse for an upstream that answers in 300 us.

#include <uv.h>

#include <cstdint>

namespace doorman::core {

/// Microseconds of CLOCK_MONOTONIC (uv_hrtime), comparable only with itself.
inline uint64_t monotonicMicros() noexcept { return uv_hrtime() / 1000; }

}  // namespace doorman::core
