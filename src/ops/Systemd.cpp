#include "doorman/ops/Systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace doorman::ops {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || (socket[0] != '/' && socket[0] != '@') ||
      std::strlen(socket) >= sizeof(sockaddr_un::sun_path)) {
    return;
  }
  address_ = socket;
  if (address_[0] == '@') {
    address_[0] = '\0';  // abstract namespace
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool SystemdNotifier::notify(std::string_view state) {
  if (fd_ < 0) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  // A datagram to a local socket does not block for long; MSG_DONTWAIT makes sure a
  // stuck receiver can never stall the loop (the message is then lost, as with sd_notify).
  ssize_t n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  return n == static_cast<ssize_t>(state.size());
}

std::vector<int> takeInheritedListenFds() {
  std::vector<int> fds;
  const char* pid = std::getenv("LISTEN_PID");
  const char* count = std::getenv("LISTEN_FDS");
  if (pid != nullptr && count != nullptr) {
    char* end = nullptr;
    long forPid = std::strtol(pid, &end, 10);
    long n = std::strtol(count, nullptr, 10);
    if (*end == '\0' && forPid == static_cast<long>(getpid()) && n > 0 && n < 4096) {
      constexpr int kFirst = 3;  // SD_LISTEN_FDS_START
      for (int fd = kFirst; fd < kFirst + static_cast<int>(n); ++fd) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) {
          fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
          fds.push_back(fd);
        }
      }
    }
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return fds;
}

}  // namespace doorman::ops
