#include "doorman/http/Serializer.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include "Syntax.hpp"

namespace doorman::http {

namespace {

bool isStaticHopByHop(std::string_view name) noexcept {
  switch (name.size()) {
    case 2:
      return equalsIgnoreCase(name, "TE");
    case 7:
      return equalsIgnoreCase(name, "Trailer") || equalsIgnoreCase(name, "Upgrade");
    case 10:
      return equalsIgnoreCase(name, "Connection") || equalsIgnoreCase(name, "Keep-Alive");
    case 16:
      return equalsIgnoreCase(name, "Proxy-Connection");
    case 17:
      return equalsIgnoreCase(name, "Transfer-Encoding");
    default:
      return false;
  }
}

bool listContains(std::string_view list, std::string_view token) noexcept {
  while (true) {
    const auto comma = list.find(',');
    if (equalsIgnoreCase(syntax::trimOws(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      return false;
    }
    list.remove_prefix(comma + 1);
  }
}

/// The hop-by-hop test for one message, with its Connection fields looked up once
/// instead of once per field.
class HopByHop {
 public:
  explicit HopByHop(const HeaderMap& headers) : headers_(headers) {
    for (const auto& field : headers) {
      if (equalsIgnoreCase(field.name, "Connection")) {
        if (count_ < lists_.size()) {
          lists_[count_] = &field.value;
        }
        ++count_;
      }
    }
  }

  bool operator()(std::string_view name) const {
    if (isStaticHopByHop(name)) {
      return true;
    }
    if (count_ > lists_.size()) {
      return headers_.hasToken("Connection", name);
    }
    for (size_t i = 0; i < count_; ++i) {
      if (listContains(*lists_[i], name)) {
        return true;
      }
    }
    return false;
  }

 private:
  const HeaderMap& headers_;
  std::array<const std::string*, 4> lists_{};
  size_t count_ = 0;
};

/// What doorman writes as a field: a token name and a value without CR, LF or NUL.
/// Fields a parser added were checked more strictly already (HeaderMap::addChecked).
bool isWritable(const HeaderMap& headers, std::string_view name, std::string_view value) noexcept {
  return headers.allChecked() || (syntax::isToken(name) && isSafeHeaderValue(value));
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out += ": ";
  out.append(value);
  out += "\r\n";
}

void appendNumber(std::string& out, uint64_t value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void appendNumber(std::string& out, int64_t value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

/// The request-target as written upstream. The parser only produces visible ASCII
/// and obs-text; anything else (a Request built in code) is percent-encoded so the
/// request line can never be split.
void appendTarget(std::string& out, std::string_view target) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
}

size_t fieldsSize(const HeaderMap& headers) {
  size_t n = 0;
  for (const auto& field : headers) {
    n += field.name.size() + field.value.size() + 4;
  }
  return n;
}

bool methodSendsContentLength(std::string_view method) {
  // RFC 9110 8.6: a user agent SHOULD send Content-Length: 0 for these methods, some
  // frameworks wait for a body without it.
  return method == "POST" || method == "PUT" || method == "PATCH";
}

bool isUpstreamRequestSkipped(std::string_view name) {
  switch (name.size()) {
    case 6:
      return equalsIgnoreCase(name, "Expect");  // doorman already answered 100-continue
    case 12:
      return equalsIgnoreCase(name, "X-Request-ID");
    case 14:
      return equalsIgnoreCase(name, "Content-Length");
    case 15:
      return equalsIgnoreCase(name, "X-Request-Start");
    case 17:
      return equalsIgnoreCase(name, "X-Forwarded-Proto");
    default:
      return false;
  }
}

bool isClientResponseSkipped(std::string_view name) {
  switch (name.size()) {
    case 4:
      return equalsIgnoreCase(name, "Date");
    case 6:
      return equalsIgnoreCase(name, "Server");
    case 14:
      return equalsIgnoreCase(name, "Content-Length");
    default:
      return false;
  }
}

}  // namespace

bool isSafeHeaderValue(std::string_view value) noexcept {
  // Eight bytes at a time: a word has a zero byte exactly when
  // (x - 0x01..01) & ~x & 0x80..80 is non-zero; XOR with CR or LF in every byte turns
  // those bytes into zeros. find_first_of with a three-byte set would cost a memchr per
  // byte of value.
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const auto hasZero = [](uint64_t x) { return ((x - kOnes) & ~x & kHighs) != 0; };
  const char* p = value.data();
  size_t left = value.size();
  for (; left >= 8; p += 8, left -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    if (hasZero(word) || hasZero(word ^ (kOnes * '\r')) || hasZero(word ^ (kOnes * '\n'))) {
      return false;
    }
  }
  for (; left > 0; ++p, --left) {
    if (*p == '\r' || *p == '\n' || *p == '\0') {
      return false;
    }
  }
  return true;
}

bool isHopByHop(std::string_view name, const HeaderMap& headers) {
  return isStaticHopByHop(name) || headers.hasToken("Connection", name);
}

void serializeUpstreamRequestHead(const Request& request, const ForwardInfo& info,
                                  std::string& out) {
  const HopByHop hopByHop(request.headers);
  out.clear();
  out.reserve(request.method.size() + request.target.size() + fieldsSize(request.headers) +
              info.clientAddress.size() + info.proto.size() + info.requestId.size() +
              info.fallbackHost.size() + 192);
  out.append(request.method);
  out += ' ';
  appendTarget(out, request.target);
  out += " HTTP/1.1\r\n";

  bool hasHost = false;
  for (const auto& field : request.headers) {
    if (equalsIgnoreCase(field.name, "Host") &&
        (request.headers.allChecked() || isSafeHeaderValue(field.value))) {
      hasHost = true;
      break;
    }
  }
  if (!hasHost && !info.fallbackHost.empty() && isSafeHeaderValue(info.fallbackHost)) {
    appendField(out, "Host", info.fallbackHost);
  }

  std::string forwardedFor;
  for (const auto& field : request.headers) {
    const std::string_view name = field.name;
    if (!isWritable(request.headers, name, field.value) || isUpstreamRequestSkipped(name)) {
      continue;
    }
    // Host stays even if a client lists it in Connection: the worker needs it.
    if (hopByHop(name) && !equalsIgnoreCase(name, "Host")) {
      continue;
    }
    if (name.size() == 15 && equalsIgnoreCase(name, "X-Forwarded-For")) {
      const auto value = syntax::trimOws(field.value);
      if (!value.empty()) {
        if (!forwardedFor.empty()) {
          forwardedFor += ", ";
        }
        forwardedFor.append(value);
      }
      continue;
    }
    appendField(out, name, field.value);
  }

  if (!info.clientAddress.empty() && isSafeHeaderValue(info.clientAddress)) {
    if (!forwardedFor.empty()) {
      forwardedFor += ", ";
    }
    forwardedFor.append(info.clientAddress);
  }
  if (!forwardedFor.empty()) {
    appendField(out, "X-Forwarded-For", forwardedFor);
  }
  if (!info.proto.empty() && isSafeHeaderValue(info.proto)) {
    appendField(out, "X-Forwarded-Proto", info.proto);
  }
  if (!info.requestId.empty() && isSafeHeaderValue(info.requestId)) {
    appendField(out, "X-Request-ID", info.requestId);
  }
  if (info.requestStartMicros > 0) {
    out += "X-Request-Start: t=";
    appendNumber(out, info.requestStartMicros);
    out += "\r\n";
  }
  const uint64_t bodySize = request.body.size();
  if (bodySize > 0 || methodSendsContentLength(request.method)) {
    out += "Content-Length: ";
    appendNumber(out, bodySize);
    out += "\r\n";
  }
  out += "\r\n";
}

void serializeClientResponseHead(const Response& response, const ClientResponseOptions& options,
                                 std::string& out) {
  const HopByHop hopByHop(response.headers);
  const std::string_view reason = !response.reason.empty() && syntax::isFieldValue(response.reason)
                                      ? std::string_view(response.reason)
                                      : reasonPhrase(response.status);
  out.clear();
  out.reserve(reason.size() + fieldsSize(response.headers) + options.date.size() +
              options.server.size() + 128);
  out += "HTTP/1.1 ";
  appendNumber(out, static_cast<int64_t>(response.status));
  out += ' ';
  out.append(reason);
  out += "\r\n";

  for (const auto& field : response.headers) {
    const std::string_view name = field.name;
    if (!isWritable(response.headers, name, field.value) || isClientResponseSkipped(name) ||
        hopByHop(name)) {
      continue;
    }
    appendField(out, name, field.value);
  }
  if (!options.date.empty() && isSafeHeaderValue(options.date)) {
    appendField(out, "Date", options.date);
  }
  if (!options.server.empty() && isSafeHeaderValue(options.server)) {
    appendField(out, "Server", options.server);
  }

  // RFC 9110 8.6: no Content-Length in 1xx and 204; a 304 would have to repeat the
  // selected representation's, which doorman leaves out. A HEAD response carries the
  // length a GET would have had, if the upstream said it.
  const int status = response.status;
  const bool bodyless = status < 200 || status == 204 || status == 304;
  if (!bodyless) {
    if (options.headRequest) {
      const std::string* length = response.headers.find("Content-Length");
      uint64_t value = 0;
      if (length != nullptr && syntax::parseDecimal(*length, value)) {
        out += "Content-Length: ";
        appendNumber(out, value);
        out += "\r\n";
      }
    } else {
      out += "Content-Length: ";
      appendNumber(out, response.body.size());
      out += "\r\n";
    }
  }
  if (!options.keepAlive) {
    out += "Connection: close\r\n";
  } else if (options.clientHttp10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

Response makeErrorResponse(int status, std::string_view detail) {
  Response response;
  response.status = status;
  response.headers.add("Content-Type", "text/plain; charset=utf-8");
  const std::string_view reason = reasonPhrase(status);
  std::string text;
  text.reserve(reason.size() + detail.size() + 8);
  char code[12];
  const auto res = std::to_chars(code, code + sizeof code, status);
  text.append(code, res.ptr);
  text += ' ';
  text.append(reason);
  text += '\n';
  if (!detail.empty()) {
    text.append(detail);
    text += '\n';
  }
  // No budget: this body is small and must exist even when the budget is exhausted.
  if (!response.body.append(text)) {
    response.body.clear();
  }
  return response;
}

std::string_view reasonPhrase(int status) noexcept {
  // RFC 9110 15 and the IANA registry.
  // clang-format off
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
  }
  // clang-format on
}

}  // namespace doorman::http
