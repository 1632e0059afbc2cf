#pragma once
// Character classes and small parsers of RFC 9110 / 9112 syntax, shared by the http
// module's parsers and serializer. Private to src/http.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace doorman::http::syntax {

/// tchar (RFC 9110 5.6.2): the characters of a token (method, field name).
constexpr bool isTcharByRule(unsigned char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

/// field-value byte (RFC 9110 5.5): VCHAR, obs-text, SP, HTAB.
constexpr bool isFieldValueByteByRule(unsigned char c) noexcept {
  return (c >= 0x20 || c == '\t') && c != 0x7f;
}

/// The classes above as one table: every message's names and values go through them,
/// one load per byte instead of a chain of comparisons.
struct CharClasses {
  static constexpr uint8_t kTchar = 1;
  static constexpr uint8_t kFieldValue = 2;
  uint8_t bits[256] = {};
  constexpr CharClasses() {
    for (unsigned c = 0; c < 256; ++c) {
      const auto b = static_cast<unsigned char>(c);
      bits[c] = static_cast<uint8_t>((isTcharByRule(b) ? kTchar : 0) |
                                     (isFieldValueByteByRule(b) ? kFieldValue : 0));
    }
  }
};
inline constexpr CharClasses kCharClasses{};

constexpr bool isTchar(unsigned char c) noexcept {
  return (kCharClasses.bits[c] & CharClasses::kTchar) != 0;
}

constexpr bool isToken(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!isTchar(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

constexpr bool isOws(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && isOws(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && isOws(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

/// Reduces `s` to `part`, a view into `s` (trimOws of it), in place: what a parser's
/// accumulator holds then moves into a header field without a copy.
inline void keepOnly(std::string& s, std::string_view part) {
  if (part.size() != s.size()) {
    const auto from = static_cast<size_t>(part.data() - s.data());
    s.erase(from + part.size());
    s.erase(0, from);
  }
}

/// field-value characters (RFC 9110 5.5): VCHAR, obs-text, SP, HTAB. Everything else
/// (NUL, CR, LF, other controls, DEL) makes the value invalid.
constexpr bool isFieldValue(std::string_view s) noexcept {
  for (char ch : s) {
    if ((kCharClasses.bits[static_cast<unsigned char>(ch)] & CharClasses::kFieldValue) == 0) {
      return false;
    }
  }
  return true;
}

/// Content-Length = 1*DIGIT (RFC 9110 8.6): no sign, no spaces, no list, no overflow.
constexpr bool parseDecimal(std::string_view s, uint64_t& out) noexcept {
  if (s.empty()) {
    return false;
  }
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

/// The characters of a Host value / URI authority (RFC 3986 3.2): unreserved,
/// pct-encoded, sub-delims, ':' and the brackets of an IP literal. No '/', '?', '#',
/// '@' (userinfo is refused), whitespace or controls.
constexpr bool isAuthority(std::string_view s) noexcept {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '!' ||
                    c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
                    c == '+' || c == ',' || c == ';' || c == '=' || c == ':' || c == '[' ||
                    c == ']';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/// The framing of a chunked body (chunk-size lines, the CRLF after chunk data, trailer
/// lines, the final CRLF), checked beside llhttp 8.1, which is lenient in three places:
/// it ends a chunked message at a bare LF ("0\r\n\n"), it skips the two bytes after
/// a chunk's data without looking at them ("5\r\nhelloXY0\r\n\r\n" completes), and it
/// takes CR followed by any byte as the end of a chunk-size line ("000\r0\r\n\r\n") - two
/// parsers could then disagree about where the body ends. The parsers pass every body
/// byte llhttp consumed, except chunk data, through here. `prev` is the framing byte
/// before `data` (0 after chunk data and at the start of a body); `crlfDue` counts the
/// bytes of the CRLF still owed after the end of a chunk's data (set to 2 there).
/// False at the first violation.
constexpr bool chunkedFramingOk(const char* data, size_t len, char& prev, int& crlfDue) noexcept {
  for (size_t i = 0; i < len; ++i) {
    const char c = data[i];
    if ((crlfDue == 2 && c != '\r') || (crlfDue == 1 && c != '\n')) {
      return false;
    }
    if (crlfDue > 0) {
      --crlfDue;
    }
    if ((c == '\n' && prev != '\r') || (prev == '\r' && c != '\n')) {
      return false;
    }
    // No framing line starts with whitespace: in the trailer section that is obs-fold,
    // which llhttp joins to the previous line (found by fuzz_chunked).
    if (prev == '\n' && (c == ' ' || c == '\t')) {
      return false;
    }
    prev = c;
  }
  return true;
}

/// At a chunk-extension value's end (`end`: just past its last span, which llhttp reports
/// at the delimiter, within the buffer that ends at `bufferEnd`; `first`: the value's
/// first byte): true when the value was unquoted and ended at ';'. llhttp 8.1 then takes
/// a second ';' before the next name, or the line end, neither of which RFC 9112 7.1.1
/// allows (and it refuses the valid "a=b;c"; after a quoted value it reads ';' right).
constexpr bool unquotedValueEndsWithSemicolon(const char* end, const char* bufferEnd,
                                              char first) noexcept {
  return first != '"' && end != nullptr && end < bufferEnd && *end == ';';
}

/// chunkedFramingOk up to the end of the next chunk-size line (its LF, not one owed after
/// chunk data), for llhttp's chunk-header callback, which does not say where it is:
/// llhttp ends that line at its first LF or at CR plus any byte, so every byte checked
/// here was consumed. `len` is what is available and becomes the bytes checked.
constexpr bool chunkSizeLineFramingOk(const char* data, size_t& len, char& prev,
                                      int& crlfDue) noexcept {
  for (size_t i = 0; i < len; ++i) {
    const bool lineEnd = data[i] == '\n' && crlfDue == 0;
    if (!chunkedFramingOk(data + i, 1, prev, crlfDue)) {
      return false;
    }
    if (lineEnd) {
      len = i + 1;
      return true;
    }
  }
  return true;
}

}  // namespace doorman::http::syntax
