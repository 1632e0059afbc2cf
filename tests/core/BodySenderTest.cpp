// BodySender: memory pieces with uv_write, file pieces with sendfile, in order, over a
// real socket pair; a reader that stops makes the sender wait (not spin), a truncated
// file ends the send with UV_EIO.
#include "doorman/core/BodySender.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

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
    close(peer_);
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
  BodySender sender(loop_.raw());
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

TEST_F(BodySenderTest, WaitsForAReaderThatStoppedAndFinishesWhenItReads) {
  std::string fileContent = pattern(4 << 20, 2);
  FilePtr file = fileWith(fileContent);
  Body body;
  body.appendFile(file, 0, fileContent.size());
  BodySender sender(loop_.raw());
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
  BodySender sender(loop_.raw());
  Done done;
  sender.start(uv::asStream(pipe_.get()), "H", body, done);
  runAndRead(done);
  EXPECT_EQ(done.status, UV_EIO);
}

TEST_F(BodySenderTest, CancelMeansNoCallback) {
  FilePtr file = fileWith(pattern(4 << 20, 4));
  Body body;
  body.appendFile(file, 0, 4 << 20);
  BodySender sender(loop_.raw());
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

}  // namespace
}  // namespace doorman::core
