#pragma once
// A process-wide budget of bytes. Every buffered byte is reserved here before it is
// allocated; a refused reservation is the signal to spill or to apply back-pressure.
// Single-threaded (the event loop owns it).

#include <cstdint>

namespace doorman::core {

/// Holds memory it can give up on demand (the small-file cache): asked before a
/// reservation is refused, it releases what it can (through MemoryBudget::release).
class MemoryReclaimer {
 public:
  virtual void reclaim(uint64_t bytes) noexcept = 0;

 protected:
  ~MemoryReclaimer() = default;
};

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}

  /// Reserves `bytes`; false (and nothing reserved) when it would pass the limit even
  /// after the reclaimer (if any, and `reclaim`) gave up what it could.
  bool tryReserve(uint64_t bytes, bool reclaim = true) noexcept {
    if (!(reclaim ? hasRoomFor(bytes) : fits(bytes))) {
      return false;
    }
    used_ += bytes;
    if (used_ > peak_) {
      peak_ = used_;
    }
    return true;
  }
  /// Whether `bytes` would be reserved now, reclaiming what that takes first (the
  /// question a new request asks before it is taken on: memory a reclaimer holds counts
  /// as room). Reserves nothing.
  bool hasRoomFor(uint64_t bytes) noexcept {
    if (!fits(bytes) && reclaimer_ != nullptr) {
      reclaimer_->reclaim(used_ + bytes - limit_);
    }
    return fits(bytes);
  }
  /// Counts `bytes` that already exist and cannot be refused (bytes read from a socket,
  /// a connection's own state): `used` may pass the limit, so that what comes next is
  /// refused or spills.
  void forceReserve(uint64_t bytes) noexcept {
    used_ += bytes;
    if (used_ > peak_) {
      peak_ = used_;
    }
  }
  void release(uint64_t bytes) noexcept { used_ = bytes > used_ ? 0 : used_ - bytes; }

  uint64_t used() const noexcept { return used_; }
  uint64_t limit() const noexcept { return limit_; }
  uint64_t peak() const noexcept { return peak_; }
  void setLimit(uint64_t limit) noexcept {
    if (limit < used_ && reclaimer_ != nullptr) {
      reclaimer_->reclaim(used_ - limit);
    }
    limit_ = limit < used_ ? used_ : limit;
  }
  MemoryReclaimer* reclaimer() const noexcept { return reclaimer_; }
  void setReclaimer(MemoryReclaimer* reclaimer) noexcept { reclaimer_ = reclaimer; }

 private:
  bool fits(uint64_t bytes) const noexcept {
    return bytes == 0 || (used_ < limit_ && bytes <= limit_ - used_);
  }

  uint64_t limit_;
  uint64_t used_ = 0;
  uint64_t peak_ = 0;
  MemoryReclaimer* reclaimer_ = nullptr;
};

}  // namespace doorman::core
