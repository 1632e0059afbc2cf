#include "doorman/server/IdleTimeouts.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace doorman::server {
namespace {

struct Entry : TimeoutLink {
  explicit Entry(int n) : id(n) {}
  int id;
};

int idOf(TimeoutLink* link) { return link == nullptr ? -1 : static_cast<Entry*>(link)->id; }

TEST(TimeoutList, ExpiresInTheOrderEntriesWereAppended) {
  TimeoutList list;
  Entry a(1), b(2), c(3);
  list.append(a, 100);
  list.append(b, 150);
  list.append(c, 150);
  EXPECT_EQ(list.nextExpiry(50), 150u);
  EXPECT_EQ(idOf(list.popExpired(149, 50)), -1);  // fake clock: nothing due yet
  EXPECT_EQ(idOf(list.popExpired(150, 50)), 1);
  EXPECT_FALSE(a.linked());
  EXPECT_EQ(idOf(list.popExpired(199, 50)), -1);
  EXPECT_EQ(idOf(list.popExpired(200, 50)), 2);
  EXPECT_EQ(idOf(list.popExpired(200, 50)), 3);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.popExpired(1000, 50), nullptr);
}

TEST(TimeoutList, AppendingAgainMovesAnEntryToTheTail) {
  TimeoutList list;
  Entry a(1), b(2);
  list.append(a, 0);
  list.append(b, 10);
  list.append(a, 20);  // became idle again: its wait starts over
  EXPECT_EQ(idOf(list.oldest()), 2);
  EXPECT_EQ(idOf(list.popExpired(30, 20)), 2);
  EXPECT_EQ(idOf(list.popExpired(30, 20)), -1);
  EXPECT_EQ(idOf(list.popExpired(40, 20)), 1);
}

TEST(TimeoutList, UnlinkAnywhereAndTwice) {
  TimeoutList list;
  Entry a(1), b(2), c(3);
  list.append(a, 0);
  list.append(b, 1);
  list.append(c, 2);
  b.unlink();  // from the middle
  b.unlink();  // a no-op
  EXPECT_FALSE(b.linked());
  a.unlink();  // the head
  EXPECT_EQ(idOf(list.oldest()), 3);
  c.unlink();  // the last one
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.oldest(), nullptr);
}

TEST(TimeoutList, EntriesAndListMayDieInEitherOrder) {
  auto list = std::make_unique<TimeoutList>();
  auto early = std::make_unique<Entry>(1);
  Entry late(2);
  list->append(*early, 0);
  list->append(late, 0);
  early.reset();  // unlinks itself
  EXPECT_EQ(idOf(list->oldest()), 2);
  list.reset();  // unlinks what is left
  EXPECT_FALSE(late.linked());
}

struct Recorder final : IdleTimeoutListener {
  void onIdleExpired(TimeoutLink& link) override { expired.push_back(idOf(&link)); }
  std::vector<int> expired;
};

TEST(IdleTimeouts, OneTimerExpiresBothListsAndStopsWhenThereIsNothingLeft) {
  uv::Loop loop;
  auto gen = std::make_shared<Generation>();
  gen->config.timeouts.header = config::Millis(5);
  gen->config.timeouts.keepalive = config::Millis(30);
  GenerationPtr current = gen;
  Recorder recorder;
  {
    IdleTimeouts idle(loop, current, recorder);
    Entry keepA(1), first(2), keepB(3), removed(4);
    idle.watch(keepA, IdleTimeouts::Kind::KeepAlive);
    idle.watch(first, IdleTimeouts::Kind::FirstRequest);
    idle.watch(keepB, IdleTimeouts::Kind::KeepAlive);
    idle.watch(removed, IdleTimeouts::Kind::KeepAlive);
    removed.unlink();  // it got a request: never reported
    loop.run();        // returns once the timer is no longer armed
    EXPECT_FALSE(keepA.linked());
    EXPECT_FALSE(keepB.linked());
  }
  loop.run();  // the timer handle's close
  // The first request's shorter timeout comes first; each list in its own order.
  EXPECT_EQ(recorder.expired, (std::vector<int>{2, 1, 3}));
}

}  // namespace
}  // namespace doorman::server
