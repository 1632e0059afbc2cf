#pragma once
// Helpers shared by the fuzz targets: reading structured values out of the fuzzer's
// bytes, and a check that stops the run with a message (libFuzzer saves the input as a
// crash artifact; the replay main reports the file).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace doorman::fuzz {

/// Consumes the fuzzer's input front to back. Running out gives zeros / empty views, so
/// every input is valid.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t byte() noexcept {
    if (rest_.empty()) {
      return 0;
    }
    const auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  uint64_t u64() noexcept {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
      value = (value << 8) | byte();
    }
    return value;
  }

  /// Bytes up to (not including) the next `separator`, which is consumed; all the rest
  /// when there is none.
  std::string_view until(char separator) noexcept {
    const size_t at = rest_.find(separator);
    const std::string_view out = rest_.substr(0, at);
    rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + 1);
    return out;
  }

  std::string_view rest() noexcept {
    const std::string_view out = rest_;
    rest_ = {};
    return out;
  }

 private:
  std::string_view rest_;
};

/// A property of the code under test does not hold: report and abort.
[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  if (!detail.empty()) {
    std::fprintf(stderr, "--- detail (%zu bytes) ---\n%.*s\n---\n", detail.size(),
                 static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

inline void check(bool condition, const char* what, std::string_view detail = {}) {
  if (!condition) {
    fail(what, detail);
  }
}

}  // namespace doorman::fuzz
