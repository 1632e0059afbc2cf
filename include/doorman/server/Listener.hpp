#pragma once
// A listening socket (TCP or unix). Accepts while the server is below
// limits.connections; at the limit it simply does not accept, which makes libuv stop
// polling the socket until accept() is called again (no accept-and-close loop).

#include <string>

#include "doorman/config/Config.hpp"
#include "doorman/uv/Handle.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::server {

class Listener;

class AcceptHandler {
 public:
  /// A connection is waiting. Return false to leave it pending (at the limit).
  virtual bool onConnectionPending(Listener& listener) = 0;

 protected:
  ~AcceptHandler() = default;
};

class Listener {
 public:
  Listener(uv::Loop& loop, const config::Address& address, AcceptHandler& handler);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Binds and listens; empty string on success, else the reason.
  std::string open();
  /// Serves an already bound socket (systemd socket activation); takes ownership of `fd`.
  std::string adopt(int fd);
  /// True when `fd` is a listening socket bound to `address` (same family, IP, port or path).
  static bool isBoundTo(int fd, const config::Address& address);
  /// The socket came from systemd.
  bool inherited() const noexcept { return inherited_; }

  /// Accepts one pending connection into a new stream handle (one of the two is set).
  /// Returns a libuv error code (0 on success).
  int accept(uv::HandlePtr<uv_tcp_t>& tcp, uv::HandlePtr<uv_pipe_t>& pipe, std::string& peer);

  /// Called when the server has room again: accepts what was left pending.
  void resume();

  const config::Address& address() const noexcept { return address_; }
  /// The actual bound address ("127.0.0.1:43123"), useful when the port was 0.
  const std::string& boundName() const noexcept { return boundName_; }

 private:
  void onConnection(int status);
  std::string startListening();
  uv_stream_t* stream() noexcept;

  uv::Loop& loop_;
  config::Address address_;
  AcceptHandler& handler_;
  uv::HandlePtr<uv_tcp_t> tcp_;
  uv::HandlePtr<uv_pipe_t> pipe_;
  std::string boundName_;
  bool pending_ = false;
  bool inherited_ = false;
};

}  // namespace doorman::server
