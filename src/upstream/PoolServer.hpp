#pragma once
// UpstreamPool's view of one configured server: its slots, its connections and its
// health. Private to src/upstream.

#include <memory>
#include <string>
#include <vector>

#include "doorman/upstream/HealthProbe.hpp"
#include "doorman/upstream/UpstreamPool.hpp"

namespace doorman::upstream {

struct UpstreamPool::Server final : UpstreamConnectionListener,
                                    HealthProbeListener,
                                    uv::TimerListener {
  /// The active health check's timer and result (the passive probe has the Server's).
  struct CheckHook final : HealthProbeListener, uv::TimerListener {
    explicit CheckHook(Server& s) : server(s) {}
    void onProbeResult(bool healthy, const std::string& detail) override {
      server.pool.onCheckResult(server, healthy, detail);
    }
    void onTimer() override { server.pool.onCheckDue(server); }
    Server& server;
  };

  Server(UpstreamPool& p, Endpoint ep, uint32_t w)
      : pool(p),
        endpoint(std::move(ep)),
        workers(w),
        probeTimer(p.loop_, *this),
        checkTimer(p.loop_, checkHook) {}

  void onExchangeDone(UpstreamConnection& c, JobPtr job, http::Response response,
                      bool reusable) override {
    pool.onDone(*this, c, job, std::move(response), reusable);
  }
  void onExchangeFailed(UpstreamConnection& c, JobPtr job, const ExchangeFailure& f) override {
    pool.onFailed(*this, c, std::move(job), f);
  }
  void onIdleClosed(UpstreamConnection& c) override { pool.onIdleClosed(*this, c); }
  void onProbeResult(bool healthy, const std::string& detail) override {
    pool.onProbeResult(*this, healthy, detail);
  }
  void onTimer() override { pool.onProbeDue(*this); }

  uint32_t freeSlots() const noexcept { return workers - busy; }
  /// Requests may go to it: connects work (passive) and its last check passed (active).
  bool usable() const noexcept { return up && !checkFailed; }

  UpstreamPool& pool;
  Endpoint endpoint;
  uint32_t workers;
  uint32_t busy = 0;  ///< slots with a request in flight, plus a running health check
  std::vector<UpstreamConnection*> idle;  ///< most recently used last
  std::vector<std::unique_ptr<UpstreamConnection>> connections;

  // Passive health: down after a failed connect, up again when a probe connects.
  bool up = true;
  uint32_t failures = 0;  ///< consecutive failed connects/probes; 0 after a good exchange
  uint64_t nextProbeMs = 0;
  std::unique_ptr<HealthProbe> probe;  ///< the probe in flight, if any
  uv::Timer probeTimer;

  // Active health (health_check): out of service from a failed check to a passing one.
  bool checkFailed = false;
  uint64_t nextCheckMs = 0;
  std::string checkRequest;            ///< the GET sent by every check of this server
  std::unique_ptr<HealthProbe> check;  ///< the check in flight (it holds one slot)
  CheckHook checkHook{*this};
  uv::Timer checkTimer;
};

}  // namespace doorman::upstream
