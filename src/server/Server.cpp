#include "doorman/server/Server.hpp"

#include <algorithm>
#include <ctime>

#include "doorman/core/Log.hpp"

namespace doorman::server {
namespace {

/// Two listen addresses name the same socket (the text as written may differ).
bool sameSocket(const config::Address& a, const config::Address& b) {
  return a.kind == b.kind && a.host == b.host && a.port == b.port && a.path == b.path;
}

constexpr uint64_t kBudgetPollMs = 20;

}  // namespace

std::unique_ptr<Server> Server::create(uv::Loop& loop, config::Config config, std::string& error) {
  if (config.buffering.diskTotal > 0) {
    // Fail at start, not at the first large body: the temp dir must take a file.
    if (!core::FileHandle::createTemp(config.buffering.tempDir, error)) {
      error = "buffering.temp_dir: " + error;
      return nullptr;
    }
  }
  // Before the loop runs nothing is served yet, so a blocking getaddrinfo harms no one; a
  // reload resolves on the thread pool (ServerResolver) instead.
  upstream::ResolvedServers servers;
  error = upstream::resolveServersNow(config.upstreams, servers);
  if (!error.empty()) {
    return nullptr;
  }
  std::unique_ptr<Server> server(new Server(loop, config));
  GenerationPtr gen = buildGeneration(loop, std::move(config), &server->responseBuffers_, nullptr,
                                      1, servers, error);
  if (!gen) {
    return nullptr;
  }
  server->ctx_->current = std::move(gen);
  return server;
}

Server::Server(uv::Loop& loop, const config::Config& config)
    : loop_(loop),
      budget_(config.buffering.memoryTotal),
      diskBudget_(config.buffering.diskTotal),
      budgetPoll_(loop, *this),
      files_(std::make_unique<statics::FileServer>(loop, &budget_, config.staticCache)),
      ctx_(std::make_unique<ServerContext>(
          loop, budget_, diskBudget_, requestBuffers_, responseBuffers_, *files_,
          static_cast<ConnectionRegistry&>(*this), static_cast<IdleTimeoutListener&>(*this))),
      startedUnix_(static_cast<uint64_t>(std::time(nullptr))) {
  // Buffering is process-wide: a reload changes memory_total (setLimit) but temp_dir,
  // memory_per_message and disk_total need a restart, like static_cache.
  const config::Buffering& b = config.buffering;
  for (core::BufferPolicy* policy : {&requestBuffers_, &responseBuffers_}) {
    policy->memory = &budget_;
    policy->disk = b.diskTotal > 0 ? &diskBudget_ : nullptr;
    policy->loop = loop.raw();
    policy->tempDir = b.tempDir;
    policy->memoryPerMessage = b.memoryPerMessage;
  }
  requestBuffers_.waitForDisk = true;
  responseBuffers_.waitForDisk = false;
}

void Server::waitForBudget(ClientConnection& connection) {
  budgetWaiters_.insert(&connection);
  if (!budgetPoll_.active()) {
    budgetPoll_.start(kBudgetPollMs);
  }
}

void Server::stopWaitingForBudget(ClientConnection& connection) {
  budgetWaiters_.erase(&connection);
}

void Server::onTimer() {
  // Memory or disk is given back from many places (a response sent, a temp file closed);
  // rather than wiring each to the waiters, the few connections held back retry now
  // and then while any is waiting. Each re-registers if it is still short.
  std::vector<ClientConnection*> waiters(budgetWaiters_.begin(), budgetWaiters_.end());
  budgetWaiters_.clear();
  for (ClientConnection* connection : waiters) {
    connection->onBudgetPoll();
  }
  if (!budgetWaiters_.empty()) {
    budgetPoll_.start(kBudgetPollMs);
  }
}

void Server::addConnection(std::unique_ptr<ClientConnection> connection) {
  ClientConnection* c = connection.release();
  c->prevOpen = nullptr;
  c->nextOpen = connections_;
  if (connections_ != nullptr) {
    connections_->prevOpen = c;
  }
  connections_ = c;
  ++connectionCount_;
}

std::unique_ptr<ClientConnection> Server::removeConnection(ClientConnection& c) {
  if (c.prevOpen != nullptr) {
    c.prevOpen->nextOpen = c.nextOpen;
  } else {
    connections_ = c.nextOpen;
  }
  if (c.nextOpen != nullptr) {
    c.nextOpen->prevOpen = c.prevOpen;
  }
  c.prevOpen = c.nextOpen = nullptr;
  --connectionCount_;
  return std::unique_ptr<ClientConnection>(&c);
}

std::vector<ClientConnection*> Server::allConnections() const {
  std::vector<ClientConnection*> all;
  all.reserve(connectionCount_);
  for (ClientConnection* c = connections_; c != nullptr; c = c->nextOpen) {
    all.push_back(c);
  }
  return all;
}

void Server::onIdleExpired(TimeoutLink& link) {
  // Only client connections sit in the idle lists.
  static_cast<ClientConnection&>(link).onIdleTimeout();
}

Server::~Server() {
  shuttingDown_ = true;
  listeners_.clear();
  admin_.reset();
  for (ClientConnection* connection : allConnections()) {
    connection->abort();
  }
  while (connections_ != nullptr) {
    removeConnection(*connections_);  // deleted here
  }
  // Connections closed earlier may still wait for deferred deletion; they reference the
  // generations (pools) and the context, which die below.
  loop_.flushDeferred();
  ctx_->current.reset();
  loop_.flushDeferred();  // the generations themselves are deleted deferred
}

std::string Server::listen(const std::vector<int>& inherited) {
  std::vector<int> unused = inherited;
  for (const auto& address : config().listen) {
    auto listener = std::make_unique<Listener>(loop_, address, static_cast<AcceptHandler&>(*this));
    auto match = std::find_if(unused.begin(), unused.end(),
                              [&](int fd) { return Listener::isBoundTo(fd, address); });
    std::string error;
    if (match != unused.end()) {
      error = listener->adopt(*match);
      unused.erase(match);
    } else {
      error = listener->open();
    }
    if (!error.empty()) {
      return error;
    }
    LOG_INFO("listening on %s%s", listener->boundName().c_str(),
             listener->inherited() ? " (socket from systemd)" : "");
    listeners_.push_back(std::move(listener));
  }
  for (int fd : unused) {
    // A socket systemd passed for an address the file does not name: serve it too.
    config::Address none;
    none.text = "fd:" + std::to_string(fd);
    auto listener = std::make_unique<Listener>(loop_, none, static_cast<AcceptHandler&>(*this));
    std::string error = listener->adopt(fd);
    if (!error.empty()) {
      return error;
    }
    LOG_INFO("listening on %s (socket from systemd, not in the configuration)",
             listener->boundName().c_str());
    listeners_.push_back(std::move(listener));
  }
  return openAdmin(config());
}

std::string Server::openAdmin(const config::Config& cfg) {
  if (!cfg.adminListen) {
    admin_.reset();
    return {};
  }
  if (admin_ && sameSocket(admin_->address(), *cfg.adminListen)) {
    return {};
  }
  auto admin = std::make_unique<AdminServer>(
      loop_, *cfg.adminListen, [this](std::string_view method, std::string_view target) {
        return onAdminRequest(method, target);
      });
  std::string error = admin->open();
  if (!error.empty()) {
    return "admin.listen: " + error;
  }
  LOG_INFO("admin endpoint (/metrics, /status) on %s", admin->boundName().c_str());
  admin_ = std::move(admin);
  return {};
}

bool Server::reload(config::Config config, const upstream::ResolvedServers& servers,
                    std::string& error) {
  if (ctx_->draining) {
    error = "stopping: reload refused";
    return false;
  }
  const Generation& old = *ctx_->current;
  GenerationPtr next = buildGeneration(loop_, std::move(config), &responseBuffers_, &old,
                                       old.number + 1, servers, error);
  if (!next) {
    return false;
  }
  const config::Config& cfg = next->config;
  // Open what is new first: a port that cannot be bound fails the whole reload, and
  // until the commit below nothing that serves has been touched.
  std::vector<bool> keep(listeners_.size(), false);
  std::vector<std::unique_ptr<Listener>> opened;
  for (const auto& address : cfg.listen) {
    bool found = false;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (sameSocket(listeners_[i]->address(), address) &&
          listeners_[i]->address().text.rfind("fd:", 0) != 0) {
        keep[i] = found = true;
        break;
      }
    }
    if (found) {
      continue;
    }
    auto listener = std::make_unique<Listener>(loop_, address, static_cast<AcceptHandler&>(*this));
    std::string why = listener->open();
    if (!why.empty()) {
      error = why;
      return false;
    }
    opened.push_back(std::move(listener));
  }
  std::unique_ptr<AdminServer> newAdmin;
  bool adminChanges =
      !(admin_ && cfg.adminListen && sameSocket(admin_->address(), *cfg.adminListen));
  if (adminChanges && cfg.adminListen) {
    newAdmin = std::make_unique<AdminServer>(
        loop_, *cfg.adminListen, [this](std::string_view method, std::string_view target) {
          return onAdminRequest(method, target);
        });
    std::string why = newAdmin->open();
    if (!why.empty()) {
      error = "admin.listen: " + why;
      return false;
    }
  }
  // Commit. Sockets systemd passed that the file does not name stay (they are not ours
  // to close); listeners no longer configured close now (their accepted connections stay).
  std::vector<std::unique_ptr<Listener>> nextListeners;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (keep[i] || listeners_[i]->address().text.rfind("fd:", 0) == 0) {
      nextListeners.push_back(std::move(listeners_[i]));
    } else {
      LOG_INFO("reload: no longer listening on %s", listeners_[i]->boundName().c_str());
    }
  }
  for (auto& l : opened) {
    LOG_INFO("reload: listening on %s", l->boundName().c_str());
    nextListeners.push_back(std::move(l));
  }
  listeners_ = std::move(nextListeners);
  if (adminChanges) {
    admin_ = std::move(newAdmin);
    if (admin_) {
      LOG_INFO("reload: admin endpoint on %s", admin_->boundName().c_str());
    }
  }
  budget_.setLimit(cfg.buffering.memoryTotal);
  for (const auto& [name, pool] : old.pools) {
    auto kept = next->pools.find(name);
    if (kept == next->pools.end() || kept->second != pool) {
      pool->stopHealthChecks();  // retired: it only finishes the requests it holds
    }
  }
  ctx_->current = std::move(next);
  ctx_->idle.rearm();            // the keepalive/header timeouts may have changed
  ctx_->spareExchanges.clear();  // their parsers have the old limits
  return true;
}

size_t Server::queuedRequests() const {
  size_t n = 0;
  for (const auto& [name, pool] : ctx_->current->pools) {
    n += pool->queueLength();
  }
  return n;
}

bool Server::onConnectionPending(Listener& listener) {
  if (shuttingDown_ || ctx_->draining) {
    return false;
  }
  if (connectionCount_ >= config().limits.connections) {
    LOG_DEBUG("at limits.connections (%zu): not accepting for now", connectionCount_);
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
  addConnection(std::move(connection));
  ++ctx_->counters.accepted;
  raw->start();
  return true;
}

void Server::onConnectionClosed(ClientConnection& connection) {
  budgetWaiters_.erase(&connection);
  if (shuttingDown_) {
    return;
  }
  if (connection.prevOpen == nullptr && connections_ != &connection) {
    return;  // not (or no longer) ours
  }
  loop_.deferDelete(removeConnection(connection));
  for (auto& listener : listeners_) {
    if (connectionCount_ >= config().limits.connections) {
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
  for (const auto& [name, pool] : ctx_->current->pools) {
    pool->stopHealthChecks();
  }
  listeners_.clear();
  for (ClientConnection* connection : allConnections()) {
    connection->drain();  // may close and unregister itself
  }
}

void Server::abortAll() {
  // Closing connections makes room under limits.connections: without listeners nothing
  // new is accepted meanwhile.
  listeners_.clear();
  admin_.reset();
  ctx_->draining = true;
  for (ClientConnection* connection : allConnections()) {
    connection->abort();
  }
}

}  // namespace doorman::server
