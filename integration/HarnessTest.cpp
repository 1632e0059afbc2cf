// The harness and the backends on their own, without doorman: if these fail, the
// end-to-end tests cannot be trusted. Each backend is talked to directly.

#include <signal.h>
#include <sys/wait.h>

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"

namespace doorman::it {
namespace {

class HarnessTest : public IntegrationTest {};

/// A process that ignores SIGTERM is killed by PID after the grace period and reaped.
TEST_F(HarnessTest, ProcessThatIgnoresSigtermIsKilledAndReaped) {
  ProcessOptions options;
  options.name = "stubborn";
  options.argv = {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"};
  options.logPath = dir_.file("stubborn.log");
  options.stopGrace = milliseconds(300);
  Process process(options);
  ASSERT_TRUE(waitUntil([&] { return process.log().find("ready") != std::string::npos; },
                        milliseconds(5000)));
  int status = process.stop();
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

/// The SHA-256 and the pattern agree with Python's (values computed with hashlib).
TEST_F(HarnessTest, Sha256AndPatternMatchPython) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(patternBytes(62, 4), "+/AB");
}

/// gunicorn answers /hello and /echo; /echo reports exactly the body it received, and the
/// stats file counts both requests.
TEST_F(HarnessTest, GunicornServesTheTestAppAndCountsRequests) {
  GunicornBackend gunicorn(dir_, 2);
  auto hello = fetch(gunicorn.address(), httpGet("/hello"));
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body, "hello\n");

  const std::string body = patternBytes(0, 100000);
  auto echo = fetch(gunicorn.address(), httpRequest("POST", "/echo/x?q=1", body));
  ASSERT_TRUE(echo);
  auto json = parseJson(echo->body);
  ASSERT_TRUE(json) << echo->body;
  EXPECT_EQ((*json)["path"].str(), "/echo/x");
  EXPECT_EQ((*json)["query"].str(), "q=1");
  EXPECT_EQ((*json)["body_length"].integer(), 100000);
  EXPECT_EQ((*json)["body_sha256"].str(), sha256Hex(body));
  EXPECT_EQ(gunicorn.stats().requests, 2);
}

/// gunicorn itself answers /chunked with Transfer-Encoding: chunked (so a proxy that
/// de-chunks it is doing real work) and the pattern bytes arrive intact.
TEST_F(HarnessTest, GunicornSendsChunkedBodyForChunkedEndpoint) {
  GunicornBackend gunicorn(dir_, 1);
  auto response = fetch(gunicorn.address(), httpGet("/chunked?bytes=100000"));
  ASSERT_TRUE(response);
  EXPECT_TRUE(response->chunked);
  EXPECT_EQ(response->body, patternBytes(0, 100000));
}

/// Sent straight to gunicorn, hop-by-hop headers reach the app: the header test's
/// "none reach the backend" is therefore doorman's doing.
TEST_F(HarnessTest, GunicornPassesHopByHopHeadersWhenNoProxyStripsThem) {
  GunicornBackend gunicorn(dir_, 1);
  auto echo =
      fetch(gunicorn.address(),
            httpGet("/echo", {{"Connection", "X-Foo"}, {"X-Foo", "1"}, {"TE", "trailers"}}));
  ASSERT_TRUE(echo);
  auto json = parseJson(echo->body);
  ASSERT_TRUE(json);
  EXPECT_EQ((*json)["headers"]["x-foo"].str(), "1");
  EXPECT_EQ((*json)["headers"]["te"].str(), "trailers");
}

/// uWSGI's http11-socket keeps a connection alive: 10 requests on one connection are all
/// served and the app sees one peer port.
TEST_F(HarnessTest, UwsgiKeepsOneConnectionAliveForManyRequests) {
  UwsgiBackend uwsgi(dir_, 2);
  HttpClient client(uwsgi.address());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client.send(httpGet("/hello")));
    auto response = client.readResponse();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(uwsgi.stats().requests, 10);
  EXPECT_EQ(uwsgi.stats().distinctPorts, 1u);
}

/// The prefork server counts one connection per client and the peak in flight across
/// its processes.
TEST_F(HarnessTest, PreforkServerCountsConnectionsRequestsAndPeak) {
  PreforkBackend prefork(dir_, {.processes = 3, .sleepMs = 0, .closeAfter = 0});
  std::vector<HttpClient> clients;
  for (int c = 0; c < 2; ++c) clients.emplace_back(prefork.address());
  for (auto& client : clients) {
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(client.send(httpGet("/hello")));
      auto response = client.readResponse();
      ASSERT_TRUE(response) << client.error();
      EXPECT_EQ(response->status, 200);
      EXPECT_FALSE(response->connectionClose());
    }
  }
  auto stats = prefork.stats();
  EXPECT_EQ(stats.connections, 2);
  EXPECT_EQ(stats.requests, 10);
  EXPECT_EQ(stats.peak, 1);
}

/// With --close-after 2 the prefork server closes a kept-alive connection after the
/// second response, without announcing it.
TEST_F(HarnessTest, PreforkServerClosesSilentlyAfterConfiguredRequests) {
  PreforkBackend prefork(dir_, {.processes = 1, .sleepMs = 0, .closeAfter = 2});
  HttpClient client(prefork.address());
  ASSERT_TRUE(client.send(httpGet("/hello") + httpGet("/hello")));
  auto responses = client.readResponses(2);
  ASSERT_EQ(responses.size(), 2u) << client.error();
  EXPECT_FALSE(responses[1].connectionClose());
  EXPECT_TRUE(client.waitForClose());
}

/// paste.httpserver answers keep-alive HTTP/1.1 requests on one connection.
TEST_F(HarnessTest, PasteServesKeepAliveRequests) {
  PasteBackend paste(dir_);
  HttpClient client(paste.address());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.send(httpGet("/hello")));
    auto response = client.readResponse();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(paste.stats().requests, 5);
}

}  // namespace
}  // namespace doorman::it
