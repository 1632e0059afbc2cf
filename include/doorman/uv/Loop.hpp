#pragma once
// The process's one event loop, plus deferred deletion (Envoy's DeferredDeletable):
// an object that must die because of an event it is handling hands itself to
// deferDelete() and is destroyed after the current callback has returned; and deferred
// calls (`Task`): work that must not run inside the caller's call, run on the next turn
// without a system call and without allocating.

#include <uv.h>

#include <memory>
#include <vector>

#include "doorman/uv/Handle.hpp"

namespace doorman::uv {

class Deletable {
 public:
  virtual ~Deletable() = default;
};

class Loop;

/// A deferred call owned by its user (intrusive: posting allocates nothing). post() runs
/// `fn(task)` once on the loop's next turn (before it polls for I/O), never inside
/// post(). Cancelled by cancel() or by destruction; posting a pending task again is a
/// no-op. Not copyable or movable: the loop links to it.
class Task {
 public:
  using Fn = void (*)(Task&);
  explicit Task(Fn fn) noexcept : fn_(fn) {}
  ~Task() { cancel(); }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  bool pending() const noexcept { return loop_ != nullptr; }
  void cancel() noexcept;

 private:
  friend class Loop;
  Fn fn_;
  Loop* loop_ = nullptr;  ///< set while queued
  Task* prev_ = nullptr;
  Task* next_ = nullptr;
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

  /// Runs `task` on the next turn (see Task).
  void post(Task& task) noexcept;

  /// Destroys everything deferred so far, now. Only from outside any object's callback
  /// (e.g. when tearing down the owner of those objects).
  void flushDeferred() noexcept { drainDeferred(); }

  /// Number of handles libuv still knows (for tests that check nothing leaked).
  size_t liveHandleCount();

 private:
  friend class Task;
  static void onIdle(uv_idle_t* idle);
  void drainDeferred() noexcept;
  void runTasks();
  void unlink(Task& task) noexcept;
  void wake() noexcept;

  uv_loop_t loop_{};
  HandlePtr<uv_idle_t> deferIdle_;
  std::vector<std::unique_ptr<Deletable>> deferred_;
  Task* tasksHead_ = nullptr;  ///< FIFO of posted tasks
  Task* tasksTail_ = nullptr;
};

}  // namespace doorman::uv
