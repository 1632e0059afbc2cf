#pragma once
// Process lifetime: runs the server on the loop, handles signals, talks to systemd.
//
// SIGTERM / SIGINT: graceful stop (stop accepting, finish in-flight and queued
// requests up to timeouts.drain, close idle connections, exit 0); a second one stops at
// once. SIGQUIT stops at once. SIGHUP re-reads the configuration file (a bad file is
// logged and the running configuration stays); server names are resolved on the thread
// pool first, and the new configuration is swapped in only once all of them resolved (a
// name that does not resolve refuses the reload). SIGUSR1 reopens the access and error
// logs (logrotate). SIGPIPE is ignored (a write to a closed socket is an error code,
// not a death).
//
// systemd (Type=notify): READY=1 once every listener is bound, RELOADING=1 ... READY=1
// around a reload, STOPPING=1 when a stop begins, STATUS= with connections and queue
// depth (also refreshed every few seconds). Sockets from socket activation serve the
// listen addresses they are bound to. Without systemd all of this is a no-op.

#include <memory>
#include <string>

#include "doorman/config/Config.hpp"
#include "doorman/ops/AccessLog.hpp"
#include "doorman/ops/Systemd.hpp"
#include "doorman/server/Server.hpp"
#include "doorman/upstream/ServerResolver.hpp"
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
  void reload();
  void refuseReload(const std::string& why);
  /// The second half of a reload, once every server name is resolved.
  void commitReload(config::Config next, const upstream::ResolvedServers& servers);
  void reopenLogs();
  /// Opens, switches or closes the access log for `config`; empty string on success.
  std::string applyAccessLog(const config::Config& config);
  /// Applies log.level and log.path.
  std::string applyErrorLog(const config::Config& config);
  std::string statusLine() const;
  void notifyStatus();

  config::Config config_;
  uv::Loop loop_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<ops::AccessLogWriter> accessLog_;
  ops::SystemdNotifier notifier_;
  uv::HandlePtr<uv_signal_t> sigterm_, sigint_, sigquit_, sighup_, sigusr1_;
  uv::Timer drainTimer_;
  uv::HandlePtr<uv_timer_t> statusTimer_;
  std::unique_ptr<upstream::ServerResolver> resolver_;  ///< a reload resolving its servers
  bool reloadAgain_ = false;                            ///< SIGHUP came while resolving
  bool draining_ = false;
  int exitCode_ = 0;
};

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t raiseFileLimit();

}  // namespace doorman::app
