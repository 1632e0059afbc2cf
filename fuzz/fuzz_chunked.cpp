// The chunked decoder (llhttp's, behind RequestParser and ResponseParser), checked
// against a small reference decoder written from RFC 9112 7.1.
//
// Input: one mode byte (read size, request or response side), then the bytes that
// follow a "Transfer-Encoding: chunked" head. Properties:
//   - whatever doorman accepts as a complete chunked body is valid RFC 9112 chunked
//     coding, ends where the reference says it ends, and de-chunks to the same bytes
//     (two parsers reading one stream the same way is what stops smuggling);
//   - chunk sizes that overflow, "0x" prefixes, a missing CRLF after chunk data and
//     other malformations are never accepted (the reference rejects them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "FuzzSupport.hpp"
#include "doorman/http/RequestParser.hpp"
#include "doorman/http/ResponseParser.hpp"

namespace {

using doorman::http::RequestLimits;
using doorman::http::RequestParser;
using doorman::http::ResponseLimits;
using doorman::http::ResponseParser;
namespace fz = doorman::fuzz;

constexpr uint64_t kBodyLimit = 1 << 20;

bool isTchar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
}

int hexDigit(char c) {
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

struct Decoded {
  std::string body;
  size_t length = 0;  ///< bytes of the input the chunked coding used
};

/// The reference: RFC 9112 7.1 with 7.1.1's chunk-ext (BWS allowed around ';' and '='),
/// 7.1.2's trailer section (field lines: token ":" OWS field-value OWS), sizes within
/// 64 bits. nullopt for anything invalid or incomplete.
class Reference {
 public:
  explicit Reference(std::string_view in) : in_(in) {}

  std::optional<Decoded> decode() {
    Decoded out;
    while (true) {
      uint64_t size = 0;
      if (!chunkSize(size) || !chunkExtensions() || !crlf()) {
        return std::nullopt;
      }
      if (size == 0) {
        break;
      }
      if (size > kBodyLimit || in_.size() - pos_ < size) {
        return std::nullopt;
      }
      out.body.append(in_.substr(pos_, size));
      pos_ += size;
      if (!crlf()) {
        return std::nullopt;
      }
    }
    while (!crlf()) {  // trailer section, then the final CRLF
      if (!fieldLine() || !crlf()) {
        return std::nullopt;
      }
    }
    out.length = pos_;
    return out;
  }

 private:
  bool chunkSize(uint64_t& size) {
    const size_t start = pos_;
    while (pos_ < in_.size() && hexDigit(in_[pos_]) >= 0) {
      if (size >> 60 != 0) {
        return false;  // would overflow 64 bits
      }
      size = size * 16 + static_cast<uint64_t>(hexDigit(in_[pos_]));
      ++pos_;
    }
    return pos_ > start;
  }

  void bws() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool token() {
    const size_t start = pos_;
    while (pos_ < in_.size() && isTchar(in_[pos_])) {
      ++pos_;
    }
    return pos_ > start;
  }

  bool quotedString() {
    if (pos_ >= in_.size() || in_[pos_] != '"') {
      return false;
    }
    ++pos_;
    while (pos_ < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= in_.size()) {
          return false;
        }
        const auto next = static_cast<unsigned char>(in_[pos_ + 1]);
        if (next != '\t' && (next < 0x20 || next == 0x7f)) {
          return false;
        }
        pos_ += 2;
        continue;
      }
      if (c != '\t' && (c < 0x20 || c == 0x7f)) {
        return false;
      }
      ++pos_;
    }
    return false;
  }

  bool chunkExtensions() {
    while (true) {
      const size_t save = pos_;
      bws();
      if (pos_ >= in_.size() || in_[pos_] != ';') {
        pos_ = save;
        return true;
      }
      ++pos_;
      bws();
      if (!token()) {
        return false;
      }
      const size_t afterName = pos_;
      bws();
      if (pos_ < in_.size() && in_[pos_] == '=') {
        ++pos_;
        bws();
        if (!token() && !quotedString()) {
          return false;
        }
      } else {
        pos_ = afterName;
      }
    }
  }

  bool crlf() {
    if (in_.substr(pos_, 2) == "\r\n") {
      pos_ += 2;
      return true;
    }
    return false;
  }

  bool fieldLine() {
    if (!token() || pos_ >= in_.size() || in_[pos_] != ':') {
      return false;
    }
    ++pos_;
    while (pos_ < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '\r') {
        return true;
      }
      if (c != '\t' && (c < 0x20 || c == 0x7f)) {
        return false;
      }
      ++pos_;
    }
    return false;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

/// The body doorman de-chunked and where its message ended, or nullopt when it did not
/// complete a message from these bytes.
std::optional<Decoded> viaRequestParser(std::string_view chunked, size_t piece) {
  const std::string head = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string input = head + std::string(chunked);
  RequestLimits limits;
  limits.bodyBytes = kBodyLimit;
  RequestParser parser(limits);
  size_t offset = 0;
  while (true) {
    const size_t end = piece == 0 ? input.size() : std::min(input.size(), offset + piece);
    std::string_view bytes = std::string_view(input).substr(offset, end - offset);
    const auto r = parser.feed(bytes);
    offset += r.consumed;
    switch (r.event) {
      case RequestParser::Event::Error:
        return std::nullopt;
      case RequestParser::Event::MessageComplete:
        return Decoded{parser.takeRequest().body.toString(), offset - head.size()};
      case RequestParser::Event::HeadComplete:
        continue;
      case RequestParser::Event::NeedMore:
        if (offset >= input.size()) {
          return std::nullopt;
        }
        continue;
    }
  }
}

std::optional<Decoded> viaResponseParser(std::string_view chunked, size_t piece) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string input = head + std::string(chunked);
  ResponseParser parser(ResponseLimits{64 * 1024, 100, kBodyLimit});
  parser.start(false);
  size_t offset = 0;
  while (true) {
    const size_t end = piece == 0 ? input.size() : std::min(input.size(), offset + piece);
    const auto r = parser.feed(std::string_view(input).substr(offset, end - offset));
    offset += r.consumed;
    switch (r.event) {
      case ResponseParser::Event::Error:
        return std::nullopt;
      case ResponseParser::Event::MessageComplete:
        return Decoded{parser.takeResponse().body.toString(), offset - head.size()};
      case ResponseParser::Event::NeedMore:
        if (offset >= input.size()) {
          return std::nullopt;
        }
        continue;
    }
  }
}

void compare(const std::optional<Decoded>& ours, const std::optional<Decoded>& reference,
             std::string_view input, const char* side) {
  if (!ours) {
    return;  // stricter than the RFC is allowed (llhttp refuses some odd extensions)
  }
  fz::check(reference.has_value(), side, input);
  fz::check(ours->length == reference->length, "chunked body ends elsewhere than the RFC says",
            input);
  fz::check(ours->body == reference->body, "de-chunked body differs from the reference", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::FuzzInput in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view chunked = in.rest();
  const size_t piece = mode & 0x0f;
  const auto reference = Reference(chunked).decode();
  if ((mode & 0x40) == 0) {
    compare(viaRequestParser(chunked, piece), reference, chunked,
            "the request parser accepted chunked coding the RFC does not allow");
  } else {
    compare(viaResponseParser(chunked, piece), reference, chunked,
            "the response parser accepted chunked coding the RFC does not allow");
  }
  return 0;
}
