#pragma once
// One owned uv_timer_t calling a narrow interface.
//
// Lazy re-arming: a connection moves its one timer at every step of every request
// (header, body, send, keep-alive timeouts), and each uv_timer_start/stop is a heap
// operation in libuv. So start() only records the deadline; the libuv timer is re-armed
// only when the new deadline is *earlier* than the one it is armed for. When it fires
// before the recorded deadline (the deadline moved later meanwhile) it is armed again for
// the rest; stop() only forgets the deadline. The listener is called exactly when it
// would have been with eager re-arming: at the first loop turn whose time (uv_now) has
// reached the last start()'s deadline, unless stop() came after. A timer that is
// stopped but still armed in libuv does not keep the loop alive (uv_unref).

#include <cstdint>

#include "doorman/uv/Handle.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::uv {

class TimerListener {
 public:
  virtual void onTimer() = 0;

 protected:
  ~TimerListener() = default;
};

class Timer {
 public:
  Timer(Loop& loop, TimerListener& listener);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /// (Re)arms the timer `ms` from now; 0 disables nothing, it fires on the next turn.
  void start(uint64_t ms);
  void stop() noexcept;
  /// Started and neither stopped nor fired since.
  bool active() const noexcept { return deadline_ != kNone; }

 private:
  static constexpr uint64_t kNone = UINT64_MAX;
  static void onFire(uv_timer_t* handle);
  void arm(uint64_t now, uint64_t ms);

  TimerListener& listener_;
  HandlePtr<uv_timer_t> timer_;
  uint64_t deadline_ = kNone;  ///< loop time (ms) the listener is due; kNone when stopped
  uint64_t armedFor_ = kNone;  ///< loop time the libuv timer is armed for; kNone if not
};

}  // namespace doorman::uv
