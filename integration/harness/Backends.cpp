#include "harness/Backends.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

#include "harness/Json.hpp"
#include "harness/Net.hpp"
#include "harness/Wait.hpp"

#ifndef DOORMAN_SOURCE_DIR
#error "DOORMAN_SOURCE_DIR must be defined by integration/CMakeLists.txt"
#endif

namespace doorman::it {
namespace {

constexpr milliseconds kStartTimeout{20000};

std::atomic<int> backendCounter{0};

std::vector<std::pair<std::string, std::string>> pythonEnv(const std::string& statsPath) {
  return {
      {"TESTAPP_STATS", statsPath}, {"PYTHONDONTWRITEBYTECODE", "1"}, {"PYTHONUNBUFFERED", "1"}};
}

}  // namespace

BackendStats readBackendStats(const std::string& path) {
  BackendStats stats;
  // The same lock the writers take: a read never sees the file truncated mid-update.
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return stats;
  ::flock(fd, LOCK_SH);
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof(chunk))) > 0) text.append(chunk, static_cast<size_t>(n));
  ::flock(fd, LOCK_UN);
  ::close(fd);
  auto json = parseJson(text);
  if (!json) return stats;
  stats.requests = (*json)["requests"].integer();
  stats.inflight = (*json)["inflight"].integer();
  stats.peak = (*json)["peak"].integer();
  stats.connections = (*json)["connections"].integer();
  stats.distinctPorts = (*json)["ports"].elements().size();
  return stats;
}

std::string backendScript(const std::string& file) {
  return std::string(DOORMAN_SOURCE_DIR) + "/integration/backends/" + file;
}

Backend::Backend(const TempDir& dir, const std::string& kind) {
  name_ = kind + "-" + std::to_string(++backendCounter);
  statsPath_ = dir.file(name_ + ".stats.json");
  logPath_ = dir.file(name_ + ".log");
}

Backend::~Backend() {
  if (!process_) return;
  process_->stop();
  if (::testing::Test::HasFailure()) process_->dumpLogTail();
}

void Backend::start(ProcessOptions options, bool probeByConnecting, const std::string& readyLine) {
  options.name = name_;
  options.logPath = logPath_;
  options.stopGrace = milliseconds(10000);
  process_ = std::make_unique<Process>(std::move(options));
  bool ready = waitUntil(
      [&] {
        if (!process_->running()) return true;
        if (!readyLine.empty() && process_->log().find(readyLine) == std::string::npos) {
          return false;
        }
        return !probeByConnecting || waitForConnect(address_, milliseconds(0));
      },
      kStartTimeout, milliseconds(20));
  if (!ready || !process_->running()) {
    process_->stop();
    throw std::runtime_error(name_ + " did not start (" +
                             describeStatus(process_->status().value_or(0)) + "); log:\n" +
                             process_->log());
  }
}

GunicornBackend::GunicornBackend(const TempDir& dir, int workers, bool tcp)
    : GunicornBackend(dir, workers, {}, tcp ? loopback(freeTcpPort()) : "") {}

GunicornBackend::GunicornBackend(const TempDir& dir, int workers,
                                 const std::vector<std::string>& extraArgs,
                                 const std::string& address)
    : Backend(dir, "gunicorn") {
  address_ = !address.empty() ? address : "unix:" + dir.file(name_ + ".sock");
  ProcessOptions options;
  options.argv = {"/usr/bin/gunicorn",
                  "--chdir",
                  backendScript(""),
                  "--bind",
                  address_,
                  "--workers",
                  std::to_string(workers),
                  "--worker-class",
                  "sync",
                  "--graceful-timeout",
                  "5",
                  "--timeout",
                  "60",
                  "--access-logfile",
                  "-",
                  "--log-level",
                  "info"};
  options.argv.insert(options.argv.end(), extraArgs.begin(), extraArgs.end());
  options.argv.push_back("testapp:application");
  options.env = pythonEnv(statsPath_);
  start(std::move(options), /*probeByConnecting=*/true);
}

std::string demoDir() { return std::string(DOORMAN_SOURCE_DIR) + "/demo"; }

DemoAppBackend::DemoAppBackend(const TempDir& dir, int workers) : Backend(dir, "demo") {
  address_ = "unix:" + dir.file(name_ + ".sock");
  ProcessOptions options;
  options.argv = {"/usr/bin/gunicorn",
                  "--chdir",
                  demoDir(),
                  "--bind",
                  address_,
                  "--workers",
                  std::to_string(workers),
                  "--worker-class",
                  "sync",
                  "--graceful-timeout",
                  "5",
                  "--access-logfile",
                  "-",
                  "app:application"};
  options.env = pythonEnv(statsPath_);
  start(std::move(options), /*probeByConnecting=*/true);
}

UwsgiBackend::UwsgiBackend(const TempDir& dir, int processes) : UwsgiBackend(dir, processes, {}) {}

UwsgiBackend::UwsgiBackend(const TempDir& dir, int processes,
                           const std::vector<std::string>& extraArgs)
    : Backend(dir, "uwsgi") {
  address_ = loopback(freeTcpPort());
  ProcessOptions options;
  options.argv = {"/usr/bin/uwsgi",
                  "--plugin",
                  "python3",
                  "--http11-socket",
                  address_,
                  "--processes",
                  std::to_string(processes),
                  "--wsgi-file",
                  backendScript("testapp.py"),
                  "--master",
                  "--die-on-term",
                  "--need-app",
                  "--strict"};
  options.argv.insert(options.argv.end(), extraArgs.begin(), extraArgs.end());
  options.env = pythonEnv(statsPath_);
  start(std::move(options), /*probeByConnecting=*/true,
        "spawned uWSGI worker " + std::to_string(processes));
}

PreforkBackend::PreforkBackend(const TempDir& dir, PreforkOptions options)
    : Backend(dir, "prefork") {
  address_ = options.tcp ? loopback(freeTcpPort()) : "unix:" + dir.file(name_ + ".sock");
  ProcessOptions process;
  process.argv = {"/usr/bin/python3", backendScript("prefork_server.py"),
                  "--bind",           address_,
                  "--processes",      std::to_string(options.processes),
                  "--stats",          statsPath_,
                  "--sleep-ms",       std::to_string(options.sleepMs),
                  "--close-after",    std::to_string(options.closeAfter),
                  "--close-delay-ms", std::to_string(options.closeDelayMs)};
  if (!options.recordPath.empty()) {
    process.argv.push_back("--record");
    process.argv.push_back(options.recordPath);
  }
  process.env = pythonEnv(statsPath_);
  // Not probed by connecting: a probe would be an accepted connection in the stats.
  start(std::move(process), /*probeByConnecting=*/false, "prefork_server:");
}

PasteBackend::PasteBackend(const TempDir& dir) : Backend(dir, "paste") {
  uint16_t port = freeTcpPort();
  address_ = loopback(port);
  ProcessOptions options;
  options.argv = {"/usr/bin/python3", backendScript("paste_server.py"), "127.0.0.1",
                  std::to_string(port)};
  options.env = pythonEnv(statsPath_);
  start(std::move(options), /*probeByConnecting=*/true, "serving on");
}

}  // namespace doorman::it
