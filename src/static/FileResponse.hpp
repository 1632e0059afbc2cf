#pragma once
// Deciding the answer for a found file, on the loop, from its metadata and the request's
// conditional headers: 200, 206, 304 or 416, and which bytes (if any) must be read.
// Pure: no I/O, so the later in-memory cache and sendfile paths can reuse it unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "doorman/config/Config.hpp"
#include "doorman/http/Message.hpp"

namespace doorman::statics::detail {

/// What the request asked, copied out of http::Request so nothing refers back to it.
struct Conditions {
  bool head = false;
  std::optional<std::string> ifNoneMatch;      ///< all fields joined with ", "
  std::optional<std::string> ifModifiedSince;  ///< first field
  std::optional<std::string> range;            ///< first field
  std::optional<std::string> ifRange;          ///< first field

  static Conditions from(const http::Request& request);
};

struct CachePolicy {
  std::optional<core::Millis> maxAge;
  bool immutable = false;
};

struct FileFacts {
  uint64_t size = 0;
  int64_t mtime = 0;  ///< seconds
  std::string_view contentType;
};

struct FilePlan {
  http::Response response;  ///< status and headers; the body is added after the read
  bool readBody = false;    ///< read [offset, offset + length) into the body
  uint64_t offset = 0;
  uint64_t length = 0;
};

/// RFC 9110 13.2.2 order: If-None-Match (else If-Modified-Since) -> 304, then If-Range
/// and Range (GET only) -> 206 / 416, else 200. HEAD gets the 200 headers with an explicit
/// Content-Length and no body.
FilePlan planFileResponse(const FileFacts& file, const Conditions& conditions,
                          const CachePolicy& policy);

/// "public, max-age=N[, immutable]", or empty when the route sets no max_age.
std::string cacheControlValue(const CachePolicy& policy);

}  // namespace doorman::statics::detail
