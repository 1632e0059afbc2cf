#pragma once
// Microsecond clocks for request phases: monotonic for durations, wall for timestamps.

#include <cstdint>
#include <ctime>

#include "doorman/core/Clock.hpp"

namespace doorman::ops {

/// core::monotonicMicros() (the clock of upstream::JobTiming), signed for differences.
inline int64_t monotonicMicros() noexcept { return static_cast<int64_t>(core::monotonicMicros()); }

inline int64_t wallMicros() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace doorman::ops
