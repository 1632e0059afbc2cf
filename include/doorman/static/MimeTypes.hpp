#pragma once
// Content-Type by file extension. A small built-in table for now; loading
// /etc/mime.types (or a `types:` config section) is meant to replace the table behind
// the same function later.

#include <string_view>

namespace doorman::statics {

/// The Content-Type for a file name (or path): looks at the text after the last '.' of
/// the last segment, case-insensitively. Text types carry "; charset=utf-8".
/// Unknown or missing extensions give "application/octet-stream".
std::string_view mimeTypeFor(std::string_view fileName) noexcept;

}  // namespace doorman::statics
