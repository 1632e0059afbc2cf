#include "doorman/server/Listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "doorman/core/Log.hpp"

namespace doorman::server {
namespace {

constexpr int kBacklog = 511;

std::string nameOf(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, host, sizeof host);
    return std::string("[") + host + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
  uv_ip4_name(a, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
}

std::string hostOf(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&ss), host, sizeof host);
  } else if (ss.ss_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&ss), host, sizeof host);
  }
  return host;
}

}  // namespace

Listener::Listener(uv::Loop& loop, const config::Address& address, AcceptHandler& handler)
    : loop_(loop), address_(address), handler_(handler) {}

uv_stream_t* Listener::stream() noexcept {
  return tcp_ ? uv::asStream(tcp_.get()) : uv::asStream(pipe_.get());
}

std::string Listener::open() {
  int rc = 0;
  if (address_.kind == config::Address::Kind::Unix) {
    pipe_ = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
    if (!pipe_) {
      return uv_strerror(rc);
    }
    // A stale socket file from a previous run would make bind fail; only remove sockets.
    struct stat st {};
    if (lstat(address_.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      unlink(address_.path.c_str());
    }
    rc = uv_pipe_bind(pipe_.get(), address_.path.c_str());
    boundName_ = "unix:" + address_.path;
  } else {
    tcp_ = uv::makeHandle<uv_tcp_t>(loop_.raw(), rc, uv_tcp_init);
    if (!tcp_) {
      return uv_strerror(rc);
    }
    sockaddr_storage ss{};
    std::string host = address_.host.empty() ? "0.0.0.0" : address_.host;
    if (uv_ip4_addr(host.c_str(), address_.port, reinterpret_cast<sockaddr_in*>(&ss)) != 0 &&
        uv_ip6_addr(host.c_str(), address_.port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0) {
      return "listen address must be a numeric IP: " + host;
    }
    rc = uv_tcp_bind(tcp_.get(), reinterpret_cast<const sockaddr*>(&ss), 0);
    if (rc == 0) {
      int len = sizeof ss;
      uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
      boundName_ = nameOf(ss);
    }
  }
  if (rc != 0) {
    return std::string("bind ") + address_.text + ": " + uv_strerror(rc);
  }
  return startListening();
}

std::string Listener::startListening() {
  int rc = 0;
  uv::asHandle(stream())->data = this;
  rc = uv_listen(stream(), kBacklog, [](uv_stream_t* server, int status) {
    if (auto* self = uv::ownerOf<Listener>(server)) {
      self->onConnection(status);
    }
  });
  if (rc != 0) {
    return std::string("listen ") + address_.text + ": " + uv_strerror(rc);
  }
  return {};
}

namespace {

/// The sockaddr a listen address stands for (TCP), as Listener::open binds it.
bool tcpAddressOf(const config::Address& address, sockaddr_storage& ss) {
  std::string host = address.host.empty() ? "0.0.0.0" : address.host;
  return uv_ip4_addr(host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&ss)) == 0 ||
         uv_ip6_addr(host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0;
}

}  // namespace

bool Listener::isBoundTo(int fd, const config::Address& address) {
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return false;
  }
  if (address.kind == config::Address::Kind::Unix) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&bound);
    return bound.ss_family == AF_UNIX && address.path == un->sun_path;
  }
  sockaddr_storage want{};
  if (!tcpAddressOf(address, want) || want.ss_family != bound.ss_family) {
    return false;
  }
  if (bound.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&bound);
    const auto* b = reinterpret_cast<const sockaddr_in*>(&want);
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&bound);
  const auto* b = reinterpret_cast<const sockaddr_in6*>(&want);
  return a->sin6_port == b->sin6_port &&
         std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
}

std::string Listener::adopt(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return "inherited socket " + std::to_string(fd) + ": " + std::strerror(errno);
  }
  inherited_ = true;
  int rc = 0;
  if (ss.ss_family == AF_UNIX) {
    pipe_ = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
    if (pipe_) {
      rc = uv_pipe_open(pipe_.get(), fd);
    }
    boundName_ = std::string("unix:") + reinterpret_cast<const sockaddr_un*>(&ss)->sun_path;
  } else if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
    tcp_ = uv::makeHandle<uv_tcp_t>(loop_.raw(), rc, uv_tcp_init);
    if (tcp_) {
      rc = uv_tcp_open(tcp_.get(), fd);
    }
    boundName_ = nameOf(ss);
  } else {
    return "inherited socket " + std::to_string(fd) + " is neither TCP nor unix";
  }
  if (rc != 0) {
    return "inherited socket " + std::to_string(fd) + ": " + uv_strerror(rc);
  }
  return startListening();
}

void Listener::onConnection(int status) {
  if (status != 0) {
    LOG_WARN("listener %s: %s", boundName_.c_str(), uv_strerror(status));
    return;
  }
  pending_ = true;
  if (handler_.onConnectionPending(*this)) {
    pending_ = false;
  }
}

void Listener::resume() {
  if (pending_ && handler_.onConnectionPending(*this)) {
    pending_ = false;
  }
}

int Listener::accept(uv::HandlePtr<uv_tcp_t>& tcp, uv::HandlePtr<uv_pipe_t>& pipe,
                     std::string& peer) {
  int rc = 0;
  if (tcp_) {
    tcp = uv::makeHandle<uv_tcp_t>(loop_.raw(), rc, uv_tcp_init);
    if (!tcp) {
      return rc;
    }
    rc = uv_accept(stream(), uv::asStream(tcp.get()));
    if (rc != 0) {
      tcp.reset();
      return rc;
    }
    uv_tcp_nodelay(tcp.get(), 1);
    sockaddr_storage ss{};
    int len = sizeof ss;
    peer = uv_tcp_getpeername(tcp.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0 ? hostOf(ss)
                                                                                      : "unknown";
    return 0;
  }
  pipe = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
  if (!pipe) {
    return rc;
  }
  rc = uv_accept(stream(), uv::asStream(pipe.get()));
  if (rc != 0) {
    pipe.reset();
    return rc;
  }
  peer = "unix";
  return 0;
}

}  // namespace doorman::server
