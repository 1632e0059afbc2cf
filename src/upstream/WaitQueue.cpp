#include "doorman/upstream/WaitQueue.hpp"

#include <algorithm>

namespace doorman::upstream {

void WaitQueue::pushBack(JobPtr job) {
  job->state = Job::State::Queued;
  jobs_.push_back(std::move(job));
  ++live_;
}

void WaitQueue::pushFront(JobPtr job) {
  job->state = Job::State::Queued;
  jobs_.push_front(std::move(job));
  ++live_;
}

void WaitQueue::dropCancelledFront() {
  while (!jobs_.empty() && jobs_.front()->state != Job::State::Queued) {
    jobs_.pop_front();
  }
}

JobPtr WaitQueue::popFront() {
  dropCancelledFront();
  if (jobs_.empty()) {
    return nullptr;
  }
  JobPtr job = std::move(jobs_.front());
  jobs_.pop_front();
  --live_;
  return job;
}

const JobPtr& WaitQueue::front() {
  dropCancelledFront();
  return jobs_.front();
}

void WaitQueue::cancel(Job& job) {
  if (job.state == Job::State::Queued) {
    job.state = Job::State::Cancelled;
    --live_;
    dropCancelledFront();
  }
}

std::vector<JobPtr> WaitQueue::expire(uint64_t nowMs) {
  std::vector<JobPtr> expired;
  std::deque<JobPtr> kept;
  for (auto& job : jobs_) {
    if (job->state != Job::State::Queued) {
      continue;  // cancelled: drop now
    }
    if (job->deadlineMs <= nowMs) {
      // No longer queued: a cancel() arriving while the caller answers it must not
      // count it a second time.
      job->state = Job::State::Done;
      expired.push_back(std::move(job));
    } else {
      kept.push_back(std::move(job));
    }
  }
  jobs_ = std::move(kept);
  live_ -= expired.size();
  return expired;
}

std::optional<uint64_t> WaitQueue::earliestDeadline() const {
  std::optional<uint64_t> earliest;
  for (const auto& job : jobs_) {
    if (job->state == Job::State::Queued && (!earliest || job->deadlineMs < *earliest)) {
      earliest = job->deadlineMs;
    }
  }
  return earliest;
}

}  // namespace doorman::upstream
