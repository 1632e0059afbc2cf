// The backend only ever sees what doorman understood: every request is re-serialised
// (origin-form target, HTTP/1.1, Content-Length, no Transfer-Encoding, hop-by-hop fields
// gone), and a request whose framing two parsers could read differently is refused with
// 400 and never forwarded - nor is anything hidden after it. The backend here records
// every byte it receives (integration/backends/fault_server.py).

#include <string>
#include <vector>

#include "harness/Checks.hpp"
#include "harness/Doorman.hpp"
#include "harness/FaultBackend.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

namespace doorman::it {
namespace {

class SmugglingTest : public IntegrationTest {
 protected:
  SmugglingTest()
      : backend_(dir_), doorman_(dir_, DoormanConfig::forBackend(backend_.address(), 2)) {}

  /// The single request the backend recorded for `raw`, sent on a fresh connection.
  std::string forwardedFor(const std::string& raw) {
    const size_t before = backend_.recordedRequests().size();
    auto response = fetch(doorman_.address(), raw);
    EXPECT_TRUE(response);
    if (response) {
      EXPECT_EQ(response->status, 200) << raw;
    }
    const auto recorded = backend_.recordedRequests();
    EXPECT_EQ(recorded.size(), before + 1) << raw;
    return recorded.size() == before + 1 ? recorded.back() : std::string();
  }

  /// `raw` gets 400 with Connection: close, the connection closes, and nothing reached
  /// the backend (neither the request nor what follows it).
  void expectRefused(const std::string& raw) {
    SCOPED_TRACE(raw);
    const size_t before = backend_.recordedRequests().size();
    HttpClient client(doorman_.address());
    ASSERT_TRUE(client.send(raw)) << client.error();
    auto response = client.readResponse();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 400);
    EXPECT_TRUE(response->connectionClose());
    EXPECT_TRUE(client.waitForClose());
    EXPECT_EQ(backend_.recordedRequests().size(), before);
  }

  static void expectCanonical(const std::string& wire) {
    SCOPED_TRACE(wire);
    const size_t headEnd = wire.find("\r\n\r\n");
    ASSERT_NE(headEnd, std::string::npos);
    const std::string head = wire.substr(0, headEnd + 2);
    for (size_t i = head.find('\n'); i != std::string::npos; i = head.find('\n', i + 1)) {
      EXPECT_EQ(head[i - 1], '\r') << "bare LF in the forwarded head";
    }
    EXPECT_NE(head.find(" HTTP/1.1\r\n"), std::string::npos);
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos);
    EXPECT_EQ(head.find("transfer-encoding"), std::string::npos);
  }

  FaultBackend backend_;
  DoormanProcess doorman_;
};

/// A chunked body with extensions and trailers arrives de-chunked, with Content-Length,
/// without the trailer.
TEST_F(SmugglingTest, ChunkedBodyIsForwardedWithContentLength) {
  const std::string wire = forwardedFor(
      "POST /rec?1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n");
  expectCanonical(wire);
  EXPECT_EQ(wire.rfind("POST /rec?1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(wire.find("\r\nContent-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("X-Trailer"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 9), "\r\n\r\nabcde");
}

/// absolute-form (RFC 9112 3.2.2): the backend gets origin-form and the authority as
/// its only Host.
TEST_F(SmugglingTest, AbsoluteFormBecomesOriginFormWithTheAuthorityAsHost) {
  const std::string wire =
      forwardedFor("GET http://example.test:81/rec?2 HTTP/1.1\r\nHost: other.test\r\n\r\n");
  expectCanonical(wire);
  EXPECT_EQ(wire.rfind("GET /rec?2 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(wire.find("\r\nHost: example.test:81\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("other.test"), std::string::npos);
}

/// An HTTP/1.0 request without Host goes out as HTTP/1.1 with one.
TEST_F(SmugglingTest, Http10RequestGoesOutAsHttp11WithAHost) {
  const std::string wire = forwardedFor("GET /rec?3 HTTP/1.0\r\n\r\n");
  expectCanonical(wire);
  EXPECT_EQ(wire.rfind("GET /rec?3 HTTP/1.1\r\nHost: ", 0), 0u);
}

/// Pipelined requests arrive one by one, each with its own body, nothing merged.
TEST_F(SmugglingTest, PipelinedRequestsArriveSeparately) {
  HttpClient client(doorman_.address());
  ASSERT_TRUE(client.send(httpRequest("POST", "/rec?4", "body-one") +
                          httpRequest("POST", "/rec?5", "body-two")));
  EXPECT_EQ(client.readResponses(2).size(), 2u) << client.error();
  const auto recorded = backend_.recordedRequests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].rfind("POST /rec?4 ", 0), 0u);
  EXPECT_EQ(recorded[0].substr(recorded[0].size() - 8), "body-one");
  EXPECT_EQ(recorded[1].rfind("POST /rec?5 ", 0), 0u);
  EXPECT_EQ(recorded[1].substr(recorded[1].size() - 8), "body-two");
}

/// Every framing a second parser could read differently: 400, closed, nothing
/// forwarded, and the request hidden after it ("/smuggled") never reaches the backend.
TEST_F(SmugglingTest, AmbiguousFramingIsRefusedAndNothingIsForwarded) {
  const std::string hidden = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string post = "POST /rec HTTP/1.1\r\nHost: x\r\n";
  const std::vector<std::string> attacks = {
      // CL.TE and TE.CL
      post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n" + hidden,
      // Transfer-Encoding other than exactly "chunked"
      post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding: \x0b" + "chunked\r\n\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + hidden,
      "POST /rec HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + hidden,
      // Content-Length that is not one plain number
      post + "Content-Length: +6\r\n\r\n" + hidden,
      post + "Content-Length: 0x6\r\n\r\n" + hidden,
      post + "Content-Length: 6, 7\r\n\r\n" + hidden,
      post + "Content-Length: 0\r\nContent-Length: 6\r\n\r\n" + hidden,
      post + "Content-Length: 99999999999999999999\r\n\r\n" + hidden,
      // Chunk sizes and chunk framing
      post + "Transfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n" + hidden,
      post + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n\r\n" + hidden,
      post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n" + hidden,
      post + "Transfer-Encoding: chunked\r\n\r\n0\r\n\n" + hidden,
      post + "Transfer-Encoding: chunked\r\n\r\n1\r\naXY0\r\n\r\n" + hidden,
      // Head syntax: obs-fold, bare LF, NUL / bare CR / non-token in names, Host
      "GET /rec HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n" + hidden,
      "GET /rec HTTP/1.1\nHost: x\n\n" + hidden,
      std::string("GET /rec HTTP/1.1\r\nHost: x\r\nX\0A: 1\r\n\r\n", 38) + hidden,
      "GET /rec HTTP/1.1\r\nHost: x\r\nX\rA: 1\r\n\r\n" + hidden,
      "GET /rec HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n" + hidden,
      "GET /rec HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\rX-Injected: 1\r\n\r\n" + hidden,
      "GET /rec HTTP/1.1\r\n\r\n" + hidden,
      "GET /rec HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + hidden,
  };
  for (const auto& attack : attacks) {
    expectRefused(attack);
  }
  EXPECT_TRUE(backend_.recordedRequests().empty());
}

}  // namespace
}  // namespace doorman::it
