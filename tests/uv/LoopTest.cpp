#include "doorman/uv/Loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "doorman/uv/Timer.hpp"

namespace doorman::uv {
namespace {

struct Counter final : Deletable {
  explicit Counter(int& d) : destroyed(d) {}
  ~Counter() override { ++destroyed; }
  int& destroyed;
};

struct Fire final : TimerListener {
  void onTimer() override { ++fired; }
  int fired = 0;
};

TEST(UvLoop, DeferredObjectsDieAfterTheCurrentCallback) {
  Loop loop;
  int destroyed = 0;
  struct Deleter final : TimerListener {
    Loop* loop = nullptr;
    int* destroyed = nullptr;
    int seenInside = -1;
    void onTimer() override {
      loop->deferDelete(std::make_unique<Counter>(*destroyed));
      seenInside = *destroyed;
    }
  } deleter;
  deleter.loop = &loop;
  deleter.destroyed = &destroyed;
  Timer timer(loop, deleter);
  timer.start(0);
  loop.run();
  EXPECT_EQ(deleter.seenInside, 0);
  EXPECT_EQ(destroyed, 1);
}

TEST(UvLoop, ClosedHandlesAreFreedAndNoneStayAlive) {
  Loop loop;
  Fire fire;
  {
    Timer timer(loop, fire);
    timer.start(1);
    loop.run();
    EXPECT_EQ(fire.fired, 1);
  }
  loop.run();  // lets the close callback free the timer
  // Only the loop's own deferred-deletion idle handle remains.
  EXPECT_EQ(loop.liveHandleCount(), 1u);
}

TEST(UvLoop, HandleOwnerIsClearedWhenTheHandleIsClosed) {
  Loop loop;
  Fire fire;
  auto timer = std::make_unique<Timer>(loop, fire);
  timer->start(0);
  timer.reset();  // closes before the timer could fire
  loop.run();
  EXPECT_EQ(fire.fired, 0);
}

struct NumberedTask final : Task {
  NumberedTask(std::vector<int>& o, int n)
      : Task([](Task& t) {
          auto& self = static_cast<NumberedTask&>(t);
          self.order.push_back(self.number);
        }),
        order(o),
        number(n) {}
  std::vector<int>& order;
  int number;
};

TEST(UvLoopTask, PostedTasksRunOnTheNextTurnInOrderAndNeverInsidePost) {
  Loop loop;
  std::vector<int> order;
  NumberedTask a(order, 1);
  NumberedTask b(order, 2);
  loop.post(a);
  loop.post(b);
  loop.post(a);  // already pending: still once, in its first place
  EXPECT_TRUE(order.empty());
  EXPECT_TRUE(a.pending());
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_FALSE(a.pending());
  EXPECT_FALSE(b.pending());
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(order.size(), 2u) << "a task runs once per post";
}

TEST(UvLoopTask, CancelledOrDestroyedTasksDoNotRunAndTheOthersDo) {
  Loop loop;
  std::vector<int> order;
  NumberedTask first(order, 1);
  NumberedTask middle(order, 2);
  NumberedTask last(order, 3);
  auto gone = std::make_unique<NumberedTask>(order, 4);
  loop.post(first);
  loop.post(*gone);
  loop.post(middle);
  loop.post(last);
  middle.cancel();
  gone.reset();
  first.cancel();
  EXPECT_FALSE(middle.pending());
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(order, (std::vector<int>{3}));
  first.cancel();  // not pending: nothing to do
  loop.post(first);
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(order, (std::vector<int>{3, 1}));
}

TEST(UvLoopTask, ATaskPostedByATaskRunsInTheSameTurnWithoutRecursion) {
  Loop loop;
  struct Chain final : Task {
    explicit Chain(Loop& l)
        : Task([](Task& t) {
            auto& self = static_cast<Chain&>(t);
            ++self.runs;
            self.maxDepth = std::max(self.maxDepth, ++self.depth);
            if (self.runs < 1000) {
              self.loop.post(self);  // itself again, from inside its own run
            }
            --self.depth;
          }),
          loop(l) {}
    Loop& loop;
    int runs = 0;
    int depth = 0;
    int maxDepth = 0;
  } chain(loop);
  loop.post(chain);
  uv_run(loop.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(chain.runs, 1000);
  EXPECT_EQ(chain.maxDepth, 1);
}

TEST(UvLoopTask, APendingTaskKeepsTheLoopRunningUntilItRan) {
  Loop loop;
  std::vector<int> order;
  NumberedTask task(order, 7);
  loop.post(task);
  EXPECT_NE(uv_loop_alive(loop.raw()), 0);
  loop.run();  // no other handle: returns once the task ran
  EXPECT_EQ(order, (std::vector<int>{7}));
  EXPECT_EQ(uv_loop_alive(loop.raw()), 0);
}

TEST(UvLoopTask, TasksAndDeferredDeletionsBothRun) {
  Loop loop;
  int destroyed = 0;
  struct Both final : Task {
    Both(Loop& l, int& d)
        : Task([](Task& t) {
            auto& self = static_cast<Both&>(t);
            self.loop.deferDelete(std::make_unique<Counter>(self.destroyed));
          }),
          loop(l),
          destroyed(d) {}
    Loop& loop;
    int& destroyed;
  } both(loop, destroyed);
  loop.post(both);
  loop.run();
  EXPECT_EQ(destroyed, 1);
}

/// A request still on the thread pool when the loop is destroyed (a page-cache warm-up of
/// a connection that was aborted at exit): the destructor waits for it and runs its
/// callback, because the pool thread that finishes it signals the loop's memory.
TEST(UvLoop, TheDestructorWaitsForWorkStillOnTheThreadPool) {
  struct Work {
    uv_work_t req{};
    std::atomic<bool> ran{false};
    bool after = false;
  };
  auto work = std::make_unique<Work>();
  work->req.data = work.get();
  {
    Loop loop;
    ASSERT_EQ(uv_queue_work(
                  loop.raw(), &work->req,
                  [](uv_work_t* r) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    static_cast<Work*>(r->data)->ran = true;
                  },
                  [](uv_work_t* r, int) { static_cast<Work*>(r->data)->after = true; }),
              0);
  }
  EXPECT_TRUE(work->ran);
  EXPECT_TRUE(work->after) << "the loop closed with the request still out";
}

}  // namespace
}  // namespace doorman::uv
