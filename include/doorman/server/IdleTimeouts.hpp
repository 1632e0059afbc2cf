#pragma once
// Timeouts of idle client connections without a timer each (h2o's timeout lists): every
// connection waiting in one list shares the same timeout, so appending at the tail when it
// starts waiting keeps the list ordered by expiry. One loop timer per server is armed for
// the earliest head; when it fires, the expired heads are taken off and the timer re-armed.
//
// Two lists: connections waiting for their first request (timeouts.header from accept) and
// keep-alive connections waiting for the next one (timeouts.keepalive from the end of the
// last response). The timeout values are read when the list is checked, from the newest
// configuration, so a reload applies to connections already waiting too.

#include <cstdint>

#include "doorman/server/Generation.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::server {

/// The hook an owner embeds to sit in one TimeoutList (no allocation per entry).
struct TimeoutLink {
  TimeoutLink() = default;
  TimeoutLink(const TimeoutLink&) = delete;
  TimeoutLink& operator=(const TimeoutLink&) = delete;
  ~TimeoutLink() { unlink(); }

  bool linked() const noexcept { return nextLink != nullptr; }
  /// Leaves whatever list it is in; a no-op when it is in none.
  void unlink() noexcept;

  TimeoutLink* prevLink = nullptr;
  TimeoutLink* nextLink = nullptr;
  uint64_t idleSinceMs = 0;  ///< loop time the entry was linked
};

/// A doubly linked list of TimeoutLinks ordered by `idleSinceMs` (append only at the tail with
/// a clock that never goes back). Pure: the caller passes the time (a fake clock in tests).
class TimeoutList {
 public:
  TimeoutList() noexcept { head_.prevLink = head_.nextLink = &head_; }
  ~TimeoutList();
  TimeoutList(const TimeoutList&) = delete;
  TimeoutList& operator=(const TimeoutList&) = delete;

  /// Appends `link` (leaving any list it was in) as of `nowMs`.
  void append(TimeoutLink& link, uint64_t nowMs) noexcept;
  bool empty() const noexcept { return head_.nextLink == &head_; }
  /// The oldest entry, nullptr when empty.
  TimeoutLink* oldest() noexcept { return empty() ? nullptr : head_.nextLink; }
  /// Unlinks and returns the oldest entry linked at least `timeoutMs` before `nowMs`;
  /// nullptr when there is none.
  TimeoutLink* popExpired(uint64_t nowMs, uint64_t timeoutMs) noexcept;
  /// Loop time at which the oldest entry expires; only when !empty().
  uint64_t nextExpiry(uint64_t timeoutMs) const noexcept {
    return head_.nextLink->idleSinceMs + timeoutMs;
  }

 private:
  TimeoutLink head_;  ///< sentinel: the list is a ring through it
};

class IdleTimeoutListener {
 public:
  /// `link` waited past its timeout and is already unlinked.
  virtual void onIdleExpired(TimeoutLink& link) = 0;

 protected:
  ~IdleTimeoutListener() = default;
};

/// The two idle lists of a server and their one timer.
class IdleTimeouts final : private uv::TimerListener {
 public:
  enum class Kind { FirstRequest, KeepAlive };

  /// `current` is the server's newest generation (its timeouts apply).
  IdleTimeouts(uv::Loop& loop, const GenerationPtr& current, IdleTimeoutListener& listener);

  /// Starts (or restarts) the wait of `link` as of now.
  void watch(TimeoutLink& link, Kind kind);
  /// The timeouts may have changed (reload): check the heads again.
  void rearm();

 private:
  void onTimer() override;
  uint64_t timeoutOf(Kind kind) const noexcept;
  TimeoutList& listOf(Kind kind) noexcept {
    return kind == Kind::FirstRequest ? firstRequest_ : keepAlive_;
  }

  uv::Loop& loop_;
  const GenerationPtr& current_;
  IdleTimeoutListener& listener_;
  TimeoutList firstRequest_;
  TimeoutList keepAlive_;
  uv::Timer timer_;
  uint64_t dueMs_ = 0;  ///< loop time the timer fires at, while it is active
};

}  // namespace doorman::server
