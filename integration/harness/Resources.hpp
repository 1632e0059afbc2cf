#pragma once
// What a process holds, read from /proc: resident memory and open descriptors, once or
// sampled on a thread for the peak while a test puts load on it.

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <thread>

namespace doorman::it {

/// VmRSS of `pid` in bytes (0 when unreadable).
size_t rssOf(pid_t pid);

/// Entries in /proc/PID/fd (0 when unreadable).
size_t fdCountOf(pid_t pid);

/// Samples a process's RSS and descriptor count every 20 ms on a thread until stopped,
/// keeping the peaks.
class ResourceSampler {
 public:
  explicit ResourceSampler(pid_t pid);
  ~ResourceSampler();
  ResourceSampler(const ResourceSampler&) = delete;
  ResourceSampler& operator=(const ResourceSampler&) = delete;

  /// Stops sampling (idempotent); returns the peak RSS in bytes.
  size_t stop();
  size_t peakRss() const { return peakRss_; }
  size_t peakFds() const { return peakFds_; }

 private:
  void run();

  pid_t pid_;
  std::atomic<bool> running_{true};
  std::atomic<size_t> peakRss_{0};
  std::atomic<size_t> peakFds_{0};
  std::thread thread_;
};

}  // namespace doorman::it
