#include "doorman/static/Range.hpp"

#include <gtest/gtest.h>

namespace doorman::statics {
namespace {

void expectRange(std::string_view value, uint64_t size, uint64_t first, uint64_t length) {
  RangeRequest r = parseRange(value, size);
  ASSERT_EQ(r.kind, RangeKind::Satisfiable) << value;
  EXPECT_EQ(r.range.first, first) << value;
  EXPECT_EQ(r.range.length, length) << value;
}

TEST(StaticRange, ParsesTheThreeSingleRangeForms) {
  expectRange("bytes=0-4", 14, 0, 5);
  expectRange("bytes=7-", 14, 7, 7);
  expectRange("bytes=-6", 14, 8, 6);
  expectRange("bytes=13-13", 14, 13, 1);
  expectRange("Bytes = 2-3 ", 14, 2, 2);
  expectRange("bytes=0-4,", 14, 0, 5);
}

TEST(StaticRange, ClipsPastTheEnd) {
  expectRange("bytes=10-1000", 14, 10, 4);
  expectRange("bytes=-1000", 14, 0, 14);
  expectRange("bytes=0-99999999999999999999999", 14, 0, 14);
}

TEST(StaticRange, UnsatisfiableRanges) {
  EXPECT_EQ(parseRange("bytes=14-", 14).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=20-30", 14).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=-0", 14).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=0-", 0).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=-5", 0).kind, RangeKind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=99999999999999999999999-", 14).kind, RangeKind::Unsatisfiable);
}

TEST(StaticRange, IgnoresMalformedValuesAndOtherUnits) {
  for (std::string_view value :
       {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=1-2-3", "bytes= 1 -2",
        "items=0-1", "bytes=0-1,x", "bytes=0-1, 5-3", "bytes=+1-2", "bytes=0x1-2", "bytes=,,"}) {
    EXPECT_EQ(parseRange(value, 14).kind, RangeKind::Ignore) << value;
  }
}

struct MultiCase {
  std::string_view value;
  std::vector<ByteRange> expected;  ///< empty: Unsatisfiable
};

TEST(StaticRange, SeveralRangesKeepTheirOrderOrAreCoalesced) {
  const MultiCase cases[] = {
      {"bytes=0-1,4-5", {{0, 2}, {4, 2}}},
      {"bytes=0-1, -2", {{0, 2}, {12, 2}}},
      {"bytes=10-11,0-1", {{0, 2}, {10, 2}}},           // out of order: sorted
      {"bytes=0-5,3-8", {{0, 9}}},                      // overlapping: merged
      {"bytes=0-1,2-3", {{0, 4}}},                      // touching: merged
      {"bytes=0-,0-,0-,0-", {{0, 14}}},                 // amplification attempt: one range
      {"bytes=0-1,20-30", {{0, 2}}},                    // an unsatisfiable part is dropped
      {"bytes=20-30,40-", {}},                          // none satisfiable: 416
      {"bytes=1-1,3-3,5-5", {{1, 1}, {3, 1}, {5, 1}}},  // apart: kept as asked
  };
  for (const auto& c : cases) {
    RangeRequest r = parseRange(c.value, 14);
    if (c.expected.empty()) {
      EXPECT_EQ(r.kind, RangeKind::Unsatisfiable) << c.value;
      continue;
    }
    ASSERT_EQ(r.kind, RangeKind::Satisfiable) << c.value;
    EXPECT_EQ(r.ranges, c.expected) << c.value;
    EXPECT_EQ(r.range, c.expected.front()) << c.value;
  }
}

TEST(StaticRange, TooManyRangesAreIgnored) {
  std::string value = "bytes=";
  for (size_t i = 0; i <= kMaxRanges; ++i) {
    value += (i == 0 ? "" : ",") + std::to_string(i * 2) + "-" + std::to_string(i * 2);
  }
  EXPECT_EQ(parseRange(value, 1000).kind, RangeKind::Ignore);
  value = value.substr(0, value.rfind(','));
  EXPECT_EQ(parseRange(value, 1000).ranges.size(), kMaxRanges);
}

}  // namespace
}  // namespace doorman::statics
