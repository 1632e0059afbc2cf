#pragma once
// The servers of one upstream, their worker slots, and the FIFO queue in front of them.
//
// Invariant: per server, busy connections <= workers and busy + idle connections <=
// workers. A kept-alive connection to a prefork server *is* a worker, so doorman never
// holds more connections than there are workers. A request finds a free slot at once or
// waits in the queue until one frees up, its deadline passes (503) or its client goes
// away (cancel). Every callback to a ResponseSink happens from a loop event, never from
// inside submit() or cancel().
//
// Scheduling: the least busy server (in flight / workers) among those that are up, ties
// in rotation.
//
// Health (passive): a failed connect marks its server down; no request goes to it until
// a probe connect (one per server, not one per request) succeeds; probes follow a
// back-off of 100 ms doubling to 1 s, which keeps growing while the server keeps failing
// and starts over after a successful exchange. A request whose connect failed did not
// reach the app: it goes back to the front of the queue and is sent as soon as a server
// accepts again (an app restart costs a wait, not an error), up to its queue deadline.
// When every server has been down for longer than a request's queue timeout, that
// request is answered 503 at once.
//
// Health (active, optional: health_check): every `interval`, per server, one GET of the
// check path on a connection of its own (Connection: close), holding one worker slot
// while it runs. A check only starts when the server has a free slot that no queued
// request could take (the queue is empty, or the server is out of service anyway), so
// it never takes a worker from a waiting request. A non-2xx/3xx status, a timeout or a
// failed connect takes the server out of service (skipped like a passively down one)
// until a later check passes. stopHealthChecks() ends them (retired generation, stop).
//
// Admission: when a request must queue and the predicted wait (ServiceEstimate) is over
// its queue timeout, it is answered 503 at once with Retry-After from the estimate.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/core/Body.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/upstream/Job.hpp"
#include "doorman/upstream/ServiceEstimate.hpp"
#include "doorman/upstream/UpstreamConnection.hpp"
#include "doorman/upstream/WaitQueue.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::upstream {

/// What went wrong, for doorman_upstream_errors_total{upstream,kind}. Each failed try
/// counts once (a connect failure that is then retried successfully still counts), and
/// each request answered by doorman instead of a backend counts once by its reason.
enum class UpstreamError : uint8_t {
  Connect,       ///< "connect": refused, unreachable or timed out (per try)
  Reset,         ///< "reset": EOF/reset before any response byte (per try)
  Timeout,       ///< "timeout": timeouts.response passed (per try)
  BadResponse,   ///< "bad_response": unparsable, ambiguous or cut short (per try)
  TooLarge,      ///< "too_large": response over the size limit or memory budget (per try)
  QueueFull,     ///< "queue_full": rejected at once, queue.max reached (per request)
  QueueTimeout,  ///< "queue_timeout": waited queue.timeout without a slot (per request)
  Overloaded,    ///< "overloaded": admission control, predicted wait > timeout (per request)
  Unavailable,   ///< "unavailable": every server down and the deadline passed (per request)
};
inline constexpr size_t kUpstreamErrorKinds = 9;
/// The metric label of `kind` ("connect", "reset", ...).
const char* upstreamErrorName(UpstreamError kind) noexcept;

struct PoolStats {
  uint64_t requests = 0;  ///< submissions accepted
  uint64_t rejectedQueueFull = 0;
  uint64_t queueTimeouts = 0;
  uint64_t retries = 0;  ///< tries after the first (doorman_upstream_retries_total)
  uint64_t connectFailures = 0;
  uint64_t failures = 0;  ///< jobs answered 502/504
  uint64_t connectionsOpened = 0;
  uint64_t errors[kUpstreamErrorKinds] = {};  ///< indexed by UpstreamError

  uint64_t error(UpstreamError kind) const noexcept { return errors[static_cast<size_t>(kind)]; }
};

class UpstreamPool final : private uv::TimerListener {
 public:
  /// Resolves every server now (blocking getaddrinfo: at start or in tests, never on a
  /// running loop); nullptr with `error` set when one cannot be resolved.
  static std::unique_ptr<UpstreamPool> create(uv::Loop& loop, const config::Upstream& config,
                                              core::BufferPolicy* buffers,
                                              uint64_t maxResponseBytes, std::string& error);
  /// With the servers already resolved (`endpoints` in the order of config.servers).
  static std::unique_ptr<UpstreamPool> create(uv::Loop& loop, const config::Upstream& config,
                                              std::vector<Endpoint> endpoints,
                                              core::BufferPolicy* buffers,
                                              uint64_t maxResponseBytes);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  struct Rejection {
    int status = 503;
    std::string reason;
    uint64_t retryAfterSeconds = 1;
  };

  /// Dispatches at once when a slot is free, else queues. Returns the ticket, or nullptr
  /// with `rejection` filled (503 with Retry-After) when the queue is full, the predicted
  /// wait is over `queueTimeoutMs`, or every server has been down for that long.
  JobPtr submit(std::shared_ptr<const OutboundRequest> request, ResponseSink& sink,
                uint64_t queueTimeoutMs, Rejection& rejection);

  /// The client is gone: a queued job leaves the queue; an in-flight one is finished
  /// by the pool and its response dropped. No callback follows.
  void cancel(Job& job);

  const std::string& name() const noexcept { return config_.name; }
  /// Its servers are at these addresses (in order): a reload may keep the pool.
  bool servesEndpoints(const std::vector<Endpoint>& endpoints) const noexcept;
  size_t queueLength() const noexcept { return queue_.size(); }
  uint32_t busyWorkers() const noexcept;
  uint32_t totalWorkers() const noexcept;
  const PoolStats& stats() const noexcept { return stats_; }

  /// One server's slots as the metrics see them (doorman_upstream_workers{state}).
  struct ServerView {
    std::string address;  ///< as configured
    uint32_t workers = 0;
    uint32_t busy = 0;         ///< slots with a request (or a health check) in flight
    uint32_t idle = 0;         ///< kept-alive connections waiting for a request
    bool up = true;            ///< false: skipped (connects fail, or its health check fails)
    uint32_t failures = 0;     ///< consecutive failed connects and probes
    bool checkFailed = false;  ///< its last active health check failed
  };
  std::vector<ServerView> serverViews() const;
  /// Ends the active health checks (a check in flight is abandoned, its slot freed):
  /// the pool's generation was retired, or doorman is stopping. Idempotent.
  void stopHealthChecks();
  bool healthChecked() const noexcept { return config_.healthCheck.has_value(); }

  /// Upstream time per request, moving estimate (admission control).
  const ServiceEstimate& serviceEstimate() const noexcept { return estimate_; }

 private:
  struct Server;
  UpstreamPool(uv::Loop& loop, const config::Upstream& config, core::BufferPolicy* buffers,
               uint64_t maxResponseBytes);

  void dispatch();
  /// The least busy server that is up and has a free slot (ties in rotation); nullptr
  /// when none. `avoid` (where this request just failed) is chosen only when no other
  /// server is up.
  Server* pickServer(const void* avoid = nullptr);
  /// Checks a request that has to queue; false with `rejection` filled when it must not.
  bool admit(uint64_t queueTimeoutMs, Rejection& rejection);
  uint32_t upWorkers() const noexcept;
  bool anyServerUp() const noexcept;
  /// Seconds until the next probe of a down server (at least 1).
  uint64_t secondsToNextProbe() const noexcept;
  /// True when the server was up until now (its probes start); the caller logs why.
  bool markDown(Server& server);
  void markUp(Server& server);
  void scheduleProbe(Server& server);
  void onProbeDue(Server& server);
  void onProbeResult(Server& server, bool healthy, const std::string& detail);
  /// Sets or clears allDownSinceMs_ after a server changed state.
  void noteAvailability();
  void startHealthChecks();
  void scheduleCheck(Server& server, uint64_t delayMs);
  /// A check may run now: a free slot no queued request could take.
  bool mayCheck(const Server& server) const noexcept;
  void onCheckDue(Server& server);
  void onCheckResult(Server& server, bool healthy, const std::string& detail);
  void startOn(Server& server, JobPtr job);
  void onTimer() override;
  void armQueueTimer();
  void release(Server& server, UpstreamConnection& connection, bool reusable);
  void onDone(Server& server, UpstreamConnection& connection, const JobPtr& job,
              http::Response response, bool reusable);
  void onFailed(Server& server, UpstreamConnection& connection, JobPtr job,
                const ExchangeFailure& failure);
  void onIdleClosed(Server& server, UpstreamConnection& connection);
  void discard(Server& server, UpstreamConnection& connection);
  void deliverFailure(const JobPtr& job, int status, const std::string& reason,
                      uint64_t retryAfter);
  /// One error-log line about `job`'s exchange: "<message> while <doing>, client: ...,
  /// conn: N, request: ID \"...\", upstream: \"NAME\" SERVER". Call through POOL_LOG
  /// (UpstreamPool.cpp), which tests the level first.
  void logExchange(core::LogLevel level, const Job& job, const Server* server, core::Doing doing,
                   const char* fmt, ...) const __attribute__((format(printf, 6, 7)));
  void countError(UpstreamError kind) noexcept { ++stats_.errors[static_cast<size_t>(kind)]; }

  uv::Loop& loop_;
  const config::Upstream config_;
  core::BufferPolicy* buffers_;
  ConnectionSettings settings_;
  std::vector<std::unique_ptr<Server>> servers_;
  WaitQueue queue_;
  uv::Timer queueTimer_;
  size_t rotation_ = 0;
  uint64_t nextJobId_ = 1;
  PoolStats stats_;
  ServiceEstimate estimate_;
  std::optional<uint64_t> allDownSinceMs_;  ///< loop time the last server went down
  bool checksStopped_ = false;
};

}  // namespace doorman::upstream
