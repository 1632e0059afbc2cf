#include "doorman/static/Range.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace doorman::statics {
namespace {

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

/// Decimal digits only; saturates at the maximum (a huge offset is just "past the end").
bool parseDigits(std::string_view s, uint64_t& out) noexcept {
  if (s.empty()) {
    return false;
  }
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    auto digit = static_cast<uint64_t>(c - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  out = value;
  return true;
}

bool isBytesUnit(std::string_view unit) noexcept {
  constexpr std::string_view kBytes = "bytes";
  if (unit.size() != kBytes.size()) {
    return false;
  }
  for (size_t i = 0; i < unit.size(); ++i) {
    char c = unit[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != kBytes[i]) {
      return false;
    }
  }
  return true;
}

/// One range-spec; Ignore when malformed.
RangeRequest parseSpec(std::string_view spec, uint64_t size) noexcept {
  RangeRequest out;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return out;
  }
  std::string_view firstText = spec.substr(0, dash);
  std::string_view lastText = spec.substr(dash + 1);
  if (firstText.empty()) {
    // suffix-range: the last n bytes (RFC 9110 14.1.1)
    uint64_t suffix = 0;
    if (!parseDigits(lastText, suffix)) {
      return out;
    }
    if (suffix == 0 || size == 0) {
      out.kind = RangeKind::Unsatisfiable;
      return out;
    }
    uint64_t length = suffix < size ? suffix : size;
    out.kind = RangeKind::Satisfiable;
    out.range = {size - length, length};
    return out;
  }
  uint64_t first = 0;
  if (!parseDigits(firstText, first)) {
    return out;
  }
  uint64_t last = std::numeric_limits<uint64_t>::max();
  if (!lastText.empty()) {
    if (!parseDigits(lastText, last)) {
      return out;
    }
    if (last < first) {
      return out;  // invalid range-spec: ignore the header
    }
  }
  if (first >= size) {
    out.kind = RangeKind::Unsatisfiable;
    return out;
  }
  if (last >= size) {
    last = size - 1;
  }
  out.kind = RangeKind::Satisfiable;
  out.range = {first, last - first + 1};
  return out;
}

}  // namespace

RangeRequest parseRange(std::string_view value, uint64_t size) {
  size_t eq = value.find('=');
  if (eq == std::string_view::npos || !isBytesUnit(trimOws(value.substr(0, eq)))) {
    return {};
  }
  std::string_view specs = value.substr(eq + 1);
  RangeRequest out;
  size_t nonEmpty = 0;
  bool ordered = true;
  while (true) {
    size_t comma = specs.find(',');
    std::string_view element = trimOws(specs.substr(0, comma));
    if (!element.empty()) {
      if (++nonEmpty > kMaxRanges) {
        return {};
      }
      RangeRequest one = parseSpec(element, size);
      if (one.kind == RangeKind::Ignore) {
        return {};  // one malformed element spoils the header (RFC 9110 14.2)
      }
      if (one.kind == RangeKind::Satisfiable) {
        if (!out.ranges.empty() && one.range.first <= out.ranges.back().last() + 1) {
          ordered = false;  // overlaps, touches or goes back: coalesce below
        }
        out.ranges.push_back(one.range);
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    specs.remove_prefix(comma + 1);
  }
  if (nonEmpty == 0) {
    return {};
  }
  if (out.ranges.empty()) {
    out.kind = RangeKind::Unsatisfiable;
    return out;
  }
  if (!ordered) {
    std::sort(out.ranges.begin(), out.ranges.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
    std::vector<ByteRange> merged;
    for (const ByteRange& r : out.ranges) {
      if (!merged.empty() && r.first <= merged.back().last() + 1) {
        uint64_t end = std::max(merged.back().last(), r.last());
        merged.back().length = end - merged.back().first + 1;
      } else {
        merged.push_back(r);
      }
    }
    out.ranges = std::move(merged);
  }
  out.kind = RangeKind::Satisfiable;
  out.range = out.ranges.front();
  return out;
}

}  // namespace doorman::statics
