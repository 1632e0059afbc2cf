#include "doorman/core/Units.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace doorman::core {
namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = KiB * 1024;
constexpr uint64_t GiB = MiB * 1024;
constexpr uint64_t TiB = GiB * 1024;

TEST(UnitsParseSize, PlainNumberIsBytes) {
  EXPECT_EQ(parseSize("0"), 0u);
  EXPECT_EQ(parseSize("512"), 512u);
  EXPECT_EQ(parseSize("512B"), 512u);
  EXPECT_EQ(parseSize("007"), 7u);
}

TEST(UnitsParseSize, DecimalPrefixesArePowersOfAThousand) {
  EXPECT_EQ(parseSize("1K"), 1000u);
  EXPECT_EQ(parseSize("1KB"), 1000u);
  EXPECT_EQ(parseSize("10MB"), 10'000'000u);
  EXPECT_EQ(parseSize("2G"), 2'000'000'000u);
  EXPECT_EQ(parseSize("3TB"), 3'000'000'000'000u);
}

TEST(UnitsParseSize, BinaryPrefixesArePowersOf1024) {
  EXPECT_EQ(parseSize("64KiB"), 64 * KiB);
  EXPECT_EQ(parseSize("100MiB"), 100 * MiB);
  EXPECT_EQ(parseSize("4GiB"), 4 * GiB);
  EXPECT_EQ(parseSize("2TiB"), 2 * TiB);
}

TEST(UnitsParseSize, UnitsAreCaseInsensitive) {
  EXPECT_EQ(parseSize("64kib"), 64 * KiB);
  EXPECT_EQ(parseSize("64KIB"), 64 * KiB);
  EXPECT_EQ(parseSize("10mb"), 10'000'000u);
  EXPECT_EQ(parseSize("1k"), 1000u);
  EXPECT_EQ(parseSize("5b"), 5u);
}

TEST(UnitsParseSize, SpacesBetweenNumberAndUnitAndAroundAreAllowed) {
  EXPECT_EQ(parseSize("64 KiB"), 64 * KiB);
  EXPECT_EQ(parseSize("64\tKiB"), 64 * KiB);
  EXPECT_EQ(parseSize("  64KiB  "), 64 * KiB);
}

TEST(UnitsParseSize, RejectsEmptyNegativeFractionAndJunk) {
  EXPECT_FALSE(parseSize(""));
  EXPECT_FALSE(parseSize("   "));
  EXPECT_FALSE(parseSize("-1"));
  EXPECT_FALSE(parseSize("+1"));
  EXPECT_FALSE(parseSize("1.5MiB"));
  EXPECT_FALSE(parseSize("KiB"));
  EXPECT_FALSE(parseSize("10 K iB"));
  EXPECT_FALSE(parseSize("10XB"));
  EXPECT_FALSE(parseSize("10Ki"));
  EXPECT_FALSE(parseSize("10PB"));
  EXPECT_FALSE(parseSize("1_000"));
  EXPECT_FALSE(parseSize("0x10"));
  EXPECT_FALSE(parseSize("10 MiB extra"));
}

TEST(UnitsParseSize, AcceptsTheLargestValueAndRejectsOverflow) {
  EXPECT_EQ(parseSize("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(parseSize("18446744073709551616"));
  EXPECT_FALSE(parseSize("99999999999999999999999"));
  EXPECT_EQ(parseSize("16777215TiB"), 16777215 * TiB);
  EXPECT_FALSE(parseSize("16777216TiB"));
  EXPECT_FALSE(parseSize("18446744073709551615KB"));
}

TEST(UnitsParseDuration, EachUnit) {
  EXPECT_EQ(parseDuration("2000us"), Millis{2});
  EXPECT_EQ(parseDuration("500ms"), Millis{500});
  EXPECT_EQ(parseDuration("30s"), Millis{30'000});
  EXPECT_EQ(parseDuration("2m"), Millis{120'000});
  EXPECT_EQ(parseDuration("1h"), Millis{3'600'000});
  EXPECT_EQ(parseDuration("1d"), Millis{86'400'000});
  EXPECT_EQ(parseDuration("0s"), Millis{0});
}

TEST(UnitsParseDuration, SumsOfPartsAddUp) {
  EXPECT_EQ(parseDuration("1m30s"), Millis{90'000});
  EXPECT_EQ(parseDuration("1h1m1s1ms"), Millis{3'661'001});
  EXPECT_EQ(parseDuration("1m 30s"), Millis{90'000});
  EXPECT_EQ(parseDuration("30 s"), Millis{30'000});
  EXPECT_EQ(parseDuration("1s1s"), Millis{2'000});
}

TEST(UnitsParseDuration, RoundsUpToWholeMilliseconds) {
  EXPECT_EQ(parseDuration("250us"), Millis{1});
  EXPECT_EQ(parseDuration("1us"), Millis{1});
  EXPECT_EQ(parseDuration("1000us"), Millis{1});
  EXPECT_EQ(parseDuration("1001us"), Millis{2});
  EXPECT_EQ(parseDuration("1s1us"), Millis{1001});
}

TEST(UnitsParseDuration, RejectsBareNumbersBecauseTheUnitIsNotGuessable) {
  EXPECT_FALSE(parseDuration("30"));
  EXPECT_FALSE(parseDuration("0"));
  EXPECT_FALSE(parseDuration("1m30"));
}

TEST(UnitsParseDuration, RejectsNegativesFractionsUnknownUnitsAndEmpty) {
  EXPECT_FALSE(parseDuration(""));
  EXPECT_FALSE(parseDuration("-1s"));
  EXPECT_FALSE(parseDuration("1.5s"));
  EXPECT_FALSE(parseDuration("5 minutes"));
  EXPECT_FALSE(parseDuration("1w"));
  EXPECT_FALSE(parseDuration("s"));
  EXPECT_FALSE(parseDuration("abc"));
  EXPECT_FALSE(parseDuration("10S"));  // units are lower case: "M" could be months
  EXPECT_FALSE(parseDuration("1M"));
}

TEST(UnitsParseDuration, RejectsOverflow) {
  EXPECT_FALSE(parseDuration("18446744073709551616us"));
  EXPECT_FALSE(parseDuration("999999999999999999d"));
  EXPECT_FALSE(parseDuration("18446744073709551615us1us"));
  EXPECT_EQ(parseDuration("18446744073709551615us"), Millis{18446744073709552});
  EXPECT_EQ(parseDuration("213503982d"), Millis{213503982LL * 86'400'000});
  EXPECT_FALSE(parseDuration("213503983d"));
}

TEST(UnitsFormatSize, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatSize(0), "0");
  EXPECT_EQ(formatSize(100), "100");
  EXPECT_EQ(formatSize(1023), "1023");
  EXPECT_EQ(formatSize(64 * KiB), "64KiB");
  EXPECT_EQ(formatSize(MiB), "1MiB");
  EXPECT_EQ(formatSize(256 * MiB), "256MiB");
  EXPECT_EQ(formatSize(4 * GiB), "4GiB");
  EXPECT_EQ(formatSize(3 * TiB), "3TiB");
  EXPECT_EQ(formatSize(1536 * KiB), "1536KiB");
  EXPECT_EQ(formatSize(10'000'000), "10MB");
  EXPECT_EQ(formatSize(1000), "1KB");
}

TEST(UnitsFormatSize, RoundTripsThroughParseSize) {
  for (uint64_t bytes :
       {uint64_t{0}, uint64_t{1}, uint64_t{999}, uint64_t{1000}, 64 * KiB, uint64_t{10'000'000},
        5 * TiB, 1234567 * TiB, std::numeric_limits<uint64_t>::max()}) {
    EXPECT_EQ(parseSize(formatSize(bytes)), bytes) << formatSize(bytes);
  }
}

TEST(UnitsFormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(Millis{0}), "0ms");
  EXPECT_EQ(formatDuration(Millis{1}), "1ms");
  EXPECT_EQ(formatDuration(Millis{1500}), "1500ms");
  EXPECT_EQ(formatDuration(Millis{30'000}), "30s");
  EXPECT_EQ(formatDuration(Millis{90'000}), "90s");
  EXPECT_EQ(formatDuration(Millis{120'000}), "2m");
  EXPECT_EQ(formatDuration(Millis{3'600'000}), "1h");
  EXPECT_EQ(formatDuration(Millis{2 * 86'400'000}), "2d");
}

TEST(UnitsFormatDuration, RoundTripsThroughParseDuration) {
  for (int64_t ms :
       {0LL, 1LL, 999LL, 1000LL, 61'000LL, 3'600'000LL, 86'400'001LL, 18446744073709551LL}) {
    EXPECT_EQ(parseDuration(formatDuration(Millis{ms})), Millis{ms}) << ms;
  }
}

}  // namespace
}  // namespace doorman::core
