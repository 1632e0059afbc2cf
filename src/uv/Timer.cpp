#include "doorman/uv/Timer.hpp"

#include <cstdlib>

namespace doorman::uv {

Timer::Timer(Loop& loop, TimerListener& listener) : listener_(listener) {
  int rc = 0;
  // cppcheck-suppress useInitializationList ; rc is an out-parameter of the same call
  timer_ = makeHandle<uv_timer_t>(loop.raw(), rc, uv_timer_init);
  if (!timer_) {
    std::abort();  // uv_timer_init cannot fail on a valid loop
  }
  timer_->data = this;
}

void Timer::start(uint64_t ms) {
  uint64_t now = uv_now(timer_->loop);
  deadline_ = ms < kNone - now ? now + ms : kNone - 1;
  uv_ref(asHandle(timer_.get()));
  if (armedFor_ != kNone && armedFor_ <= deadline_) {
    return;  // armed earlier than needed: onFire re-arms for the rest
  }
  arm(now, ms);
}

void Timer::arm(uint64_t now, uint64_t ms) {
  uv_timer_start(timer_.get(), &Timer::onFire, ms, 0);
  armedFor_ = ms < kNone - now ? now + ms : kNone - 1;
}

void Timer::stop() noexcept {
  deadline_ = kNone;
  // Left armed: the next start() most likely wants it again soon. Unreferenced, it does
  // not keep the loop running.
  uv_unref(asHandle(timer_.get()));
}

void Timer::onFire(uv_timer_t* handle) {
  auto* self = ownerOf<Timer>(handle);
  if (self == nullptr) {
    return;
  }
  self->armedFor_ = kNone;
  if (self->deadline_ == kNone) {
    return;  // stopped since it was armed
  }
  uint64_t now = uv_now(handle->loop);
  if (now < self->deadline_) {
    self->arm(now, self->deadline_ - now);  // the deadline moved later: the rest
    return;
  }
  self->deadline_ = kNone;
  uv_unref(asHandle(handle));
  self->listener_.onTimer();
}

}  // namespace doorman::uv
