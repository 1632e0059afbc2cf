// UpstreamPool: active health checks (health_check: { path, interval, timeout }).
//
// Every `interval`, per server, one HealthProbe sends "GET <path>" and reads the status
// line. The check holds one of the server's worker slots while it runs (busy + 1), so
// doorman never has more connections to a server than it has workers, and it starts
// only when that slot is one no queued request could take. It uses a connection of its
// own with Connection: close: the probe reads no further than the status line, and a
// kept-alive check connection would hold a prefork worker between two checks. When
// every free slot is a kept-alive idle connection (each one holding a worker), the least
// recently used one is closed first, so the check's connect does not wait in the
// backend's accept queue behind a connection nobody uses.
#include "PoolServer.hpp"
#include "doorman/core/Log.hpp"

namespace doorman::upstream {

void UpstreamPool::startHealthChecks() {
  if (!config_.healthCheck) {
    return;
  }
  for (auto& server : servers_) {
    const Endpoint& ep = server->endpoint;
    // A unix socket has no host to name; the TCP address is what the server listens on.
    std::string host = ep.isUnix ? "localhost" : ep.text;
    server->checkRequest = "GET " + config_.healthCheck->path + " HTTP/1.1\r\nHost: " + host +
                           "\r\nUser-Agent: doorman-health-check\r\nConnection: close\r\n\r\n";
    scheduleCheck(*server, 0);  // the first check on the loop's first turn
  }
}

void UpstreamPool::stopHealthChecks() {
  checksStopped_ = true;
  for (auto& server : servers_) {
    server->checkTimer.stop();
    if (server->check) {
      // Not from inside its callback (that path ends in onCheckResult), so no deferral is
      // needed, but deferring costs nothing and stays safe.
      loop_.deferDelete(std::move(server->check));
      --server->busy;
    }
  }
}

void UpstreamPool::scheduleCheck(Server& server, uint64_t delayMs) {
  server.nextCheckMs = loop_.nowMs() + delayMs;
  server.checkTimer.start(delayMs);
}

bool UpstreamPool::mayCheck(const Server& server) const noexcept {
  // A queued request waits because no usable server has a free slot; a server out of
  // service is one it could not use anyway.
  return server.freeSlots() > 0 && (queue_.empty() || !server.usable());
}

void UpstreamPool::onCheckDue(Server& server) {
  if (checksStopped_) {
    return;
  }
  scheduleCheck(server, static_cast<uint64_t>(config_.healthCheck->interval.count()));
  if (server.check) {
    return;  // the previous one is still running (timeout over interval)
  }
  if (!mayCheck(server)) {
    LOG_DEBUG("upstream %s: server %s: no free worker, health check skipped", config_.name.c_str(),
              server.endpoint.text.c_str());
    return;
  }
  if (server.busy + server.idle.size() >= server.workers && !server.idle.empty()) {
    UpstreamConnection* oldest = server.idle.front();
    server.idle.erase(server.idle.begin());
    oldest->close();
    discard(server, *oldest);
  }
  ++server.busy;
  server.check = std::make_unique<HealthProbe>(
      loop_, server.endpoint, server.checkRequest,
      static_cast<uint64_t>(config_.healthCheck->timeout.count()), server.checkHook);
  server.check->start();
}

void UpstreamPool::onCheckResult(Server& server, bool healthy, const std::string& detail) {
  // Inside the check's own callback: it dies after it returns.
  if (server.check) {
    loop_.deferDelete(std::move(server.check));
    --server.busy;
  }
  if (healthy) {
    if (server.checkFailed) {
      server.checkFailed = false;
      LOG_INFO("upstream %s: server %s passes its health check again: back in service",
               config_.name.c_str(), server.endpoint.text.c_str());
    }
    if (!server.up) {
      markUp(server);  // the check connected, so connects work again
    }
    noteAvailability();
  } else if (!server.checkFailed) {
    server.checkFailed = true;
    LOG_WARN(
        "upstream %s: server %s fails its health check %s (%s): out of service until a "
        "check passes",
        config_.name.c_str(), server.endpoint.text.c_str(), config_.healthCheck->path.c_str(),
        detail.c_str());
    noteAvailability();
  } else {
    LOG_DEBUG("upstream %s: server %s: health check still failing (%s)", config_.name.c_str(),
              server.endpoint.text.c_str(), detail.c_str());
  }
  dispatch();  // the check's slot is free again, and a server may be back
}

}  // namespace doorman::upstream
