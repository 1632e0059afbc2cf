// UpstreamPool against a fake peer: an in-process libuv server on 127.0.0.1:0 that
// counts connections and requests and answers when the test tells it to.
#include "doorman/upstream/UpstreamPool.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>

#include "doorman/uv/Timer.hpp"

namespace doorman::upstream {
namespace {

/// A backend that reads bodiless requests and keeps them pending until answer().
class FakeBackend {
 public:
  /// Listens on 127.0.0.1:`fixedPort` (0: a free port).
  explicit FakeBackend(uv::Loop& loop, uint16_t fixedPort = 0) : loop_(loop) {
    int rc = 0;
    server_ = uv::makeHandle<uv_tcp_t>(loop.raw(), rc, uv_tcp_init);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", fixedPort, &addr);
    uv_tcp_bind(server_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
    sockaddr_storage ss{};
    int len = sizeof ss;
    uv_tcp_getsockname(server_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    server_->data = this;
    uv_listen(uv::asStream(server_.get()), 64,
              [](uv_stream_t* s, int) { static_cast<FakeBackend*>(s->data)->accept(); });
  }

  struct Peer {
    uv::HandlePtr<uv_tcp_t> tcp;
    std::string buffer;
    FakeBackend* owner = nullptr;
  };

  void accept() {
    int rc = 0;
    auto peer = std::make_unique<Peer>();
    peer->owner = this;
    peer->tcp = uv::makeHandle<uv_tcp_t>(loop_.raw(), rc, uv_tcp_init);
    uv_accept(uv::asStream(server_.get()), uv::asStream(peer->tcp.get()));
    peer->tcp->data = peer.get();
    uv_read_start(
        uv::asStream(peer->tcp.get()),
        [](uv_handle_t*, size_t, uv_buf_t* b) {
          static char buf[4096];
          *b = uv_buf_init(buf, sizeof buf);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* p = static_cast<Peer*>(s->data);
          if (p == nullptr) return;
          if (n < 0) {
            p->owner->drop(p);
            return;
          }
          p->buffer.append(b->base, static_cast<size_t>(n));
          size_t end;
          while ((end = p->buffer.find("\r\n\r\n")) != std::string::npos) {
            p->buffer.erase(0, end + 4);
            p->owner->pending.push_back(p);
            ++p->owner->requests;
            size_t inflight = p->owner->pending.size();
            if (inflight > p->owner->peak) p->owner->peak = inflight;
          }
        });
    ++accepted;
    peers_.push_back(std::move(peer));
  }

  void drop(Peer* p) {
    std::erase(pending, p);
    std::erase_if(peers_, [&](const auto& q) { return q.get() == p; });
  }

  /// Answers the oldest pending request.
  void answer(bool keepAlive = true, int status = 200) {
    ASSERT_FALSE(pending.empty());
    Peer* p = pending.front();
    pending.pop_front();
    static std::string keep;
    static std::string close;
    std::string& text = keepAlive ? keep : close;
    text = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 2\r\n" +
           (keepAlive ? "" : "Connection: close\r\n") + "\r\nok";
    uv_buf_t buf = uv_buf_init(text.data(), static_cast<unsigned>(text.size()));
    uv_try_write(uv::asStream(p->tcp.get()), &buf, 1);
    if (!keepAlive) drop(p);
  }

  uint16_t port = 0;
  size_t accepted = 0;
  size_t requests = 0;
  size_t peak = 0;
  std::deque<Peer*> pending;

 private:
  uv::Loop& loop_;
  uv::HandlePtr<uv_tcp_t> server_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

struct RecordingSink final : ResponseSink {
  void onUpstreamResponse(http::Response response) override { statuses.push_back(response.status); }
  void onUpstreamFailure(int status, std::string_view, uint64_t) override {
    statuses.push_back(status);
  }
  std::vector<int> statuses;
};

class UpstreamPoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<UpstreamPool> makePool(uint16_t port, uint32_t workers, uint64_t queueMax = 100) {
    config_.name = "app";
    config::UpstreamServer server;
    server.address.host = "127.0.0.1";
    server.address.port = port;
    server.address.text = "127.0.0.1:" + std::to_string(port);
    server.workers = workers;
    config_.servers = {server};
    config_.queueMax = queueMax;
    config_.retries = 1;
    std::string error;
    auto pool = UpstreamPool::create(loop_, config_, nullptr, 1 << 20, error);
    EXPECT_TRUE(pool) << error;
    return pool;
  }

  std::shared_ptr<OutboundRequest> get() {
    auto r = std::make_shared<OutboundRequest>();
    r->head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    r->idempotent = true;
    return r;
  }

  /// Runs the loop until `done` or 5 s of loop time (a ticking timer makes sure the
  /// loop wakes up even when nothing else happens).
  void runUntil(const std::function<bool()>& done) {
    struct Tick final : uv::TimerListener {
      void onTimer() override {}
    } tick;
    uv::Timer ticker(loop_, tick);
    uint64_t deadline = loop_.nowMs() + 5000;
    while (!done() && loop_.nowMs() < deadline) {
      ticker.start(10);
      uv_run(loop_.raw(), UV_RUN_ONCE);
    }
    ASSERT_TRUE(done());
  }

  uv::Loop loop_;
  config::Upstream config_;
};

TEST_F(UpstreamPoolTest, NeverHasMoreRequestsInFlightThanWorkersAndQueuesTheRest) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 2);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  std::vector<JobPtr> jobs;
  for (int i = 0; i < 5; ++i) {
    jobs.push_back(pool->submit(get(), sink, 10000, rejection));
  }
  EXPECT_EQ(pool->busyWorkers(), 2u);
  EXPECT_EQ(pool->queueLength(), 3u);
  runUntil([&] { return backend.pending.size() == 2; });
  for (int answered = 0; answered < 5; ++answered) {
    runUntil([&] { return !backend.pending.empty(); });
    backend.answer(true);
  }
  runUntil([&] { return sink.statuses.size() == 5; });
  EXPECT_EQ(backend.peak, 2u);
  EXPECT_EQ(backend.accepted, 2u);  // kept-alive connections were reused, never a third
  EXPECT_EQ(std::count(sink.statuses.begin(), sink.statuses.end(), 200), 5);
  EXPECT_EQ(pool->busyWorkers(), 0u);
}

TEST_F(UpstreamPoolTest, JobTimingRecordsEachPhaseInOrder) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  JobPtr first = pool->submit(get(), sink, 10000, rejection);
  JobPtr second = pool->submit(get(), sink, 10000, rejection);
  EXPECT_EQ(second->timing.dispatchedUs, 0u);  // queued behind the first
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(true);
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(true);
  runUntil([&] { return sink.statuses.size() == 2; });
  for (const JobPtr& job : {first, second}) {
    const JobTiming& t = job->timing;
    EXPECT_GT(t.queuedUs, 0u);
    EXPECT_LE(t.queuedUs, t.dispatchedUs);
    EXPECT_LE(t.dispatchedUs, t.firstByteUs);
    EXPECT_LE(t.firstByteUs, t.completedUs);
    EXPECT_EQ(t.tries, 1u);
    EXPECT_EQ(t.server, "127.0.0.1:" + std::to_string(backend.port));
  }
  EXPECT_FALSE(first->timing.reusedConnection);
  EXPECT_TRUE(second->timing.reusedConnection);
  // The second waited for the first's whole exchange.
  EXPECT_GE(second->timing.dispatchedUs, first->timing.firstByteUs);
  auto views = pool->serverViews();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].workers, 1u);
  EXPECT_EQ(views[0].busy, 0u);
  EXPECT_EQ(views[0].idle, 1u);
}

TEST_F(UpstreamPoolTest, FullQueueIsRejectedAtOnceWith503) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1, 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  EXPECT_TRUE(pool->submit(get(), sink, 10000, rejection));
  EXPECT_TRUE(pool->submit(get(), sink, 10000, rejection));
  EXPECT_FALSE(pool->submit(get(), sink, 10000, rejection));
  EXPECT_EQ(rejection.status, 503);
  EXPECT_GE(rejection.retryAfterSeconds, 1u);
  EXPECT_TRUE(sink.statuses.empty());  // never called from inside submit()
}

TEST_F(UpstreamPoolTest, QueuedRequestPastItsDeadlineGets503AndLeavesTheQueue) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1);
  RecordingSink holder;
  RecordingSink waiter;
  UpstreamPool::Rejection rejection;
  pool->submit(get(), holder, 10000, rejection);
  pool->submit(get(), waiter, 20, rejection);
  runUntil([&] { return !waiter.statuses.empty(); });
  EXPECT_EQ(waiter.statuses, std::vector<int>{503});
  EXPECT_EQ(pool->queueLength(), 0u);
  EXPECT_EQ(pool->stats().queueTimeouts, 1u);
  EXPECT_EQ(pool->stats().error(UpstreamError::QueueTimeout), 1u);
}

TEST_F(UpstreamPoolTest, CancelledQueuedRequestIsNeverSentNorAnswered) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1);
  RecordingSink first;
  RecordingSink gone;
  RecordingSink third;
  UpstreamPool::Rejection rejection;
  pool->submit(get(), first, 10000, rejection);
  JobPtr cancelled = pool->submit(get(), gone, 10000, rejection);
  pool->submit(get(), third, 10000, rejection);
  pool->cancel(*cancelled);
  EXPECT_EQ(pool->queueLength(), 1u);
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(true);
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(true);
  runUntil([&] { return third.statuses.size() == 1; });
  EXPECT_TRUE(gone.statuses.empty());
  EXPECT_EQ(backend.requests, 2u);
}

TEST_F(UpstreamPoolTest, CancelledInFlightRequestStillConsumesItsResponse) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1);
  RecordingSink gone;
  RecordingSink next;
  UpstreamPool::Rejection rejection;
  JobPtr job = pool->submit(get(), gone, 10000, rejection);
  runUntil([&] { return backend.pending.size() == 1; });
  pool->cancel(*job);
  pool->submit(get(), next, 10000, rejection);
  backend.answer(true);
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(true);
  runUntil([&] { return next.statuses.size() == 1; });
  EXPECT_TRUE(gone.statuses.empty());
  EXPECT_EQ(backend.accepted, 1u);  // the connection stayed in sync and was reused
}

TEST_F(UpstreamPoolTest, ConnectionClosedByTheBackendIsReopenedForTheNextRequest) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  pool->submit(get(), sink, 10000, rejection);
  pool->submit(get(), sink, 10000, rejection);
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(false);
  runUntil([&] { return backend.pending.size() == 1; });
  backend.answer(false);
  runUntil([&] { return sink.statuses.size() == 2; });
  EXPECT_EQ(backend.accepted, 2u);
}

uint16_t closedPort(uv::Loop& loop) {
  uint16_t port = 0;
  {
    FakeBackend gone(loop);
    port = gone.port;
  }
  uv_run(loop.raw(), UV_RUN_NOWAIT);  // let the listener close
  return port;
}

TEST_F(UpstreamPoolTest, RefusedConnectionWaitsForTheServerThenAnswers503WithRetryAfter) {
  auto pool = makePool(closedPort(loop_), 1);
  struct Sink final : ResponseSink {
    void onUpstreamResponse(http::Response) override { status = 200; }
    void onUpstreamFailure(int s, std::string_view, uint64_t retryAfter) override {
      status = s;
      retry = retryAfter;
    }
    int status = 0;
    uint64_t retry = 0;
  } sink;
  UpstreamPool::Rejection rejection;
  pool->submit(get(), sink, 400, rejection);
  runUntil([&] { return sink.status != 0; });
  EXPECT_EQ(sink.status, 503);  // not 502: the request never reached an app
  EXPECT_GE(sink.retry, 1u);
  EXPECT_EQ(pool->stats().connectFailures, 1u);  // probes, not one connect per request
  EXPECT_EQ(pool->stats().error(UpstreamError::Connect), 1u);
  EXPECT_EQ(pool->stats().error(UpstreamError::Unavailable), 1u);
  auto views = pool->serverViews();
  EXPECT_FALSE(views[0].up);
  EXPECT_GE(views[0].failures, 2u);  // the probes failed too
  EXPECT_EQ(pool->busyWorkers(), 0u);
}

TEST_F(UpstreamPoolTest, WhenEveryServerIsDownForTheQueueTimeoutNewRequestsGet503AtOnce) {
  auto pool = makePool(closedPort(loop_), 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  pool->submit(get(), sink, 50, rejection);
  runUntil([&] { return !sink.statuses.empty(); });
  EXPECT_EQ(sink.statuses, std::vector<int>{503});
  // The outage began when the connect failed, up to the first 503; 50 ms after that 503
  // it has lasted at least the queue timeout.
  uint64_t until = loop_.nowMs() + 50;
  runUntil([&] { return loop_.nowMs() >= until; });
  EXPECT_FALSE(pool->submit(get(), sink, 50, rejection));
  EXPECT_EQ(rejection.status, 503);
  EXPECT_GE(rejection.retryAfterSeconds, 1u);
  // A request allowed to wait longer than the outage lasted so far still queues.
  EXPECT_TRUE(pool->submit(get(), sink, 60000, rejection));
}

TEST_F(UpstreamPoolTest, QueuedRequestsGoOutWhenARestartedServerAcceptsAgain) {
  uint16_t port = closedPort(loop_);
  auto pool = makePool(port, 2);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  for (int i = 0; i < 3; ++i) {
    pool->submit(get(), sink, 10000, rejection);
  }
  runUntil([&] { return pool->stats().connectFailures >= 1 && !pool->serverViews()[0].up; });
  runUntil([&] { return pool->serverViews()[0].failures >= 2; });  // a probe failed
  EXPECT_TRUE(sink.statuses.empty());
  FakeBackend restarted(loop_, port);
  for (int i = 0; i < 3; ++i) {
    runUntil([&] { return !restarted.pending.empty(); });
    restarted.answer(true);
  }
  runUntil([&] { return sink.statuses.size() == 3; });
  EXPECT_EQ(std::count(sink.statuses.begin(), sink.statuses.end(), 200), 3);
  EXPECT_TRUE(pool->serverViews()[0].up);
  EXPECT_EQ(pool->serverViews()[0].failures, 0u);
}

TEST_F(UpstreamPoolTest, PredictedWaitOverTheQueueTimeoutIsRejectedAtOnce) {
  FakeBackend backend(loop_);
  auto pool = makePool(backend.port, 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  // Teach the estimate: each request keeps the worker for at least 30 ms.
  for (int i = 0; i < 3; ++i) {
    pool->submit(get(), sink, 10000, rejection);
    runUntil([&] { return backend.pending.size() == 1; });
    uint64_t until = loop_.nowMs() + 30;
    runUntil([&] { return loop_.nowMs() >= until; });
    backend.answer(true);
    runUntil([&] { return sink.statuses.size() == static_cast<size_t>(i + 1); });
  }
  ASSERT_TRUE(pool->serviceEstimate().ready());
  EXPECT_GE(pool->serviceEstimate().micros(), 30000u);
  pool->submit(get(), sink, 10000, rejection);  // takes the worker
  EXPECT_FALSE(pool->submit(get(), sink, 10, rejection));
  EXPECT_EQ(rejection.status, 503);
  EXPECT_GE(rejection.retryAfterSeconds, 1u);
  EXPECT_EQ(pool->stats().error(UpstreamError::Overloaded), 1u);
  EXPECT_TRUE(pool->submit(get(), sink, 10000, rejection));  // may wait long enough
  EXPECT_EQ(pool->queueLength(), 1u);
}

TEST_F(UpstreamPoolTest, LeastBusyServerRelativeToItsWorkersGetsTheRequest) {
  FakeBackend small(loop_);
  FakeBackend large(loop_);
  config_.name = "app";
  config::UpstreamServer a;
  a.address.host = "127.0.0.1";
  a.address.port = small.port;
  a.workers = 1;
  config::UpstreamServer b = a;
  b.address.port = large.port;
  b.workers = 3;
  config_.servers = {a, b};
  std::string error;
  auto pool = UpstreamPool::create(loop_, config_, nullptr, 1 << 20, error);
  ASSERT_TRUE(pool) << error;
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  // First: a tie (0/1 vs 0/3), rotation picks the first server. Then the 3-worker
  // server is the least busy (0/3 < 1/1, then 1/3, 2/3) until both are full.
  for (int i = 0; i < 4; ++i) {
    pool->submit(get(), sink, 10000, rejection);
  }
  auto views = pool->serverViews();
  EXPECT_EQ(views[0].busy, 1u);
  EXPECT_EQ(views[1].busy, 3u);
  EXPECT_EQ(pool->queueLength(), 0u);
}

TEST_F(UpstreamPoolTest, SlowBackendGets504AfterTheResponseTimeout) {
  FakeBackend backend(loop_);
  config_.responseTimeout = core::Millis(30);
  auto pool = makePool(backend.port, 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  pool->submit(get(), sink, 10000, rejection);
  runUntil([&] { return !sink.statuses.empty(); });
  EXPECT_EQ(sink.statuses, std::vector<int>{504});
  EXPECT_EQ(pool->busyWorkers(), 0u);
  EXPECT_EQ(pool->stats().error(UpstreamError::Timeout), 1u);
}

/// Loop times (ms) at which the server's count of consecutive failures reaches
/// from+1, from+2, ... to (each a failed probe after its back-off).
std::vector<uint64_t> failureTimes(uv::Loop& loop, UpstreamPool& pool, uint32_t to,
                                   const std::function<void(const std::function<bool()>&)>& run) {
  std::vector<uint64_t> times;
  uint32_t seen = pool.serverViews()[0].failures;
  while (seen < to) {
    run([&] { return pool.serverViews()[0].failures > seen; });
    seen = pool.serverViews()[0].failures;
    times.push_back(loop.nowMs());
  }
  return times;
}

TEST_F(UpstreamPoolTest, ProbeBackoffGrowsToItsCapAndStartsOverAfterASuccess) {
  uint16_t port = closedPort(loop_);
  RecordingSink sink;
  auto pool = makePool(port, 1);
  UpstreamPool::Rejection rejection;
  auto run = [&](const std::function<bool()>& done) { runUntil(done); };
  pool->submit(get(), sink, 60000, rejection);
  runUntil([&] { return pool->serverViews()[0].failures == 1; });  // the connect failed
  // Probes after 100, 200, 400, 800 ms, then 1 s, 1 s (the cap); each failure is timed
  // when the loop sees it, so a gap can be a few ms short of its back-off.
  uint64_t start = loop_.nowMs();
  auto times = failureTimes(loop_, *pool, 7, run);
  ASSERT_EQ(times.size(), 6u);
  std::vector<uint64_t> gaps;
  for (uint64_t t : times) {
    gaps.push_back(t - start);
    start = t;
  }
  const uint64_t expected[] = {100, 200, 400, 800, 1000, 1000};
  for (size_t i = 0; i < gaps.size(); ++i) {
    EXPECT_GE(gaps[i] + 30, expected[i]) << "probe " << i + 1 << " came early";
  }
  EXPECT_LT(gaps[1], gaps[3]);  // it grows
  EXPECT_LT(gaps[5], 1600u) << "not capped: " << gaps[5] << " ms";
  EXPECT_TRUE(sink.statuses.empty());

  // The server comes back: the queued request goes out and succeeds, which resets the
  // count; the next outage is probed after 100 ms again, not after the 1 s cap.
  {
    FakeBackend restarted(loop_, port);
    runUntil([&] { return !restarted.pending.empty(); });
    restarted.answer(true);
    runUntil([&] { return sink.statuses.size() == 1; });
    EXPECT_EQ(sink.statuses[0], 200);
    EXPECT_EQ(pool->serverViews()[0].failures, 0u);
  }
  uv_run(loop_.raw(), UV_RUN_NOWAIT);  // the listener and the peer close
  runUntil([&] { return pool->serverViews()[0].idle == 0; });
  pool->submit(get(), sink, 60000, rejection);
  runUntil([&] { return pool->serverViews()[0].failures == 1; });
  start = loop_.nowMs();
  times = failureTimes(loop_, *pool, 2, run);
  ASSERT_EQ(times.size(), 1u);
  EXPECT_GE(times[0] - start + 30, 100u);
  EXPECT_LT(times[0] - start, 600u) << "the back-off did not start over after a success";
}

}  // namespace
}  // namespace doorman::upstream

namespace doorman::upstream {
namespace {

TEST_F(UpstreamPoolTest, RetryAfterARefusedConnectGoesToAnotherServer) {
  uint16_t deadPort = closedPort(loop_);
  FakeBackend healthy(loop_);
  config_.name = "app";
  config::UpstreamServer dead;
  dead.address.host = "127.0.0.1";
  dead.address.port = deadPort;
  dead.workers = 4;
  config::UpstreamServer alive = dead;
  alive.address.port = healthy.port;
  config_.servers = {dead, alive};
  config_.retries = 1;
  std::string error;
  auto pool = UpstreamPool::create(loop_, config_, nullptr, 1 << 20, error);
  ASSERT_TRUE(pool) << error;
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  for (int i = 0; i < 6; ++i) {
    pool->submit(get(), sink, 10000, rejection);
  }
  for (int i = 0; i < 6; ++i) {
    runUntil([&] { return !healthy.pending.empty(); });
    healthy.answer(true);
  }
  runUntil([&] { return sink.statuses.size() == 6; });
  EXPECT_EQ(std::count(sink.statuses.begin(), sink.statuses.end(), 200), 6);
}

}  // namespace
}  // namespace doorman::upstream

// Active health checks (health_check): a GET of the check path per server, in a free slot.
namespace doorman::upstream {
namespace {

class HealthCheckPoolTest : public UpstreamPoolTest {
 protected:
  void checkEvery(uint64_t intervalMs, uint64_t timeoutMs = 1000) {
    config_.healthCheck =
        config::HealthCheck{"/health", core::Millis(intervalMs), core::Millis(timeoutMs)};
  }
  void runFor(uint64_t ms) {
    uint64_t until = loop_.nowMs() + ms;
    runUntil([&] { return loop_.nowMs() >= until; });
  }
};

TEST_F(HealthCheckPoolTest, FailingCheckTakesTheServerOutUntilACheckPasses) {
  FakeBackend backend(loop_);
  checkEvery(20);
  auto pool = makePool(backend.port, 1);
  runUntil([&] { return backend.pending.size() == 1; });  // the first check
  backend.answer(false, 500);
  runUntil([&] { return !pool->serverViews()[0].up; });
  EXPECT_TRUE(pool->serverViews()[0].checkFailed);
  EXPECT_EQ(pool->busyWorkers(), 0u);

  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  ASSERT_TRUE(pool->submit(get(), sink, 10000, rejection));
  EXPECT_EQ(pool->queueLength(), 1u);  // out of service: the request waits
  // The queued request cannot use the server, so its free slot serves the next check.
  runUntil([&] { return backend.pending.size() == 1; });
  EXPECT_EQ(pool->queueLength(), 1u);
  backend.answer(false, 204);
  runUntil([&] { return pool->serverViews()[0].up && backend.pending.size() == 1; });
  EXPECT_FALSE(pool->serverViews()[0].checkFailed);
  EXPECT_EQ(pool->queueLength(), 0u);
  backend.answer(true);
  runUntil([&] { return sink.statuses.size() == 1; });
  EXPECT_EQ(sink.statuses, std::vector<int>{200});
}

TEST_F(HealthCheckPoolTest, TimeoutOrRefusedConnectFailsTheCheck) {
  {
    FakeBackend silent(loop_);  // reads the check, never answers
    checkEvery(20, 50);
    auto pool = makePool(silent.port, 1);
    runUntil([&] { return pool->serverViews()[0].checkFailed; });
    EXPECT_FALSE(pool->serverViews()[0].up);
    EXPECT_GE(silent.requests, 1u);
  }
  auto pool = makePool(closedPort(loop_), 1);
  runUntil([&] { return pool->serverViews()[0].checkFailed; });
  EXPECT_FALSE(pool->serverViews()[0].up);
  EXPECT_EQ(pool->busyWorkers(), 0u);
}

TEST_F(HealthCheckPoolTest, CheckWaitsForAFreeSlotAndNeverTakesOneFromTheQueue) {
  FakeBackend backend(loop_);
  checkEvery(5);
  auto pool = makePool(backend.port, 1);
  RecordingSink sink;
  UpstreamPool::Rejection rejection;
  // Before the loop runs: one request takes the only worker, one waits in the queue.
  ASSERT_TRUE(pool->submit(get(), sink, 10000, rejection));
  ASSERT_TRUE(pool->submit(get(), sink, 10000, rejection));
  EXPECT_EQ(pool->queueLength(), 1u);
  runFor(100);  // some twenty checks fall due
  EXPECT_EQ(backend.requests, 1u);
  backend.answer(true);
  runUntil([&] { return backend.requests == 2 && backend.pending.size() == 1; });
  runFor(100);
  EXPECT_EQ(backend.requests, 2u);  // the queued request got the worker, no check
  backend.answer(true);             // the connection stays, idle
  runUntil([&] { return sink.statuses.size() == 2; });
  runUntil([&] { return backend.requests == 3 && backend.pending.size() == 1; });  // a check
  auto view = pool->serverViews()[0];
  EXPECT_EQ(view.busy, 1u);  // the check holds the slot...
  EXPECT_EQ(view.idle, 0u);  // ...of the idle connection it closed (it held the worker)
  backend.answer(false);
  runUntil([&] { return pool->busyWorkers() == 0; });
  EXPECT_TRUE(pool->serverViews()[0].up);
}

TEST_F(HealthCheckPoolTest, StoppedChecksFreeTheirSlotAndNeverRunAgain) {
  FakeBackend backend(loop_);
  checkEvery(5);
  auto pool = makePool(backend.port, 1);
  runUntil([&] { return backend.pending.size() == 1; });
  EXPECT_EQ(pool->busyWorkers(), 1u);
  pool->stopHealthChecks();
  EXPECT_EQ(pool->busyWorkers(), 0u);
  size_t seen = backend.requests;
  runFor(100);
  EXPECT_EQ(backend.requests, seen);
  EXPECT_TRUE(pool->serverViews()[0].up);
}

}  // namespace
}  // namespace doorman::upstream
