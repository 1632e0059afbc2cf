#pragma once
// A resolved upstream server address.

#include <netdb.h>
#include <sys/socket.h>

#include <string>

#include "doorman/config/Config.hpp"

namespace doorman::upstream {

struct Endpoint {
  bool isUnix = false;
  sockaddr_storage addr{};  ///< TCP
  std::string path;         ///< unix socket path
  std::string text;         ///< as configured, for logs

  /// Resolves a configured address with a blocking getaddrinfo: only for the
  /// configuration doorman starts with, before the loop runs (a reload resolves on the
  /// thread pool, see ServerResolver). Empty string on success, else the reason.
  static std::string resolve(const config::Address& address, Endpoint& out);

  /// The endpoint of a unix address, or of a TCP address from getaddrinfo's answer
  /// (`rc` its return code): empty string on success, else the reason.
  static std::string fromLookup(const config::Address& address, int rc, const addrinfo* result,
                                Endpoint& out);

  /// The hints every lookup of a server name uses.
  static addrinfo lookupHints() noexcept;

  /// Same place to connect to (the text as written may differ).
  bool sameAddress(const Endpoint& other) const noexcept;
};

}  // namespace doorman::upstream
