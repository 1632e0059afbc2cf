#include "doorman/core/Units.hpp"

#include <array>
#include <limits>

namespace doorman::core {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

void skipSpaces(std::string_view& s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
}

/// Consumes a run of decimal digits into `out`; false when there is none or it overflows.
bool takeNumber(std::string_view& s, uint64_t& out) {
  if (s.empty() || !isDigit(s.front())) return false;
  uint64_t value = 0;
  while (!s.empty() && isDigit(s.front())) {
    const auto digit = static_cast<uint64_t>(s.front() - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
    s.remove_prefix(1);
  }
  out = value;
  return true;
}

bool multiply(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

/// The multiplier for a size unit (already lower-cased), or 0 when it is not one.
uint64_t sizeUnit(std::string_view unit) {
  if (unit.empty() || unit == "b") return 1;
  static constexpr std::array<char, 4> kPrefixes{'k', 'm', 'g', 't'};
  uint64_t decimal = 1;
  uint64_t binary = 1;
  for (char prefix : kPrefixes) {
    decimal *= 1000;
    binary *= 1024;
    if (unit.front() != prefix) continue;
    const std::string_view rest = unit.substr(1);
    if (rest.empty() || rest == "b") return decimal;
    if (rest == "ib") return binary;
    return 0;
  }
  return 0;
}

/// Microseconds per duration unit (case-sensitive: "M" could be read as months).
uint64_t durationUnit(std::string_view unit) {
  if (unit == "us") return 1;
  if (unit == "ms") return 1000;
  if (unit == "s") return 1000ull * 1000;
  if (unit == "m") return 60ull * 1000 * 1000;
  if (unit == "h") return 3600ull * 1000 * 1000;
  if (unit == "d") return 86400ull * 1000 * 1000;
  return 0;
}

}  // namespace

std::optional<uint64_t> parseSize(std::string_view text) {
  std::string_view s = trim(text);
  uint64_t number = 0;
  if (!takeNumber(s, number)) return std::nullopt;
  skipSpaces(s);
  std::string unit;
  for (char c : s) unit.push_back(lower(c));
  const uint64_t multiplier = sizeUnit(unit);
  uint64_t bytes = 0;
  if (multiplier == 0 || !multiply(number, multiplier, bytes)) return std::nullopt;
  return bytes;
}

std::optional<Millis> parseDuration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  uint64_t totalMicros = 0;
  while (!s.empty()) {
    uint64_t number = 0;
    if (!takeNumber(s, number)) return std::nullopt;
    skipSpaces(s);
    size_t unitLength = 0;
    while (unitLength < s.size() && s[unitLength] >= 'a' && s[unitLength] <= 'z') ++unitLength;
    const uint64_t micros = durationUnit(s.substr(0, unitLength));
    if (micros == 0) return std::nullopt;  // no unit, or not one we know
    s.remove_prefix(unitLength);
    skipSpaces(s);
    uint64_t part = 0;
    if (!multiply(number, micros, part)) return std::nullopt;
    if (totalMicros > std::numeric_limits<uint64_t>::max() - part) return std::nullopt;
    totalMicros += part;
  }
  // Round up: a 250us timeout must not become "no time at all".
  const uint64_t millis = totalMicros / 1000 + (totalMicros % 1000 != 0 ? 1 : 0);
  if (millis > static_cast<uint64_t>(std::numeric_limits<Millis::rep>::max())) return std::nullopt;
  return Millis{static_cast<Millis::rep>(millis)};
}

std::string formatSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  // The largest unit that divides exactly, binary first (configs are mostly written in KiB/MiB).
  static constexpr std::array<const char*, 4> kBinary{"KiB", "MiB", "GiB", "TiB"};
  static constexpr std::array<const char*, 4> kDecimal{"KB", "MB", "GB", "TB"};
  for (int i = 3; i >= 0; --i) {
    const uint64_t unit = 1ull << (10 * (i + 1));
    if (bytes % unit == 0) return std::to_string(bytes / unit) + kBinary[static_cast<size_t>(i)];
  }
  uint64_t unit = 1000ull * 1000 * 1000 * 1000;
  for (int i = 3; i >= 0; --i, unit /= 1000) {
    if (bytes % unit == 0) return std::to_string(bytes / unit) + kDecimal[static_cast<size_t>(i)];
  }
  return std::to_string(bytes);
}

std::string formatDuration(Millis ms) {
  const auto count = ms.count();
  if (count <= 0) return "0ms";
  struct Unit {
    int64_t millis;
    const char* suffix;
  };
  static constexpr std::array<Unit, 4> kUnits{
      {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}}};
  for (const Unit& unit : kUnits) {
    if (count % unit.millis == 0) return std::to_string(count / unit.millis) + unit.suffix;
  }
  return std::to_string(count) + "ms";
}

}  // namespace doorman::core
