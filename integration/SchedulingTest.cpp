// Scheduling against real gunicorn: admission control (a request whose predicted wait is
// over its queue timeout is answered 503 at once, with Retry-After from the estimate),
// least-busy relative to `workers` across a unix-socket and a TCP server of one upstream,
// and a route's queue timeout overriding its upstream's, end to end.

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

/// One upstream, a unix-socket gunicorn A (workers: 2) and a TCP gunicorn B (workers: 3).
/// Quick requests reach both. Then slow requests are sent one at a time, each after the
/// previous one is in a worker: relative to `workers` the second and third go to B (A at
/// 1/2 is busier than B at 0/3 or 1/3; by plain in-flight counts or in rotation A would
/// get the third). With every slot busy, a request on a route whose queue_timeout (1 s)
/// overrides the upstream's (30 s) gets 503 after about 1 s, while one on the upstream's
/// own route waits and gets 200.
TEST_F(SchedulingTest, LeastBusyAcrossUnixAndTcpServersAndRouteQueueTimeout) {
  GunicornBackend a(dir_, 2);
  GunicornBackend b(dir_, 3, /*tcp=*/true);
  ASSERT_EQ(a.address().rfind("unix:", 0), 0u);
  ASSERT_EQ(b.address().rfind("unix:", 0), std::string::npos);
  DoormanConfig config;
  UpstreamSpec app;
  app.servers = {{a.address(), 2}, {b.address(), 3}};
  app.queueTimeout = "30s";
  app.responseTimeout = "60s";
  config.upstreams.push_back(app);
  config.routes = {{"/short/", "app", "queue_timeout: 1s"}, {"/", "app"}};
  config.extra = admin();
  DoormanProcess doorman(dir_, config);

  for (int i = 0; i < 6; ++i) {
    auto response = fetch(doorman.address(), httpGet("/hello"));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200);
  }
  const int64_t quickA = a.stats().requests;
  const int64_t quickB = b.stats().requests;
  EXPECT_GT(quickA, 0) << "the unix-socket server got no request";
  EXPECT_GT(quickB, 0) << "the TCP server got no request";
  EXPECT_EQ(quickA + quickB, 6);

  std::vector<HttpClient> slow;
  auto inflight = [&] { return a.stats().inflight + b.stats().inflight; };
  for (int i = 1; i <= 3; ++i) {
    slow.emplace_back(doorman.address());
    ASSERT_TRUE(slow.back().send(httpGet("/sleep?ms=8000")));
    ASSERT_TRUE(waitUntil([&] { return inflight() == i; }, milliseconds(10000)));
  }
  EXPECT_EQ(a.stats().inflight, 1);
  EXPECT_EQ(b.stats().inflight, 2);

  for (int i = 4; i <= 5; ++i) {  // every slot busy
    slow.emplace_back(doorman.address());
    ASSERT_TRUE(slow.back().send(httpGet("/sleep?ms=8000")));
    ASSERT_TRUE(waitUntil([&] { return inflight() == i; }, milliseconds(10000)));
  }
  HttpClient patient(doorman.address());
  ASSERT_TRUE(patient.send(httpGet("/hello")));
  ASSERT_TRUE(waitUntil([&] { return queueLength() == 1; }, milliseconds(10000)));

  auto start = Clock::now();
  auto timedOut = fetch(doorman.address(), httpGet("/short/hello"), milliseconds(40000));
  const int64_t tookMs = elapsedMs(start);
  ASSERT_TRUE(timedOut);
  EXPECT_EQ(timedOut->status, 503);
  EXPECT_GE(tookMs, 900) << "answered before its queue timeout";
  EXPECT_LT(tookMs, 5000) << "the route's queue timeout was not applied";

  for (auto& client : slow) {
    auto response = client.readResponse(milliseconds(30000));
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 200);
  }
  auto waited = patient.readResponse(milliseconds(30000));
  ASSERT_TRUE(waited) << patient.error();
  EXPECT_EQ(waited->status, 200);
  EXPECT_EQ(a.stats().requests + b.stats().requests, 6 + 5 + 1);  // not the /short/ one
}

}  // namespace
}  // namespace doorman::it
