#pragma once
// A monotonic microsecond clock for per-request telemetry (phases in the access log and
// metrics). Not the loop clock: uv_now() is cached per loop iteration and in
// milliseconds, too coarse for an upstream that answers in 300 us.

#include <time.h>

#include <cstdint>

namespace doorman::core {

/// Microseconds of CLOCK_MONOTONIC, the clock uv_hrtime() reads, comparable only with
/// itself. clock_gettime directly (the vDSO): a request reads it about ten times, and
/// uv_hrtime's nanoseconds-then-divide wrapper cost more than the read.
inline uint64_t monotonicMicros() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace doorman::core
