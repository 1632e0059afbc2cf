#pragma once
// What every client connection shares: budgets, caches, counters, metrics, the access
// log, and the configuration generation new requests start with. Owned by Server;
// outlives every connection and every reload.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/core/Body.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/ops/AccessLog.hpp"
#include "doorman/ops/Metrics.hpp"
#include "doorman/server/Generation.hpp"
#include "doorman/server/IdleTimeouts.hpp"
#include "doorman/server/Router.hpp"
#include "doorman/static/FileServer.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::server {

class ClientConnection;

/// The Date header value, formatted at most once a second.
class DateCache {
 public:
  const std::string& now();

 private:
  int64_t second_ = -1;
  std::string value_;
};

/// X-Request-ID values: 16 random-looking hex digits, unique within the process.
class RequestIds {
 public:
  RequestIds();
  /// The next id (16 hex digits) into `out`, reusing its buffer: an exchange taken again
  /// from the spare list keeps its id string's heap block (16 chars do not fit the SSO).
  void next(std::string& out);

 private:
  uint64_t state_;
};

struct ServerCounters {
  uint64_t accepted = 0;
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t clientErrors = 0;    ///< 4xx doorman generated
  uint64_t upstreamErrors = 0;  ///< 502/503/504 generated
  uint64_t open = 0;            ///< client connections open now
  uint64_t exchanges = 0;       ///< exchanges alive (one per connection busy with a request)
  uint64_t fileWarmups = 0;     ///< file windows read on the thread pool before sendfile
};

/// Callbacks from a connection to the thing that owns all connections.
class ConnectionRegistry {
 public:
  /// The connection is closed; delete it after the current callback.
  virtual void onConnectionClosed(ClientConnection& connection) = 0;
  /// The connection is held back because the buffer budgets are short and no disk
  /// write of its own will wake it: call its onBudgetPoll() soon (again and again while
  /// it keeps asking). Cancelled by stopWaitingForBudget() and by closing.
  virtual void waitForBudget(ClientConnection& connection) = 0;
  virtual void stopWaitingForBudget(ClientConnection& connection) = 0;

 protected:
  ~ConnectionRegistry() = default;
};

struct ServerContext {
  ServerContext(uv::Loop& l, core::MemoryBudget& b, core::MemoryBudget& disk,
                core::BufferPolicy& requests, core::BufferPolicy& responses, statics::FileServer& f,
                ConnectionRegistry& r, IdleTimeoutListener& idleListener)
      : loop(l),
        budget(b),
        diskBudget(disk),
        requestBuffers(requests),
        responseBuffers(responses),
        files(f),
        registry(r),
        idle(l, current, idleListener) {}

  uv::Loop& loop;
  core::MemoryBudget& budget;
  core::MemoryBudget& diskBudget;
  core::BufferPolicy& requestBuffers;   ///< request bodies: spill, wait for disk
  core::BufferPolicy& responseBuffers;  ///< response bodies: spill, fail when disk is short
  statics::FileServer& files;
  ConnectionRegistry& registry;
  DateCache dates;
  RequestIds ids;
  ServerCounters counters;
  bool draining = false;  ///< graceful stop: no keep-alive, no new connections
  GenerationPtr current;  ///< the configuration a request that starts now uses
  IdleTimeouts idle;      ///< timeouts of connections waiting for a (next) request
  /// Ended exchanges kept for the next requests (ClientConnection::Exchange, recycled:
  /// they hold nothing of their last request). Emptied on reload: a parser keeps the
  /// limits of the configuration it was made with.
  std::vector<std::unique_ptr<uv::Deletable>> spareExchanges;
  static constexpr size_t kSpareExchanges = 16;
  ops::Metrics metrics;
  ops::AccessLogWriter* accessLog = nullptr;  ///< nullptr: access_log off
};

}  // namespace doorman::server
