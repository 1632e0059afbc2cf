#include "doorman/static/MimeTypes.hpp"

#include <array>
#include <cstddef>
#include <fstream>
#include <sstream>

namespace doorman::statics {
namespace {

struct MimeEntry {
  std::string_view extension;  ///< lower case, without the dot
  std::string_view type;       ///< without charset (added by withCharset)
};

// The fallback: what a web server must get right even without /etc/mime.types.
constexpr std::array<MimeEntry, 26> kBuiltIn{{
    {"html", "text/html"},
    {"htm", "text/html"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"mjs", "text/javascript"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"txt", "text/plain"},
    {"xml", "application/xml"},
    {"pdf", "application/pdf"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wasm", "application/wasm"},
    {"map", "application/json"},
    {"csv", "text/csv"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"gz", "application/gzip"},
}};

constexpr size_t kMaxExtension = 32;

bool endsWith(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool isSpace(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

std::string MimeTypes::withCharset(std::string_view type) {
  bool text = type.substr(0, 5) == "text/" || type == "application/json" ||
              type == "application/javascript" || type == "application/xml" ||
              endsWith(type, "+xml") || endsWith(type, "+json");
  std::string out(type);
  if (text) {
    out.append("; charset=utf-8");
  }
  return out;
}

MimeTypes::MimeTypes() {
  for (const auto& entry : kBuiltIn) {
    types_.emplace(std::string(entry.extension), withCharset(entry.type));
  }
}

MimeTypes MimeTypes::fromFile(const std::string& path) {
  MimeTypes table;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return table;
  }
  std::ostringstream text;
  text << in.rdbuf();
  table.parse(text.str());
  return table;
}

const MimeTypes& MimeTypes::system() {
  static const MimeTypes table = fromFile(kSystemFile);
  return table;
}

void MimeTypes::parse(std::string_view text) {
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    line = line.substr(0, line.find('#'));
    std::string type;
    while (!line.empty()) {
      while (!line.empty() && isSpace(line.front())) {
        line.remove_prefix(1);
      }
      size_t end = 0;
      while (end < line.size() && !isSpace(line[end])) {
        ++end;
      }
      std::string_view word = line.substr(0, end);
      line.remove_prefix(end);
      if (word.empty()) {
        break;
      }
      if (type.empty()) {
        if (word.find('/') == std::string_view::npos) {
          break;  // not "type/subtype": skip the line
        }
        type = withCharset(word);
        continue;
      }
      if (word.size() > kMaxExtension) {
        continue;
      }
      std::string ext;
      for (char c : word) {
        ext.push_back(lower(c));
      }
      types_[ext] = type;
    }
  }
}

std::string_view MimeTypes::typeFor(std::string_view fileName) const noexcept {
  size_t slash = fileName.rfind('/');
  if (slash != std::string_view::npos) {
    fileName.remove_prefix(slash + 1);
  }
  size_t dot = fileName.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == fileName.size() ||
      fileName.size() - dot - 1 > kMaxExtension) {
    return kDefaultType;
  }
  std::string_view extension = fileName.substr(dot + 1);
  std::array<char, kMaxExtension> buf{};
  for (size_t i = 0; i < extension.size(); ++i) {
    buf[i] = lower(extension[i]);
  }
  auto found = types_.find(std::string_view(buf.data(), extension.size()));
  return found == types_.end() ? kDefaultType : std::string_view(found->second);
}

std::string_view mimeTypeFor(std::string_view fileName) noexcept {
  return MimeTypes::system().typeFor(fileName);
}

}  // namespace doorman::statics
