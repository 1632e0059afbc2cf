#include "doorman/core/Body.hpp"

#include <gtest/gtest.h>

#include <string>

namespace doorman::core {
namespace {

TEST(CoreBody, KeepsBytesInOrderAcrossBlocks) {
  Body body;
  std::string data;
  for (int i = 0; i < 100000; ++i) {
    data.push_back(static_cast<char>('a' + i % 26));
  }
  ASSERT_TRUE(body.append(std::string_view(data).substr(0, 7)));
  ASSERT_TRUE(body.append(std::string_view(data).substr(7)));
  EXPECT_EQ(body.size(), data.size());
  EXPECT_EQ(body.toString(), data);
  size_t total = 0;
  for (size_t i = 0; i < body.pieceCount(); ++i) {
    EXPECT_FALSE(body.piece(i).isFile());
    total += body.piece(i).size();
  }
  EXPECT_EQ(total, data.size());
}

TEST(CoreBody, ReservesWholeBlocksFromTheBudgetAndReturnsThem) {
  MemoryBudget budget(1 << 20);
  {
    Body body(&budget);
    ASSERT_TRUE(body.append("x"));
    EXPECT_EQ(budget.used(), Body::kBlockSize);
    ASSERT_TRUE(body.append(std::string(Body::kBlockSize, 'y')));
    EXPECT_EQ(budget.used(), 2 * Body::kBlockSize);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(CoreBody, RefusesToGrowPastTheBudget) {
  MemoryBudget budget(Body::kBlockSize);
  Body body(&budget);
  EXPECT_TRUE(body.append(std::string(Body::kBlockSize, 'a')));
  EXPECT_FALSE(body.append("b"));
  EXPECT_EQ(body.size(), Body::kBlockSize);
  body.clear();
  EXPECT_EQ(budget.used(), 0u);
}

TEST(CoreBody, MovingTransfersOwnershipOfTheReservation) {
  MemoryBudget budget(1 << 20);
  Body a(&budget);
  ASSERT_TRUE(a.append("hello"));
  Body b(std::move(a));
  EXPECT_EQ(b.toString(), "hello");
  EXPECT_EQ(budget.used(), Body::kBlockSize);
  Body c;
  c = std::move(b);
  EXPECT_EQ(c.toString(), "hello");
  c.clear();
  EXPECT_EQ(budget.used(), 0u);
}

/// A move-assignment into a body that holds blocks gives them back first, and the source
/// (a parser's body lives on across messages) is empty and takes new bytes with the same
/// accounting: nothing of either body is kept twice or lost.
TEST(CoreBody, MoveAssigningOverABodyReleasesItAndLeavesTheSourceReusable) {
  MemoryBudget budget(1 << 20);
  Body target(&budget);
  ASSERT_TRUE(target.append(std::string(Body::kBlockSize + 1, 't')));  // two blocks
  Body source(&budget);
  ASSERT_TRUE(source.append("first"));
  EXPECT_EQ(budget.used(), 3 * Body::kBlockSize);

  target = std::move(source);
  EXPECT_EQ(target.toString(), "first");
  EXPECT_EQ(budget.used(), Body::kBlockSize);
  EXPECT_TRUE(source.empty());
  EXPECT_EQ(source.pieceCount(), 0u);
  ASSERT_TRUE(source.append("second"));
  EXPECT_EQ(source.toString(), "second");
  EXPECT_EQ(budget.used(), 2 * Body::kBlockSize);

  source = std::move(target);  // back the other way, over a non-empty body again
  EXPECT_EQ(source.toString(), "first");
  EXPECT_EQ(budget.used(), Body::kBlockSize);
  source.clear();
  target.clear();
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(source.empty());
}

TEST(CoreMemoryBudget, NeverReservesPastItsLimitAndTracksThePeak) {
  MemoryBudget budget(100);
  EXPECT_TRUE(budget.tryReserve(60));
  EXPECT_FALSE(budget.tryReserve(41));
  EXPECT_TRUE(budget.tryReserve(40));
  EXPECT_EQ(budget.used(), 100u);
  budget.release(100);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_EQ(budget.peak(), 100u);
}

TEST(CoreMemoryBudget, ForcedBytesAreCountedAndRefuseWhatComesNext) {
  MemoryBudget budget(100);
  EXPECT_TRUE(budget.tryReserve(90));
  budget.forceReserve(30);  // bytes that already exist: counted past the limit
  EXPECT_EQ(budget.used(), 120u);
  EXPECT_EQ(budget.peak(), 120u);
  EXPECT_FALSE(budget.tryReserve(1)) << "over the limit, nothing more fits";
  budget.release(30);
  EXPECT_FALSE(budget.tryReserve(11));
  EXPECT_TRUE(budget.tryReserve(10));
  budget.release(100);
  EXPECT_EQ(budget.used(), 0u);
}

/// Holds `held` bytes of the budget and gives back what it is asked for.
class HoldingReclaimer final : public MemoryReclaimer {
 public:
  explicit HoldingReclaimer(MemoryBudget& budget) : budget_(budget) {}
  void hold(uint64_t bytes) {
    budget_.forceReserve(bytes);
    held_ += bytes;
  }
  void reclaim(uint64_t bytes) noexcept override {
    uint64_t given = bytes < held_ ? bytes : held_;
    held_ -= given;
    budget_.release(given);
  }
  uint64_t held() const { return held_; }

 private:
  MemoryBudget& budget_;
  uint64_t held_ = 0;
};

TEST(CoreMemoryBudget, RoomTheReclaimerHoldsCountsAsRoom) {
  MemoryBudget budget(100);
  EXPECT_TRUE(budget.hasRoomFor(100));
  EXPECT_FALSE(budget.hasRoomFor(101));
  ASSERT_TRUE(budget.tryReserve(50));
  HoldingReclaimer cache(budget);
  cache.hold(45);
  EXPECT_TRUE(budget.hasRoomFor(5)) << "fits without reclaiming";
  EXPECT_EQ(cache.held(), 45u);
  EXPECT_FALSE(budget.hasRoomFor(6)) << "no reclaimer yet: 95 of 100 used";
  budget.setReclaimer(&cache);
  EXPECT_TRUE(budget.hasRoomFor(20));
  EXPECT_EQ(cache.held(), 30u) << "it gave up just what was missing";
  EXPECT_EQ(budget.used(), 80u) << "and nothing was reserved";
  EXPECT_FALSE(budget.hasRoomFor(51)) << "the other 50 are not the reclaimer's";
  EXPECT_EQ(cache.held(), 0u);
  EXPECT_TRUE(budget.hasRoomFor(50));
}

}  // namespace
}  // namespace doorman::core
