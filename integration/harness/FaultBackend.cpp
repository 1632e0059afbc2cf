#include "harness/FaultBackend.hpp"

#include <algorithm>
#include <filesystem>

#include "harness/Net.hpp"

namespace doorman::it {

FaultBackend::FaultBackend(const TempDir& dir) : Backend(dir, "fault") {
  const uint16_t port = freeTcpPort();
  address_ = loopback(port);
  recordDir_ = dir.file(name_ + ".requests");
  ProcessOptions options;
  options.argv = {"/usr/bin/python3", backendScript("fault_server.py"),
                  "--port",           std::to_string(port),
                  "--record",         recordDir_};
  options.env = {{"PYTHONDONTWRITEBYTECODE", "1"}, {"PYTHONUNBUFFERED", "1"}};
  // Not probed by connecting: a probe would be a connection it has to serve.
  start(std::move(options), /*probeByConnecting=*/false, "fault_server: ready");
}

std::vector<std::string> FaultBackend::recordedRequests() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(recordDir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".bin") {
      names.push_back(entry.path().string());
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    out.push_back(readFile(name));
  }
  return out;
}

}  // namespace doorman::it
