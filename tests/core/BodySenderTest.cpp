// BodySender: memory pieces with uv_write, file pieces with sendfile, in order, over a
// real socket pair; a reader that stops makes the sender wait (not spin), a truncated
// file ends the send with UV_EIO.
#include "doorman/core/BodySender.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "doorman/uv/Handle.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::core {
namespace {

std::string pattern(size_t n, size_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('a' + (i * 13 + seed) % 26);
  }
  return s;
}

FilePtr fileWith(const std::string& content) {
  char name[] = "/tmp/doorman-sender-XXXXXX";
  int fd = mkstemp(name);
  unlink(name);
  EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  return std::make_shared<FileHandle>(fd);
}

class Done final : public BodySenderListener {
 public:
  void onSendDone(int s) override {
    status = s;
    ++calls;
  }
  int status = 1;
  int calls = 0;
};

class BodySenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    peer_ = fds[1];
    int rc = 0;
    pipe_ = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(uv_pipe_open(pipe_.get(), fds[0]), 0);
    fcntl(peer_, F_SETFL, O_NONBLOCK);
  }
  void TearDown() override {
    pipe_.reset();
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
    if (peer_ >= 0) {
      close(peer_);
    }
  }

  /// Runs the loop and drains the peer until the sender is done.
  std::string runAndRead(Done& done, bool read = true) {
    std::string got;
    char buf[65536];
    for (int i = 0; i < 100000 && done.calls == 0; ++i) {
      uv_run(loop_.raw(), UV_RUN_NOWAIT);
      if (read) {
        ssize_t n = ::read(peer_, buf, sizeof buf);
        if (n > 0) got.append(buf, static_cast<size_t>(n));
      }
    }
    for (;;) {
      ssize_t n = ::read(peer_, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

  uv::Loop loop_;
  uv::HandlePtr<uv_pipe_t> pipe_;
  int peer_ = -1;
};

TEST_F(BodySenderTest, SendsHeadMemoryAndFilePiecesInOrder) {
  std::string fileContent = pattern(3 << 20, 1);
  FilePtr file = fileWith(fileContent);
  Body body;
  ASSERT_TRUE(body.append("[mem1]"));
  body.appendFile(file, 100, 2 << 20);
  ASSERT_TRUE(body.append("[mem2]"));
  body.appendFile(file, 0, 10);
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "HEAD\r\n", body, done);
  std::string got = runAndRead(done);
  ASSERT_EQ(done.status, 0);
  EXPECT_EQ(done.calls, 1);
  std::string expected =
      "HEAD\r\n[mem1]" + fileContent.substr(100, 2 << 20) + "[mem2]" + fileContent.substr(0, 10);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
  EXPECT_EQ(sender.handed(), expected.size());
}

TEST_F(BodySenderTest, ASendTheSocketTakesWholeIsReportedOnTheNextTurnNotInsideStart) {
  Body body;
  ASSERT_TRUE(body.append("[body]"));
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "HEAD\r\n", body, done);
  EXPECT_EQ(done.calls, 0) << "never inside start()";
  EXPECT_EQ(sender.handed(), 12u) << "written at once (try-write)";
  EXPECT_TRUE(sender.active());
  uv_run(loop_.raw(), UV_RUN_NOWAIT);
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.status, 0);
  EXPECT_FALSE(sender.active());
  char buf[64];
  ssize_t n = ::read(peer_, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "HEAD\r\n[body]");
}

TEST_F(BodySenderTest, ACancelBeforeTheNextTurnMeansNoCallbackEvenForACompletedWrite) {
  Body body;
  ASSERT_TRUE(body.append("x"));
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  sender.cancel();
  runAndRead(done);
  EXPECT_EQ(done.calls, 0);
}

TEST_F(BodySenderTest, PartsGoOutInOrderSkippingEmptyOnes) {
  BodySender sender(loop_);
  Done done;
  std::string_view parts[] = {"one,", "", "two,", "three"};
  sender.start(uv::asStream(pipe_.get()), parts, done);
  EXPECT_EQ(runAndRead(done), "one,two,three");
  EXPECT_EQ(done.status, 0);
  EXPECT_EQ(sender.handed(), 13u);

  // Larger than the socket buffer: what the kernel does not take at once is queued.
  std::string big = pattern(4 << 20, 9);
  std::string_view bigParts[] = {"<", big, ">"};
  Done bigDone;
  sender.start(uv::asStream(pipe_.get()), bigParts, bigDone);
  EXPECT_EQ(bigDone.calls, 0);
  std::string got = runAndRead(bigDone);
  EXPECT_EQ(bigDone.status, 0);
  EXPECT_TRUE(got == "<" + big + ">");
  EXPECT_EQ(sender.handed(), big.size() + 2);
}

TEST_F(BodySenderTest, AWriteErrorIsReportedOnTheNextTurn) {
  std::signal(SIGPIPE, SIG_IGN);  // as doorman does: the error comes back as EPIPE
  ::close(peer_);
  peer_ = -1;
  Body body;
  ASSERT_TRUE(body.append("x"));
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  EXPECT_EQ(done.calls, 0);
  for (int i = 0; i < 10 && done.calls == 0; ++i) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  EXPECT_EQ(done.calls, 1);
  EXPECT_EQ(done.status, UV_EPIPE);
}

TEST_F(BodySenderTest, WaitsForAReaderThatStoppedAndFinishesWhenItReads) {
  std::string fileContent = pattern(4 << 20, 2);
  FilePtr file = fileWith(fileContent);
  Body body;
  body.appendFile(file, 0, fileContent.size());
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  for (int i = 0; i < 50; ++i) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  EXPECT_EQ(done.calls, 0) << "the socket is full: the sender waits";
  EXPECT_TRUE(sender.active());
  EXPECT_LT(sender.handed(), fileContent.size() + 1);
  std::string got = runAndRead(done);
  ASSERT_EQ(done.status, 0);
  EXPECT_TRUE(got == "H" + fileContent);
}

TEST_F(BodySenderTest, ATruncatedFileEndsTheSendWithAnError) {
  FilePtr file = fileWith(pattern(1000, 3));
  Body body;
  body.appendFile(file, 0, 5000);  // promised more than the file holds
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  runAndRead(done);
  EXPECT_EQ(done.status, UV_EIO);
}

/// A TCP client that resets while the sender waits for room: the error is the reset (or
/// the broken pipe it causes), not the UV_EBADF libuv's poll reports for EPOLLERR.
TEST(BodySenderTcpTest, AResetWhileWaitingIsReportedAsAReset) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  int server = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  ASSERT_GE(server, 0);

  uv::Loop loop;
  int rc = 0;
  auto tcp = uv::makeHandle<uv_tcp_t>(loop.raw(), rc, uv_tcp_init);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(uv_tcp_open(tcp.get(), server), 0);
  std::string fileContent = pattern(16 << 20, 5);
  FilePtr file = fileWith(fileContent);
  Body body;
  body.appendFile(file, 0, fileContent.size());
  BodySender sender(loop);
  Done done;
  sender.start(uv::asStream(tcp.get()), "H", body, done);
  for (int i = 0; i < 50; ++i) {
    uv_run(loop.raw(), UV_RUN_NOWAIT);
  }
  ASSERT_EQ(done.calls, 0) << "the client reads nothing: the sender waits";
  linger reset{1, 0};
  ::setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(client);
  for (int i = 0; i < 100000 && done.calls == 0; ++i) {
    uv_run(loop.raw(), UV_RUN_NOWAIT);
  }
  ASSERT_EQ(done.calls, 1);
  EXPECT_TRUE(done.status == UV_ECONNRESET || done.status == UV_EPIPE) << uv_strerror(done.status);
  tcp.reset();
  uv_run(loop.raw(), UV_RUN_NOWAIT);
}

TEST_F(BodySenderTest, CancelMeansNoCallback) {
  FilePtr file = fileWith(pattern(4 << 20, 4));
  Body body;
  body.appendFile(file, 0, 4 << 20);
  BodySender sender(loop_);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  for (int i = 0; i < 20; ++i) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  sender.cancel();
  runAndRead(done);
  EXPECT_EQ(done.calls, 0);
  EXPECT_FALSE(sender.active());
}

TEST_F(BodySenderTest, ARestartAfterACancelledSendIgnoresItsLateCallbacks) {
  // The first send leaves a uv_write queued (the reader is not reading) and is
  // cancelled; that write completes during the second send, whose callbacks alone count.
  std::string big = pattern(8 << 20, 5);
  Body first;  // stays alive: libuv still holds its queued buffers
  ASSERT_TRUE(first.append(big));
  std::string fileContent = pattern(300000, 6);
  FilePtr file = fileWith(fileContent);
  Body second;
  ASSERT_TRUE(second.append("[mem]"));
  second.appendFile(file, 0, fileContent.size());
  BodySender sender(loop_);
  Done firstDone;
  sender.start(uv::asStream(pipe_.get()), "A", first, firstDone);
  for (int i = 0; i < 20; ++i) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  ASSERT_TRUE(sender.active()) << "the socket is full: the first send is still going";
  sender.cancel();
  Done secondDone;
  sender.start(uv::asStream(pipe_.get()), "B", second, secondDone);
  std::string got = runAndRead(secondDone);
  EXPECT_EQ(firstDone.calls, 0);
  EXPECT_EQ(secondDone.calls, 1);
  ASSERT_EQ(secondDone.status, 0);
  std::string expected = "B[mem]" + fileContent;
  ASSERT_GE(got.size(), expected.size());
  EXPECT_TRUE(got.compare(got.size() - expected.size(), expected.size(), expected) == 0)
      << "the second send's bytes, in order, after what the first had queued";
  EXPECT_EQ(got[0], 'A');
  EXPECT_EQ(sender.handed(), expected.size());

  // And a third send after a completed one.
  Body third;
  ASSERT_TRUE(third.append("[again]"));
  Done thirdDone;
  sender.start(uv::asStream(pipe_.get()), "C", third, thirdDone);
  EXPECT_EQ(runAndRead(thirdDone), "C[again]");
  EXPECT_EQ(thirdDone.calls, 1);
  EXPECT_EQ(secondDone.calls, 1);
}

/// Drops the file's pages from the page cache; false when the kernel kept the first one
/// (tmpfs). mincore(2) tells without reading: a read that may not wait (RWF_NOWAIT) would
/// start readahead of what it asked for.
bool evict(const FileHandle& file) {
  ::fdatasync(file.fd());
  ::posix_fadvise(file.fd(), 0, 0, POSIX_FADV_DONTNEED);
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* map = ::mmap(nullptr, page, PROT_READ, MAP_SHARED, file.fd(), 0);
  if (map == MAP_FAILED) {
    return false;
  }
  unsigned char resident = 1;
  bool evicted = ::mincore(map, page, &resident) == 0 && (resident & 1) == 0;
  ::munmap(map, page);
  return evicted;
}

TEST_F(BodySenderTest, AFileNotInThePageCacheIsReadOnThePoolBeforeSendfile) {
  std::string fileContent = pattern((2 << 20) + 4000, 5);  // three windows
  FilePtr file = fileWith(fileContent);
  if (!evict(*file)) {
    GTEST_SKIP() << "the page cache keeps files in /tmp here (tmpfs?)";
  }
  Body body;
  body.appendFile(file, 0, fileContent.size());
  BodySender sender(loop_);
  uint64_t warmups = 0;
  sender.countWarmupsIn(&warmups);
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  EXPECT_EQ(sender.handed(), 1u) << "the head is sent; sendfile waits for the warm-up";
  std::string got;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (done.calls == 0 && std::chrono::steady_clock::now() < deadline) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
    ssize_t n = ::read(peer_, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the pool is reading
    }
  }
  got += runAndRead(done);
  ASSERT_EQ(done.status, 0);
  EXPECT_TRUE(got == "H" + fileContent);
  EXPECT_GE(warmups, 1u);
  EXPECT_LE(warmups, 3u);

  // Cached now: no warm-up at all.
  Done again;
  uint64_t before = warmups;
  sender.start(uv::asStream(pipe_.get()), "H", body, again);
  EXPECT_TRUE(runAndRead(again) == "H" + fileContent);
  EXPECT_EQ(warmups, before);
}

TEST_F(BodySenderTest, ASendCancelledDuringAWarmUpHearsNothingAndLeavesNothingBehind) {
  std::string fileContent = pattern(1 << 20, 6);
  FilePtr file = fileWith(fileContent);
  if (!evict(*file)) {
    GTEST_SKIP() << "the page cache keeps files in /tmp here (tmpfs?)";
  }
  Done done;
  uint64_t warmups = 0;
  {
    Body body;
    body.appendFile(file, 0, fileContent.size());
    BodySender sender(loop_);
    sender.countWarmupsIn(&warmups);
    sender.start(uv::asStream(pipe_.get()), "", body, done);
    sender.cancel();
  }  // the sender and the body are gone while the pool may still read
  file.reset();
  EXPECT_NE(uv_loop_alive(loop_.raw()), 0) << "the warm-up was not on the pool";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (uv_loop_alive(loop_.raw()) != 0 && std::chrono::steady_clock::now() < deadline) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(uv_loop_alive(loop_.raw()), 0) << "the warm-up never came back";
  EXPECT_EQ(done.calls, 0);
  EXPECT_EQ(warmups, 0u) << "a cancelled warm-up is not counted";
  char byte = 0;
  EXPECT_LT(::read(peer_, &byte, 1), 1) << "nothing was sent after the cancel";
}

/// Whether the page at `offset` of `file` is in the page cache (mincore: no read).
bool resident(const FileHandle& file, off_t offset) {
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* map = ::mmap(nullptr, page, PROT_READ, MAP_SHARED, file.fd(),
                     offset / static_cast<off_t>(page) * static_cast<off_t>(page));
  if (map == MAP_FAILED) {
    return true;
  }
  unsigned char in = 1;
  bool yes = ::mincore(map, page, &in) != 0 || (in & 1) != 0;
  ::munmap(map, page);
  return yes;
}

size_t openDescriptors() {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                           std::filesystem::directory_iterator{}));
}

/// Every pool thread is busy, so the warm-up waits in the pool's queue; the send is
/// cancelled (the client went away): the warm-up is taken off the queue, never reads the
/// window, and its duplicate descriptor is closed.
TEST_F(BodySenderTest, AWarmUpStillQueuedWhenTheSendIsCancelledReadsNothing) {
  std::string fileContent = pattern(1 << 20, 7);
  FilePtr file = fileWith(fileContent);
  if (!evict(*file) || resident(*file, 768 * 1024)) {
    GTEST_SKIP() << "the page cache keeps files in /tmp here (tmpfs?)";
  }
  struct Blocker {
    uv_work_t req{};
    std::atomic<bool>* release = nullptr;
    std::atomic<int>* started = nullptr;
  };
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  const char* size = std::getenv("UV_THREADPOOL_SIZE");
  const int threads = size != nullptr ? std::clamp(std::atoi(size), 1, 1024) : 4;
  std::vector<std::unique_ptr<Blocker>> blockers;
  for (int i = 0; i < threads; ++i) {
    auto b = std::make_unique<Blocker>();
    b->req.data = b.get();
    b->release = &release;
    b->started = &started;
    ASSERT_EQ(uv_queue_work(
                  loop_.raw(), &b->req,
                  [](uv_work_t* r) {
                    auto* self = static_cast<Blocker*>(r->data);
                    ++*self->started;
                    while (!*self->release) {
                      std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    }
                  },
                  [](uv_work_t*, int) {}),
              0);
    blockers.push_back(std::move(b));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (started < threads && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(started, threads) << "the pool has more threads than the test thinks";
  const size_t fds = openDescriptors();
  uint64_t warmups = 0;
  Done done;
  {
    Body body;
    body.appendFile(file, 0, fileContent.size());
    BodySender sender(loop_);
    sender.countWarmupsIn(&warmups);
    sender.start(uv::asStream(pipe_.get()), "", body, done);
    EXPECT_TRUE(sender.waitingForDisk());
    EXPECT_EQ(openDescriptors(), fds + 1) << "the queued warm-up holds a duplicate";
    sender.cancel();
    EXPECT_FALSE(sender.waitingForDisk());
  }
  release = true;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (uv_loop_alive(loop_.raw()) != 0 && std::chrono::steady_clock::now() < deadline) {
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(uv_loop_alive(loop_.raw()), 0);
  EXPECT_EQ(openDescriptors(), fds) << "the duplicate descriptor was not closed";
  EXPECT_EQ(done.calls, 0);
  EXPECT_EQ(warmups, 0u);
  EXPECT_FALSE(resident(*file, 768 * 1024)) << "the cancelled warm-up read the window";
}

}  // namespace
}  // namespace doorman::core
