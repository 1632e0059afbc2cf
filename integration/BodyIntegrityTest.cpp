// Request and response bodies cross doorman intact: whatever framing the client used,
// gunicorn receives the exact bytes with Content-Length (never chunked), and the client
// receives the backend's exact bytes.

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"

namespace doorman::it {
namespace {

class BodyIntegrityTest : public IntegrationTest {
 protected:
  BodyIntegrityTest()
      : gunicorn_(dir_, 2), doorman_(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2)) {}

  /// Sends `rawRequest` through doorman to /echo and checks what gunicorn received:
  /// `expected` bytes, announced by Content-Length, without Transfer-Encoding.
  void expectEchoedIntact(const std::string& rawRequest, const std::string& expected) {
    auto response = fetch(doorman_.address(), rawRequest, milliseconds(30000));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << response->body;
    auto json = parseJson(response->body);
    ASSERT_TRUE(json) << response->body;
    EXPECT_EQ((*json)["body_length"].integer(), static_cast<int64_t>(expected.size()));
    EXPECT_EQ((*json)["body_sha256"].str(), sha256Hex(expected));
    const auto& headers = (*json)["headers"];
    EXPECT_EQ(headers["content-length"].str(), std::to_string(expected.size()));
    EXPECT_FALSE(headers.has("transfer-encoding")) << headers["transfer-encoding"].str();
  }

  GunicornBackend gunicorn_;
  DoormanProcess doorman_;
};

/// A POST with an empty body reaches the backend as Content-Length: 0.
TEST_F(BodyIntegrityTest, EmptyBodyArrivesWithContentLengthZero) {
  expectEchoedIntact(httpRequest("POST", "/echo", ""), "");
}

/// A one-byte body arrives as exactly that byte.
TEST_F(BodyIntegrityTest, OneByteBodyArrivesIntact) {
  expectEchoedIntact(httpRequest("POST", "/echo", "x"), "x");
}

/// A 1 MiB body (beyond memory_per_message, so it spills to disk) arrives intact.
TEST_F(BodyIntegrityTest, OneMebibyteBodyArrivesIntact) {
  const std::string body = patternBytes(7, 1 << 20);
  expectEchoedIntact(httpRequest("PUT", "/echo", body), body);
}

/// A chunked upload from the client is de-chunked: the backend gets Content-Length and
/// the same bytes.
TEST_F(BodyIntegrityTest, ChunkedUploadArrivesDechunkedWithContentLength) {
  const std::string body = patternBytes(3, 300000);
  expectEchoedIntact(httpChunkedPost("/echo", body, 7001), body);
}

/// A chunked upload whose chunk-size lines carry extensions is de-chunked just the same.
TEST_F(BodyIntegrityTest, ChunkedUploadWithChunkExtensionsArrivesIntact) {
  std::string request =
      "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  expectEchoedIntact(request, "hello world");
}

/// A 1 MiB response body reaches the client byte for byte.
TEST_F(BodyIntegrityTest, OneMebibyteResponseArrivesIntact) {
  auto response = fetch(doorman_.address(), httpGet("/large?bytes=1048576"), milliseconds(30000));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), 1048576u);
  EXPECT_TRUE(response->body == patternBytes(0, 1048576));
}

}  // namespace
}  // namespace doorman::it
