#pragma once
// Deadlines and polling: the only way integration tests wait. A test never sleeps to
// "give something time"; it polls a condition until it holds or a deadline passes.

#include <chrono>
#include <functional>

namespace doorman::it {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
using std::chrono::milliseconds;

inline Deadline deadlineIn(milliseconds timeout) { return Clock::now() + timeout; }

/// Milliseconds left until `deadline` (0 once it has passed), for poll(2).
int remainingMs(Deadline deadline);

/// Polls `condition` every `interval` until it returns true (-> true) or `timeout`
/// passes (-> false; the condition is evaluated one last time at the deadline).
bool waitUntil(const std::function<bool()>& condition, milliseconds timeout,
               milliseconds interval = milliseconds(10));

}  // namespace doorman::it
