#include "FileResponse.hpp"

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

void addValidators(http::Response& response, const std::string& etag, int64_t mtime,
                   const CachePolicy& policy) {
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

FilePlan planFileResponse(const FileFacts& file, const Conditions& conditions,
                          const CachePolicy& policy) {
  FilePlan plan;
  http::Response& response = plan.response;
  const std::string etag = makeEtag(file.mtime, file.size);

  bool notModified = false;
  if (conditions.ifNoneMatch) {
    notModified = ifNoneMatchHits(*conditions.ifNoneMatch, etag);
  } else if (conditions.ifModifiedSince) {
    notModified = notModifiedSince(*conditions.ifModifiedSince, file.mtime);
  }
  if (notModified) {
    response.status = 304;
    addValidators(response, etag, file.mtime, policy);
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

  response.headers.add("Content-Type", std::string(file.contentType));
  response.headers.add("Accept-Ranges", "bytes");
  addValidators(response, etag, file.mtime, policy);
  if (range.kind == RangeKind::Satisfiable) {
    response.status = 206;
    response.headers.add("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                              std::to_string(range.range.last()) + "/" +
                                              std::to_string(file.size));
    plan.readBody = true;
    plan.offset = range.range.first;
    plan.length = range.range.length;
    return plan;
  }
  response.status = 200;
  if (conditions.head) {
    // The client serializer keeps an explicit Content-Length on responses to HEAD.
    response.headers.add("Content-Length", std::to_string(file.size));
    return plan;
  }
  plan.readBody = file.size > 0;
  plan.length = file.size;
  return plan;
}

}  // namespace doorman::statics::detail
