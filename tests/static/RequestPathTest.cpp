#include "doorman/static/RequestPath.hpp"

#include <gtest/gtest.h>

namespace doorman::statics {
namespace {

PathVerdict verdictOf(std::string_view target, std::string_view prefix = "/") {
  return normalizeRequestPath(target, prefix).verdict;
}

TEST(StaticRequestPath, StripsAPrefixEndingInSlashButKeepsTheLeadingSlash) {
  PathResult r = normalizeRequestPath("/static/css/a.css?v=1", "/static/");
  ASSERT_EQ(r.verdict, PathVerdict::Ok);
  EXPECT_EQ(r.path.relative, "css/a.css");
  EXPECT_EQ(r.path.rawPath, "/static/css/a.css");
  EXPECT_EQ(r.path.query, "?v=1");
  EXPECT_FALSE(r.path.trailingSlash);
  EXPECT_EQ(r.path.lastSegment(), "a.css");
}

TEST(StaticRequestPath, APrefixWithoutSlashOwnsOnlyWholeSegments) {
  PathResult r = normalizeRequestPath("/static/a.css", "/static");
  ASSERT_EQ(r.verdict, PathVerdict::Ok);
  EXPECT_EQ(r.path.relative, "a.css");
  PathResult bare = normalizeRequestPath("/static", "/static");
  ASSERT_EQ(bare.verdict, PathVerdict::Ok);
  EXPECT_EQ(bare.path.relative, "");
  EXPECT_FALSE(bare.path.trailingSlash);
  EXPECT_EQ(verdictOf("/staticx/a.css", "/static"), PathVerdict::NotFound);
  EXPECT_EQ(verdictOf("/other/a.css", "/static/"), PathVerdict::NotFound);
}

TEST(StaticRequestPath, RootAndDirectoriesKeepTheirTrailingSlash) {
  PathResult root = normalizeRequestPath("/", "/");
  ASSERT_EQ(root.verdict, PathVerdict::Ok);
  EXPECT_EQ(root.path.relative, "");
  EXPECT_TRUE(root.path.trailingSlash);
  PathResult dir = normalizeRequestPath("/a//b/", "/");
  ASSERT_EQ(dir.verdict, PathVerdict::Ok);
  EXPECT_EQ(dir.path.relative, "a/b");
  EXPECT_TRUE(dir.path.trailingSlash);
}

TEST(StaticRequestPath, DecodesOnce) {
  PathResult r = normalizeRequestPath("/caf%C3%A9/a%20b%252e", "/");
  ASSERT_EQ(r.verdict, PathVerdict::Ok);
  EXPECT_EQ(r.path.relative, "caf\xC3\xA9/a b%2e");
}

TEST(StaticRequestPath, RefusesWhatCannotNameAFileUnderTheRoot) {
  for (const char* target :
       {"/..", "/a/../b", "/%2e%2e/x", "/.%2E/x", "/./a", "/a/.", "/a%2fb", "/a%2F..%2Fb", "/a%00b",
        "/a\\b", "/a%5cb", "/.env", "/a/.git/x", "relative", "*"}) {
    EXPECT_EQ(verdictOf(target), PathVerdict::NotFound) << target;
  }
  EXPECT_EQ(verdictOf(std::string_view("/a\0b", 4)), PathVerdict::NotFound);
}

TEST(StaticRequestPath, MalformedEscapesAndUtf8AreBadRequests) {
  for (const char* target :
       {"/%", "/%4", "/%g0", "/a%zzb", "/%c0%ae", "/%c0%af", "/%e0%80%ae", "/%f0%80%80%ae",
        "/%ed%a0%80", "/%f4%90%80%80", "/%80", "/%c3", "/%fe"}) {
    EXPECT_EQ(verdictOf(target), PathVerdict::BadRequest) << target;
  }
}

TEST(StaticRequestPath, Utf8ValidationIsStrict) {
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));                      // U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xC0\xAE"));
  EXPECT_FALSE(isValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(isValidUtf8("\xE0\x9F\xBF"));
  EXPECT_FALSE(isValidUtf8("\xED\xBF\xBF"));
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));
  EXPECT_FALSE(isValidUtf8("\xE2\x28\xA1"));
}

TEST(StaticRequestPath, PercentDecodingReportsWhatWentWrong) {
  std::string out;
  EXPECT_EQ(percentDecodePath("/a%41", out), DecodeError::None);
  EXPECT_EQ(out, "/aA");
  EXPECT_EQ(percentDecodePath("/a%2f", out), DecodeError::EncodedSlash);
  EXPECT_EQ(percentDecodePath("/a%00", out), DecodeError::Nul);
  EXPECT_EQ(percentDecodePath("/a%x1", out), DecodeError::BadEscape);
  EXPECT_EQ(percentDecodePath("/a%c0%ae", out), DecodeError::BadUtf8);
  EXPECT_EQ(percentDecodePath("/a+b", out), DecodeError::None);
  EXPECT_EQ(out, "/a+b") << "'+' is not a space in a path";
}

}  // namespace
}  // namespace doorman::statics
