#include "doorman/app/Application.hpp"

#include <sys/resource.h>

#include <unistd.h>

#include <csignal>

#include "doorman/core/Log.hpp"

namespace doorman::app {

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
  server_.reset();
  sigterm_.reset();
  sigint_.reset();
  sigquit_.reset();
  sighup_.reset();
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
  error = server_->listen();
  if (!error.empty()) {
    LOG_ERROR("%s", error.c_str());
    return 1;
  }
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
  LOG_INFO("doorman %s started (pid %d, file descriptor limit %llu)", DOORMAN_VERSION,
           static_cast<int>(getpid()), static_cast<unsigned long long>(files));
  loop_.run();
  LOG_INFO("doorman stopped");
  return exitCode_;
}

void Application::onSignal(int signum) {
  switch (signum) {
    case SIGHUP:
      // Reloading the configuration is not built yet (tracked as its own issue); a HUP
      // must not kill the process meanwhile.
      LOG_WARN("SIGHUP received: configuration reload is not supported yet; ignoring");
      return;
    case SIGQUIT:
      LOG_INFO("SIGQUIT: stopping now");
      finish();
      return;
    default:
      if (draining_) {
        LOG_INFO("second stop signal: stopping now");
        finish();
        return;
      }
      LOG_INFO("%s: stopping gracefully (up to %lld ms)", signum == SIGINT ? "SIGINT" : "SIGTERM",
               static_cast<long long>(config_.timeouts.drain.count()));
      beginDrain();
      return;
  }
}

void Application::beginDrain() {
  draining_ = true;
  drainTimer_.start(static_cast<uint64_t>(config_.timeouts.drain.count()));
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
  if (server_) {
    server_->setOnConnectionsChanged(nullptr);
    server_->abortAll();
  }
  sigterm_.reset();
  sigint_.reset();
  sigquit_.reset();
  sighup_.reset();
  loop_.stop();
}

}  // namespace doorman::app
