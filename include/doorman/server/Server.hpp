#pragma once
// Everything doorman serves: listeners, the admin endpoint, client connections, and the
// configuration generations (pools + router) they use. Owns them all; tearing it down
// closes them all. A reload builds the next generation completely before anything
// changes, so a bad configuration leaves the running one untouched.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/server/AdminServer.hpp"
#include "doorman/server/ClientConnection.hpp"
#include "doorman/server/Generation.hpp"
#include "doorman/server/Listener.hpp"
#include "doorman/server/ServerContext.hpp"
#include "doorman/static/FileServer.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::server {

class Server final : private ConnectionRegistry,
                     private AcceptHandler,
                     private IdleTimeoutListener,
                     private uv::TimerListener {
 public:
  /// Builds pools (resolving server names, blocking: before the loop runs) and the
  /// router; nullptr with `error` set.
  static std::unique_ptr<Server> create(uv::Loop& loop, config::Config config, std::string& error);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds every listener and the admin listener; empty string on success. Sockets
  /// passed by systemd (`inherited`) are used for the listen addresses they are bound
  /// to; those matching no address are served as well.
  std::string listen(const std::vector<int>& inherited = {});

  /// Switches to `config`, whose upstream servers are already resolved (`servers`, by
  /// ServerResolver: never a blocking lookup on the loop): listeners added or closed
  /// (those that stay keep their socket), routes and pools of the new generation used by
  /// requests that start from now on. On failure (`error` set) nothing changed.
  bool reload(config::Config config, const upstream::ResolvedServers& servers, std::string& error);

  /// Graceful stop: stop accepting, close idle connections, finish the busy ones.
  void drain();
  /// Stops accepting and closes every connection now.
  void abortAll();

  size_t connectionCount() const noexcept { return connectionCount_; }
  const ServerCounters& counters() const noexcept { return ctx_->counters; }
  const std::vector<std::unique_ptr<Listener>>& listeners() const noexcept { return listeners_; }
  const config::Config& config() const noexcept { return ctx_->current->config; }
  uint64_t generation() const noexcept { return ctx_->current->number; }
  ServerContext& context() noexcept { return *ctx_; }

  /// The access log writer (owned by the caller), nullptr for none.
  void setAccessLog(ops::AccessLogWriter* writer) noexcept { ctx_->accessLog = writer; }

  /// Total requests waiting in the queues of the current generation's upstreams.
  size_t queuedRequests() const;
  /// /metrics (Prometheus text format) and /status (JSON); see Observe.cpp.
  std::string renderMetrics() const;
  std::string renderStatus() const;
  /// Called by the owner to add its own lines (access log drops) to /metrics.
  void setExtraMetrics(std::function<void(std::string&)> extra) {
    extraMetrics_ = std::move(extra);
  }

  /// Called whenever the number of connections drops (graceful stop waits on it).
  void setOnConnectionsChanged(std::function<void()> callback) {
    onConnectionsChanged_ = std::move(callback);
  }

 private:
  /// The file server (and its small-file cache) is built once, from the first config.
  Server(uv::Loop& loop, const config::Config& config);
  void onConnectionClosed(ClientConnection& connection) override;
  void waitForBudget(ClientConnection& connection) override;
  void stopWaitingForBudget(ClientConnection& connection) override;
  void onTimer() override;  // budget poll
  void onIdleExpired(TimeoutLink& link) override;
  bool onConnectionPending(Listener& listener) override;
  std::string openAdmin(const config::Config& config);
  AdminServer::Reply onAdminRequest(std::string_view method, std::string_view target);
  void addConnection(std::unique_ptr<ClientConnection> connection);
  /// Unlinks `connection` and gives up its ownership (the caller deletes it).
  std::unique_ptr<ClientConnection> removeConnection(ClientConnection& connection);
  /// A copy of the list, for loops whose calls may close (and unlink) connections.
  std::vector<ClientConnection*> allConnections() const;

  uv::Loop& loop_;
  core::MemoryBudget budget_;
  core::MemoryBudget diskBudget_;
  core::BufferPolicy requestBuffers_;
  core::BufferPolicy responseBuffers_;
  std::unordered_set<ClientConnection*> budgetWaiters_;
  uv::Timer budgetPoll_;
  std::unique_ptr<statics::FileServer> files_;
  std::unique_ptr<ServerContext> ctx_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unique_ptr<AdminServer> admin_;
  /// Every open client connection, owned (raw: an intrusive list through prevOpen/nextOpen
  /// costs an idle connection nothing but two pointers; deleted through deferDelete).
  ClientConnection* connections_ = nullptr;
  size_t connectionCount_ = 0;
  uint64_t nextConnectionId_ = 1;
  uint64_t startedUnix_ = 0;
  bool shuttingDown_ = false;
  std::function<void()> onConnectionsChanged_;
  std::function<void(std::string&)> extraMetrics_;
};

}  // namespace doorman::server
