// UpstreamPool: passive health of its servers (down after a failed connect, probed with
// a growing back-off until a connect succeeds).
#include <algorithm>

#include "PoolServer.hpp"
#include "doorman/core/Log.hpp"

namespace doorman::upstream {
namespace {

constexpr uint64_t kProbeFirstMs = 100;
constexpr uint64_t kProbeMaxMs = 1000;

uint64_t backoffMs(uint32_t failures) {
  uint64_t ms = kProbeFirstMs;
  for (uint32_t i = 1; i < failures && ms < kProbeMaxMs; ++i) {
    ms *= 2;
  }
  return std::min(ms, kProbeMaxMs);
}

}  // namespace

bool UpstreamPool::anyServerUp() const noexcept {
  return std::any_of(servers_.begin(), servers_.end(), [](const auto& s) { return s->usable(); });
}

uint32_t UpstreamPool::upWorkers() const noexcept {
  uint32_t n = 0;
  for (const auto& s : servers_) {
    if (s->usable()) n += s->workers;
  }
  return n;
}

uint64_t UpstreamPool::secondsToNextProbe() const noexcept {
  uint64_t now = loop_.nowMs();
  uint64_t soonest = UINT64_MAX;
  for (const auto& s : servers_) {
    if (s->usable()) continue;
    // A check-failed server comes back at a passing check, a passively down one at a probe.
    uint64_t next = !s->up ? s->nextProbeMs : s->nextCheckMs;
    soonest = std::min(soonest, next > now ? next - now : 0);
  }
  if (soonest == UINT64_MAX) return 1;
  return std::max<uint64_t>(1, (soonest + 999) / 1000);
}

bool UpstreamPool::markDown(Server& server) {
  if (!server.up) {
    return false;  // a connection started before it went down; the probes go on
  }
  server.up = false;
  ++server.failures;
  noteAvailability();
  scheduleProbe(server);
  return true;
}

void UpstreamPool::markUp(Server& server) {
  if (server.up) {
    return;
  }
  server.up = true;
  server.probeTimer.stop();
  if (server.probe) {
    loop_.deferDelete(std::move(server.probe));
  }
  noteAvailability();
  LOG_INFO("upstream %s: server %s accepts connections again", config_.name.c_str(),
           server.endpoint.text.c_str());
}

void UpstreamPool::noteAvailability() {
  if (anyServerUp()) {
    allDownSinceMs_.reset();
  } else if (!allDownSinceMs_) {
    allDownSinceMs_ = loop_.nowMs();
  }
}

void UpstreamPool::scheduleProbe(Server& server) {
  uint64_t delay = backoffMs(server.failures);
  server.nextProbeMs = loop_.nowMs() + delay;
  server.probeTimer.start(delay);
}

void UpstreamPool::onProbeDue(Server& server) {
  if (server.up || server.probe) {
    return;
  }
  server.probe = std::make_unique<HealthProbe>(loop_, server.endpoint, std::string(),
                                               settings_.connectTimeoutMs, server);
  server.probe->start();
}

void UpstreamPool::onProbeResult(Server& server, bool healthy, const std::string& detail) {
  // Inside the probe's own callback: it dies after it returns.
  if (server.probe) {
    loop_.deferDelete(std::move(server.probe));
  }
  if (server.up) {
    return;
  }
  if (healthy) {
    markUp(server);
    dispatch();
    return;
  }
  ++server.failures;
  LOG_DEBUG("upstream %s: server %s still down (%s)", config_.name.c_str(),
            server.endpoint.text.c_str(), detail.c_str());
  scheduleProbe(server);
}

}  // namespace doorman::upstream
