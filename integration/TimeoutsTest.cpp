// Client-side timeouts and the protocol corners around them: what a slow, stalled or
// half-closed client gets, with short configured values against a real gunicorn; and the
// upstream connect timeout, against a listener whose connects hang.

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/Checks.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Net.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

class TimeoutsTest : public IntegrationTest {
 protected:
  TimeoutsTest() : gunicorn_(dir_, 2) {}

  DoormanConfig configWith(const std::string& timeouts) {
    DoormanConfig config = DoormanConfig::forBackend(gunicorn_.address(), 2);
    config.timeouts = timeouts;
    return config;
  }

  GunicornBackend gunicorn_;
};

/// send_idle 1s, a 4 MiB response read steadily at about 640 KiB/s through a small
/// receive buffer: the reader makes progress all the time, so it is never cut off even
/// though one write batch takes longer than send_idle to drain.
TEST_F(TimeoutsTest, SteadySlowReaderIsNotCutOffBySendIdle) {
  DoormanProcess doorman(dir_, configWith("{ send_idle: 1s }"));
  constexpr size_t kSize = 4u << 20;
  HttpClient reader(doorman.address(), milliseconds(5000), {.receiveBuffer = 65536});
  ASSERT_TRUE(reader.send(httpGet("/large?bytes=" + std::to_string(kSize))));
  Deadline deadline = deadlineIn(milliseconds(60000));
  while (reader.buffered() < kSize && !reader.eof() && Clock::now() < deadline) {
    reader.pull(32768, milliseconds(2000));
    std::this_thread::sleep_for(milliseconds(50));
  }
  auto response = reader.readResponse(milliseconds(10000));
  ASSERT_TRUE(response) << reader.error() << "\n" << doorman.log();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body == patternBytes(0, kSize));
}

/// send_idle 1s and a client that asks for 8 MiB and then reads nothing: doorman closes
/// the connection (it does not hold the response forever), and keeps serving others.
/// The close is a reset: the kernel drops the unsent rest of the response at once, so
/// when the client reads again it gets the few kilobytes its own receive buffer held
/// and ECONNRESET, not the megabytes an orphaned socket would still deliver before a FIN.
TEST_F(TimeoutsTest, ReaderThatStopsReadingIsClosedAfterSendIdle) {
  DoormanProcess doorman(dir_, configWith("{ send_idle: 1s }"));
  size_t baseline = settledFdCount(doorman);
  HttpClient stalled(doorman.address(), milliseconds(5000), {.receiveBuffer = 4096});
  ASSERT_TRUE(stalled.send(httpGet("/large?bytes=8388608")));
  ASSERT_GT(stalled.pull(1024, milliseconds(10000)), 0u);  // the response is being sent
  EXPECT_TRUE(
      waitUntil([&] { return doorman.log().find("timeouts.send_idle") != std::string::npos; },
                milliseconds(20000)))
      << "the stalled reader's connection was never closed";
  EXPECT_TRUE(fdCountReturnsTo(doorman, baseline));
  const size_t before = stalled.buffered();
  while (stalled.pull(65536, milliseconds(5000)) > 0) {
  }
  EXPECT_EQ(stalled.error(), "read: connection reset");
  EXPECT_LT(stalled.buffered() - before, 256u * 1024)
      << "the client still received the unsent part of the response";
  auto response = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

/// body_min_rate 1KiB and a body announced as 100000 bytes that arrives at 100 bytes per
/// second: once the grace period is over, 408 with Connection: close; nothing reached
/// the backend.
TEST_F(TimeoutsTest, DripFedBodyGets408FromBodyMinRate) {
  DoormanProcess doorman(dir_, configWith("{ body_min_rate: 1KiB, body_idle: 30s }"));
  HttpClient client(doorman.address());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  std::optional<HttpResponse> response;
  for (int i = 0; i < 200 && !response; ++i) {
    if (!client.send(std::string(50, 'a'))) {
      break;  // doorman closed after answering
    }
    if (client.pull(4096, milliseconds(500)) > 0) {
      response = client.readResponse(milliseconds(2000));
    }
  }
  if (!response) {
    response = client.readResponse(milliseconds(5000));
  }
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(response->connectionClose());
  EXPECT_EQ(gunicorn_.stats().requests, 0);
}

/// body_min_rate is averaged over windows, not since the body began: 256 KiB at once,
/// then 50 bytes every 500 ms. Averaged since the start that stays above 1 KiB/s for
/// minutes; the window after the burst carries 100 bytes/s, so 408 comes within about
/// two windows (10 s) and nothing reached the backend.
TEST_F(TimeoutsTest, FastStartThenTrickleGets408FromBodyMinRate) {
  DoormanProcess doorman(dir_, configWith("{ body_min_rate: 1KiB, body_idle: 30s }"));
  HttpClient client(doorman.address());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                          std::string(256 * 1024, 'b')));
  std::optional<HttpResponse> response;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 60 && !response; ++i) {
    if (!client.send(std::string(50, 'a'))) {
      break;  // doorman closed after answering
    }
    if (client.pull(4096, milliseconds(500)) > 0) {
      response = client.readResponse(milliseconds(2000));
    }
  }
  if (!response) {
    response = client.readResponse(milliseconds(5000));
  }
  ASSERT_TRUE(response) << "no answer after "
                        << std::chrono::duration_cast<milliseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count()
                        << " ms: " << client.error();
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(response->connectionClose());
  EXPECT_EQ(gunicorn_.stats().requests, 0);
}

/// body_idle 1s and a body that stops half-way: 408 and close.
TEST_F(TimeoutsTest, StalledBodyGets408FromBodyIdle) {
  DoormanProcess doorman(dir_, configWith("{ body_idle: 1s }"));
  HttpClient client(doorman.address());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"));
  auto response = client.readResponse(milliseconds(10000));
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(response->connectionClose());
  EXPECT_TRUE(client.waitForClose());
  EXPECT_EQ(gunicorn_.stats().requests, 0);
}

/// keepalive 1s: an idle kept-alive connection is closed by doorman after its response.
TEST_F(TimeoutsTest, IdleKeepAliveConnectionIsClosedAfterKeepaliveTimeout) {
  DoormanProcess doorman(dir_, configWith("{ keepalive: 1s }"));
  HttpClient client(doorman.address());
  ASSERT_TRUE(client.send(httpGet("/hello")));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_FALSE(response->connectionClose());
  EXPECT_TRUE(client.waitForClose(milliseconds(10000)));
}

/// A client that half-closes (shutdown of its write side) right after its request still
/// gets the whole 1 MiB response: EOF while the response is being written is not an
/// abort.
TEST_F(TimeoutsTest, HalfClosedClientStillGetsItsWholeResponse) {
  DoormanProcess doorman(dir_, configWith("{ header: 10s }"));
  constexpr size_t kSize = 1u << 20;
  HttpClient client(doorman.address(), milliseconds(5000), {.receiveBuffer = 4096});
  ASSERT_TRUE(client.send(httpGet("/large?bytes=" + std::to_string(kSize))));
  ASSERT_GT(client.pull(1024, milliseconds(10000)), 0u);  // the response has started
  client.shutdownWrite();
  auto response = client.readResponse(milliseconds(20000));
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), kSize);
}

/// Expect: 100-continue with an acceptable body: "100 Continue" first, then the final
/// response to the complete request.
TEST_F(TimeoutsTest, ExpectContinueIsAnsweredBeforeTheBody) {
  DoormanProcess doorman(dir_, configWith("{ header: 10s }"));
  HttpClient client(doorman.address());
  ASSERT_TRUE(client.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.readResponse(milliseconds(10000));
  ASSERT_TRUE(interim) << client.error();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("hello"));
  auto response = client.readResponse(milliseconds(10000));
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("\"body_length\": 5"), std::string::npos) << response->body;
}

/// upstreams.silent.timeouts.connect 300ms against a server whose connects hang (its
/// accept queue is full, so the kernel drops the SYNs; without the timeout a connect
/// would wait for the kernel's SYN retries, about two minutes). The connect times out,
/// is logged and counted as such (kind "connect"), the server is marked down, the
/// request waits for it up to the queue timeout (5 s; the probes time out as well) and
/// gets 503 with Retry-After (kind "unavailable": every server down) on a connection
/// that stays usable. Meanwhile the gunicorn upstream
/// answers at once: the hanging connect holds nothing else.
TEST_F(TimeoutsTest, UpstreamConnectTimeoutGets503AfterTheQueueTimeout) {
  UnacceptingListener silentServer;
  ASSERT_TRUE(silentServer.connectHangs(milliseconds(1000)))
      << "a connect to a full accept queue did not hang: the test cannot show the timeout";
  DoormanConfig config = configWith("{ header: 10s }");
  UpstreamSpec silent;
  silent.name = "silent";
  silent.connectTimeout = "300ms";
  silent.queueTimeout = "5s";
  silent.servers.push_back({silentServer.address(), 1});
  config.upstreams.push_back(silent);
  config.routes = {{"/silent/", "silent"}, {"/", "app"}};
  const std::string admin = loopback(freeTcpPort());
  config.extra = "admin: { listen: \"" + admin + "\" }\n";
  DoormanProcess doorman(dir_, config);

  HttpClient client(doorman.address());
  ASSERT_TRUE(client.send(httpGet("/silent/hello")));
  EXPECT_TRUE(waitUntil(
      [&] {
        return doorman.log().find("upstream timed out (connect 300 ms)") != std::string::npos;
      },
      milliseconds(10000)))
      << doorman.log();
  const std::string connectErrors =
      "doorman_upstream_errors_total{upstream=\"silent\",kind=\"connect\"}";
  EXPECT_GE(metric(admin, connectErrors), 1);

  auto other = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, "hello\n");

  auto response = client.readResponse(milliseconds(30000));
  ASSERT_TRUE(response) << client.error() << "\n" << doorman.log();
  EXPECT_EQ(response->status, 503) << response->body;
  EXPECT_TRUE(response->has("Retry-After"));
  EXPECT_FALSE(response->connectionClose());
  EXPECT_EQ(
      metric(admin, "doorman_upstream_errors_total{upstream=\"silent\",kind=\"unavailable\"}"), 1);
  EXPECT_NE(doorman.log().find("no live upstream: every server is down"), std::string::npos);
  EXPECT_EQ(gunicorn_.stats().requests, 1) << "only GET /hello reached gunicorn";

  ASSERT_TRUE(client.send(httpGet("/hello")));
  auto next = client.readResponse(milliseconds(10000));
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace doorman::it
