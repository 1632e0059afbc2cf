#pragma once
// Microsecond clocks for request phases: monotonic for durations, wall for timestamps.

#include <cstdint>
#include <ctime>

namespace doorman::ops {

inline int64_t monotonicMicros() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

inline int64_t wallMicros() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace doorman::ops
