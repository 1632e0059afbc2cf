// Listen and upstream addresses: "host:port", "[v6]:port", "*:port", "unix:/abs/path".

#include <arpa/inet.h>
#include <sys/un.h>

#include <algorithm>
#include <string_view>

#include "doorman/config/Loader.hpp"

namespace doorman::config {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool looksNumeric(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) { return isDigit(c) || c == '.'; });
}

bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '.' ||
         c == '_';
}

/// Empty when `text` is a port 0..65535 (0: any free port, for tests).
std::string parsePort(std::string_view text, uint16_t& port) {
  if (text.empty()) return "missing port after ':'";
  if (text.size() > 5 || !std::all_of(text.begin(), text.end(), isDigit)) {
    return "port must be a number from 0 to 65535";
  }
  unsigned value = 0;
  for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > 65535) return "port must be a number from 0 to 65535";
  port = static_cast<uint16_t>(value);
  return {};
}

std::string parseUnix(std::string_view path, Address& out) {
  if (path.empty() || path.front() != '/') return "a unix socket path must be absolute";
  // sun_path holds the path and its terminating NUL.
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return "a unix socket path must be shorter than " +
           std::to_string(sizeof(sockaddr_un::sun_path)) + " bytes";
  }
  if (path.find('\0') != std::string_view::npos) return "a unix socket path cannot contain NUL";
  out.kind = Address::Kind::Unix;
  out.path = std::string(path);
  return {};
}

std::string parseBracketed(std::string_view text, Address& out) {
  const size_t close = text.find(']');
  if (close == std::string_view::npos) return "missing ']' after an IPv6 address";
  const std::string host(text.substr(1, close - 1));
  const std::string_view rest = text.substr(close + 1);
  if (rest.empty() || rest.front() != ':') return "missing ':port' after ']'";
  // A zone ("fe80::1%eth0") is for the resolver; only the address part must be valid.
  const std::string literal = host.substr(0, host.find('%'));
  in6_addr scratch{};
  if (inet_pton(AF_INET6, literal.c_str(), &scratch) != 1) {
    return "'" + host + "' is not an IPv6 address";
  }
  std::string reason = parsePort(rest.substr(1), out.port);
  if (!reason.empty()) return reason;
  out.kind = Address::Kind::Tcp;
  out.host = host;
  return {};
}

std::string parseHostPort(std::string_view text, Address& out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return "missing ':port'";
  std::string host(text.substr(0, colon));
  if (host.empty()) return "missing host (use *:port for all interfaces)";
  if (host.find(':') != std::string::npos) return "an IPv6 address needs brackets, as in [::1]:80";
  if (host == "*") {
    host = "0.0.0.0";
  } else if (looksNumeric(host)) {
    in_addr scratch{};
    if (inet_pton(AF_INET, host.c_str(), &scratch) != 1) {
      return "'" + host + "' is not an IPv4 address";
    }
  } else if (!std::all_of(host.begin(), host.end(), isHostNameChar)) {
    return "'" + host + "' is not a host name";
  }
  std::string reason = parsePort(text.substr(colon + 1), out.port);
  if (!reason.empty()) return reason;
  out.kind = Address::Kind::Tcp;
  out.host = std::move(host);
  return {};
}

}  // namespace

std::string parseAddress(const std::string& text, Address& out) {
  static constexpr std::string_view kUnixScheme = "unix:";
  Address parsed;
  std::string reason;
  const std::string_view view = text;
  if (view.empty()) {
    reason = "empty address";
  } else if (view.substr(0, kUnixScheme.size()) == kUnixScheme) {
    reason = parseUnix(view.substr(kUnixScheme.size()), parsed);
  } else if (view.front() == '[') {
    reason = parseBracketed(view, parsed);
  } else {
    reason = parseHostPort(view, parsed);
  }
  if (!reason.empty()) return reason;
  parsed.text = text;
  out = std::move(parsed);
  return {};
}

}  // namespace doorman::config
