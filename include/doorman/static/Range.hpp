#pragma once
// The Range header for one representation of a known size (RFC 9110 14.1-14.2).
// Only a single byte range is served for now; multipart/byteranges comes later, so a
// list of several ranges is ignored (a server MAY ignore Range, RFC 9110 14.2).

#include <cstdint>
#include <string_view>

namespace doorman::statics {

struct ByteRange {
  uint64_t first = 0;   ///< offset of the first byte
  uint64_t length = 0;  ///< at least 1 for a satisfiable range
  uint64_t last() const noexcept { return first + length - 1; }
};

enum class RangeKind {
  Ignore,         ///< no usable Range: send the whole representation (200)
  Satisfiable,    ///< send `range` (206)
  Unsatisfiable,  ///< 416 with "Content-Range: bytes */size"
};

struct RangeRequest {
  RangeKind kind = RangeKind::Ignore;
  ByteRange range;  ///< meaningful for Satisfiable
};

/// Parses "bytes=a-b", "bytes=a-", "bytes=-n" against `size`. Malformed values, other
/// units and lists of several ranges are Ignore. A last-pos beyond the end is clipped;
/// a first-pos at or past the end, or a zero suffix, is Unsatisfiable.
RangeRequest parseRange(std::string_view value, uint64_t size) noexcept;

}  // namespace doorman::statics
