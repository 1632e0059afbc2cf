#pragma once
// The Range header for one representation of a known size (RFC 9110 14.1-14.3).

#include <cstdint>
#include <string_view>
#include <vector>

namespace doorman::statics {

struct ByteRange {
  uint64_t first = 0;   ///< offset of the first byte
  uint64_t length = 0;  ///< at least 1 for a satisfiable range
  uint64_t last() const noexcept { return first + length - 1; }
  bool operator==(const ByteRange&) const = default;
};

enum class RangeKind {
  Ignore,         ///< no usable Range: send the whole representation (200)
  Satisfiable,    ///< send `ranges` (206; multipart/byteranges when there are several)
  Unsatisfiable,  ///< 416 with "Content-Range: bytes */size"
};

struct RangeRequest {
  RangeKind kind = RangeKind::Ignore;
  std::vector<ByteRange> ranges;  ///< Satisfiable: at least one, ascending, disjoint
  ByteRange range;                ///< Satisfiable: ranges.front() (the single-range case)
};

/// More range-specs than this in one header and the header is ignored (200): a client
/// that wants that many pieces may as well take the file, and it bounds the work.
constexpr size_t kMaxRanges = 64;

/// Parses "bytes=a-b", "bytes=a-", "bytes=-n" and comma lists of them against `size`.
/// Malformed values (any malformed element), other units and more than kMaxRanges specs
/// are Ignore. A last-pos beyond the end is clipped; specs starting at or past the end
/// (or zero suffixes) are dropped, and when none is left the request is Unsatisfiable.
/// The satisfiable ranges are coalesced when they overlap, touch or arrive out of order
/// (RFC 9110 14.3 allows it; it also stops "bytes=0-,0-,0-..." amplification);
/// ranges already ascending and apart keep the client's order.
RangeRequest parseRange(std::string_view value, uint64_t size);

}  // namespace doorman::statics
