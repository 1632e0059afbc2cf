#include "doorman/static/Encoding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "doorman/static/MimeTypes.hpp"

namespace doorman::statics {
namespace {

std::string order(std::string_view acceptEncoding) {
  CodingPreference p = preferredCodings(acceptEncoding);
  std::string out;
  for (size_t i = 0; i < p.count; ++i) {
    out += (i == 0 ? "" : ",") + std::string(codingName(p.order[i]));
  }
  return out;
}

TEST(StaticEncoding, AcceptEncodingPicksSiblingsByQvalue) {
  struct Case {
    std::string_view accept;
    std::string_view expected;  ///< codings tried, best first
  };
  const Case cases[] = {
      {"", ""},
      {"gzip", "gzip"},
      {"x-gzip", "gzip"},
      {"br", "br"},
      {"gzip, deflate, br", "br,gzip"},  // ties: br first (smaller)
      {"gzip, deflate, br, zstd", "br,gzip"},
      {"br;q=0.5, gzip", "gzip,br"},
      {"br;q=0.5, gzip;q=0.8", "gzip,br"},
      {"BR, GZip", "br,gzip"},
      {"gzip;q=0", ""},
      {"br;q=0, gzip", "gzip"},
      {"*", "br,gzip"},
      {"*;q=0", ""},
      {"*, gzip;q=0", "br"},
      {"gzip;q=0.5, identity", ""},  // identity named with a higher q wins
      {"gzip;q=1, identity;q=0.5", "gzip"},
      {"identity", ""},
      {"gzip ; q=0.001", "gzip"},
      {"gzip;q=1.5", ""},  // malformed weight: element skipped
      {"gzip;q=abc, br", "br"},
      {"deflate", ""},
      {" , gzip ,, ", "gzip"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(order(c.accept), c.expected) << "Accept-Encoding: " << c.accept;
  }
}

TEST(StaticEncoding, NamesAndSuffixes) {
  EXPECT_EQ(codingName(Coding::Br), "br");
  EXPECT_EQ(codingName(Coding::Gzip), "gzip");
  EXPECT_EQ(codingName(Coding::Identity), "");
  EXPECT_EQ(codingSuffix(Coding::Br), ".br");
  EXPECT_EQ(codingSuffix(Coding::Gzip), ".gz");
}

TEST(StaticMimeTypesFile, ParsesMimeTypesAndAddsCharsetToText) {
  MimeTypes types;
  types.parse(
      "# comment\n"
      "application/x-doorman-test\tdmt DMX\n"
      "text/x-doorman\t\tdoor   # trailing comment\n"
      "application/ld+json jsonld\n"
      "image/x-none\n"
      "not-a-type foo\n"
      "text/css css\r\n");
  EXPECT_EQ(types.typeFor("a.dmt"), "application/x-doorman-test");
  EXPECT_EQ(types.typeFor("a.dmx"), "application/x-doorman-test") << "case-insensitive";
  EXPECT_EQ(types.typeFor("x/a.door"), "text/x-doorman; charset=utf-8");
  EXPECT_EQ(types.typeFor("a.jsonld"), "application/ld+json; charset=utf-8");
  EXPECT_EQ(types.typeFor("a.css"), "text/css; charset=utf-8") << "CRLF line";
  EXPECT_EQ(types.typeFor("a.foo"), "application/octet-stream");
  EXPECT_EQ(types.typeFor("a.png"), "image/png") << "built-in fallback stays";
}

TEST(StaticMimeTypesFile, MissingFileLeavesTheBuiltInTable) {
  MimeTypes types = MimeTypes::fromFile("/nonexistent/doorman/mime.types");
  EXPECT_EQ(types.typeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(types.typeFor("a.unknownext"), "application/octet-stream");
}

TEST(StaticMimeTypesFile, SystemTableComesFromEtcMimeTypesWhenPresent) {
  const MimeTypes& system = MimeTypes::system();
  if (MimeTypes::fromFile(MimeTypes::kSystemFile).size() <= MimeTypes().size()) {
    GTEST_SKIP() << "no /etc/mime.types (Debian's media-types package)";
  }
  EXPECT_GT(system.size(), 500u);
  // Only in media-types, not in the built-in table.
  EXPECT_EQ(system.typeFor("a.odt"), "application/vnd.oasis.opendocument.text");
  EXPECT_EQ(system.typeFor("a.js"), "text/javascript; charset=utf-8");
}

}  // namespace
}  // namespace doorman::statics
