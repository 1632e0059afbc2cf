#include "harness/Net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace doorman::it {
namespace {

struct ResolvedAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

ResolvedAddress resolve(const std::string& address) {
  ResolvedAddress out;
  if (address.rfind("unix:", 0) == 0) {
    auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
    std::string path = address.substr(5);
    if (path.size() >= sizeof(un->sun_path)) throw std::runtime_error("unix path too long");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
    out.length = sizeof(sockaddr_un);
    out.family = AF_UNIX;
    return out;
  }
  auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("bad address: " + address);
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (::inet_pton(AF_INET, address.substr(0, colon).c_str(), &in->sin_addr) != 1) {
    throw std::runtime_error("bad IPv4 address: " + address);
  }
  out.length = sizeof(sockaddr_in);
  out.family = AF_INET;
  return out;
}

// One non-blocking connect attempt bounded by the deadline; the socket is made blocking
// again on success.
int connectOnce(const ResolvedAddress& target, Deadline deadline, SocketOptions options,
                int& error) {
  int fd = ::socket(target.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = errno;
    return -1;
  }
  if (options.receiveBuffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.receiveBuffer, sizeof(int));
  }
  if (target.family == AF_INET) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&target.storage), target.length);
  if (r < 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    r = ::poll(&p, 1, remainingMs(deadline));
    if (r == 1) {
      int soError = 0;
      socklen_t len = sizeof(soError);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
      r = soError == 0 ? 0 : -1;
      errno = soError;
    } else {
      r = -1;
      errno = ETIMEDOUT;
    }
  }
  if (r < 0) {
    error = errno;
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

uint16_t freeTcpPort() {
  // The kernel may hand back a port it gave out a moment ago once that socket
  // is closed, so two calls in one test could get the same port (seen in CI:
  // listen and admin on one address). Remember what this process handed out.
  static std::set<uint16_t> handedOut;
  static std::mutex guard;
  for (int attempt = 0; attempt < 64; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("freeTcpPort: cannot bind 127.0.0.1:0");
    }
    uint16_t port = ntohs(addr.sin_port);
    ::close(fd);
    std::lock_guard<std::mutex> lock(guard);
    if (handedOut.insert(port).second) return port;
  }
  throw std::runtime_error("freeTcpPort: no port not handed out before");
}

std::string loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

int connectTo(const std::string& address, Deadline deadline, bool retry, SocketOptions options) {
  const ResolvedAddress target = resolve(address);
  while (true) {
    int error = 0;
    int fd = connectOnce(target, deadline, options, error);
    if (fd >= 0) return fd;
    if (!retry || Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(milliseconds(10));  // poll interval while it starts
  }
}

bool waitForConnect(const std::string& address, milliseconds timeout) {
  int fd = connectTo(address, deadlineIn(timeout), /*retry=*/true);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

namespace {

/// A non-blocking connect to 127.0.0.1:`port`, started and left running.
int startConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// The connect on `fd` completed (successfully) within `wait`.
bool connected(int fd, milliseconds wait) {
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return false;
  int soError = 0;
  socklen_t len = sizeof(soError);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
  return soError == 0;
}

}  // namespace

UnacceptingListener::UnacceptingListener() {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::listen(listenFd_, 0) != 0) {
    if (listenFd_ >= 0) ::close(listenFd_);
    throw std::runtime_error("UnacceptingListener: cannot listen on 127.0.0.1:0");
  }
  port_ = ntohs(addr.sin_port);
  // The one connection the queue has room for: completed by the kernel, never accepted.
  int filler = startConnect(port_);
  if (filler >= 0) clients_.push_back(filler);
  if (filler < 0 || !connected(filler, milliseconds(5000))) {
    for (int fd : clients_) ::close(fd);
    ::close(listenFd_);
    throw std::runtime_error("UnacceptingListener: the queue-filling connection failed");
  }
}

UnacceptingListener::~UnacceptingListener() {
  for (int fd : clients_) ::close(fd);
  ::close(listenFd_);
}

bool UnacceptingListener::connectHangs(milliseconds wait) {
  int fd = startConnect(port_);
  if (fd < 0) return false;
  clients_.push_back(fd);
  pollfd p{fd, POLLOUT, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) == 0;
}

}  // namespace doorman::it
