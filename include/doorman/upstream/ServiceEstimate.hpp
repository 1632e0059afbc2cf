#pragma once
// A moving estimate of how long one request keeps a worker (upstream time: from the slot
// being granted to the response being complete), for admission control: a request whose
// predicted wait, queue position x service time / workers, is longer than it may wait is
// answered 503 at once instead of after waiting in vain.

#include <cstdint>

namespace doorman::upstream {

class ServiceEstimate {
 public:
  /// Samples needed before the estimate is trusted (one slow outlier must not shed load).
  static constexpr uint32_t kMinSamples = 3;

  /// Exponentially weighted: each sample moves the estimate by 1/5 of the difference, so
  /// it follows a change of the app's speed within some ten requests.
  void add(uint64_t micros) noexcept {
    if (samples_ == 0) {
      micros_ = static_cast<double>(micros);
    } else {
      micros_ += (static_cast<double>(micros) - micros_) / 5.0;
    }
    if (samples_ < UINT32_MAX) ++samples_;
  }

  bool ready() const noexcept { return samples_ >= kMinSamples; }
  uint64_t micros() const noexcept { return static_cast<uint64_t>(micros_); }
  uint32_t samples() const noexcept { return samples_; }

  /// Predicted milliseconds until the request at 1-based `position` in the queue gets a
  /// slot, with `workers` slots serving the queue.
  uint64_t predictedWaitMs(uint64_t position, uint32_t workers) const noexcept {
    if (workers == 0) return 0;
    return static_cast<uint64_t>(static_cast<double>(position) * micros_ / workers / 1000.0);
  }

 private:
  double micros_ = 0;
  uint32_t samples_ = 0;
};

}  // namespace doorman::upstream
