#include "doorman/uv/Timer.hpp"

#include <cstdlib>

namespace doorman::uv {

Timer::Timer(Loop& loop, TimerListener& listener) {
  int rc = 0;
  // cppcheck-suppress useInitializationList ; rc is an out-parameter of the same call
  timer_ = makeHandle<uv_timer_t>(loop.raw(), rc, uv_timer_init);
  if (!timer_) {
    std::abort();  // uv_timer_init cannot fail on a valid loop
  }
  timer_->data = &listener;
}

void Timer::start(uint64_t ms) {
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        if (auto* l = ownerOf<TimerListener>(t)) {
          l->onTimer();
        }
      },
      ms, 0);
}

void Timer::stop() noexcept { uv_timer_stop(timer_.get()); }

bool Timer::active() const noexcept { return uv_is_active(asHandle(timer_.get())) != 0; }

}  // namespace doorman::uv
