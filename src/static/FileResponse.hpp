#pragma once
// Deciding the answer for a found file, on the loop, from its metadata and the request's
// conditional headers: 200, 206, 304, 412 or 416, and which bytes (if any) must be read.
// Pure: no I/O, so the later in-memory cache and sendfile paths can reuse it unchanged.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "FileLookup.hpp"
#include "doorman/static/CachedFile.hpp"
#include "doorman/static/Encoding.hpp"

#include "doorman/config/Config.hpp"
#include "doorman/http/Message.hpp"

namespace doorman::statics::detail {

/// What the request asked, copied out of http::Request so nothing refers back to it.
struct Conditions {
  bool head = false;
  std::optional<std::string> ifNoneMatch;        ///< all fields joined with ", "
  std::optional<std::string> ifModifiedSince;    ///< first field
  std::optional<std::string> range;              ///< first field
  std::optional<std::string> ifRange;            ///< first field
  std::optional<std::string> ifMatch;            ///< all fields joined with ", "
  std::optional<std::string> ifUnmodifiedSince;  ///< first field
  CodingPreference codings;                      ///< from Accept-Encoding (all fields)

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
  Coding coding = Coding::Identity;  ///< the bytes are this pre-compressed sibling
  bool hasVariants = false;          ///< pre-compressed siblings exist: Vary
};

struct FilePlan {
  http::Response response;      ///< status and headers; the body is added after the read
  std::vector<BodyPart> parts;  ///< the body: empty for none
  std::string tail;             ///< after the parts (multipart's closing delimiter)

  bool hasBody() const noexcept { return !parts.empty(); }
  uint64_t bodySize() const noexcept;
};

/// RFC 9110 13.2.2 order: If-Match (else If-Unmodified-Since) -> 412, If-None-Match
/// (else If-Modified-Since) -> 304, then If-Range and Range (GET only) -> 206 (one range,
/// or multipart/byteranges) / 416, else 200. HEAD gets the 200 headers with an explicit
/// Content-Length and no body.
FilePlan planFileResponse(const FileFacts& file, const Conditions& conditions,
                          const CachePolicy& policy);

/// The cache's copy of a whole file: its 200 and 304 heads as planFileResponse would
/// answer (serialized without Date and Connection), the bytes and their identity.
std::shared_ptr<CachedFile> buildCachedFile(const FileFacts& file, const CachePolicy& policy,
                                            std::string body, const FileIdentity& identity);

/// The body a plan describes, cut from the whole file's bytes (cached or just read).
std::string assembleBody(const std::vector<BodyPart>& parts, const std::string& tail,
                         std::string_view wholeFile);

/// "public, max-age=N[, immutable]", or empty when the route sets no max_age.
std::string cacheControlValue(const CachePolicy& policy);

}  // namespace doorman::statics::detail
