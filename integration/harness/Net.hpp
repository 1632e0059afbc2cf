#pragma once
// Loopback addresses and connections. An address is written the way doorman's config
// writes it: "127.0.0.1:PORT" or "unix:/path".

#include <cstdint>
#include <string>
#include <vector>

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

/// A loopback TCP listener that never accepts and whose accept queue is full: it listens
/// with a backlog of 0 (room for one connection) and fills it with a connection of its
/// own. Linux then drops every further SYN, so a connect to it neither succeeds nor
/// fails: it hangs (SYN retransmits) until the connecting side gives up. The way to make
/// an upstream connect time out on loopback. Throws std::runtime_error when it cannot
/// set itself up.
class UnacceptingListener {
 public:
  UnacceptingListener();
  ~UnacceptingListener();
  UnacceptingListener(const UnacceptingListener&) = delete;
  UnacceptingListener& operator=(const UnacceptingListener&) = delete;

  /// "127.0.0.1:PORT"
  std::string address() const { return loopback(port_); }
  /// A fresh connect to it is still pending after `wait` (the trick works here). The
  /// attempt stays open, in the queue of SYNs the kernel keeps dropping.
  bool connectHangs(milliseconds wait);

 private:
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> clients_;
};

}  // namespace doorman::it
