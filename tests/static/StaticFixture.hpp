#pragma once
// A temp directory tree, a real loop and a FileServer, for driving serve() end to end.
//
//   <tmp>/outside/secret.txt   (never reachable)
//   <tmp>/root/                (the static root)
//     hello.txt  "Hello, world!\n"  (mtime kMtime, like every file here)
//     index.html, page.html, data.bin, empty.txt, "a b.txt", big.bin (100 KiB)
//     sub/index.html, noidx/plain.txt, .secret
//     link-in  -> hello.txt          link-out -> ../outside/secret.txt
//     fifo (a named pipe)

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "doorman/static/FileServer.hpp"

namespace doorman::statics::testing {

namespace fs = std::filesystem;

constexpr int64_t kMtime = 1700000000;  // 0x6553f100; Tue, 14 Nov 2023 22:13:20 GMT
constexpr const char* kHello = "Hello, world!\n";

struct RecordingSink final : StaticSink {
  int calls = 0;
  bool missed = false;
  std::optional<http::Response> response;

  void onStaticResponse(http::Response r) override {
    ++calls;
    response = std::move(r);
  }
  void onStaticMiss() override {
    ++calls;
    missed = true;
  }
};

struct Answer {
  int calls = 0;
  bool missed = false;
  int status = 0;
  http::HeaderMap headers;
  std::string body;

  std::string header(std::string_view name) const {
    const std::string* v = headers.find(name);
    return v != nullptr ? *v : std::string("<none>");
  }
};

class StaticFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/doorman-static-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    fs::create_directories(root_ / "noidx");
    fs::create_directories(base_ / "outside");
    write(base_ / "outside" / "secret.txt", "top secret\n");
    write(root_ / "hello.txt", kHello);
    write(root_ / "index.html", "<h1>root</h1>\n");
    write(root_ / "page.html", "<p>page</p>\n");
    write(root_ / "data.bin", std::string("\x00\x01\x02", 3));
    write(root_ / "empty.txt", "");
    write(root_ / "a b.txt", "spaced\n");
    write(root_ / "big.bin", std::string(100 * 1024, 'x'));
    write(root_ / "sub" / "index.html", "<h1>sub</h1>\n");
    write(root_ / "noidx" / "plain.txt", "plain\n");
    write(root_ / ".secret", "dot\n");
    fs::create_symlink("hello.txt", root_ / "link-in");
    fs::create_symlink("../outside/secret.txt", root_ / "link-out");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      if (entry.is_regular_file() && !entry.is_symlink()) {
        setMtime(entry.path());
      }
    }
    baselineHandles_ = loop_.liveHandleCount();
    route_.prefix = "/static/";
    route_.staticFiles = config::StaticRoute{};
    route_.staticFiles->root = root_.string();
    route_.staticFiles->maxAge = core::Millis(3600 * 1000);
  }

  void TearDown() override {
    files_.reset();
    loop_.run();  // let pending pool work and file closes finish
    EXPECT_EQ(loop_.liveHandleCount(), baselineHandles_) << "a handle outlived the test";
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  static void write(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary);
    out << content;
  }

  static void setMtime(const fs::path& p) {
    timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  }

  static http::Request request(std::string target, std::string method = "GET",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    for (auto& h : headers) {
      r.headers.add(std::move(h.first), std::move(h.second));
    }
    return r;
  }

  FileServer& files() {
    if (!files_) {
      files_ = std::make_unique<FileServer>(loop_, budget_);
    }
    return *files_;
  }

  /// Runs the loop until every pending job is done, failing after a deadline.
  void runLoop() {
    int rc = 0;
    uv::HandlePtr<uv_timer_t> deadline = uv::makeHandle<uv_timer_t>(loop_.raw(), rc, uv_timer_init);
    ASSERT_TRUE(deadline);
    deadline->data = this;
    uv_timer_start(
        deadline.get(),
        [](uv_timer_t* t) {
          static_cast<StaticFixture*>(t->data)->timedOut_ = true;
          uv_stop(t->loop);
        },
        5000, 0);
    uv_unref(uv::asHandle(deadline.get()));  // only pool work keeps the loop running
    loop_.run();
    deadline.reset();
    loop_.run();  // closes the timer
    ASSERT_FALSE(timedOut_) << "the sink was never called";
  }

  Answer serve(const http::Request& req, const config::Route& route) {
    RecordingSink sink;
    StaticTicketPtr ticket = files().serve(route, req, sink);
    EXPECT_EQ(sink.calls, 0) << "the sink must not be called from inside serve()";
    runLoop();
    Answer a;
    a.calls = sink.calls;
    a.missed = sink.missed;
    if (sink.response) {
      a.status = sink.response->status;
      a.headers = sink.response->headers;
      a.body = sink.response->body.toString();
    }
    EXPECT_EQ(a.calls, 1);
    return a;
  }
  Answer serve(const http::Request& req) { return serve(req, route_); }
  Answer get(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return serve(request(std::move(target), "GET", std::move(headers)));
  }

  uv::Loop loop_;
  core::MemoryBudget* budget_ = nullptr;
  std::unique_ptr<FileServer> files_;
  config::Route route_;
  fs::path base_;
  fs::path root_;
  size_t baselineHandles_ = 0;
  bool timedOut_ = false;
};

}  // namespace doorman::statics::testing
