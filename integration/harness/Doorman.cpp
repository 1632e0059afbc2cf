#include "harness/Doorman.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "harness/Net.hpp"
#include "harness/Wait.hpp"

#ifndef DOORMAN_BINARY
#error "DOORMAN_BINARY must be defined by integration/CMakeLists.txt"
#endif

namespace doorman::it {
namespace {

constexpr milliseconds kStartTimeout{10000};
std::atomic<int> doormanCounter{0};

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// DOORMAN_IT_BINARY runs the same tests against another build (e.g. build/asan/doorman).
std::string doormanBinary() {
  const char* override = std::getenv("DOORMAN_IT_BINARY");
  return override != nullptr && *override != '\0' ? override : DOORMAN_BINARY;
}

}  // namespace

DoormanConfig DoormanConfig::forBackend(const std::string& address, int workers) {
  DoormanConfig config;
  UpstreamSpec app;
  app.servers.push_back({address, workers});
  config.upstreams.push_back(app);
  return config;
}

std::string DoormanConfig::toYaml(uint16_t port, const std::string& tempDir) const {
  std::string y;
  y += "listen: [ " + quoted(loopback(port)) + " ]\n";
  y += "limits: " + limits + "\n";
  y += "timeouts: " + timeouts + "\n";
  y += "buffering: { memory_per_message: " + memoryPerMessage + ", memory_total: " + memoryTotal +
       ", disk_total: " + diskTotal +
       ", temp_dir: " + quoted(spillDir.empty() ? tempDir : spillDir) + " }\n";
  y += "log: { level: " + logLevel + (logPath.empty() ? "" : ", path: " + quoted(logPath)) + " }\n";
  y += "upstreams:\n";
  for (const auto& upstream : upstreams) {
    y += "  " + upstream.name + ":\n    servers:\n";
    for (const auto& server : upstream.servers) {
      y += "      - { address: " + quoted(server.address) +
           ", workers: " + std::to_string(server.workers) + " }\n";
    }
    y += "    queue: { max: " + std::to_string(upstream.queueMax) +
         ", timeout: " + upstream.queueTimeout + " }\n";
    y += "    timeouts: { connect: " + upstream.connectTimeout +
         ", response: " + upstream.responseTimeout + " }\n";
    if (!upstream.healthCheck.empty()) {
      y += "    health_check: " + upstream.healthCheck + "\n";
    }
    for (size_t at = 0; at < upstream.extra.size();) {
      size_t end = upstream.extra.find('\n', at);
      if (end == std::string::npos) end = upstream.extra.size();
      if (end > at) y += "    " + upstream.extra.substr(at, end - at) + "\n";
      at = end + 1;
    }
  }
  y += "routes:\n";
  if (routes.empty() && !upstreams.empty()) {
    y += "  - { prefix: /, upstream: " + upstreams.front().name + " }\n";
  }
  for (const auto& route : routes) {
    y += "  - { prefix: " + quoted(route.prefix) + ", upstream: " + route.upstream +
         (route.extra.empty() ? "" : ", " + route.extra) + " }\n";
  }
  y += extra;
  return y;
}

DoormanProcess::DoormanProcess(const TempDir& dir, const DoormanConfig& config,
                               DoormanLaunch launch)
    : launch_(std::move(launch)) {
  start(dir, config.toYaml(0, dir.path()));
}

DoormanProcess::DoormanProcess(const TempDir& dir, const std::string& yamlTemplate) {
  start(dir, yamlTemplate);
}

void DoormanProcess::start(const TempDir& dir, const std::string& yamlTemplate) {
  const std::string name = "doorman-" + std::to_string(++doormanCounter);
  configPath_ = dir.file(name + ".yaml");
  // The port is free when picked but could be taken before doorman binds it: try again
  // with another port when doorman exits early.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = freeTcpPort();
    std::string yaml = yamlTemplate;
    // A builder config was rendered with port 0; a template says {port}.
    yaml = replaceAll(yaml, "\"127.0.0.1:0\"", quoted(loopback(port_)));
    yaml = replaceAll(yaml, "{port}", std::to_string(port_));
    yaml = replaceAll(yaml, "{dir}", dir.path());
    std::ofstream(configPath_) << yaml;
    ProcessOptions options;
    options.name = name;
    options.argv.clear();
    for (const auto& arg : launch_.prefix) {  // "{port}" works in launcher arguments too
      options.argv.push_back(replaceAll(arg, "{port}", std::to_string(port_)));
    }
    for (const auto& arg : {doormanBinary(), std::string("-c"), configPath_}) {
      options.argv.push_back(arg);
    }
    options.env = launch_.env;
    options.logPath = dir.file(name + ".log");
    options.stopGrace = milliseconds(10000);
    process_ = std::make_unique<Process>(std::move(options));
    bool up = waitUntil(
        [&] { return !process_->running() || waitForConnect(address(), milliseconds(0)); },
        kStartTimeout, milliseconds(10));
    if (up && process_->running()) return;
    process_->stop();
    const std::string log = process_->log();
    if (log.find("in use") == std::string::npos) {
      throw std::runtime_error(name + " did not start (" +
                               describeStatus(process_->status().value_or(0)) + ") with config:\n" +
                               yaml + "\nlog:\n" + log);
    }
  }
  throw std::runtime_error(name + ": no free port after 3 attempts");
}

DoormanProcess::~DoormanProcess() {
  if (!process_) return;
  const bool exitedByItself = !process_->running();
  const int status = process_->stop();
  if (exitedByItself && exitExpected_) {
    return;  // the test stopped it and checked how it exited
  }
  if (exitedByItself) {
    ADD_FAILURE() << process_->name() << " (pid " << process_->pid()
                  << ") exited during the test: " << describeStatus(status);
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // A graceful stop exits 0; anything else (SIGKILL after the grace period, a sanitizer's
    // exit code) is a bug worth a failure.
    ADD_FAILURE() << process_->name() << " (pid " << process_->pid()
                  << ") did not stop cleanly on SIGTERM: " << describeStatus(status);
  }
  if (::testing::Test::HasFailure()) process_->dumpLogTail(120);
}

std::string DoormanProcess::address() const { return loopback(port_); }

size_t DoormanProcess::countOpenFds() const {
  std::error_code error;
  size_t count = 0;
  for (auto it = std::filesystem::directory_iterator(
           "/proc/" + std::to_string(process_->pid()) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

}  // namespace doorman::it
