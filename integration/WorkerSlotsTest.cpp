// A worker slot is the unit of scheduling: doorman never has more than `workers`
// requests in flight to a server, whatever the number of clients; excess requests wait
// in a bounded FIFO queue, and beyond it get 503 with Retry-After.

#include <atomic>
#include <mutex>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

namespace doorman::it {
namespace {

class WorkerSlotsTest : public IntegrationTest {};

/// 20 concurrent clients, each GET /sleep?ms=50, against `workers: 2` in front of a
/// gunicorn that could take 4 at once: all get 200, and gunicorn never sees more than 2
/// requests in flight.
TEST_F(WorkerSlotsTest, BackendNeverSeesMoreRequestsThanWorkers) {
  GunicornBackend gunicorn(dir_, 4);
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn.address(), 2));
  std::atomic<int> ok{0};
  auto errors = runInParallel(20, [&](size_t) {
    auto response = fetch(doorman.address(), httpGet("/sleep?ms=50"), milliseconds(30000));
    if (response && response->status == 200) ++ok;
  });
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  EXPECT_EQ(ok.load(), 20);
  auto stats = gunicorn.stats();
  EXPECT_EQ(stats.requests, 20);
  EXPECT_LE(stats.peak, 2);
}

/// workers: 1, queue max: 1. While one slow request holds the worker, 5 more arrive at
/// once: exactly one fits in the queue (and later gets 200), the other 4 get 503 with
/// Retry-After at once; the backend sees exactly the 2 admitted requests.
TEST_F(WorkerSlotsTest, FullQueueAnswers503WithRetryAfter) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig config = DoormanConfig::forBackend(gunicorn.address(), 1);
  config.upstreams[0].queueMax = 1;
  config.upstreams[0].queueTimeout = "20s";
  DoormanProcess doorman(dir_, config);

  HttpClient slow(doorman.address());
  ASSERT_TRUE(slow.send(httpGet("/sleep?ms=3000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn.stats().inflight == 1; }, milliseconds(5000)));

  std::mutex mutex;
  std::vector<HttpResponse> responses;
  auto errors = runInParallel(5, [&](size_t) {
    auto response = fetch(doorman.address(), httpGet("/hello"), milliseconds(20000));
    if (!response) throw std::runtime_error("no response");
    std::lock_guard lock(mutex);
    responses.push_back(*response);
  });
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  auto first = slow.readResponse();
  ASSERT_TRUE(first) << slow.error();
  EXPECT_EQ(first->status, 200);

  int ok = 0, rejected = 0, other = 0;
  for (const auto& response : responses) {
    if (response.status == 200) {
      ++ok;
    } else if (response.status == 503) {
      ++rejected;
      EXPECT_TRUE(response.has("Retry-After")) << "503 without Retry-After";
    } else {
      ++other;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(rejected, 4);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(ok + rejected + other, 5);
  EXPECT_EQ(gunicorn.stats().requests, 2);
  EXPECT_EQ(gunicorn.stats().peak, 1);
}

/// workers: 1, queue timeout 1s. A request queued behind a 3-second one gets 503 with
/// Retry-After when its queue deadline passes, and never reaches the backend.
TEST_F(WorkerSlotsTest, QueuedRequestGets503WhenQueueTimeoutExpires) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig config = DoormanConfig::forBackend(gunicorn.address(), 1);
  config.upstreams[0].queueTimeout = "1s";
  DoormanProcess doorman(dir_, config);

  HttpClient slow(doorman.address());
  ASSERT_TRUE(slow.send(httpGet("/sleep?ms=3000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn.stats().inflight == 1; }, milliseconds(5000)));
  auto queued = fetch(doorman.address(), httpGet("/hello"), milliseconds(10000));
  ASSERT_TRUE(queued);
  EXPECT_EQ(queued->status, 503);
  EXPECT_TRUE(queued->has("Retry-After"));
  auto first = slow.readResponse();
  ASSERT_TRUE(first) << slow.error();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(gunicorn.stats().requests, 1);
}

/// A client that gives up while its request waits in the queue leaves the queue: the
/// backend never sees that request, and the next client is served normally.
TEST_F(WorkerSlotsTest, ClientThatLeavesTheQueueIsNeverForwarded) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn.address(), 1));

  HttpClient slow(doorman.address());
  ASSERT_TRUE(slow.send(httpGet("/sleep?ms=1500")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn.stats().inflight == 1; }, milliseconds(5000)));
  {
    HttpClient impatient(doorman.address());
    ASSERT_TRUE(impatient.send(httpGet("/echo/impatient")));
  }  // closes while queued
  auto first = slow.readResponse();
  ASSERT_TRUE(first) << slow.error();
  EXPECT_EQ(first->status, 200);
  auto next = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(gunicorn.stats().requests, 2);  // the slow one and the next, not the impatient one
}

}  // namespace
}  // namespace doorman::it
