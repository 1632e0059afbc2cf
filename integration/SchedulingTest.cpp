// Scheduling against real gunicorn: admission control (a request whose predicted wait is
// over its queue timeout is answered 503 at once, with Retry-After from the estimate).

#include <algorithm>
#include <chrono>
#include <cmath>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"
#include "harness/Net.hpp"

namespace doorman::it {
namespace {

using Clock = std::chrono::steady_clock;

int64_t elapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

class SchedulingTest : public IntegrationTest {
 protected:
  SchedulingTest() : adminPort_(freeTcpPort()) {}

  std::string admin() const { return "admin: { listen: \"" + loopback(adminPort_) + "\" }\n"; }

  /// upstreams.app.queue in /status (-1 when it cannot be read).
  int64_t queueLength() {
    auto page = fetch(loopback(adminPort_), httpGet("/status"));
    if (!page) return -1;
    auto doc = parseJson(page->body);
    return doc ? (*doc)["upstreams"]["app"]["queue"].integer() : -1;
  }

  uint16_t adminPort_;
};

/// workers: 1. Three /sleep?ms=2000 teach the estimate (>= 2 s a request); a fourth holds
/// the worker and two more wait in the queue on a route that may wait 30 s. A request on a
/// route whose queue timeout is 5 s would be third in the queue: predicted wait >= 6 s, so
/// it is answered 503 at once (well within 2.5 s, not after 5 s), with Retry-After = the
/// prediction in seconds (3 x the estimate, which lies between 2 s and the slowest
/// teaching request as the client timed it), and gunicorn never sees it.
TEST_F(SchedulingTest, PredictedWaitOverTheQueueTimeoutIs503AtOnceWithRetryAfter) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig config = DoormanConfig::forBackend(gunicorn.address(), 1);
  config.upstreams[0].queueTimeout = "30s";
  config.upstreams[0].responseTimeout = "60s";
  config.routes = {{"/limited/", "app", "queue_timeout: 5s"}, {"/", "app"}};
  config.extra = admin();
  DoormanProcess doorman(dir_, config);

  int64_t slowestMs = 0;
  for (int i = 0; i < 3; ++i) {
    auto start = Clock::now();
    auto taught = fetch(doorman.address(), httpGet("/sleep?ms=2000"), milliseconds(30000));
    ASSERT_TRUE(taught);
    ASSERT_EQ(taught->status, 200);
    slowestMs = std::max(slowestMs, elapsedMs(start));
  }

  HttpClient holder(doorman.address());
  ASSERT_TRUE(holder.send(httpGet("/sleep?ms=6000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn.stats().inflight == 1; }, milliseconds(10000)));
  HttpClient first(doorman.address());
  ASSERT_TRUE(first.send(httpGet("/hello")));
  ASSERT_TRUE(waitUntil([&] { return queueLength() == 1; }, milliseconds(10000)));
  HttpClient second(doorman.address());
  ASSERT_TRUE(second.send(httpGet("/hello")));
  ASSERT_TRUE(waitUntil([&] { return queueLength() == 2; }, milliseconds(10000)));

  auto start = Clock::now();
  auto refused = fetch(doorman.address(), httpGet("/limited/hello"), milliseconds(20000));
  const int64_t tookMs = elapsedMs(start);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_LT(tookMs, 2500) << "answered after waiting, not at once";
  ASSERT_TRUE(refused->has("Retry-After"));
  const int64_t retryAfter = std::stoll(*refused->header("Retry-After"));
  // position 3 x estimate / 1 worker, rounded up to whole seconds.
  EXPECT_GE(retryAfter, 6);
  EXPECT_LE(retryAfter,
            static_cast<int64_t>(std::ceil(3.0 * static_cast<double>(slowestMs) / 1000)))
      << "slowest teaching request took " << slowestMs << " ms";
  EXPECT_EQ(queueLength(), 2);  // never queued

  auto held = holder.readResponse(milliseconds(30000));
  ASSERT_TRUE(held) << holder.error();
  EXPECT_EQ(held->status, 200);
  for (HttpClient* queued : {&first, &second}) {
    auto response = queued->readResponse(milliseconds(30000));
    ASSERT_TRUE(response) << queued->error();
    EXPECT_EQ(response->status, 200);
  }
  // 3 teaching + the holder + the 2 queued: the refused request never reached gunicorn.
  EXPECT_EQ(gunicorn.stats().requests, 6);
}

}  // namespace
}  // namespace doorman::it
