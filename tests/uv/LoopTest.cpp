#include "doorman/uv/Loop.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace doorman::uv
