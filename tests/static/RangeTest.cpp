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

TEST(StaticRange, IgnoresMalformedOtherUnitsAndSeveralRanges) {
  for (std::string_view value :
       {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=1-2-3", "bytes= 1 -2",
        "items=0-1", "bytes=0-1,3-4", "bytes=0-1, -2", "bytes=+1-2", "bytes=0x1-2"}) {
    EXPECT_EQ(parseRange(value, 14).kind, RangeKind::Ignore) << value;
  }
}

}  // namespace
}  // namespace doorman::statics
