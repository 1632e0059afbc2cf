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
  std::memcpy(&out.addr, result->ai_addr, result->ai_addrlen);
  freeaddrinfo(result);
  return {};
}

}  // namespace doorman::upstream
