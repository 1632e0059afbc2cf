#include "FileResponse.hpp"

#include <atomic>
#include <cstdio>
#include <random>

#include "doorman/http/Serializer.hpp"
#include "doorman/static/Range.hpp"
#include "doorman/static/Validators.hpp"

namespace doorman::statics::detail {
namespace {

std::optional<std::string> firstValue(const http::HeaderMap& headers, std::string_view name) {
  const std::string* value = headers.find(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  return *value;
}

/// Fields that are lists may arrive split over several lines (RFC 9110 5.3).
std::optional<std::string> joinedValues(const http::HeaderMap& headers, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& field : headers) {
    if (!http::equalsIgnoreCase(field.name, name)) {
      continue;
    }
    if (out) {
      out->append(", ");
      out->append(field.value);
    } else {
      out = field.value;
    }
  }
  return out;
}

/// RFC 9110 13.1.3: the file is unmodified when its mtime is not after the given date.
bool notModifiedSince(const std::string& value, int64_t mtime) {
  std::optional<int64_t> date = parseHttpDate(value);
  return date && mtime <= *date;
}

/// RFC 9110 13.1.5: the range applies only when the validator still matches.
bool ifRangeHolds(const std::string& value, const std::string& etag, int64_t mtime) {
  if (looksLikeEtag(value)) {
    return strongEtagMatch(value, etag);
  }
  std::optional<int64_t> date = parseHttpDate(value);
  return date && *date == mtime;  // a date validator must match exactly
}

/// RFC 9110 13.1.4: the precondition fails when the file changed after the date; an
/// invalid date is ignored.
bool unmodifiedSinceFails(const std::string& value, int64_t mtime) {
  std::optional<int64_t> date = parseHttpDate(value);
  return date && mtime > *date;
}

/// A boundary nobody can predict (so a file cannot contain it on purpose): a per-process
/// random prefix and a counter.
std::string multipartBoundary() {
  static const uint64_t seed = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<uint64_t> counter{0};
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(seed),
                        static_cast<unsigned long long>(counter.fetch_add(1) & 0xffffffffu));
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

std::string contentRange(const ByteRange& range, uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last()) + "/" +
         std::to_string(size);
}

void addValidators(http::Response& response, const std::string& etag, int64_t mtime,
                   const CachePolicy& policy, bool vary) {
  if (vary) {
    response.headers.add("Vary", "Accept-Encoding");
  }
  response.headers.add("ETag", etag);
  response.headers.add("Last-Modified", http::formatHttpDate(mtime));
  std::string cacheControl = cacheControlValue(policy);
  if (!cacheControl.empty()) {
    response.headers.add("Cache-Control", std::move(cacheControl));
  }
}

}  // namespace

Conditions Conditions::from(const http::Request& request) {
  Conditions c;
  c.head = request.isHead();
  c.ifNoneMatch = joinedValues(request.headers, "If-None-Match");
  c.ifModifiedSince = firstValue(request.headers, "If-Modified-Since");
  c.range = firstValue(request.headers, "Range");
  c.ifRange = firstValue(request.headers, "If-Range");
  c.ifMatch = joinedValues(request.headers, "If-Match");
  c.ifUnmodifiedSince = firstValue(request.headers, "If-Unmodified-Since");
  if (std::optional<std::string> accept = joinedValues(request.headers, "Accept-Encoding")) {
    c.codings = preferredCodings(*accept);
  }
  return c;
}

std::string cacheControlValue(const CachePolicy& policy) {
  if (!policy.maxAge) {
    return {};
  }
  long long seconds = static_cast<long long>(policy.maxAge->count() / 1000);
  std::string value = "public, max-age=" + std::to_string(seconds < 0 ? 0 : seconds);
  if (policy.immutable) {
    value.append(", immutable");
  }
  return value;
}

uint64_t FilePlan::bodySize() const noexcept {
  uint64_t total = tail.size();
  for (const BodyPart& part : parts) {
    total += part.head.size() + part.length;
  }
  return total;
}

FilePlan planFileResponse(const FileFacts& file, const Conditions& conditions,
                          const CachePolicy& policy) {
  FilePlan plan;
  http::Response& response = plan.response;
  const std::string etag = makeEtag(file.mtime, file.size, codingName(file.coding));
  const bool vary = file.hasVariants;

  bool failed = false;
  if (conditions.ifMatch) {
    failed = !ifMatchHits(*conditions.ifMatch, etag);
  } else if (conditions.ifUnmodifiedSince) {
    failed = unmodifiedSinceFails(*conditions.ifUnmodifiedSince, file.mtime);
  }
  if (failed) {
    response = http::makeErrorResponse(412);
    addValidators(response, etag, file.mtime, policy, vary);
    return plan;
  }

  bool notModified = false;
  if (conditions.ifNoneMatch) {
    notModified = ifNoneMatchHits(*conditions.ifNoneMatch, etag);
  } else if (conditions.ifModifiedSince) {
    notModified = notModifiedSince(*conditions.ifModifiedSince, file.mtime);
  }
  if (notModified) {
    response.status = 304;
    addValidators(response, etag, file.mtime, policy, vary);
    return plan;
  }

  RangeRequest range;
  // Range is defined for GET only (RFC 9110 14.2): HEAD gets the full headers.
  if (!conditions.head && conditions.range &&
      (!conditions.ifRange || ifRangeHolds(*conditions.ifRange, etag, file.mtime))) {
    range = parseRange(*conditions.range, file.size);
  }
  if (range.kind == RangeKind::Unsatisfiable) {
    response = http::makeErrorResponse(416);
    response.headers.add("Content-Range", "bytes */" + std::to_string(file.size));
    return plan;
  }

  const bool multipart = range.kind == RangeKind::Satisfiable && range.ranges.size() > 1;
  const std::string boundary = multipart ? multipartBoundary() : std::string();
  if (multipart) {
    response.headers.add("Content-Type", "multipart/byteranges; boundary=" + boundary);
  } else {
    response.headers.add("Content-Type", std::string(file.contentType));
  }
  if (file.coding != Coding::Identity) {
    response.headers.add("Content-Encoding", std::string(codingName(file.coding)));
  }
  response.headers.add("Accept-Ranges", "bytes");
  addValidators(response, etag, file.mtime, policy, vary);
  if (range.kind == RangeKind::Satisfiable) {
    response.status = 206;
    if (range.ranges.size() == 1) {
      response.headers.add("Content-Range", contentRange(range.range, file.size));
      plan.parts.push_back({std::string(), range.range.first, range.range.length});
      return plan;
    }
    // RFC 9110 14.6: each part names its own type and range.
    for (const ByteRange& r : range.ranges) {
      std::string head = plan.parts.empty() ? "--" : "\r\n--";
      head.append(boundary);
      head.append("\r\nContent-Type: ");
      head.append(file.contentType);
      head.append("\r\nContent-Range: ");
      head.append(contentRange(r, file.size));
      head.append("\r\n\r\n");
      plan.parts.push_back({std::move(head), r.first, r.length});
    }
    plan.tail = "\r\n--" + boundary + "--\r\n";
    return plan;
  }
  response.status = 200;
  if (conditions.head) {
    // The client serializer keeps an explicit Content-Length on responses to HEAD.
    response.headers.add("Content-Length", std::to_string(file.size));
    return plan;
  }
  if (file.size > 0) {
    plan.parts.push_back({std::string(), 0, file.size});
  }
  return plan;
}

namespace {

/// The head serialized for the cache: no Date, no Connection, without the blank line.
std::string prebuiltHead(http::Response& response) {
  http::ClientResponseOptions options;
  options.keepAlive = true;
  options.headRequest = true;  // keeps the explicit Content-Length of a 200
  options.date = {};
  std::string head = http::serializeClientResponseHead(response, options);
  head.resize(head.size() - 2);
  return head;
}

}  // namespace

std::shared_ptr<CachedFile> buildCachedFile(const FileFacts& file, const CachePolicy& policy,
                                            std::string body, const FileIdentity& identity) {
  auto cached = std::make_shared<CachedFile>();
  Conditions plain;
  plain.head = true;  // a 200 with an explicit Content-Length, no body planned
  FilePlan full = planFileResponse(file, plain, policy);
  cached->head200 = prebuiltHead(full.response);
  cached->etag = *full.response.headers.find("ETag");
  Conditions revalidate;
  revalidate.ifNoneMatch = cached->etag;
  FilePlan notModified = planFileResponse(file, revalidate, policy);
  cached->head304 = prebuiltHead(notModified.response);
  cached->body = std::move(body);
  cached->mtime = file.mtime;
  cached->identity = identity;
  return cached;
}

std::string assembleBody(const std::vector<BodyPart>& parts, const std::string& tail,
                         std::string_view wholeFile) {
  std::string out;
  for (const BodyPart& part : parts) {
    out.append(part.head);
    out.append(wholeFile.substr(part.offset, part.length));
  }
  out.append(tail);
  return out;
}

}  // namespace doorman::statics::detail
