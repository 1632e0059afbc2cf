#pragma once
// The process's one event loop, plus deferred deletion (Envoy's DeferredDeletable):
// an object that must die because of an event it is handling hands itself to
// deferDelete() and is destroyed after the current callback has returned.

#include <uv.h>

#include <memory>
#include <vector>

#include "doorman/uv/Handle.hpp"

namespace doorman::uv {

class Deletable {
 public:
  virtual ~Deletable() = default;
};

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* raw() noexcept { return &loop_; }

  /// Runs until no active handle is left (or stop()).
  int run();
  void stop() noexcept { uv_stop(&loop_); }

  /// Milliseconds of the loop clock (uv_now), cached per iteration.
  uint64_t nowMs() const noexcept { return uv_now(&loop_); }

  /// Destroys `object` after the current callback returns.
  void deferDelete(std::unique_ptr<Deletable> object);

  /// Destroys everything deferred so far, now. Only from outside any object's callback
  /// (e.g. when tearing down the owner of those objects).
  void flushDeferred() noexcept { drainDeferred(); }

  /// Number of handles libuv still knows (for tests that check nothing leaked).
  size_t liveHandleCount();

 private:
  static void onIdle(uv_idle_t* idle);
  void drainDeferred() noexcept;

  uv_loop_t loop_{};
  HandlePtr<uv_idle_t> deferIdle_;
  std::vector<std::unique_ptr<Deletable>> deferred_;
};

}  // namespace doorman::uv
