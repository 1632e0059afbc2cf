#pragma once
// Validators for conditional requests (RFC 9110 8.8, 13): entity tags and HTTP dates.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace doorman::statics {

/// The strong ETag of a file: "\"<hex mtime seconds>-<hex size>\"" (nginx's form), with
/// "-<coding>" before the closing quote for a pre-compressed sibling ("\"...-br\""), so
/// each encoding of a resource has its own tag.
std::string makeEtag(int64_t mtimeSeconds, uint64_t size, std::string_view coding = {});

/// If-Match (RFC 9110 13.1.1): true when the field value is "*" or lists an entity tag
/// that *strongly* matches `etag`. A malformed element ends the list.
bool ifMatchHits(std::string_view fieldValue, std::string_view etag) noexcept;

/// If-None-Match (RFC 9110 13.1.2): true when the field value is "*" or lists an entity
/// tag that *weakly* matches `etag` (W/ prefixes ignored on both sides). A malformed
/// element ends the list: tags before it still count.
bool ifNoneMatchHits(std::string_view fieldValue, std::string_view etag) noexcept;

/// Strong comparison (RFC 9110 8.8.3.2): both tags strong and their opaque parts equal.
bool strongEtagMatch(std::string_view a, std::string_view b) noexcept;

/// True when an If-Range value is an entity tag rather than a date (RFC 9110 13.1.5).
bool looksLikeEtag(std::string_view value) noexcept;

/// Parses an HTTP-date (RFC 9110 5.6.7) to Unix seconds: IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT") and the two obsolete forms recipients must accept
/// (RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", asctime "Sun Nov  6 08:49:37 1994").
std::optional<int64_t> parseHttpDate(std::string_view text) noexcept;

}  // namespace doorman::statics
