#pragma once
// A resolved upstream server address.

#include <sys/socket.h>

#include <string>

#include "doorman/config/Config.hpp"

namespace doorman::upstream {

struct Endpoint {
  bool isUnix = false;
  sockaddr_storage addr{};  ///< TCP
  std::string path;         ///< unix socket path
  std::string text;         ///< as configured, for logs

  /// Resolves a configured address (getaddrinfo for host names; called at load time).
  /// Empty string on success, else the reason.
  static std::string resolve(const config::Address& address, Endpoint& out);
};

}  // namespace doorman::upstream
