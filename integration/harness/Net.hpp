#pragma once
// Loopback addresses and connections. An address is written the way doorman's config
// writes it: "127.0.0.1:PORT" or "unix:/path".

#include <cstdint>
#include <string>

#include "harness/Wait.hpp"

namespace doorman::it {

/// A TCP port that was free a moment ago (bind 127.0.0.1:0, read it back, close).
uint16_t freeTcpPort();

/// "127.0.0.1:PORT".
std::string loopback(uint16_t port);

/// Options applied to a client socket before connect().
struct SocketOptions {
  int receiveBuffer = 0;  ///< SO_RCVBUF in bytes (0: kernel default); for slow readers
};

/// A connected, blocking socket, or -1 when it could not connect before the deadline
/// (refused connections are retried until then only when `retry` is true).
int connectTo(const std::string& address, Deadline deadline, bool retry = false,
              SocketOptions options = {});

/// True once `address` accepts a connection (which is closed again at once).
bool waitForConnect(const std::string& address, milliseconds timeout);

}  // namespace doorman::it
