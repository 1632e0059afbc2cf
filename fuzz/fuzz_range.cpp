// Range and conditional-request header parsing for static files (Range, If-None-Match,
// If-Range, If-Modified-Since / If-Unmodified-Since dates).
//
// Input: 8 bytes of representation size, then header text. Properties: no crash or UB;
// a satisfiable range lies inside the representation and is not empty; a zero-length
// representation has no satisfiable range; If-None-Match always hits its own tag list
// member and "*"; strong comparison implies weak comparison; a parsed HTTP-date
// formats (IMF-fixdate) and parses back to the same instant.

#include <cstdint>
#include <string>
#include <string_view>

#include "FuzzSupport.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/static/Range.hpp"
#include "doorman/static/Validators.hpp"

namespace fz = doorman::fuzz;
namespace st = doorman::statics;

namespace {

void checkRange(std::string_view value, uint64_t size) {
  const auto request = st::parseRange(value, size);
  if (request.kind != st::RangeKind::Satisfiable) {
    return;
  }
  const auto& r = request.range;
  fz::check(size > 0, "satisfiable range of an empty representation", value);
  fz::check(r.length >= 1, "empty satisfiable range", value);
  fz::check(r.first < size && r.length <= size - r.first, "range outside the representation",
            value);
  fz::check(r.last() < size, "last byte outside the representation", value);
}

void checkEtags(std::string_view value, uint64_t size) {
  const std::string etag = st::makeEtag(static_cast<int64_t>(size >> 1), size);
  fz::check(st::ifNoneMatchHits(etag, etag), "If-None-Match misses its own tag", etag);
  fz::check(st::ifNoneMatchHits("W/" + etag, etag), "weak form of the tag misses", etag);
  fz::check(st::ifNoneMatchHits("*", etag), "If-None-Match: * misses");
  fz::check(st::strongEtagMatch(etag, etag), "strong comparison of a tag with itself", etag);
  const bool hits = st::ifNoneMatchHits(value, etag);
  if (st::strongEtagMatch(value, etag)) {
    fz::check(hits, "strong match without weak match", value);
  }
  // A list that hits keeps hitting with more members after it ("*" is not a list).
  std::string_view trimmed = value;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
    trimmed.remove_prefix(1);
  }
  if (hits && trimmed.substr(0, 1) != "*") {
    fz::check(st::ifNoneMatchHits(std::string(value) + ", \"zz\"", etag),
              "appending a list member loses the hit", value);
  }
  (void)st::looksLikeEtag(value);
}

void checkDate(std::string_view value) {
  const auto parsed = st::parseHttpDate(value);
  if (!parsed) {
    return;
  }
  // The formatter is for the dates doorman writes: 1970 onwards.
  if (*parsed < 0 || *parsed > 253402300799) {
    return;
  }
  const std::string text = doorman::http::formatHttpDate(*parsed);
  const auto back = st::parseHttpDate(text);
  fz::check(back.has_value() && *back == *parsed, "formatted date does not parse back", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::FuzzInput in(data, size);
  const uint8_t sizeMode = in.byte();
  uint64_t representation = in.u64();
  if ((sizeMode & 1) != 0) {
    representation &= 0xffff;  // small sizes make boundaries reachable
  }
  const std::string_view value = in.rest();
  checkRange(value, representation);
  checkEtags(value, representation);
  checkDate(value);
  return 0;
}
