#pragma once
// The FIFO of jobs waiting for a worker slot. Pure logic over loop times (testable with
// any clock). Cancelled jobs are removed lazily but never counted.

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "doorman/upstream/Job.hpp"

namespace doorman::upstream {

class WaitQueue {
 public:
  /// Appends (a new request) or prepends (a replay, which already waited its turn).
  void pushBack(JobPtr job);
  void pushFront(JobPtr job);

  /// Oldest job still waiting, removed; nullptr when none.
  JobPtr popFront();
  /// Oldest job still waiting, left in place. Precondition: !empty().
  const JobPtr& front();

  /// Marks a queued job cancelled; it no longer counts and will be skipped.
  void cancel(Job& job);

  /// Removes and returns the waiting jobs whose deadline is <= nowMs.
  std::vector<JobPtr> expire(uint64_t nowMs);

  /// Earliest deadline of the waiting jobs.
  std::optional<uint64_t> earliestDeadline() const;

  size_t size() const noexcept { return live_; }
  bool empty() const noexcept { return live_ == 0; }

 private:
  void dropCancelledFront();

  std::deque<JobPtr> jobs_;
  size_t live_ = 0;
};

}  // namespace doorman::upstream
