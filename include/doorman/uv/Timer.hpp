#pragma once
// One owned uv_timer_t calling a narrow interface.

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
  bool active() const noexcept;

 private:
  HandlePtr<uv_timer_t> timer_;
};

}  // namespace doorman::uv
