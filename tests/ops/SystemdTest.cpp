#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "doorman/ops/Systemd.hpp"

namespace doorman::ops {
namespace {

/// A datagram socket bound where $NOTIFY_SOCKET points, as systemd's would be.
class NotifySocket {
 public:
  explicit NotifySocket(bool abstract) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = "/tmp/doorman-notify-" + std::to_string(getpid());
    path_ = abstract ? "" : name;
    if (!abstract) {
      unlink(name.c_str());
    }
    std::memcpy(addr.sun_path + (abstract ? 1 : 0), name.data(), name.size());
    auto len =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 1 : 0));
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    setenv("NOTIFY_SOCKET", ((abstract ? "@" : "") + name).c_str(), 1);
  }
  ~NotifySocket() {
    close(fd_);
    if (!path_.empty()) {
      unlink(path_.c_str());
    }
    unsetenv("NOTIFY_SOCKET");
  }
  std::string receive() {
    char buf[512];
    ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  int fd_ = -1;
  std::string path_;
};

TEST(SystemdNotifier, SendsToAPathSocket) {
  NotifySocket socket(false);
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("READY=1\nSTATUS=ok"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=ok");
}

TEST(SystemdNotifier, SendsToAnAbstractSocket) {
  NotifySocket socket(true);
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(socket.receive(), "STOPPING=1");
}

TEST(SystemdNotifier, DisabledWithoutTheVariable) {
  unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
}

TEST(SocketActivation, IgnoresFdsMeantForAnotherProcess) {
  setenv("LISTEN_PID", std::to_string(getpid() + 1).c_str(), 1);
  setenv("LISTEN_FDS", "1", 1);
  EXPECT_TRUE(takeInheritedListenFds().empty());
  EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr) << "the variables are consumed";
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
}

}  // namespace
}  // namespace doorman::ops
