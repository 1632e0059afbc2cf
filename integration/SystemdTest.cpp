// systemd integration of the real binary: the notify protocol seen from a datagram socket
// the test binds and names in NOTIFY_SOCKET (READY after the listeners are bound,
// RELOADING/READY around a reload, STOPPING, STATUS), socket activation (LISTEN_FDS), and
// the privilege drop to `user` after binding.

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Net.hpp"
#include "harness/Process.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

/// What systemd would listen on: a unix datagram socket.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "bind " << path << ": " << std::strerror(errno);
    }
  }
  ~NotifyListener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  /// The next message, or "" after `timeout`.
  std::string next(milliseconds timeout = milliseconds(10000)) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  /// Skips periodic STATUS-only messages until one containing `what` (or timeout).
  std::string nextWith(const std::string& what) {
    for (int i = 0; i < 20; ++i) {
      std::string m = next();
      if (m.empty() || m.find(what) != std::string::npos) {
        return m;
      }
    }
    return {};
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string procStatusLine(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      return line;
    }
  }
  return {};
}

class SystemdTest : public IntegrationTest {
 protected:
  SystemdTest() : gunicorn_(dir_, 2) {}
  GunicornBackend gunicorn_;
};

TEST_F(SystemdTest, NotifiesReadyReloadingAndStopping) {
  NotifyListener systemd(dir_.file("notify.sock"));
  DoormanLaunch launch;
  launch.env = {{"NOTIFY_SOCKET", dir_.file("notify.sock")}};
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2), launch);

  std::string ready = systemd.next();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("MAINPID=" + std::to_string(doorman.pid())), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS="), std::string::npos) << ready;
  // READY comes after the listeners are bound: the port accepts now.
  int fd = connectTo(doorman.address(), deadlineIn(milliseconds(1000)));
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);

  ASSERT_EQ(::kill(doorman.pid(), SIGHUP), 0);
  std::string reloading = systemd.nextWith("RELOADING=1");
  EXPECT_NE(reloading.find("RELOADING=1"), std::string::npos) << reloading;
  std::string readyAgain = systemd.nextWith("READY=1");
  EXPECT_NE(readyAgain.find("STATUS="), std::string::npos) << readyAgain;
  EXPECT_NE(readyAgain.find("configuration #2"), std::string::npos) << readyAgain;

  doorman.expectExit();
  ASSERT_EQ(::kill(doorman.pid(), SIGTERM), 0);
  std::string stopping = systemd.nextWith("STOPPING=1");
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping;
  auto status = doorman.process().waitForExit(milliseconds(10000));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describeStatus(*status);
}

/// The STATUS line systemd shows (`systemctl status`) counts the client connections and
/// the requests waiting in upstream queues: one request on the only worker, one queued.
TEST_F(SystemdTest, StatusLineCountsConnectionsAndQueuedRequests) {
  NotifyListener systemd(dir_.file("notify.sock"));
  DoormanLaunch launch;
  launch.env = {{"NOTIFY_SOCKET", dir_.file("notify.sock")}};
  const uint16_t adminPort = freeTcpPort();
  DoormanConfig config = DoormanConfig::forBackend(gunicorn_.address(), 1);
  config.extra = "admin: { listen: \"" + loopback(adminPort) + "\" }\n";
  DoormanProcess doorman(dir_, config, launch);
  std::string ready = systemd.nextWith("READY=1");
  EXPECT_NE(ready.find("STATUS=0 connections, 0 queued requests, configuration #1"),
            std::string::npos)
      << ready;

  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=3000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  HttpClient queued(doorman.address());
  ASSERT_TRUE(queued.send(httpGet("/hello")));
  ASSERT_TRUE(waitUntil(
      [&] {
        auto metrics = fetch(loopback(adminPort), httpGet("/metrics"));
        return metrics &&
               metrics->body.find("doorman_upstream_queue_length{upstream=\"app\"} 1\n") !=
                   std::string::npos;
      },
      milliseconds(5000)));
  // A reload sends READY=1 with a fresh STATUS (the periodic one comes every 5 s).
  ASSERT_EQ(::kill(doorman.pid(), SIGHUP), 0);
  std::string after = systemd.nextWith("READY=1");
  EXPECT_NE(after.find("STATUS=2 connections, 1 queued requests, configuration #2"),
            std::string::npos)
      << after;
  auto first = busy.readResponse(milliseconds(10000));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  auto second = queued.readResponse(milliseconds(10000));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
}

/// The listening socket comes from the launcher (fd 3, LISTEN_FDS=1, LISTEN_PID): doorman
/// serves it instead of binding the port itself (which would fail: it is taken).
TEST_F(SystemdTest, ServesASocketFromSocketActivation) {
  DoormanLaunch launch;
  launch.prefix = {"/usr/bin/python3",
                   std::string(DOORMAN_SOURCE_DIR) + "/integration/backends/socket_activate.py",
                   "{port}"};
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2), launch);
  // The port accepted (in the kernel's backlog) as soon as the launcher bound it: wait for
  // doorman itself.
  EXPECT_TRUE(
      waitUntil([&] { return doorman.log().find("(socket from systemd)") != std::string::npos; },
                milliseconds(10000)))
      << doorman.log();
  auto response = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello\n");
}

/// Started as root with `user: nobody`: the listener is bound first (as root), then the
/// process runs as nobody and still serves.
TEST_F(SystemdTest, DropsToTheConfiguredUserAfterBinding) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to switch users";
  }
  GunicornBackend backend(dir_, 2, true);  // TCP: reachable as nobody
  DoormanConfig config = DoormanConfig::forBackend(backend.address(), 2);
  config.extra = "user: nobody\n";
  DoormanProcess doorman(dir_, config);
  // The port accepts as soon as it is bound, a moment before the switch: wait for it.
  ASSERT_TRUE(waitUntil([&] { return doorman.log().find("running as uid") != std::string::npos; },
                        milliseconds(10000)))
      << doorman.log();
  std::string uid = procStatusLine(doorman.pid(), "Uid");
  std::string gid = procStatusLine(doorman.pid(), "Gid");
  EXPECT_EQ(uid, "Uid:\t65534\t65534\t65534\t65534") << doorman.log();
  EXPECT_NE(gid.find("\t65534\t65534\t65534"), std::string::npos) << gid;
  std::string groups = procStatusLine(doorman.pid(), "Groups");
  EXPECT_TRUE(groups == "Groups:\t" || groups == "Groups:\t ") << groups;
  auto response = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

/// A user that does not exist stops doorman before it serves, with the reason logged.
TEST_F(SystemdTest, UnknownUserIsAnError) {
  DoormanConfig config = DoormanConfig::forBackend(gunicorn_.address(), 2);
  config.extra = "user: no-such-user-doorman\n";
  const std::string path = dir_.file("baduser.yaml");
  std::ofstream(path) << config.toYaml(freeTcpPort(), dir_.path());
  ProcessOptions options;
  options.name = "doorman-baduser";
  options.argv = {DOORMAN_BINARY, "-c", path};
  options.logPath = dir_.file("baduser.log");
  Process doorman(std::move(options));
  auto status = doorman.waitForExit(milliseconds(10000));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << describeStatus(*status);
  EXPECT_NE(doorman.log().find("user 'no-such-user-doorman' does not exist"), std::string::npos)
      << doorman.log();
}

}  // namespace
}  // namespace doorman::it
