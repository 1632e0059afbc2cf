#include "doorman/core/BlockPool.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "doorman/core/Body.hpp"
#include "doorman/core/Sanitizer.hpp"

namespace doorman::core {
namespace {

// Each test leaves the thread as it found it: no spares, reuse off.
struct ReuseOn {
  explicit ReuseOn(size_t limit) { blockpool::enableOnThisThread(limit); }
  ~ReuseOn() { blockpool::disableOnThisThread(); }
};

TEST(CoreBlockPool, WithoutReuseEnabledAFreedBlockIsNotKept) {
  ASSERT_EQ(blockpool::spares(), 0u);
  { BlockPtr block = newBlock(); }
  EXPECT_EQ(blockpool::spares(), 0u);
}

TEST(CoreBlockPool, AFreedBlockIsTheNextOneHandedOut) {
  ReuseOn on(4);
  char* first = nullptr;
  {
    BlockPtr block = newBlock();
    first = block.get();
    block[0] = 'a';
    block[kBodyBlockSize - 1] = 'z';  // the whole block is usable
  }
  EXPECT_EQ(blockpool::spares(), 1u);
  BlockPtr again = newBlock();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(blockpool::spares(), 0u);
  again[kBodyBlockSize - 1] = 'y';  // unpoisoned again under ASan
}

#ifdef DOORMAN_ASAN
// A kept block is poisoned: reading one through a stale pointer is still an error.
TEST(CoreBlockPoolDeathTest, AKeptBlockIsPoisonedUnderAsan) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ReuseOn on(4);
        char* stale = nullptr;
        {
          BlockPtr block = newBlock();
          stale = block.get();
        }
        volatile char c = stale[10];
        (void)c;
      },
      "use-after-poison");
}
#endif

TEST(CoreBlockPool, KeepsAtMostItsLimitAndFreesTheRest) {
  ReuseOn on(2);
  {
    BlockPtr a = newBlock();
    BlockPtr b = newBlock();
    BlockPtr c = newBlock();
  }
  EXPECT_EQ(blockpool::spares(), 2u);
  blockpool::disableOnThisThread();
  EXPECT_EQ(blockpool::spares(), 0u);
  { BlockPtr d = newBlock(); }
  EXPECT_EQ(blockpool::spares(), 0u);  // disabled: freed, not kept
}

TEST(CoreBlockPool, OnlyTheThreadThatEnabledItKeepsBlocks) {
  ReuseOn on(4);
  BlockPtr fromHere = newBlock();
  size_t keptThere = 99;
  std::thread other([&] {
    { BlockPtr block = newBlock(); }
    keptThere = blockpool::spares();
    fromHere.reset();  // freed on a thread without reuse: delete[]
  });
  other.join();
  EXPECT_EQ(keptThere, 0u);
  EXPECT_EQ(blockpool::spares(), 0u);
}

TEST(CoreBlockPool, ABodyReleasesItsBlocksForTheNextBody) {
  ReuseOn on(8);
  {
    Body body;
    ASSERT_TRUE(body.append(std::string(Body::kBlockSize + 1, 'x')));  // two blocks
  }
  EXPECT_EQ(blockpool::spares(), 2u);
  Body next;
  ASSERT_TRUE(next.append("hello"));
  EXPECT_EQ(blockpool::spares(), 1u);
  EXPECT_EQ(next.toString(), "hello");  // a reused block holds only the new bytes
}

}  // namespace
}  // namespace doorman::core
