#include "doorman/server/ServerContext.hpp"

#include <unistd.h>

#include <ctime>

#include "doorman/http/Serializer.hpp"

namespace doorman::server {

const std::string& DateCache::now() {
  int64_t second = static_cast<int64_t>(std::time(nullptr));
  if (second != second_) {
    second_ = second;
    value_ = http::formatHttpDate(second);
  }
  return value_;
}

RequestIds::RequestIds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  state_ = (static_cast<uint64_t>(ts.tv_sec) << 32) ^ static_cast<uint64_t>(ts.tv_nsec) ^
           (static_cast<uint64_t>(getpid()) << 16);
}

void RequestIds::next(std::string& out) {
  // splitmix64: every call gives a distinct value (it is a bijection of a counter).
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(16);
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[z & 0xF];
    z >>= 4;
  }
}

}  // namespace doorman::server
