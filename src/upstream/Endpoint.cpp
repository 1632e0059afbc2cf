#include "doorman/upstream/Endpoint.hpp"

#include <netdb.h>

#include <cstring>

namespace doorman::upstream {

std::string Endpoint::resolve(const config::Address& address, Endpoint& out) {
  out = Endpoint{};
  out.text = address.text;
  if (address.kind == config::Address::Kind::Unix) {
    out.isUnix = true;
    out.path = address.path;
    return {};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    return std::string("cannot resolve '") + address.host + "': " + gai_strerror(rc);
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
  freeaddrinfo(result);
  return {};
}

}  // namespace doorman::upstream
