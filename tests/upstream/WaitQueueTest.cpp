#include "doorman/upstream/WaitQueue.hpp"

#include <gtest/gtest.h>

namespace doorman::upstream {
namespace {

JobPtr job(uint64_t id, uint64_t deadline) {
  auto j = std::make_shared<Job>();
  j->id = id;
  j->deadlineMs = deadline;
  return j;
}

TEST(UpstreamWaitQueue, HandsOutJobsInArrivalOrder) {
  WaitQueue q;
  q.pushBack(job(1, 100));
  q.pushBack(job(2, 100));
  q.pushBack(job(3, 100));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.popFront()->id, 1u);
  EXPECT_EQ(q.popFront()->id, 2u);
  EXPECT_EQ(q.popFront()->id, 3u);
  EXPECT_EQ(q.popFront(), nullptr);
  EXPECT_TRUE(q.empty());
}

TEST(UpstreamWaitQueue, ReplaysGoToTheFront) {
  WaitQueue q;
  q.pushBack(job(1, 100));
  q.pushFront(job(9, 100));
  EXPECT_EQ(q.popFront()->id, 9u);
  EXPECT_EQ(q.popFront()->id, 1u);
}

TEST(UpstreamWaitQueue, CancelledJobsNoLongerCountAndAreSkipped) {
  WaitQueue q;
  auto a = job(1, 100);
  auto b = job(2, 100);
  auto c = job(3, 100);
  q.pushBack(a);
  q.pushBack(b);
  q.pushBack(c);
  q.cancel(*b);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(b->state, Job::State::Cancelled);
  EXPECT_EQ(q.popFront()->id, 1u);
  EXPECT_EQ(q.popFront()->id, 3u);
  EXPECT_TRUE(q.empty());
}

TEST(UpstreamWaitQueue, CancellingTwiceOrAfterDispatchChangesNothing) {
  WaitQueue q;
  auto a = job(1, 100);
  q.pushBack(a);
  auto popped = q.popFront();
  popped->state = Job::State::InFlight;
  q.cancel(*a);
  EXPECT_EQ(a->state, Job::State::InFlight);
  EXPECT_EQ(q.size(), 0u);
}

TEST(UpstreamWaitQueue, ExpireRemovesOnlyJobsPastTheirDeadline) {
  WaitQueue q;
  q.pushBack(job(1, 50));
  q.pushBack(job(2, 200));
  q.pushBack(job(3, 100));
  auto expired = q.expire(100);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0]->id, 1u);
  EXPECT_EQ(expired[1]->id, 3u);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.earliestDeadline(), 200u);
  EXPECT_EQ(q.popFront()->id, 2u);
}

TEST(UpstreamWaitQueue, EarliestDeadlineIgnoresCancelledJobs) {
  WaitQueue q;
  auto a = job(1, 10);
  q.pushBack(a);
  q.pushBack(job(2, 30));
  EXPECT_EQ(q.earliestDeadline(), 10u);
  q.cancel(*a);
  EXPECT_EQ(q.earliestDeadline(), 30u);
  q.popFront();
  EXPECT_FALSE(q.earliestDeadline().has_value());
}

}  // namespace
}  // namespace doorman::upstream
