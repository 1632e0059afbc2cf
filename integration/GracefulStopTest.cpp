// Stopping doorman: SIGTERM finishes what is in flight and exits 0; a second signal (or
// SIGQUIT) stops at once.

#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Net.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

class GracefulStopTest : public IntegrationTest {
 protected:
  GracefulStopTest() : gunicorn_(dir_, 2) {}
  GunicornBackend gunicorn_;
};

/// A request is in flight (the app sleeps 1.5 s) and another client sits idle on a
/// kept-alive connection when SIGTERM arrives: the idle connection is closed at once,
/// the in-flight request still completes with 200 (and Connection: close), new
/// connections are refused, and doorman exits with status 0.
TEST_F(GracefulStopTest, SigtermFinishesInFlightRequestsAndExitsZero) {
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2));
  HttpClient idle(doorman.address());
  ASSERT_TRUE(idle.send(httpGet("/hello")));
  ASSERT_TRUE(idle.readResponse());

  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=1500")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  doorman.expectExit();
  ASSERT_EQ(::kill(doorman.pid(), SIGTERM), 0);

  EXPECT_TRUE(idle.waitForClose(milliseconds(5000))) << "idle keep-alive connection not closed";
  auto response = busy.readResponse(milliseconds(10000));
  ASSERT_TRUE(response) << busy.error() << "\n" << doorman.log();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->connectionClose());

  auto status = doorman.process().waitForExit(milliseconds(10000));
  ASSERT_TRUE(status) << "doorman did not exit after draining";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
  EXPECT_EQ(connectTo(doorman.address(), deadlineIn(milliseconds(500))), -1)
      << "doorman still accepted connections after stopping";
}

/// SIGTERM while a request runs, then SIGTERM again: doorman stops at once (exit 0)
/// without waiting for the 5 s request.
TEST_F(GracefulStopTest, SecondSignalStopsAtOnce) {
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2));
  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=5000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  doorman.expectExit();
  ASSERT_EQ(::kill(doorman.pid(), SIGTERM), 0);
  ASSERT_TRUE(
      waitUntil([&] { return doorman.log().find("stopping gracefully") != std::string::npos; },
                milliseconds(5000)));
  ASSERT_EQ(::kill(doorman.pid(), SIGTERM), 0);
  auto status = doorman.process().waitForExit(milliseconds(3000));
  ASSERT_TRUE(status) << "doorman kept waiting for the in-flight request";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
  EXPECT_TRUE(busy.waitForClose(milliseconds(2000)));
}

/// SIGINT is a graceful stop too, and a request still waiting in the queue (one worker,
/// busy) when it arrives is sent and answered before doorman exits 0.
TEST_F(GracefulStopTest, SigintAlsoFinishesQueuedRequests) {
  const uint16_t adminPort = freeTcpPort();
  DoormanConfig config = DoormanConfig::forBackend(gunicorn_.address(), 1);
  config.extra = "admin: { listen: \"" + loopback(adminPort) + "\" }\n";
  DoormanProcess doorman(dir_, config);
  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=1500")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  HttpClient queued(doorman.address());
  ASSERT_TRUE(queued.send(httpGet("/hello")));
  ASSERT_TRUE(waitUntil(
      [&] {
        auto metrics = fetch(loopback(adminPort), httpGet("/metrics"));
        return metrics &&
               metrics->body.find("doorman_upstream_queue_length{upstream=\"app\"} 1\n") !=
                   std::string::npos;
      },
      milliseconds(5000)))
      << "the second request never queued";
  doorman.expectExit();
  ASSERT_EQ(::kill(doorman.pid(), SIGINT), 0);

  auto first = busy.readResponse(milliseconds(10000));
  ASSERT_TRUE(first) << busy.error() << "\n" << doorman.log();
  EXPECT_EQ(first->status, 200);
  auto second = queued.readResponse(milliseconds(10000));
  ASSERT_TRUE(second) << queued.error() << "\n" << doorman.log();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "hello\n");
  auto status = doorman.process().waitForExit(milliseconds(10000));
  ASSERT_TRUE(status) << "doorman did not exit after draining";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
  EXPECT_NE(doorman.log().find("SIGINT: stopping gracefully"), std::string::npos) << doorman.log();
}

/// A request that outlasts timeouts.drain is cut when it passes: doorman exits 0 then,
/// not after the request, and says so.
TEST_F(GracefulStopTest, DrainTimeoutClosesWhatIsLeft) {
  DoormanConfig config = DoormanConfig::forBackend(gunicorn_.address(), 2);
  config.timeouts = "{ header: 10s, body_idle: 30s, send_idle: 60s, keepalive: 75s, drain: 1s }";
  DoormanProcess doorman(dir_, config);
  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=8000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  doorman.expectExit();
  ASSERT_EQ(::kill(doorman.pid(), SIGTERM), 0);
  auto status = doorman.process().waitForExit(milliseconds(6000));
  ASSERT_TRUE(status) << "doorman waited past timeouts.drain\n" << doorman.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
  EXPECT_NE(doorman.log().find("timeouts.drain passed with 1 connections still open"),
            std::string::npos)
      << doorman.log();
  EXPECT_TRUE(busy.waitForClose(milliseconds(2000)));
}

/// SIGQUIT stops at once, without draining: the 5 s request is cut, doorman exits 0.
TEST_F(GracefulStopTest, SigquitStopsAtOnce) {
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2));
  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=5000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  doorman.expectExit();
  ASSERT_EQ(::kill(doorman.pid(), SIGQUIT), 0);
  auto status = doorman.process().waitForExit(milliseconds(3000));
  ASSERT_TRUE(status) << "doorman waited for the in-flight request";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
  EXPECT_TRUE(busy.waitForClose(milliseconds(2000)));
  EXPECT_FALSE(busy.readResponse(milliseconds(100))) << "a response although it was cut";
}

}  // namespace
}  // namespace doorman::it
