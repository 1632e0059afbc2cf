// A file that shrinks or is replaced between the lookup (fstat) and the read never yields
// a response whose Content-Length disagrees with its body. For files sent with sendfile
// (past the cache's max_file): the response holds the descriptor that was opened, so a
// rename over the path changes nothing, and a file that shrinks while being sent ends
// the send with UV_EIO (the connection then closes) after nothing but the file's bytes.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../../src/static/FileLookup.hpp"
#include "StaticFixture.hpp"
#include "doorman/core/BodySender.hpp"
#include "doorman/uv/Handle.hpp"

namespace doorman::statics::testing {
namespace {

class StaticTruncation : public StaticFixture {};

TEST_F(StaticTruncation, AFileThatShrankAfterFstatIsAnErrorNotAShortBody) {
  int fd = ::open((root_ / "big.bin").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::truncate((root_ / "big.bin").c_str(), 1000), 0);
  std::string out;
  std::vector<detail::BodyPart> parts{{std::string(), 0, 100 * 1024}};
  EXPECT_EQ(detail::readAndClose(fd, parts, std::string(), out), EIO);
}

TEST_F(StaticTruncation, AFileReplacedByRenameServesTheOpenedOne) {
  int fd = ::open((root_ / "hello.txt").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  write(root_ / "new.txt", "something else entirely\n");
  fs::rename(root_ / "new.txt", root_ / "hello.txt");
  std::string out;
  std::vector<detail::BodyPart> parts{{std::string(), 0, 14}};
  EXPECT_EQ(detail::readAndClose(fd, parts, std::string(), out), 0);
  EXPECT_EQ(out, kHello) << "the bytes of the file that was opened and measured";
}

std::string counting(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  }
  return s;
}

/// A static server without a cache: every body is a piece of the open file.
class StaticSendfileTruncation : public StaticFixture {
 protected:
  void SetUp() override {
    StaticFixture::SetUp();
    config::StaticCache noCache;
    noCache.size = 0;
    files_ = std::make_unique<FileServer>(loop_, budget_, noCache);
    content_ = counting(4 << 20);
    write(root_ / "large.bin", content_);
  }

  /// The response to GET /static/large.bin, as the file server answers it.
  http::Response fetchLarge() {
    RecordingSink sink;
    http::Request req = request("/static/large.bin");
    StaticTicketPtr ticket = files().serve(route_, req, sink);
    runLoop();
    EXPECT_TRUE(sink.response);
    return sink.response ? std::move(*sink.response) : http::Response{};
  }

  std::string content_;
};

TEST_F(StaticSendfileTruncation, AFileReplacedByRenameAfterTheLookupKeepsItsBytes) {
  http::Response response = fetchLarge();
  ASSERT_EQ(response.status, 200);
  ASSERT_TRUE(response.body.pieceCount() == 1 && response.body.piece(0).isFile());
  write(root_ / "new.bin", "replacement");
  fs::rename(root_ / "new.bin", root_ / "large.bin");
  EXPECT_EQ(response.body.size(), content_.size());
  EXPECT_TRUE(response.body.toString() == content_) << "the opened file's bytes, all of them";
}

struct SendDone final : core::BodySenderListener {
  void onSendDone(int s) override {
    status = s;
    ++calls;
  }
  int status = 1;
  int calls = 0;
};

TEST_F(StaticSendfileTruncation, AFileThatShrinksWhileSentEndsTheSendAfterItsOwnBytes) {
  http::Response response = fetchLarge();
  ASSERT_EQ(response.status, 200);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  int rc = 0;
  {
    uv::HandlePtr<uv_pipe_t> pipe = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(uv_pipe_open(pipe.get(), fds[0]), 0);
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
    core::BodySender sender(loop_);
    SendDone done;
    sender.start(uv::asStream(pipe.get()), "HEAD\n", response.body, done);
    for (int i = 0; i < 20; ++i) {
      uv_run(loop_.raw(), UV_RUN_NOWAIT);  // the reader is not reading: the socket fills
    }
    ASSERT_EQ(done.calls, 0);
    ASSERT_LT(sender.handed(), content_.size() / 2) << "a socket buffer is far less than 2 MiB";
    const size_t kept = content_.size() / 2;
    ASSERT_EQ(::truncate((root_ / "large.bin").c_str(), static_cast<off_t>(kept)), 0);
    std::string got;
    char buf[65536];
    for (int i = 0; i < 200000 && done.calls == 0; ++i) {
      uv_run(loop_.raw(), UV_RUN_NOWAIT);
      ssize_t n = ::read(fds[1], buf, sizeof buf);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    ssize_t n;
    while ((n = ::read(fds[1], buf, sizeof buf)) > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(done.calls, 1);
    EXPECT_EQ(done.status, UV_EIO) << "a short file is an error, never a short success";
    ASSERT_EQ(got.substr(0, 5), "HEAD\n");
    EXPECT_EQ(got.size() - 5, kept) << "every byte the file still had, and not one more";
    EXPECT_TRUE(got.compare(5, std::string::npos, content_, 0, got.size() - 5) == 0);
  }
  uv_run(loop_.raw(), UV_RUN_NOWAIT);  // closes the pipe and the sender's poll handle
  ::close(fds[1]);
}

}  // namespace
}  // namespace doorman::statics::testing
