// Stopping doorman: SIGTERM finishes what is in flight and exits 0; a second signal (or
// SIGQUIT) stops at once.

#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

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

}  // namespace
}  // namespace doorman::it
