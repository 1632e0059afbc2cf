// uv::Timer re-arms libuv's timer lazily; these check that the listener still sees
// exactly the eager semantics: the last start() wins, stop() wins, and a stopped timer
// that libuv still holds does not keep the loop alive.
#include "doorman/uv/Timer.hpp"

#include <gtest/gtest.h>

#include "doorman/uv/Loop.hpp"

namespace doorman::uv {
namespace {

struct Fire final : TimerListener {
  void onTimer() override {
    ++fired;
    firedAt = uv_now(loop);
  }
  uv_loop_t* loop = nullptr;
  int fired = 0;
  uint64_t firedAt = 0;
};

class UvTimer : public ::testing::Test {
 protected:
  void SetUp() override { fire_.loop = loop_.raw(); }
  Loop loop_;
  Fire fire_;
};

TEST_F(UvTimer, ADeadlineMovedLaterFiresOnceAtTheLaterDeadline) {
  Timer timer(loop_, fire_);
  uint64_t t0 = uv_now(loop_.raw());
  timer.start(1);
  timer.start(30);  // later: libuv stays armed for 1 ms, then is armed for the rest
  loop_.run();
  EXPECT_EQ(fire_.fired, 1);
  EXPECT_GE(fire_.firedAt, t0 + 30) << "never before the last start()'s deadline";
  EXPECT_FALSE(timer.active());
}

TEST_F(UvTimer, ADeadlineMovedEarlierFiresAtTheEarlierOne) {
  Timer timer(loop_, fire_);
  timer.start(600000);
  timer.start(0);
  EXPECT_TRUE(timer.active());
  loop_.run();  // would take ten minutes if the first arming were kept
  EXPECT_EQ(fire_.fired, 1);
}

TEST_F(UvTimer, AStoppedTimerNeverFiresAndDoesNotKeepTheLoopAlive) {
  Timer timer(loop_, fire_);
  timer.start(0);
  timer.start(600000);  // armed at 0 in libuv, due in ten minutes
  uv_run(loop_.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(fire_.fired, 0);
  EXPECT_TRUE(timer.active());
  EXPECT_NE(uv_loop_alive(loop_.raw()), 0) << "a started timer keeps the loop alive";
  timer.stop();
  EXPECT_FALSE(timer.active());
  EXPECT_EQ(uv_loop_alive(loop_.raw()), 0) << "libuv's timer is still armed, unreferenced";
  loop_.run();
  EXPECT_EQ(fire_.fired, 0);

  timer.start(1);
  timer.stop();
  loop_.run();
  EXPECT_EQ(fire_.fired, 0);
}

TEST_F(UvTimer, RestartedAfterAStopOrAFireItFiresAgain) {
  Timer timer(loop_, fire_);
  timer.start(600000);
  timer.stop();
  timer.start(0);
  loop_.run();
  EXPECT_EQ(fire_.fired, 1);
  timer.start(0);
  loop_.run();
  EXPECT_EQ(fire_.fired, 2);
}

TEST_F(UvTimer, RestartedFromItsOwnCallback) {
  struct Again final : TimerListener {
    void onTimer() override {
      if (++fired < 3) {
        timer->start(1);
      }
    }
    Timer* timer = nullptr;
    int fired = 0;
  } again;
  Timer timer(loop_, again);
  again.timer = &timer;
  timer.start(0);
  loop_.run();
  EXPECT_EQ(again.fired, 3);
}

}  // namespace
}  // namespace doorman::uv
