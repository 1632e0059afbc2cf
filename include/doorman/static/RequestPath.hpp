#pragma once
// From a request target to a path under a static root, with no way out of the root.
//
// The target's path (before '?') has the route prefix stripped *as written* (the router
// matched the undecoded target), then is percent-decoded exactly once and checked:
//   - invalid escapes ("%zz", "%4") and invalid UTF-8 (overlong "%c0%ae", surrogates,
//     stray continuation bytes) are a malformed request: 400;
//   - NUL, an encoded slash (%2F), a backslash, "." / ".." segments and dotfiles
//     (segments starting with '.') can never name a servable file: 404.
// Decoding once matters: "%252e%252e" becomes "%2e%2e", a harmless file name, never "..".

#include <optional>
#include <string>
#include <string_view>

namespace doorman::statics {

enum class PathVerdict {
  Ok,
  BadRequest,  ///< 400: malformed escapes or UTF-8
  NotFound,    ///< 404: cannot name a file under the root (or the prefix does not match)
};

enum class DecodeError { None, BadEscape, EncodedSlash, Nul, BadUtf8 };

struct RequestPath {
  std::string rawPath;         ///< the target up to '?', undecoded (for a redirect's Location)
  std::string query;           ///< from '?' on (with the '?'), or empty
  std::string relative;        ///< decoded segments joined by '/', no leading '/'; "" = the root
  bool trailingSlash = false;  ///< the decoded path named a directory ("/", "/a/")

  /// The last segment of `relative` ("" for the root).
  std::string_view lastSegment() const noexcept;
};

struct PathResult {
  PathVerdict verdict = PathVerdict::NotFound;
  RequestPath path;  ///< meaningful when verdict == Ok
};

/// Percent-decodes `in` once into `out` (RFC 3986 2.1). Rejects what a file path may
/// never contain (NUL, an encoded '/') and checks that the result is valid UTF-8.
DecodeError percentDecodePath(std::string_view in, std::string& out);

/// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view text) noexcept;

/// The part of `target`'s path (before '?') that the route `prefix` leaves, keeping its
/// leading '/'; nullopt when the prefix does not own the path (see normalizeRequestPath).
std::optional<std::string_view> pathAfterPrefix(std::string_view target, std::string_view prefix);

/// Decodes `rest` (from pathAfterPrefix) into `decoded` and appends its normalised
/// relative path to `relative` (segments joined by '/'); both are scratch buffers a caller
/// may reuse, so a warm call allocates nothing. `trailingSlash` as in RequestPath.
PathVerdict decodeRelativePath(std::string_view rest, std::string& decoded, std::string& relative,
                               bool& trailingSlash);

/// `target` is the request target (origin-form), `prefix` the route prefix. A prefix
/// ending in '/' is stripped but the path keeps its leading '/' ("/static/" on
/// "/static/a.css" gives "/a.css"); without a trailing '/' the rest must be empty or
/// start with '/' ("/static" does not own "/staticx").
PathResult normalizeRequestPath(std::string_view target, std::string_view prefix);

}  // namespace doorman::statics
