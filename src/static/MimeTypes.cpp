#include "doorman/static/MimeTypes.hpp"

#include <array>
#include <cstddef>

namespace doorman::statics {
namespace {

struct MimeEntry {
  std::string_view extension;  ///< lower case, without the dot
  std::string_view type;
};

constexpr std::string_view kDefaultType = "application/octet-stream";

// Sorted by nothing in particular: the table is short enough that a linear scan costs
// less than hashing. Text types name their charset so browsers need not sniff.
constexpr std::array<MimeEntry, 23> kTable{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"pdf", "application/pdf"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wasm", "application/wasm"},
    {"map", "application/json; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
}};

bool equalsLower(std::string_view text, std::string_view lower) noexcept {
  if (text.size() != lower.size()) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != lower[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view mimeTypeFor(std::string_view fileName) noexcept {
  size_t slash = fileName.rfind('/');
  if (slash != std::string_view::npos) {
    fileName.remove_prefix(slash + 1);
  }
  size_t dot = fileName.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == fileName.size()) {
    return kDefaultType;
  }
  std::string_view extension = fileName.substr(dot + 1);
  for (const auto& entry : kTable) {
    if (equalsLower(extension, entry.extension)) {
      return entry.type;
    }
  }
  return kDefaultType;
}

}  // namespace doorman::statics
