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
  Server(UpstreamPool& p, Endpoint ep, uint32_t w)
      : pool(p), endpoint(std::move(ep)), workers(w), probeTimer(p.loop_, *this) {}

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

  UpstreamPool& pool;
  Endpoint endpoint;
  uint32_t workers;
  uint32_t busy = 0;
  std::vector<UpstreamConnection*> idle;  ///< most recently used last
  std::vector<std::unique_ptr<UpstreamConnection>> connections;

  // Passive health: down after a failed connect, up again when a probe connects.
  bool up = true;
  uint32_t failures = 0;  ///< consecutive failed connects/probes; 0 after a good exchange
  uint64_t nextProbeMs = 0;
  std::unique_ptr<HealthProbe> probe;  ///< the probe in flight, if any
  uv::Timer probeTimer;
};

}  // namespace doorman::upstream
