#include "harness/Resources.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace doorman::it {

size_t rssOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;
    }
  }
  return 0;
}

size_t fdCountOf(pid_t pid) {
  std::error_code error;
  size_t count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

ResourceSampler::ResourceSampler(pid_t pid) : pid_(pid), thread_([this] { run(); }) {}

ResourceSampler::~ResourceSampler() { stop(); }

size_t ResourceSampler::stop() {
  running_ = false;
  if (thread_.joinable()) {
    thread_.join();
  }
  return peakRss_;
}

void ResourceSampler::run() {
  while (running_) {
    peakRss_ = std::max(peakRss_.load(), rssOf(pid_));
    peakFds_ = std::max(peakFds_.load(), fdCountOf(pid_));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace doorman::it
