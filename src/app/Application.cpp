#include "doorman/app/Application.hpp"

#include <sys/resource.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "doorman/config/Loader.hpp"
#include "doorman/core/BlockPool.hpp"
#include "doorman/core/Log.hpp"
#include "doorman/ops/Privileges.hpp"

namespace doorman::app {
namespace {

constexpr uint64_t kStatusEveryMs = 5000;

}  // namespace

uint64_t raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<uint64_t>(limit.rlim_cur);
}

Application::Application(config::Config config)
    : config_(std::move(config)), drainTimer_(loop_, *this) {}

Application::~Application() {
  resolver_.reset();
  server_.reset();
  sigterm_.reset();
  sigint_.reset();
  sigquit_.reset();
  sighup_.reset();
  sigusr1_.reset();
  statusTimer_.reset();
  loop_.flushDeferred();
  accessLog_.reset();  // writes what is still pending
}

std::string Application::applyErrorLog(const config::Config& config) {
  core::LogLevel level = core::LogLevel::Info;
  core::parseLogLevel(config.log.level, level);
  core::Log::setLevel(level);
  if (!core::Log::setPath(config.log.path.c_str())) {
    return "cannot open log file " + config.log.path + ": " + std::strerror(errno);
  }
  return {};
}

std::string Application::applyAccessLog(const config::Config& config) {
  if (!config.accessLog.enabled) {
    if (server_) {
      server_->setAccessLog(nullptr);
    }
    accessLog_.reset();
    return {};
  }
  if (!accessLog_) {
    auto writer = std::make_unique<ops::AccessLogWriter>();
    std::string error = writer->open(config.accessLog.path);
    if (!error.empty()) {
      return error;
    }
    accessLog_ = std::move(writer);
  } else if (config.accessLog.path != config_.accessLog.path) {
    std::string error = accessLog_->open(config.accessLog.path);  // switches on its thread
    if (!error.empty()) {
      return error;
    }
  }
  if (server_) {
    server_->setAccessLog(accessLog_.get());
  }
  return {};
}

int Application::run() {
  std::signal(SIGPIPE, SIG_IGN);
  uint64_t files = raiseFileLimit();
  std::string error;
  server_ = server::Server::create(loop_, config_, error);
  if (!server_) {
    LOG_ERROR("%s", error.c_str());
    return 1;
  }
  error = applyAccessLog(config_);
  if (!error.empty()) {
    LOG_ERROR("%s", error.c_str());
    return 1;
  }
  server_->setExtraMetrics([this](std::string& out) {
    out +=
        "# HELP doorman_access_log_dropped_total Access log lines dropped because the disk "
        "could not keep up.\n# TYPE doorman_access_log_dropped_total counter\n"
        "doorman_access_log_dropped_total ";
    out += std::to_string(accessLog_ ? accessLog_->dropped() : 0);
    out += '\n';
  });
  // Signal handlers before the first listen: a supervisor or test that sees the port
  // accept may signal at once, and the default action of SIGTERM/SIGHUP would kill the
  // process instead of stopping or reloading it. libuv runs the callbacks only from
  // loop_.run(), when everything below is set up.
  auto watch = [this](uv::HandlePtr<uv_signal_t>& handle, int signum) {
    int rc = 0;
    handle = uv::makeHandle<uv_signal_t>(loop_.raw(), rc, uv_signal_init);
    handle->data = this;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* h, int sig) {
          if (auto* self = uv::ownerOf<Application>(h)) {
            self->onSignal(sig);
          }
        },
        signum);
  };
  watch(sigterm_, SIGTERM);
  watch(sigint_, SIGINT);
  watch(sigquit_, SIGQUIT);
  watch(sighup_, SIGHUP);
  watch(sigusr1_, SIGUSR1);
  error = server_->listen(ops::takeInheritedListenFds());
  if (!error.empty()) {
    LOG_ERROR("%s", error.c_str());
    return 1;
  }
  // Every socket is bound: root is no longer needed.
  error = ops::dropPrivileges(config_.user, config_.group);
  if (!error.empty()) {
    LOG_ERROR("cannot drop privileges: %s", error.c_str());
    return 1;
  }
  if (!config_.user.empty() || !config_.group.empty()) {
    LOG_INFO("running as uid %d gid %d", static_cast<int>(getuid()), static_cast<int>(getgid()));
  }
  LOG_INFO("doorman %s started (pid %d, file descriptor limit %llu)", DOORMAN_VERSION,
           static_cast<int>(getpid()), static_cast<unsigned long long>(files));
  if (notifier_.enabled()) {
    notifier_.notify("READY=1\nMAINPID=" + std::to_string(getpid()) + "\n" + statusLine());
    int rc = 0;
    statusTimer_ = uv::makeHandle<uv_timer_t>(loop_.raw(), rc, uv_timer_init);
    if (statusTimer_) {
      statusTimer_->data = this;
      uv_timer_start(
          statusTimer_.get(),
          [](uv_timer_t* t) {
            if (auto* self = uv::ownerOf<Application>(t)) {
              self->notifyStatus();
            }
          },
          kStatusEveryMs, kStatusEveryMs);
      uv_unref(reinterpret_cast<uv_handle_t*>(statusTimer_.get()));
    }
  }
  // Body blocks freed on this thread are kept for the next message (core/BlockPool.hpp).
  core::blockpool::enableOnThisThread();
  loop_.run();
  core::blockpool::disableOnThisThread();
  LOG_INFO("doorman stopped");
  return exitCode_;
}

std::string Application::statusLine() const {
  if (!server_) {
    return "STATUS=starting";
  }
  return "STATUS=" + std::string(draining_ ? "draining; " : "") +
         std::to_string(server_->connectionCount()) + " connections, " +
         std::to_string(server_->queuedRequests()) + " queued requests, configuration #" +
         std::to_string(server_->generation());
}

void Application::notifyStatus() { notifier_.notify(statusLine()); }

void Application::onSignal(int signum) {
  switch (signum) {
    case SIGHUP:
      reload();
      return;
    case SIGUSR1:
      reopenLogs();
      return;
    case SIGQUIT:
      LOG_INFO("SIGQUIT: stopping now");
      notifier_.notify("STOPPING=1");
      finish();
      return;
    default:
      if (draining_) {
        LOG_INFO("second stop signal: stopping now");
        finish();
        return;
      }
      LOG_INFO("%s: stopping gracefully (up to %lld ms)", signum == SIGINT ? "SIGINT" : "SIGTERM",
               static_cast<long long>(server_->config().timeouts.drain.count()));
      beginDrain();
      return;
  }
}

void Application::reopenLogs() {
  LOG_INFO("SIGUSR1: reopening log files");
  if (!core::Log::setPath(config_.log.path.c_str())) {
    LOG_ERROR("cannot reopen log file %s: %s", config_.log.path.c_str(), std::strerror(errno));
  }
  if (accessLog_) {
    accessLog_->reopen(config_.accessLog.path);
  }
}

void Application::reload() {
  if (draining_) {
    LOG_WARN("SIGHUP while stopping: not reloading");
    return;
  }
  if (resolver_) {
    LOG_INFO("SIGHUP while a reload resolves its servers: reloading again after it");
    reloadAgain_ = true;
    return;
  }
  const std::string path = config_.sourcePath;
  LOG_INFO("SIGHUP: reloading configuration from %s", path.c_str());
  notifier_.notify("RELOADING=1\nSTATUS=reloading configuration");
  config::LoadResult loaded = config::loadConfigFile(path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      LOG_ERROR("%s", e.toString().c_str());
    }
    refuseReload(std::to_string(loaded.errors.size()) + " error(s) in " + path);
    return;
  }
  // Server names are resolved on libuv's thread pool; the loop keeps serving with the
  // running configuration meanwhile, and nothing changes until every name is resolved.
  auto next = std::make_shared<config::Config>(std::move(loaded.config));
  resolver_ = std::make_unique<upstream::ServerResolver>(loop_);
  resolver_->start(next->upstreams, [this, next](const std::string& error,
                                                 const upstream::ResolvedServers& servers) {
    // Inside the resolver's callback: it dies after it returns.
    loop_.deferDelete(std::move(resolver_));
    if (!error.empty()) {
      refuseReload(error);
    } else {
      commitReload(std::move(*next), servers);
    }
    if (reloadAgain_) {
      reloadAgain_ = false;
      reload();
    }
  });
}

void Application::refuseReload(const std::string& why) {
  ++server_->context().metrics.reloadsFailure;
  LOG_ERROR("reload refused, the running configuration stays: %s", why.c_str());
  notifier_.notify("READY=1\n" + statusLine());
}

void Application::commitReload(config::Config next, const upstream::ResolvedServers& servers) {
  if (draining_) {
    LOG_WARN("stopping: the reload is dropped");
    return;
  }
  if (next.user != config_.user || next.group != config_.group) {
    LOG_WARN("reload: user/group changes take effect only at the next start");
    next.user = config_.user;
    next.group = config_.group;
  }
  if (next.buffering.tempDir != config_.buffering.tempDir) {
    LOG_WARN("reload: buffering.temp_dir changes take effect only at the next start");
  }
  if (!(next.staticCache == config_.staticCache)) {
    LOG_WARN("reload: static_cache changes take effect only at the next start");
  }
  std::string error = applyAccessLog(next);
  if (!error.empty()) {
    refuseReload(error);
    return;
  }
  if (!server_->reload(next, servers, error)) {
    applyAccessLog(config_);  // back to the running file
    refuseReload(error);
    return;
  }
  error = applyErrorLog(next);
  if (!error.empty()) {
    LOG_ERROR("reload: %s (logging to stderr)", error.c_str());
  }
  config_ = std::move(next);
  ++server_->context().metrics.reloadsSuccess;
  LOG_INFO("configuration #%llu in force", static_cast<unsigned long long>(server_->generation()));
  notifier_.notify("READY=1\n" + statusLine());
}

void Application::beginDrain() {
  draining_ = true;
  notifier_.notify("STOPPING=1\n" + statusLine());
  drainTimer_.start(static_cast<uint64_t>(server_->config().timeouts.drain.count()));
  server_->setOnConnectionsChanged([this] { checkDrained(); });
  server_->drain();
  checkDrained();
}

void Application::checkDrained() {
  if (draining_ && server_ && server_->connectionCount() == 0) {
    finish();
  }
}

void Application::onTimer() {
  LOG_WARN("timeouts.drain passed with %zu connections still open: closing them",
           server_ ? server_->connectionCount() : size_t{0});
  finish();
}

void Application::finish() {
  // Everything that keeps the loop alive is closed here; uv_run then returns.
  drainTimer_.stop();
  resolver_.reset();  // a reload still resolving is dropped (its lookups cancelled)
  if (server_) {
    server_->setOnConnectionsChanged(nullptr);
    server_->abortAll();
  }
  sigterm_.reset();
  sigint_.reset();
  sigquit_.reset();
  sighup_.reset();
  sigusr1_.reset();
  statusTimer_.reset();
  loop_.stop();
}

}  // namespace doorman::app
