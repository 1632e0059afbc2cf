#include "doorman/server/Server.hpp"

#include "doorman/core/Log.hpp"

namespace doorman::server {

std::unique_ptr<Server> Server::create(uv::Loop& loop, config::Config config, std::string& error) {
  std::unique_ptr<Server> server(new Server(loop, std::move(config)));
  const config::Config& cfg = server->config_;
  std::map<std::string, upstream::UpstreamPool*> pools;
  for (const auto& [name, upstream] : cfg.upstreams) {
    auto pool = upstream::UpstreamPool::create(loop, upstream, &server->budget_,
                                               cfg.buffering.maxResponseBytes, error);
    if (!pool) {
      return nullptr;
    }
    pools[name] = pool.get();
    server->pools_[name] = std::move(pool);
  }
  server->router_ = std::make_unique<Router>(cfg.routes, pools, cfg.upstreams);
  server->files_ = std::make_unique<statics::FileServer>(loop, &server->budget_, cfg.staticCache);
  server->ctx_.reset(new ServerContext{
      loop, cfg, *server->router_, server->budget_, *server->files_, *server, {}, {}, {}, false});
  return server;
}

Server::Server(uv::Loop& loop, config::Config config)
    : loop_(loop), config_(std::move(config)), budget_(config_.buffering.memoryTotal) {}

Server::~Server() {
  shuttingDown_ = true;
  listeners_.clear();
  for (auto& [raw, connection] : connections_) {
    connection->abort();
  }
  connections_.clear();
  // Connections closed earlier may still wait for deferred deletion; they reference the
  // pools and the context, which die below.
  loop_.flushDeferred();
  pools_.clear();
}

std::string Server::listen() {
  for (const auto& address : config_.listen) {
    auto listener = std::make_unique<Listener>(loop_, address, static_cast<AcceptHandler&>(*this));
    std::string error = listener->open();
    if (!error.empty()) {
      return error;
    }
    LOG_INFO("listening on %s", listener->boundName().c_str());
    listeners_.push_back(std::move(listener));
  }
  return {};
}

bool Server::onConnectionPending(Listener& listener) {
  if (shuttingDown_ || ctx_->draining) {
    return false;
  }
  if (connections_.size() >= config_.limits.connections) {
    LOG_DEBUG("at limits.connections (%zu): not accepting for now", connections_.size());
    return false;
  }
  uv::HandlePtr<uv_tcp_t> tcp;
  uv::HandlePtr<uv_pipe_t> pipe;
  std::string peer;
  int rc = listener.accept(tcp, pipe, peer);
  if (rc != 0) {
    LOG_WARN("accept on %s: %s", listener.boundName().c_str(), uv_strerror(rc));
    return true;  // nothing left pending for this notification
  }
  uint64_t id = nextConnectionId_++;
  auto connection = std::make_unique<ClientConnection>(*ctx_, std::move(tcp), std::move(pipe),
                                                       std::move(peer), id);
  ClientConnection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  ++ctx_->counters.accepted;
  raw->start();
  return true;
}

void Server::onConnectionClosed(ClientConnection& connection) {
  if (shuttingDown_) {
    return;
  }
  auto it = connections_.find(&connection);
  if (it == connections_.end()) {
    return;
  }
  loop_.deferDelete(std::move(it->second));
  connections_.erase(it);
  for (auto& listener : listeners_) {
    if (connections_.size() >= config_.limits.connections) {
      break;
    }
    listener->resume();
  }
  if (onConnectionsChanged_) {
    onConnectionsChanged_();
  }
}

void Server::drain() {
  ctx_->draining = true;
  listeners_.clear();
  std::vector<ClientConnection*> all;
  all.reserve(connections_.size());
  for (auto& [raw, connection] : connections_) {
    all.push_back(raw);
  }
  for (auto* connection : all) {
    connection->drain();  // may close and unregister itself
  }
}

void Server::abortAll() {
  // Closing connections makes room under limits.connections: without listeners nothing
  // new is accepted meanwhile.
  listeners_.clear();
  ctx_->draining = true;
  std::vector<ClientConnection*> all;
  for (auto& [raw, connection] : connections_) {
    all.push_back(raw);
  }
  for (auto* connection : all) {
    connection->abort();
  }
}

}  // namespace doorman::server
