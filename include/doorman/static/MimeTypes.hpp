#pragma once
// Content-Type by file extension: /etc/mime.types (Debian's media-types package) read
// once at start, with a built-in table for the common web types as the fallback (a
// system without the file, or an extension it does not list). Text types carry
// "; charset=utf-8" so browsers need not sniff.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace doorman::statics {

class MimeTypes {
 public:
  static constexpr std::string_view kDefaultType = "application/octet-stream";
  static constexpr const char* kSystemFile = "/etc/mime.types";

  /// Only the built-in table.
  MimeTypes();
  /// The built-in table, overridden by the types of a mime.types file ("type ext ext...",
  /// '#' comments). A missing or unreadable file leaves the built-in table alone.
  static MimeTypes fromFile(const std::string& path);
  /// The process-wide table, loaded from kSystemFile on first use (FileServer's
  /// constructor touches it, so the read happens at start, not on a request).
  static const MimeTypes& system();

  /// Reads a mime.types text into this table; entries override earlier ones.
  void parse(std::string_view text);

  /// The Content-Type for a file name (or path): looks at the text after the last '.' of
  /// the last segment, case-insensitively. Unknown or missing extensions give
  /// application/octet-stream. Allocates nothing.
  std::string_view typeFor(std::string_view fileName) const noexcept;

  size_t size() const noexcept { return types_.size(); }

  /// "text/css" -> "text/css; charset=utf-8" for text types (text/*, JSON, JavaScript,
  /// XML and their +json/+xml relatives); other types unchanged.
  static std::string withCharset(std::string_view type);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> types_;
};

/// MimeTypes::system().typeFor(fileName).
std::string_view mimeTypeFor(std::string_view fileName) noexcept;

}  // namespace doorman::statics
