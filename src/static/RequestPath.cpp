#include "doorman/static/RequestPath.hpp"

#include <cstdint>

namespace doorman::statics {
namespace {

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/// Checks one decoded segment; NotFound for anything that must never reach the disk.
bool isServableSegment(std::string_view segment) noexcept {
  // ".", ".." and every dotfile start with '.'; a later option may allow dotfiles
  // (but never "." or "..").
  if (segment.empty() || segment.front() == '.') {
    return false;
  }
  // Backslash is a separator on other systems: a file name with one is never what a
  // client meant, and refusing it keeps the root check simple.
  return segment.find('\\') == std::string_view::npos;
}

}  // namespace

std::string_view RequestPath::lastSegment() const noexcept {
  std::string_view rel = relative;
  size_t slash = rel.rfind('/');
  return slash == std::string_view::npos ? rel : rel.substr(slash + 1);
}

bool isValidUtf8(std::string_view text) noexcept {
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1Fu;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0Fu;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07u;
      min = 0x10000;
    } else {
      return false;  // continuation byte without a lead, or 0xF8..0xFF
    }
    if (text.size() - i <= extra) {
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong (the classic "%c0%ae" = '.'), out of range, surrogate
    }
    i += extra + 1;
  }
  return true;
}

DecodeError percentDecodePath(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) {
        return DecodeError::BadEscape;
      }
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return DecodeError::BadEscape;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (c == '/') {
        return DecodeError::EncodedSlash;
      }
    }
    if (c == '\0') {
      return DecodeError::Nul;
    }
    out.push_back(c);
  }
  return isValidUtf8(out) ? DecodeError::None : DecodeError::BadUtf8;
}

std::optional<std::string_view> pathAfterPrefix(std::string_view target, std::string_view prefix) {
  std::string_view raw = target.substr(0, target.find('?'));
  if (raw.empty() || raw.front() != '/' || raw.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  std::string_view rest = raw.substr(prefix.size());
  if (!prefix.empty() && prefix.back() == '/') {
    return raw.substr(prefix.size() - 1);  // keep the leading '/'
  }
  if (!rest.empty() && rest.front() != '/') {
    return std::nullopt;
  }
  return rest;
}

PathVerdict decodeRelativePath(std::string_view rest, std::string& decoded, std::string& relative,
                               bool& trailingSlash) {
  switch (percentDecodePath(rest, decoded)) {
    case DecodeError::None:
      break;
    case DecodeError::BadEscape:
    case DecodeError::BadUtf8:
      return PathVerdict::BadRequest;
    case DecodeError::EncodedSlash:
    case DecodeError::Nul:
      return PathVerdict::NotFound;
  }
  const size_t start = relative.size();
  std::string_view walk = decoded;
  while (!walk.empty()) {
    size_t slash = walk.find('/');
    std::string_view segment = walk.substr(0, slash);
    walk = slash == std::string_view::npos ? std::string_view() : walk.substr(slash + 1);
    if (segment.empty()) {
      continue;  // "//" collapses, like nginx's merge_slashes
    }
    if (!isServableSegment(segment)) {
      return PathVerdict::NotFound;
    }
    if (relative.size() > start) {
      relative.push_back('/');
    }
    relative.append(segment);
  }
  trailingSlash = !decoded.empty() && decoded.back() == '/';
  return PathVerdict::Ok;
}

PathResult normalizeRequestPath(std::string_view target, std::string_view prefix) {
  PathResult result;
  std::optional<std::string_view> rest = pathAfterPrefix(target, prefix);
  if (!rest) {
    return result;
  }
  std::string decoded;
  RequestPath& path = result.path;
  result.verdict = decodeRelativePath(*rest, decoded, path.relative, path.trailingSlash);
  if (result.verdict != PathVerdict::Ok) {
    path = RequestPath{};
    return result;
  }
  size_t question = target.find('?');
  path.rawPath.assign(target.substr(0, question));
  if (question != std::string_view::npos) {
    path.query.assign(target.substr(question));
  }
  return result;
}

}  // namespace doorman::statics
