#pragma once
// The real doorman binary (DOORMAN_BINARY, or $DOORMAN_IT_BINARY when set), started with a
// generated YAML config on a free loopback port. The config keys are the fixed ones of
// include/doorman/config/Config.hpp (each field's comment names its YAML key).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness/Process.hpp"
#include "harness/TempDir.hpp"

namespace doorman::it {

struct UpstreamServerSpec {
  std::string address;  ///< "unix:/path" or "127.0.0.1:PORT"
  int workers = 1;
};

struct UpstreamSpec {
  std::string name = "app";
  std::vector<UpstreamServerSpec> servers;
  int queueMax = 1000;
  std::string queueTimeout = "10s";
  std::string connectTimeout = "1s";
  std::string responseTimeout = "10s";
  std::string healthCheck;  ///< health_check as YAML ("{ path: /health, interval: 100ms }")
  std::string extra;        ///< more keys of the upstream, one "key: value" a line
};

struct RouteSpec {
  std::string prefix;
  std::string upstream;
  std::string extra{};  ///< more keys of the route's flow map: "queue_timeout: 1s"
};

/// A small builder for doorman's YAML. Values are YAML text, written as given.
struct DoormanConfig {
  std::vector<UpstreamSpec> upstreams;
  /// prefix -> upstream name (and more keys); empty: one route "/" to the first upstream.
  std::vector<RouteSpec> routes;
  std::string limits = "{ header_bytes: 16KiB, uri_bytes: 8KiB, body_bytes: 100MiB }";
  std::string timeouts = "{ header: 10s, body_idle: 30s, send_idle: 60s, keepalive: 75s }";
  std::string memoryPerMessage = "64KiB";
  std::string memoryTotal = "256MiB";
  std::string diskTotal = "4GiB";
  std::string spillDir;  ///< buffering.temp_dir; empty: the test's own temp dir
  std::string logLevel = "debug";
  std::string logPath;  ///< log.path; empty: stderr (the process log)
  /// More top-level YAML (access_log, admin...), appended as written.
  std::string extra;

  /// One upstream "app" with one server, every path routed to it.
  static DoormanConfig forBackend(const std::string& address, int workers);

  /// The YAML text for a doorman listening on 127.0.0.1:`port`, spilling to `tempDir`.
  std::string toYaml(uint16_t port, const std::string& tempDir) const;
};

/// How to start the binary beyond the config: extra environment, and a launcher put in
/// front of it (e.g. a socket-activation helper that execs doorman).
struct DoormanLaunch {
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> prefix;
};

class DoormanProcess {
 public:
  /// Writes the config, starts doorman and waits until its port accepts connections;
  /// throws std::runtime_error (with doorman's log) when it does not come up.
  DoormanProcess(const TempDir& dir, const DoormanConfig& config, DoormanLaunch launch = {});
  /// Same from YAML text in which "{port}" and "{dir}" are replaced.
  DoormanProcess(const TempDir& dir, const std::string& yamlTemplate);
  ~DoormanProcess();
  DoormanProcess(const DoormanProcess&) = delete;
  DoormanProcess& operator=(const DoormanProcess&) = delete;

  uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT"
  std::string address() const;
  pid_t pid() const { return process_->pid(); }
  std::string log() const { return process_->log(); }
  const std::string& configPath() const { return configPath_; }
  Process& process() { return *process_; }
  /// The test stops doorman itself (signals): exiting before the end is then no failure.
  void expectExit() { exitExpected_ = true; }
  /// Entries in /proc/PID/fd: sockets, files, epoll, pipes... A baseline for leak checks.
  size_t countOpenFds() const;

 private:
  void start(const TempDir& dir, const std::string& yamlTemplate);

  DoormanLaunch launch_;

  uint16_t port_ = 0;
  std::string configPath_;
  std::unique_ptr<Process> process_;
  bool exitExpected_ = false;
};

}  // namespace doorman::it
