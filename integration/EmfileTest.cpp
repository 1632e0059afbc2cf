// doorman out of file descriptors (EMFILE): started normally, then its RLIMIT_NOFILE is
// lowered (prlimit(2) on its PID) to a few descriptors above what it uses, and more
// clients arrive than it can accept. It must keep serving the connections it has, must
// not spin on the listening socket (its CPU time stays low while the extra clients
// wait), and must serve new clients again once descriptors are free. libuv (1.44) keeps a
// reserve descriptor for this: at EMFILE it closes it, accepts and closes the pending
// connections, and reopens it, so the listening socket never stays readable in a loop.
//
// And the limit doorman starts with: started (through prlimit(1)) with a soft
// RLIMIT_NOFILE below the hard one, it raises the soft limit to the hard limit.

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/Backends.hpp"
#include "harness/Checks.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Net.hpp"

namespace doorman::it {
namespace {

/// User + system CPU time of `pid` in clock ticks (/proc/PID/stat fields 14 and 15).
long cpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: skip past it.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

class EmfileTest : public IntegrationTest {
 protected:
  // A keep-alive backend: requests on existing client connections reuse the one idle
  // upstream connection and need no new descriptor.
  EmfileTest()
      : backend_(dir_, PreforkOptions{1, 0, 0}),
        doorman_(dir_, DoormanConfig::forBackend(backend_.address(), 1)) {}

  PreforkBackend backend_;
  DoormanProcess doorman_;
};

TEST_F(EmfileTest, OutOfDescriptorsKeepsServingAndDoesNotSpin) {
  // Existing clients, each with one request done (and the upstream connection open).
  std::vector<std::unique_ptr<HttpClient>> existing;
  for (int i = 0; i < 3; ++i) {
    existing.push_back(std::make_unique<HttpClient>(doorman_.address()));
    ASSERT_TRUE(existing.back()->send(httpGet("/hello")));
    auto response = existing.back()->readResponse();
    ASSERT_TRUE(response) << existing.back()->error();
    ASSERT_EQ(response->status, 200);
  }
  const size_t inUse = settledFdCount(doorman_);

  rlimit original{};
  ASSERT_EQ(::prlimit(doorman_.pid(), RLIMIT_NOFILE, nullptr, &original), 0);
  // Only the soft limit: the hard one stays, so the test can give descriptors back.
  rlimit low{static_cast<rlim_t>(inUse + 2), original.rlim_max};
  ASSERT_EQ(::prlimit(doorman_.pid(), RLIMIT_NOFILE, &low, nullptr), 0);

  // Far more clients than descriptors left; the kernel completes their handshakes.
  std::vector<int> extra;
  for (int i = 0; i < 40; ++i) {
    int fd = connectTo(doorman_.address(), deadlineIn(milliseconds(5000)));
    ASSERT_GE(fd, 0);
    const std::string request = httpGet("/hello");
    ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    extra.push_back(fd);
  }

  // While they wait, the existing connections are served, again and again.
  const long ticksBefore = cpuTicks(doorman_.pid());
  const auto start = Clock::now();
  int served = 0;
  while (Clock::now() - start < milliseconds(2000)) {
    for (auto& client : existing) {
      ASSERT_TRUE(client->send(httpGet("/hello"))) << client->error();
      auto response = client->readResponse();
      ASSERT_TRUE(response) << client->error();
      EXPECT_EQ(response->status, 200);
      ++served;
    }
    waitUntil([] { return false; }, milliseconds(100));
  }
  const long ticksUsed = cpuTicks(doorman_.pid()) - ticksBefore;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpuShare = static_cast<double>(ticksUsed) / sysconf(_SC_CLK_TCK) / seconds;
  EXPECT_GT(served, 6);
  // A loop spinning on accept() would use a whole core (1.0); serving a few dozen
  // requests takes a few percent, ASan included.
  EXPECT_LT(cpuShare, 0.5) << ticksUsed << " ticks in " << seconds << " s";

  // The limit was really hit: libuv accepts and closes what it cannot keep (its reserve
  // descriptor trick), so some of the extra clients were closed without an answer.
  size_t closedUnanswered = 0;
  for (int fd : extra) {
    pollfd p{fd, POLLIN, 0};
    char byte = 0;
    if (::poll(&p, 1, 0) == 1 && ::recv(fd, &byte, 1, MSG_DONTWAIT) <= 0) {
      ++closedUnanswered;
    }
  }
  EXPECT_GT(closedUnanswered, 0u) << "the descriptor limit was never reached";

  // Descriptors back: the extra clients leave, new clients are served.
  for (int fd : extra) {
    ::close(fd);
  }
  ASSERT_EQ(::prlimit(doorman_.pid(), RLIMIT_NOFILE, &original, nullptr), 0)
      << std::strerror(errno) << " restoring " << original.rlim_cur << "/" << original.rlim_max;
  EXPECT_TRUE(waitUntil([&] { return servesHello(doorman_.address()); }, milliseconds(10000)));
  existing.clear();
  EXPECT_TRUE(fdCountReturnsTo(doorman_, inUse - 3));
}

/// "Max open files" of /proc/PID/limits: {soft, hard} as written ("unlimited" too).
std::pair<std::string, std::string> openFilesLimit(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(std::strlen("Max open files")));
      std::string soft;
      std::string hard;
      fields >> soft >> hard;
      return {soft, hard};
    }
  }
  return {};
}

class FileLimitTest : public IntegrationTest {};

/// doorman started by `prlimit --nofile=SOFT:HARD` with SOFT below HARD (HARD is the
/// test's own hard limit, so no privilege is needed): once it serves, its soft limit is
/// the hard limit.
TEST_F(FileLimitTest, SoftFileLimitIsRaisedToTheHardLimitAtStart) {
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  if (own.rlim_max == RLIM_INFINITY || own.rlim_max < 256) {
    GTEST_SKIP() << "needs a finite hard RLIMIT_NOFILE of at least 256, not " << own.rlim_max;
  }
  const std::string hard = std::to_string(own.rlim_max);
  const std::string soft = std::to_string(std::min<rlim_t>(1024, own.rlim_max / 2));
  DoormanLaunch launch;
  launch.prefix = {"prlimit", "--nofile=" + soft + ":" + hard, "--"};
  DoormanProcess doorman(
      dir_, DoormanConfig::forBackend("unix:" + dir_.file("nobody-listens.sock"), 1), launch);
  // prlimit execs doorman: the same process.
  EXPECT_NE(readFile("/proc/" + std::to_string(doorman.pid()) + "/cmdline").find("doorman"),
            std::string::npos);
  auto [nowSoft, nowHard] = openFilesLimit(doorman.pid());
  EXPECT_EQ(nowHard, hard);
  EXPECT_EQ(nowSoft, hard) << "the soft limit stayed at " << nowSoft << " (started with " << soft
                           << ")";
}

}  // namespace
}  // namespace doorman::it
