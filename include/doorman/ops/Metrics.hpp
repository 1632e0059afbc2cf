#pragma once
// Process-wide metrics that survive configuration reloads, and a small writer for the
// Prometheus text exposition format (version 0.0.4). Loop thread only.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace doorman::ops {

/// A histogram of durations with fixed buckets (seconds, as Prometheus expects).
class Histogram {
 public:
  static constexpr std::array<double, 15> kBounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  void observeMicros(int64_t micros);
  uint64_t count() const noexcept { return count_; }
  double sumSeconds() const noexcept { return static_cast<double>(sumMicros_) / 1e6; }
  /// Cumulative count of observations <= kBounds[i].
  uint64_t cumulative(size_t i) const noexcept;

 private:
  std::array<uint64_t, kBounds.size()> buckets_{};
  uint64_t count_ = 0;
  uint64_t sumMicros_ = 0;
};

using Labels = std::vector<std::pair<std::string_view, std::string>>;

/// Builds the text format: one HELP/TYPE header per family, then its samples.
class PrometheusText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  void histogram(std::string_view name, const Labels& labels, const Histogram& h);
  const std::string& text() const noexcept { return out_; }

 private:
  void writeName(std::string_view name, const Labels& labels, const char* extraKey = nullptr,
                 std::string_view extraValue = {});
  std::string out_;
};

/// "2xx", "4xx"...
std::string statusClass(int status);

/// Counters and histograms fed per request by the client connections.
struct Metrics {
  std::map<std::pair<std::string, std::string>, uint64_t> requests;  ///< (route, class)
  Histogram requestDuration;
  std::map<std::string, Histogram> queueWait;  ///< per upstream
  uint64_t reloadsSuccess = 0;
  uint64_t reloadsFailure = 0;

  void recordRequest(const std::string& route, int status, int64_t totalUs);
};

}  // namespace doorman::ops
