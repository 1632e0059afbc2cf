// The admin endpoint's pages: /metrics (Prometheus text format 0.0.4) and /status (JSON).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "doorman/ops/Metrics.hpp"
#include "doorman/server/Server.hpp"

namespace doorman::server {
namespace {

const char* stateLabel(ClientConnection::State s) {
  using S = ClientConnection::State;
  switch (s) {
    case S::Idle:
      return "idle";
    case S::ReadingHead:
    case S::ReadingBody:
      return "reading";
    case S::Waiting:
      return "waiting";
    case S::Writing:
      return "writing";
    case S::Lingering:
    case S::Closed:
      return "closing";
  }
  return "closing";
}

std::string jsonString(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string Server::renderMetrics() const {
  using ops::Labels;
  ops::PrometheusText t;
  const ops::Metrics& m = ctx_->metrics;

  t.family("doorman_requests_total", "counter", "Requests answered, by route and status class.");
  for (const auto& [key, n] : m.requests) {
    t.sample("doorman_requests_total", Labels{{"route", key.first}, {"status_class", key.second}},
             n);
  }
  t.family("doorman_request_duration_seconds", "histogram",
           "Time from a request's first byte to its response's last byte.");
  t.histogram("doorman_request_duration_seconds", {}, m.requestDuration);

  t.family("doorman_queue_wait_seconds", "histogram",
           "Time a request waited for a free worker slot, by upstream.");
  std::map<std::string, const ops::Histogram*> waits;
  for (const auto& [name, h] : m.queueWait) {
    waits[name] = &h;
  }
  static const ops::Histogram kEmpty;
  for (const auto& [name, pool] : ctx_->current->pools) {
    waits.emplace(name, &kEmpty);
  }
  for (const auto& [name, h] : waits) {
    t.histogram("doorman_queue_wait_seconds", Labels{{"upstream", name}}, *h);
  }

  const auto& pools = ctx_->current->pools;
  t.family("doorman_upstream_queue_length", "gauge", "Requests waiting for a worker slot.");
  for (const auto& [name, pool] : pools) {
    t.sample("doorman_upstream_queue_length", Labels{{"upstream", name}},
             static_cast<uint64_t>(pool->queueLength()));
  }
  t.family("doorman_upstream_workers", "gauge",
           "Worker slots per server: busy (request in flight), idle (kept-alive connection), "
           "free (no connection).");
  for (const auto& [name, pool] : pools) {
    for (const auto& s : pool->serverViews()) {
      uint32_t free = s.workers - s.busy - std::min(s.idle, s.workers - s.busy);
      t.sample("doorman_upstream_workers",
               Labels{{"upstream", name}, {"server", s.address}, {"state", "busy"}},
               uint64_t{s.busy});
      t.sample("doorman_upstream_workers",
               Labels{{"upstream", name}, {"server", s.address}, {"state", "idle"}},
               uint64_t{s.idle});
      t.sample("doorman_upstream_workers",
               Labels{{"upstream", name}, {"server", s.address}, {"state", "free"}},
               uint64_t{free});
    }
  }
  t.family("doorman_upstream_server_up", "gauge",
           "1 while a server takes requests, 0 while it is skipped (its connects fail, or its "
           "active health check fails).");
  for (const auto& [name, pool] : pools) {
    for (const auto& s : pool->serverViews()) {
      t.sample("doorman_upstream_server_up", Labels{{"upstream", name}, {"server", s.address}},
               uint64_t{s.up ? 1u : 0u});
    }
  }
  t.family("doorman_upstream_errors_total", "counter",
           "Upstream failures by kind: connect, reset, timeout, bad_response, too_large (per "
           "try); queue_full, queue_timeout, overloaded, unavailable (per request).");
  for (const auto& [name, pool] : pools) {
    const upstream::PoolStats& st = pool->stats();
    for (size_t k = 0; k < upstream::kUpstreamErrorKinds; ++k) {
      auto kind = static_cast<upstream::UpstreamError>(k);
      t.sample("doorman_upstream_errors_total",
               Labels{{"upstream", name}, {"kind", upstream::upstreamErrorName(kind)}},
               st.error(kind));
    }
  }
  t.family("doorman_upstream_retries_total", "counter", "Requests sent again after a failure.");
  for (const auto& [name, pool] : pools) {
    t.sample("doorman_upstream_retries_total", Labels{{"upstream", name}}, pool->stats().retries);
  }

  std::map<std::string, uint64_t> states = {
      {"idle", 0}, {"reading", 0}, {"waiting", 0}, {"writing", 0}, {"closing", 0}};
  for (const ClientConnection* c = connections_; c != nullptr; c = c->nextOpen) {
    ++states[stateLabel(c->state())];
  }
  t.family("doorman_connections", "gauge", "Open client connections by state.");
  for (const auto& [state, n] : states) {
    t.sample("doorman_connections", Labels{{"state", state}}, n);
  }
  t.family("doorman_exchanges", "gauge",
           "Client connections with a request in progress (an idle one holds no exchange).");
  t.sample("doorman_exchanges", {}, ctx_->counters.exchanges);
  t.family("doorman_connections_accepted_total", "counter", "Client connections accepted.");
  t.sample("doorman_connections_accepted_total", {}, ctx_->counters.accepted);

  t.family("doorman_buffered_bytes", "gauge", "Bytes of messages buffered, in memory and on disk.");
  t.sample("doorman_buffered_bytes", Labels{{"where", "memory"}}, budget_.used());
  t.sample("doorman_buffered_bytes", Labels{{"where", "disk"}}, diskBudget_.used());
  t.family("doorman_file_warmups_total", "counter",
           "File windows (1 MiB) sent to clients that were read into the page cache on "
           "the thread pool first, because sendfile would have waited for the disk.");
  t.sample("doorman_file_warmups_total", {}, ctx_->counters.fileWarmups);
  t.family("doorman_spills_total", "counter", "Message bodies that spilled to a temp file.");
  t.sample("doorman_spills_total", {}, requestBuffers_.spills + responseBuffers_.spills);

  t.family("doorman_config_reloads_total", "counter", "Configuration reloads by result.");
  t.sample("doorman_config_reloads_total", Labels{{"result", "success"}}, m.reloadsSuccess);
  t.sample("doorman_config_reloads_total", Labels{{"result", "failure"}}, m.reloadsFailure);
  t.family("doorman_config_generation", "gauge",
           "Number of the configuration in force (1 at start, +1 per successful reload).");
  t.sample("doorman_config_generation", {}, ctx_->current->number);
  t.family("doorman_start_time_seconds", "gauge", "Unix time doorman started.");
  t.sample("doorman_start_time_seconds", {}, startedUnix_);

  std::string out = t.text();
  if (extraMetrics_) {
    extraMetrics_(out);
  }
  return out;
}

std::string Server::renderStatus() const {
  std::map<std::string, uint64_t> states = {
      {"idle", 0}, {"reading", 0}, {"waiting", 0}, {"writing", 0}, {"closing", 0}};
  for (const ClientConnection* c = connections_; c != nullptr; c = c->nextOpen) {
    ++states[stateLabel(c->state())];
  }
  std::string out = "{\"version\":" + jsonString(DOORMAN_VERSION) +
                    ",\"pid\":" + std::to_string(getpid()) +
                    ",\"started\":" + std::to_string(startedUnix_) +
                    ",\"config\":" + jsonString(config().sourcePath) +
                    ",\"generation\":" + std::to_string(ctx_->current->number) +
                    ",\"draining\":" + (ctx_->draining ? "true" : "false") +
                    ",\"connections\":{\"open\":" + std::to_string(connectionCount_);
  for (const auto& [state, n] : states) {
    out += "," + jsonString(state) + ":" + std::to_string(n);
  }
  out += "},\"exchanges\":" + std::to_string(ctx_->counters.exchanges) +
         ",\"requests\":" + std::to_string(ctx_->counters.requests) +
         ",\"responses\":" + std::to_string(ctx_->counters.responses) +
         ",\"buffered_bytes\":{\"memory\":" + std::to_string(budget_.used()) +
         ",\"memory_limit\":" + std::to_string(budget_.limit()) +
         ",\"disk\":" + std::to_string(diskBudget_.used()) +
         ",\"disk_limit\":" + std::to_string(diskBudget_.limit()) + "},\"listeners\":[";
  bool first = true;
  for (const auto& l : listeners_) {
    out += (first ? "" : ",") + jsonString(l->boundName());
    first = false;
  }
  out += "],\"upstreams\":{";
  first = true;
  for (const auto& [name, pool] : ctx_->current->pools) {
    out += (first ? "" : ",") + jsonString(name) +
           ":{\"queue\":" + std::to_string(pool->queueLength()) +
           ",\"busy\":" + std::to_string(pool->busyWorkers()) +
           ",\"workers\":" + std::to_string(pool->totalWorkers()) + ",\"servers\":[";
    first = false;
    bool firstServer = true;
    for (const auto& s : pool->serverViews()) {
      out += std::string(firstServer ? "" : ",") + "{\"address\":" + jsonString(s.address) +
             ",\"workers\":" + std::to_string(s.workers) + ",\"busy\":" + std::to_string(s.busy) +
             ",\"idle\":" + std::to_string(s.idle) + ",\"up\":" + (s.up ? "true" : "false") +
             ",\"failures\":" + std::to_string(s.failures) + ",\"health_check\":" +
             (!pool->healthChecked() ? "\"off\""
              : s.checkFailed        ? "\"failing\""
                                     : "\"passing\"") +
             "}";
      firstServer = false;
    }
    out += "]}";
  }
  out += "}}\n";
  return out;
}

AdminServer::Reply Server::onAdminRequest(std::string_view, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8", renderMetrics()};
  }
  if (path == "/status") {
    return {200, "application/json", renderStatus()};
  }
  return {404, "text/plain", "not found: try /metrics or /status\n"};
}

}  // namespace doorman::server
