// Formatting one access log line (combined or JSON).
#include <cstdio>
#include <ctime>
#include <string>

#include "doorman/ops/AccessLog.hpp"

namespace doorman::ops {
namespace {

void appendInt(std::string& out, int64_t v) { out += std::to_string(v); }

void appendOrDash(std::string& out, int64_t v) {
  if (v < 0) {
    out += '-';
  } else {
    appendInt(out, v);
  }
}

void appendOrDash(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
  } else {
    out += v;
  }
}

/// Combined-format strings are quoted: a quote, backslash or control byte in a header
/// must not break the line apart (nginx escapes the same way, as \xHH).
void appendEscaped(std::string& out, std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
}

void appendQuoted(std::string& out, std::string_view v) {
  out += '"';
  if (v.empty()) {
    out += '-';
  }
  appendEscaped(out, v);
  out += '"';
}

/// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t utf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
  }
  if ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xF0 && byte(i + 1) < 0x90) ||
      (c == 0xF4 && byte(i + 1) >= 0x90) || (c == 0xED && byte(i + 1) >= 0xA0)) {
    return 0;  // overlong, beyond U+10FFFF, or a surrogate
  }
  return n;
}

void appendJsonString(std::string& out, std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < v.size();) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = c >= 0x80 ? utf8Length(v, i) : 0; n > 0) {
      out.append(v.substr(i, n));
      i += n;
    } else {
      // A control character, or a byte that is not UTF-8: the byte is shown as the code
      // point of the same value, so the line stays valid JSON and it can be recognised.
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
    }
  }
  out += '"';
}

void jsonField(std::string& out, const char* key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  appendJsonString(out, value);
}

void jsonField(std::string& out, const char* key, int64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  if (value < 0) {
    out += "null";
  } else {
    appendInt(out, value);
  }
}

std::string clfTime(int64_t unixMicros) {
  time_t seconds = static_cast<time_t>(unixMicros / 1000000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S +0000", &parts);
  return std::string(buf, n);
}

std::string isoTime(int64_t unixMicros) {
  time_t seconds = static_cast<time_t>(unixMicros / 1000000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &parts);
  std::string out(buf, n);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06dZ", static_cast<int>(unixMicros % 1000000));
  return out + frac;
}

}  // namespace

bool parseAccessLogFormat(std::string_view text, AccessLogFormat& out) {
  if (text == "combined") {
    out = AccessLogFormat::Combined;
    return true;
  }
  if (text == "json") {
    out = AccessLogFormat::Json;
    return true;
  }
  return false;
}

std::string formatCombined(const RequestRecord& r) {
  std::string out;
  out.reserve(256 + r.target.size() + r.userAgent.size());
  appendOrDash(out, r.client);
  out += " - - [";
  out += clfTime(r.startUnixMicros);
  out += "] \"";
  if (r.method.empty()) {
    out += '-';  // the request line was never understood
  } else {
    appendEscaped(out, r.method);
    out += ' ';
    appendEscaped(out, r.target);
    out += r.versionMinor == 0 ? " HTTP/1.0" : " HTTP/1.1";
  }
  out += "\" ";
  appendInt(out, r.status);
  out += ' ';
  if (r.bodyOut == 0) {
    out += '-';
  } else {
    appendInt(out, static_cast<int64_t>(r.bodyOut));
  }
  out += ' ';
  appendQuoted(out, r.referer);
  out += ' ';
  appendQuoted(out, r.userAgent);
  out += " rid=";
  appendOrDash(out, r.requestId);
  out += " in=";
  appendInt(out, static_cast<int64_t>(r.bytesIn));
  out += " out=";
  appendInt(out, static_cast<int64_t>(r.bytesOut));
  out += " route=";
  appendOrDash(out, r.route);
  out += " upstream=";
  appendOrDash(out, r.upstream);
  out += " server=";
  appendOrDash(out, r.server);
  out += " tries=";
  appendInt(out, r.tries);
  out += " receive_us=";
  appendOrDash(out, r.receiveUs);
  out += " queue_us=";
  appendOrDash(out, r.queueUs);
  out += " upstream_us=";
  appendOrDash(out, r.upstreamUs);
  out += " send_us=";
  appendOrDash(out, r.sendUs);
  out += " total_us=";
  appendOrDash(out, r.totalUs);
  return out;
}

std::string formatJson(const RequestRecord& r) {
  std::string out;
  out.reserve(384 + r.target.size() + r.userAgent.size());
  out += "{\"time\":";
  appendJsonString(out, isoTime(r.startUnixMicros));
  jsonField(out, "client", r.client);
  jsonField(out, "method", r.method);
  jsonField(out, "target", r.target);
  jsonField(out, "protocol", r.versionMinor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  jsonField(out, "status", static_cast<int64_t>(r.status));
  jsonField(out, "bytes_in", static_cast<int64_t>(r.bytesIn));
  jsonField(out, "bytes_out", static_cast<int64_t>(r.bytesOut));
  jsonField(out, "body_bytes_out", static_cast<int64_t>(r.bodyOut));
  jsonField(out, "request_id", r.requestId);
  jsonField(out, "referer", r.referer);
  jsonField(out, "user_agent", r.userAgent);
  jsonField(out, "route", r.route);
  jsonField(out, "upstream", r.upstream);
  jsonField(out, "server", r.server);
  jsonField(out, "tries", static_cast<int64_t>(r.tries));
  jsonField(out, "receive_us", r.receiveUs);
  jsonField(out, "queue_us", r.queueUs);
  jsonField(out, "upstream_us", r.upstreamUs);
  jsonField(out, "send_us", r.sendUs);
  jsonField(out, "total_us", r.totalUs);
  out += '}';
  return out;
}

}  // namespace doorman::ops
