// serve() end to end for the parts of issue 8 beyond the basics: preconditions (412),
// the If-None-Match forms, multipart/byteranges and pre-compressed siblings.

#include <gtest/gtest.h>

#include "StaticFixture.hpp"

namespace doorman::statics::testing {
namespace {

constexpr const char* kHelloEtag = "\"6553f100-e\"";
const std::string kHelloDate = "Tue, 14 Nov 2023 22:13:20 GMT";
const std::string kBefore = "Mon, 13 Nov 2023 00:00:00 GMT";
const std::string kAfter = "Wed, 15 Nov 2023 00:00:00 GMT";

using Headers = std::vector<std::pair<std::string, std::string>>;

class StaticConditionalMatrix : public StaticFixture {};

struct ConditionalCase {
  const char* what;
  Headers headers;
  int status;
};

TEST_F(StaticConditionalMatrix, PreconditionsAndValidatorsInRfc9110Order) {
  const ConditionalCase cases[] = {
      {"no condition", {}, 200},
      {"If-Match same tag", {{"If-Match", kHelloEtag}}, 200},
      {"If-Match in a list", {{"If-Match", "\"x\", \"6553f100-e\""}}, 200},
      {"If-Match *", {{"If-Match", "*"}}, 200},
      {"If-Match other tag", {{"If-Match", "\"x\""}}, 412},
      {"If-Match weak tag", {{"If-Match", "W/\"6553f100-e\""}}, 412},
      {"If-Unmodified-Since later", {{"If-Unmodified-Since", kAfter}}, 200},
      {"If-Unmodified-Since same", {{"If-Unmodified-Since", kHelloDate}}, 200},
      {"If-Unmodified-Since earlier", {{"If-Unmodified-Since", kBefore}}, 412},
      {"If-Unmodified-Since invalid", {{"If-Unmodified-Since", "yesterday"}}, 200},
      {"If-Match wins over If-Unmodified-Since",
       {{"If-Match", kHelloEtag}, {"If-Unmodified-Since", kBefore}},
       200},
      {"If-None-Match same", {{"If-None-Match", kHelloEtag}}, 304},
      {"If-None-Match weak", {{"If-None-Match", "W/\"6553f100-e\""}}, 304},
      {"If-None-Match list", {{"If-None-Match", "\"a\", W/\"b\", \"6553f100-e\""}}, 304},
      {"If-None-Match split fields",
       {{"If-None-Match", "\"a\""}, {"If-None-Match", kHelloEtag}},
       304},
      {"If-None-Match *", {{"If-None-Match", "*"}}, 304},
      {"If-None-Match other", {{"If-None-Match", "\"a\", \"b\""}}, 200},
      {"If-None-Match wins over If-Modified-Since",
       {{"If-None-Match", "\"a\""}, {"If-Modified-Since", kAfter}},
       200},
      {"If-Modified-Since same", {{"If-Modified-Since", kHelloDate}}, 304},
      {"If-Modified-Since earlier", {{"If-Modified-Since", kBefore}}, 200},
      {"412 before 304", {{"If-Match", "\"x\""}, {"If-None-Match", kHelloEtag}}, 412},
      {"304 before range", {{"If-None-Match", kHelloEtag}, {"Range", "bytes=0-1"}}, 304},
      {"412 before range", {{"If-Match", "\"x\""}, {"Range", "bytes=0-1"}}, 412},
      {"If-Match with range", {{"If-Match", kHelloEtag}, {"Range", "bytes=0-1"}}, 206},
      {"unsatisfiable range", {{"Range", "bytes=100-"}}, 416},
      {"If-Range stale date", {{"Range", "bytes=0-1"}, {"If-Range", kBefore}}, 200},
      {"If-Range tag", {{"Range", "bytes=0-1"}, {"If-Range", kHelloEtag}}, 206},
  };
  for (const auto& c : cases) {
    Answer a = get("/static/hello.txt", c.headers);
    EXPECT_EQ(a.status, c.status) << c.what;
    if (a.status == 304 || a.status == 412) {
      EXPECT_EQ(a.header("ETag"), kHelloEtag) << c.what;
    }
    if (a.status == 304) {
      EXPECT_EQ(a.body, "") << c.what;
      EXPECT_EQ(a.header("Cache-Control"), "public, max-age=3600") << c.what;
    }
  }
}

/// The parts of a multipart/byteranges body: (Content-Range, data) in order.
std::vector<std::pair<std::string, std::string>> parseMultipart(const std::string& body,
                                                                const std::string& boundary) {
  std::vector<std::pair<std::string, std::string>> parts;
  const std::string delimiter = "--" + boundary;
  size_t at = body.find(delimiter);
  while (at != std::string::npos) {
    at += delimiter.size();
    if (body.compare(at, 2, "--") == 0) {
      break;
    }
    size_t headEnd = body.find("\r\n\r\n", at);
    if (headEnd == std::string::npos) {
      break;
    }
    std::string head = body.substr(at, headEnd - at);
    size_t next = body.find("\r\n" + delimiter, headEnd + 4);
    if (next == std::string::npos) {
      break;
    }
    size_t rangeAt = head.find("Content-Range: ");
    std::string range = rangeAt == std::string::npos
                            ? std::string()
                            : head.substr(rangeAt + 15, head.find("\r\n", rangeAt) - rangeAt - 15);
    parts.emplace_back(range, body.substr(headEnd + 4, next - headEnd - 4));
    at = next + 2;
  }
  return parts;
}

TEST_F(StaticConditionalMatrix, SeveralRangesAreMultipartByteranges) {
  Answer a = get("/static/hello.txt", {{"Range", "bytes=0-1, 7-10,-2"}});
  ASSERT_EQ(a.status, 206);
  const std::string type = a.header("Content-Type");
  const std::string prefix = "multipart/byteranges; boundary=";
  ASSERT_EQ(type.substr(0, prefix.size()), prefix);
  const std::string boundary = type.substr(prefix.size());
  EXPECT_GE(boundary.size(), 16u);
  EXPECT_EQ(a.headers.find("Content-Range"), nullptr);
  EXPECT_EQ(a.header("ETag"), kHelloEtag);
  auto parts = parseMultipart(a.body, boundary);
  ASSERT_EQ(parts.size(), 3u) << a.body;
  EXPECT_EQ(parts[0], (std::pair<std::string, std::string>{"bytes 0-1/14", "He"}));
  EXPECT_EQ(parts[1], (std::pair<std::string, std::string>{"bytes 7-10/14", "worl"}));
  EXPECT_EQ(parts[2], (std::pair<std::string, std::string>{"bytes 12-13/14", "!\n"}));
  EXPECT_NE(a.body.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(a.body.substr(a.body.size() - boundary.size() - 8), "\r\n--" + boundary + "--\r\n");

  // Overlapping ranges are coalesced into a single part: plain 206.
  Answer merged = get("/static/hello.txt", {{"Range", "bytes=0-3,2-5"}});
  EXPECT_EQ(merged.status, 206);
  EXPECT_EQ(merged.header("Content-Range"), "bytes 0-5/14");
  EXPECT_EQ(merged.body, "Hello,");
}

TEST_F(StaticConditionalMatrix, HeadIgnoresRangeAndHasNoBody) {
  Answer a = serve(request("/static/hello.txt", "HEAD", {{"Range", "bytes=0-1,3-4"}}));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.header("Content-Length"), "14");
  EXPECT_EQ(a.body, "");
}

class StaticPrecompressed : public StaticFixture {
 protected:
  void SetUp() override {
    StaticFixture::SetUp();
    write(root_ / "hello.txt.gz", "GZIP-BYTES");
    write(root_ / "hello.txt.br", "BR");
    write(root_ / "page.html.gz", "PAGE-GZ");
    write(root_ / "sub" / "index.html.br", "SUB-BR");
    setMtime(root_ / "hello.txt.gz");
    setMtime(root_ / "hello.txt.br");
  }
};

struct EncodingCase {
  const char* target;
  const char* acceptEncoding;  ///< nullptr: no header
  std::string_view body;
  const char* contentEncoding;  ///< "<none>" for identity
  const char* vary;
};

TEST_F(StaticPrecompressed, SiblingChosenByAcceptEncoding) {
  const EncodingCase cases[] = {
      {"/static/hello.txt", nullptr, kHello, "<none>", "Accept-Encoding"},
      {"/static/hello.txt", "gzip", "GZIP-BYTES", "gzip", "Accept-Encoding"},
      {"/static/hello.txt", "gzip, deflate, br", "BR", "br", "Accept-Encoding"},
      {"/static/hello.txt", "br;q=0.4, gzip;q=0.9", "GZIP-BYTES", "gzip", "Accept-Encoding"},
      {"/static/hello.txt", "br;q=0, gzip;q=0", kHello, "<none>", "Accept-Encoding"},
      {"/static/hello.txt", "identity", kHello, "<none>", "Accept-Encoding"},
      {"/static/page.html", "br, gzip", "PAGE-GZ", "gzip", "Accept-Encoding"},  // no .br
      {"/static/page.html", "br", "<p>page</p>\n", "<none>", "Accept-Encoding"},
      {"/static/data.bin", "br, gzip", std::string_view("\x00\x01\x02", 3), "<none>",
       "<none>"},                                                 // no sibling
      {"/static/sub/", "br", "SUB-BR", "br", "Accept-Encoding"},  // index file
  };
  for (const auto& c : cases) {
    Headers headers;
    if (c.acceptEncoding != nullptr) {
      headers.emplace_back("Accept-Encoding", c.acceptEncoding);
    }
    Answer a = get(c.target, headers);
    std::string what = std::string(c.target) + " / " + (c.acceptEncoding ? c.acceptEncoding : "-");
    EXPECT_EQ(a.status, 200) << what;
    EXPECT_EQ(a.body, c.body) << what;
    EXPECT_EQ(a.header("Content-Encoding"), c.contentEncoding) << what;
    EXPECT_EQ(a.header("Vary"), c.vary) << what;
  }
  EXPECT_EQ(get("/static/page.html", {{"Accept-Encoding", "gzip"}}).header("Content-Type"),
            "text/html; charset=utf-8")
      << "the type of the named file, not of the .gz";
}

TEST_F(StaticPrecompressed, EachEncodingHasItsOwnEtagAndRanges) {
  Answer plain = get("/static/hello.txt");
  Answer gz = get("/static/hello.txt", {{"Accept-Encoding", "gzip"}});
  Answer br = get("/static/hello.txt", {{"Accept-Encoding", "br"}});
  EXPECT_EQ(plain.header("ETag"), kHelloEtag);
  EXPECT_EQ(gz.header("ETag"), "\"6553f100-a-gzip\"");
  EXPECT_EQ(br.header("ETag"), "\"6553f100-2-br\"");

  // A cached gzip tag revalidates the gzip variant only.
  EXPECT_EQ(
      get("/static/hello.txt", {{"Accept-Encoding", "gzip"}, {"If-None-Match", gz.header("ETag")}})
          .status,
      304);
  EXPECT_EQ(get("/static/hello.txt", {{"If-None-Match", gz.header("ETag")}}).status, 200);

  // Ranges apply to the encoded bytes.
  Answer part = get("/static/hello.txt", {{"Accept-Encoding", "gzip"}, {"Range", "bytes=5-"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "BYTES");
  EXPECT_EQ(part.header("Content-Range"), "bytes 5-9/10");
  EXPECT_EQ(part.header("Content-Encoding"), "gzip");

  Answer head = serve(request("/static/hello.txt", "HEAD", {{"Accept-Encoding", "gzip"}}));
  EXPECT_EQ(head.header("Content-Length"), "10");
  EXPECT_EQ(head.header("Content-Encoding"), "gzip");
}

TEST_F(StaticPrecompressed, OffForTheRouteServesTheFileItself) {
  route_.staticFiles->precompressed = false;
  Answer a = get("/static/hello.txt", {{"Accept-Encoding", "gzip, br"}});
  EXPECT_EQ(a.body, kHello);
  EXPECT_EQ(a.header("Content-Encoding"), "<none>");
  EXPECT_EQ(a.header("Vary"), "<none>");
}

TEST_F(StaticPrecompressed, SiblingSymlinkOutOfTheRootIsNotFollowed) {
  fs::remove(root_ / "hello.txt.gz");
  fs::create_symlink("../outside/secret.txt", root_ / "hello.txt.gz");
  Answer a = get("/static/hello.txt", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, kHello);
  EXPECT_EQ(a.header("Content-Encoding"), "<none>");
}

}  // namespace
}  // namespace doorman::statics::testing
