// Static path resolution: request target + route prefix -> path under the root.
//
// Input: the route prefix, a newline, the request target. Properties: no crash; an Ok
// result names only plain segments (no "", ".", "..", dotfiles, NUL, '/' inside a
// segment, backslash), is valid UTF-8 and does not start with '/'; it is what decoding
// the target once gives (decoding is never applied twice); the query is kept as is.

#include <cstdint>
#include <string>
#include <string_view>

#include "FuzzSupport.hpp"
#include "doorman/static/RequestPath.hpp"

namespace fz = doorman::fuzz;
namespace st = doorman::statics;

namespace {

void checkSegments(std::string_view relative) {
  fz::check(st::isValidUtf8(relative), "resolved path is not UTF-8", relative);
  fz::check(relative.find('\0') == std::string_view::npos, "NUL in resolved path", relative);
  fz::check(relative.find('\\') == std::string_view::npos, "backslash in resolved path", relative);
  if (relative.empty()) {
    return;
  }
  std::string_view walk = relative;
  while (true) {
    const size_t slash = walk.find('/');
    const std::string_view segment = walk.substr(0, slash);
    fz::check(!segment.empty(), "empty segment in resolved path", relative);
    fz::check(segment.front() != '.', "dot segment or dotfile in resolved path", relative);
    if (slash == std::string_view::npos) {
      break;
    }
    walk.remove_prefix(slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::FuzzInput in(data, size);
  const std::string prefix(in.until('\n'));
  const std::string target(in.rest());
  const auto result = st::normalizeRequestPath(target, prefix);
  if (result.verdict != st::PathVerdict::Ok) {
    return 0;
  }
  const auto& path = result.path;
  checkSegments(path.relative);
  fz::check(target.rfind(path.rawPath, 0) == 0, "rawPath is not the start of the target", target);
  fz::check(target.substr(path.rawPath.size()) == path.query, "query is not the rest", target);
  fz::check(path.rawPath.rfind(prefix, 0) == 0, "resolved a path outside the prefix", target);
  // Decoding once more is what the resolver must never do; here it is only a check that
  // the result is exactly one decoding of the part after the prefix.
  std::string decoded;
  const std::string_view afterPrefix =
      std::string_view(path.rawPath)
          .substr(!prefix.empty() && prefix.back() == '/' ? prefix.size() - 1 : prefix.size());
  fz::check(st::percentDecodePath(afterPrefix, decoded) == st::DecodeError::None,
            "accepted a path that does not decode", target);
  std::string collapsed;
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i] == '/' && (collapsed.empty() || collapsed.back() == '/')) {
      continue;
    }
    collapsed.push_back(decoded[i]);
  }
  if (!collapsed.empty() && collapsed.back() == '/') {
    collapsed.pop_back();
  }
  fz::check(collapsed == path.relative, "resolved path is not the decoded target", target);
  fz::check(path.trailingSlash == (!decoded.empty() && decoded.back() == '/'),
            "trailing slash flag", target);
  return 0;
}
