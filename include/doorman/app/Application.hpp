#pragma once
// Process lifetime: loads the config, runs the server on the loop, handles signals.
//
// SIGTERM / SIGINT: graceful stop (stop accepting, finish in-flight and queued
// requests up to timeouts.drain, close idle connections, exit 0); a second one stops at
// once. SIGQUIT stops at once. SIGPIPE is ignored (a write to a closed socket is an
// error code, not a death).

#include <memory>
#include <string>

#include "doorman/config/Config.hpp"
#include "doorman/server/Server.hpp"
#include "doorman/uv/Handle.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::app {

class Application final : private uv::TimerListener {
 public:
  explicit Application(config::Config config);
  ~Application();

  /// Runs until stopped; returns the process exit code.
  int run();

 private:
  void onSignal(int signum);
  void onTimer() override;  // drain deadline
  void beginDrain();
  void finish();
  void checkDrained();

  config::Config config_;
  uv::Loop loop_;
  std::unique_ptr<server::Server> server_;
  uv::HandlePtr<uv_signal_t> sigterm_, sigint_, sigquit_, sighup_;
  uv::Timer drainTimer_;
  bool draining_ = false;
  int exitCode_ = 0;
};

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t raiseFileLimit();

}  // namespace doorman::app
