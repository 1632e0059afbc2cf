#include "doorman/static/Validators.hpp"

#include <gtest/gtest.h>

#include "doorman/http/Serializer.hpp"
#include "doorman/static/MimeTypes.hpp"

namespace doorman::statics {
namespace {

TEST(StaticValidators, EtagIsHexMtimeDashHexSize) {
  EXPECT_EQ(makeEtag(1700000000, 14), "\"6553f100-e\"");
  EXPECT_EQ(makeEtag(0, 0), "\"0-0\"");
  EXPECT_EQ(makeEtag(1700000000, 14, "br"), "\"6553f100-e-br\"");
  EXPECT_EQ(makeEtag(1700000000, 14, "gzip"), "\"6553f100-e-gzip\"");
}

TEST(StaticValidators, IfMatchUsesStrongComparison) {
  const std::string etag = "\"abc-1\"";
  EXPECT_TRUE(ifMatchHits("\"abc-1\"", etag));
  EXPECT_TRUE(ifMatchHits("\"x\", \"abc-1\"", etag));
  EXPECT_TRUE(ifMatchHits("*", etag));
  EXPECT_FALSE(ifMatchHits("W/\"abc-1\"", etag)) << "a weak tag never matches strongly";
  EXPECT_FALSE(ifMatchHits("\"abc-2\"", etag));
  EXPECT_FALSE(ifMatchHits("", etag));
  EXPECT_FALSE(ifMatchHits("junk, \"abc-1\"", etag));
}

TEST(StaticValidators, IfNoneMatchUsesWeakComparison) {
  const std::string etag = "\"abc-1\"";
  EXPECT_TRUE(ifNoneMatchHits("\"abc-1\"", etag));
  EXPECT_TRUE(ifNoneMatchHits("W/\"abc-1\"", etag));
  EXPECT_TRUE(ifNoneMatchHits("\"x\", W/\"y\",\"abc-1\"", etag));
  EXPECT_TRUE(ifNoneMatchHits(" , \"abc-1\" ,", etag));
  EXPECT_TRUE(ifNoneMatchHits("*", etag));
  EXPECT_TRUE(ifNoneMatchHits(" * ", etag));
  EXPECT_TRUE(ifNoneMatchHits("\"a,b\", \"abc-1\"", etag)) << "commas may sit inside a tag";
  EXPECT_FALSE(ifNoneMatchHits("\"abc-2\"", etag));
  EXPECT_FALSE(ifNoneMatchHits("abc-1", etag));
  EXPECT_FALSE(ifNoneMatchHits("\"abc-1", etag));
  EXPECT_FALSE(ifNoneMatchHits("", etag));
  EXPECT_FALSE(ifNoneMatchHits("w/\"abc-1\"", etag)) << "W/ is case-sensitive";
  EXPECT_FALSE(ifNoneMatchHits("junk, \"abc-1\"", etag)) << "a malformed element ends the list";
}

TEST(StaticValidators, StrongComparisonRejectsWeakTags) {
  EXPECT_TRUE(strongEtagMatch("\"a\"", "\"a\""));
  EXPECT_FALSE(strongEtagMatch("W/\"a\"", "\"a\""));
  EXPECT_FALSE(strongEtagMatch("\"a\"", "W/\"a\""));
  EXPECT_FALSE(strongEtagMatch("\"a\"", "\"b\""));
  EXPECT_TRUE(looksLikeEtag("\"a\""));
  EXPECT_TRUE(looksLikeEtag("W/\"a\""));
  EXPECT_FALSE(looksLikeEtag("Sun, 06 Nov 1994 08:49:37 GMT"));
}

TEST(StaticValidators, ParsesAllThreeHttpDateForms) {
  constexpr int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), k1994);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), k1994);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), k1994);
  EXPECT_EQ(parseHttpDate(" Sun, 06 Nov 1994 08:49:37 GMT "), k1994);
  EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parseHttpDate("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000);
}

TEST(StaticValidators, RoundTripsFormatHttpDate) {
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{1700000000}, int64_t{4102444799}}) {
    EXPECT_EQ(parseHttpDate(http::formatHttpDate(t)), t) << t;
  }
}

TEST(StaticValidators, RejectsMalformedDates) {
  for (std::string_view text :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT", "Thu, 29 Feb 2023 12:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTx", "Xyz, 06 Nov 1994 08:49:37 GMT", "1700000000"}) {
    EXPECT_FALSE(parseHttpDate(text).has_value()) << text;
  }
}

TEST(StaticMimeTypes, KnowsTheCommonWebTypes) {
  EXPECT_EQ(mimeTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("a/b/STYLE.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("app.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("logo.svg"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(mimeTypeFor("photo.jpeg"), "image/jpeg");
  EXPECT_EQ(mimeTypeFor("font.woff2"), "font/woff2");
  EXPECT_EQ(mimeTypeFor("mod.wasm"), "application/wasm");
  EXPECT_EQ(mimeTypeFor("clip.webm"), "video/webm");
}

TEST(StaticMimeTypes, UnknownOrMissingExtensionsAreOctetStream) {
  EXPECT_EQ(mimeTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("archive.doorman-unknown"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("trailing."), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor("dir.html/file"), "application/octet-stream");
  EXPECT_EQ(mimeTypeFor(""), "application/octet-stream");
}

}  // namespace
}  // namespace doorman::statics
