#include "harness/Wait.hpp"

#include <algorithm>
#include <thread>

namespace doorman::it {

int remainingMs(Deadline deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1LL << 30));
}

bool waitUntil(const std::function<bool()>& condition, milliseconds timeout,
               milliseconds interval) {
  const Deadline deadline = deadlineIn(timeout);
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);  // a poll interval, not a synchronisation
  }
  return condition();
}

}  // namespace doorman::it
