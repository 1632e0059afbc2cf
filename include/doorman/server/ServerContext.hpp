#pragma once
// What every client connection shares: config, router, budgets, caches and counters.
// Owned by Server; outlives every connection.

#include <cstdint>
#include <string>

#include "doorman/config/Config.hpp"
#include "doorman/core/MemoryBudget.hpp"
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
  std::string next();

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
};

/// Callbacks from a connection to the thing that owns all connections.
class ConnectionRegistry {
 public:
  /// The connection is closed; delete it after the current callback.
  virtual void onConnectionClosed(ClientConnection& connection) = 0;

 protected:
  ~ConnectionRegistry() = default;
};

struct ServerContext {
  uv::Loop& loop;
  const config::Config& config;
  const Router& router;
  core::MemoryBudget& budget;
  statics::FileServer& files;
  ConnectionRegistry& registry;
  DateCache dates;
  RequestIds ids;
  ServerCounters counters;
  bool draining = false;  ///< graceful stop: no keep-alive, no new connections
};

}  // namespace doorman::server
