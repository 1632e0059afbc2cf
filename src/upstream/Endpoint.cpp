#include "doorman/upstream/Endpoint.hpp"

#include <netinet/in.h>

#include <cstring>

namespace doorman::upstream {

addrinfo Endpoint::lookupHints() noexcept {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  return hints;
}

std::string Endpoint::resolve(const config::Address& address, Endpoint& out) {
  if (address.kind == config::Address::Kind::Unix) {
    return fromLookup(address, 0, nullptr, out);
  }
  addrinfo hints = lookupHints();
  addrinfo* result = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &result);
  std::string error = fromLookup(address, rc, result, out);
  if (result != nullptr) {
    freeaddrinfo(result);
  }
  return error;
}

std::string Endpoint::fromLookup(const config::Address& address, int rc, const addrinfo* result,
                                 Endpoint& out) {
  out = Endpoint{};
  out.text = address.text;
  if (address.kind == config::Address::Kind::Unix) {
    out.isUnix = true;
    out.path = address.path;
    return {};
  }
  if (rc != 0 || result == nullptr) {
    return std::string("cannot resolve '") + address.host +
           "': " + (rc != 0 ? gai_strerror(rc) : "no address");
  }
  // Prefer IPv4: "localhost" often resolves to ::1 first, while app servers are
  // typically bound to 127.0.0.1.
  const addrinfo* chosen = result;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
  }
  std::memcpy(&out.addr, chosen->ai_addr, chosen->ai_addrlen);
  return {};
}

bool Endpoint::sameAddress(const Endpoint& other) const noexcept {
  if (isUnix != other.isUnix) {
    return false;
  }
  if (isUnix) {
    return path == other.path;
  }
  if (addr.ss_family != other.addr.ss_family) {
    return false;
  }
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    const auto& b = reinterpret_cast<const sockaddr_in&>(other.addr);
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    const auto& b = reinterpret_cast<const sockaddr_in6&>(other.addr);
    return a.sin6_port == b.sin6_port && a.sin6_scope_id == b.sin6_scope_id &&
           std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
  }
  return std::memcmp(&addr, &other.addr, sizeof addr) == 0;
}

}  // namespace doorman::upstream
