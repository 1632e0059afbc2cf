#pragma once
// Everything one configuration serves: listeners, upstream pools, router, static files
// and the client connections. Owns them all; tearing it down closes them all.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/server/ClientConnection.hpp"
#include "doorman/server/Listener.hpp"
#include "doorman/server/Router.hpp"
#include "doorman/server/ServerContext.hpp"
#include "doorman/static/FileServer.hpp"
#include "doorman/upstream/UpstreamPool.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::server {

class Server final : private ConnectionRegistry, private AcceptHandler {
 public:
  /// Builds pools (resolving server names) and the router; nullptr with `error` set.
  static std::unique_ptr<Server> create(uv::Loop& loop, config::Config config, std::string& error);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds every listener; empty string on success.
  std::string listen();

  /// Graceful stop: stop accepting, close idle connections, finish the busy ones.
  void drain();
  /// Stops accepting and closes every connection now.
  void abortAll();

  size_t connectionCount() const noexcept { return connections_.size(); }
  const ServerCounters& counters() const noexcept { return ctx_->counters; }
  const std::vector<std::unique_ptr<Listener>>& listeners() const noexcept { return listeners_; }
  const std::map<std::string, std::unique_ptr<upstream::UpstreamPool>>& pools() const noexcept {
    return pools_;
  }
  const config::Config& config() const noexcept { return config_; }

  /// Called whenever the number of connections drops (graceful stop waits on it).
  void setOnConnectionsChanged(std::function<void()> callback) {
    onConnectionsChanged_ = std::move(callback);
  }

 private:
  Server(uv::Loop& loop, config::Config config);
  void onConnectionClosed(ClientConnection& connection) override;
  bool onConnectionPending(Listener& listener) override;

  uv::Loop& loop_;
  const config::Config config_;
  core::MemoryBudget budget_;
  std::map<std::string, std::unique_ptr<upstream::UpstreamPool>> pools_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<statics::FileServer> files_;
  std::unique_ptr<ServerContext> ctx_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<ClientConnection*, std::unique_ptr<ClientConnection>> connections_;
  uint64_t nextConnectionId_ = 1;
  bool shuttingDown_ = false;
  std::function<void()> onConnectionsChanged_;
};

}  // namespace doorman::server
