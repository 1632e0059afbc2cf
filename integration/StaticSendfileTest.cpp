// Large static files (past static_cache.max_file) go out with sendfile(2) from the open
// descriptor, end to end with the real binary:
//   - a large sparse file (128 MiB) to 20 concurrent curl clients arrives intact (sha256 and size)
//     while doorman's RSS stays flat: no file content is copied into its memory;
//   - a file truncated while it is being sent to a slow reader ends with the connection
//     closed before the promised Content-Length, after bytes that are all the file's own
//     (never more, never other bytes);
//   - a file replaced by rename while it is being sent still sends the old content in
//     full (the file that was opened); the next request gets the new one;
//   - single ranges and multipart ranges of a large file, with curl as the client;
//   - the head leaves in the same TCP segment as the file's first bytes (MSG_MORE): a
//     head sent alone costs the client a wake-up and a read per response (scenario 3
//     of bench/ served 1 MiB files 25% slower that way);
//   - a file that is not in the page cache is read on the thread pool, a window at a
//     time, before sendfile sends it (sendfile would wait for the disk on the event
//     loop, holding every other connection): doorman_file_warmups_total counts the
//     windows; a file already cached is sent without any.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/Checks.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Process.hpp"
#include "harness/Resources.hpp"
#include "harness/TcpInfo.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMiB = 1 << 20;

#ifdef DOORMAN_IT_SANITIZED
// ASan maps shadow memory and keeps freed memory in quarantine: RSS means nothing there,
// and everything is slower. Same shapes, smaller files.
constexpr bool kRssMeaningful = false;
constexpr size_t kSparseSize = 32 * kMiB;
constexpr size_t kSlowSize = 16 * kMiB;
#else
constexpr bool kRssMeaningful = true;
constexpr size_t kSparseSize = 128 * kMiB;
constexpr size_t kSlowSize = 64 * kMiB;
#endif

/// `count` bytes whose every 4-byte word is its own index: a byte from the wrong offset
/// can never pass for the right one.
std::string countingBytes(size_t count) {
  std::string s(count, '\0');
  for (size_t i = 0; i + 4 <= count; i += 4) {
    auto word = static_cast<uint32_t>(i / 4);
    std::memcpy(s.data() + i, &word, 4);
  }
  return s;
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

class StaticSendfileTest : public IntegrationTest {
 protected:
  StaticSendfileTest() {
    www_ = dir_.file("www");
    fs::create_directories(www_);
    writeFile(www_ + "/small.txt", "small\n");
  }

  void start(const std::string& extra = "") {
    std::string yaml = extra +
                       "listen: [ \"127.0.0.1:{port}\" ]\n"
                       "buffering: { temp_dir: \"{dir}\" }\n"
                       "timeouts: { send_idle: 30s }\n"
                       "log: { level: debug }\n"
                       "routes:\n"
                       "  - { prefix: /static/, static: { root: \"" +
                       www_ + "\" } }\n";
    doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
  }

  /// Runs `script` under bash with $1 = the URL of `path`; stdout+stderr, exit status.
  std::string bash(const std::string& script, const std::string& path, int& exitCode,
                   const std::string& logName) {
    ProcessOptions options;
    options.name = "bash";
    options.argv = {"bash", "-c", script, "bash", "http://" + doorman_->address() + path};
    options.logPath = dir_.file(logName);
    std::string output;
    auto status = runToCompletion(options, milliseconds(55000), output);
    exitCode = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return output;
  }

  /// A slow reader (4 KiB receive buffer) that asked for `path` and holds the head and
  /// the first bytes of the body.
  std::unique_ptr<HttpClient> slowReaderOf(const std::string& path) {
    auto client = std::make_unique<HttpClient>(doorman_->address(), milliseconds(5000),
                                               SocketOptions{.receiveBuffer = 4096});
    EXPECT_TRUE(client->send(httpGet(path)));
    EXPECT_TRUE(waitUntil(
        [&] {
          client->pull(4096, milliseconds(100));
          size_t headEnd = client->received().find("\r\n\r\n");
          return headEnd != std::string_view::npos && client->buffered() > headEnd + 4 + 16384;
        },
        milliseconds(10000)))
        << "the head and the first body bytes never came";
    return client;
  }

  /// Reads everything until EOF (or 30 s of silence).
  static void readToEnd(HttpClient& client) {
    while (!client.eof() && client.pull(1 << 20, milliseconds(30000)) > 0) {
    }
  }

  std::string www_;
  std::unique_ptr<DoormanProcess> doorman_;
};

struct Received {
  std::string head;
  std::string_view body;
};

Received split(std::string_view raw) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return {std::string(raw), {}};
  }
  return {std::string(raw.substr(0, end + 4)), raw.substr(end + 4)};
}

TEST_F(StaticSendfileTest, ALargeSparseFileToTwentyCurlClientsKeepsMemoryFlat) {
  // Sparse, with real bytes at the start, in the middle (odd offset) and at the end, so
  // the checksum notices a misplaced or missing piece.
  const std::string path = www_ + "/sparse.bin";
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kSparseSize)), 0);
    std::string marks = countingBytes(64 * 1024);
    for (size_t at : {size_t{0}, kSparseSize / 2 + 7, kSparseSize - marks.size()}) {
      ASSERT_EQ(::pwrite(fd, marks.data(), marks.size(), static_cast<off_t>(at)),
                static_cast<ssize_t>(marks.size()));
    }
    ::close(fd);
  }
  start();
  std::string expected;
  {
    ProcessOptions options;
    options.name = "sha256sum";
    options.argv = {"sha256sum", path};
    options.logPath = dir_.file("sha-expected.out");
    auto status = runToCompletion(options, milliseconds(55000), expected);
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << expected;
    expected = expected.substr(0, 64);
  }
  // One request first, so the lazily built state (date cache, MIME table pages) is in
  // the baseline.
  ASSERT_EQ(fetch(doorman_->address(), httpGet("/static/small.txt"))->status, 200);
  size_t baselineFds = settledFdCount(*doorman_);
  size_t baselineRss = rssOf(doorman_->pid());

  constexpr size_t kClients = 20;
  ResourceSampler sampler(doorman_->pid());
  // curl writes the body into sha256sum (process substitution, waited for) and its size
  // and status to stdout.
  const std::string script =
      "curl -sS --max-time 50 -w 'size=%{size_download} status=%{http_code}\\n' "
      "-o >(sha256sum) \"$1\"; rc=$?; wait $!; exit $rc";
  auto failures = runInParallel(kClients, [&](size_t i) {
    int exitCode = -1;
    std::string out =
        bash(script, "/static/sparse.bin", exitCode, "curl-" + std::to_string(i) + ".out");
    if (exitCode != 0) throw std::runtime_error("curl " + std::to_string(i) + ": " + out);
    if (out.find("size=" + std::to_string(kSparseSize) + " status=200") == std::string::npos)
      throw std::runtime_error("client " + std::to_string(i) + " got: " + out);
    if (out.find(expected + "  -") == std::string::npos)
      throw std::runtime_error("client " + std::to_string(i) + " checksum differs: " + out);
  });
  size_t peakRss = sampler.stop();
  std::printf("[ sendfile ] %zu x %zu MiB: RSS baseline %zu KiB, peak %zu KiB\n", kClients,
              kSparseSize / kMiB, baselineRss / 1024, peakRss / 1024);
  ASSERT_TRUE(failures.empty()) << joinLines(failures) << doorman_->log().substr(0, 4000);
  if (kRssMeaningful) {
    // 20 x 128 MiB went through; reading them into memory would cost gigabytes. A few
    // MiB are allowed for connection state and allocator slack.
    EXPECT_LE(peakRss, baselineRss + 6 * kMiB)
        << "peak RSS " << peakRss / 1024 << " KiB, baseline " << baselineRss / 1024 << " KiB";
  }
  EXPECT_TRUE(fdCountReturnsTo(*doorman_, baselineFds)) << "every file descriptor is closed";
}

TEST_F(StaticSendfileTest, AFileTruncatedWhileSentToASlowReaderClosesBeforeContentLength) {
  const std::string content = countingBytes(kSlowSize);
  const std::string path = www_ + "/shrinks.bin";
  writeFile(path, content);
  start();
  size_t baselineFds = settledFdCount(*doorman_);

  std::unique_ptr<HttpClient> client = slowReaderOf("/static/shrinks.bin");
  ASSERT_FALSE(HasFailure());
  // The client has read a few KiB; doorman is at most a socket buffer or two ahead, far
  // from the half it is about to lose.
  const size_t kept = kSlowSize / 2;
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kept)), 0);
  readToEnd(*client);
  EXPECT_TRUE(client->eof()) << "doorman closes the connection";

  Received got = split(client->received());
  EXPECT_NE(got.head.find("HTTP/1.1 200 "), std::string::npos) << got.head;
  EXPECT_NE(got.head.find("Content-Length: " + std::to_string(kSlowSize) + "\r\n"),
            std::string::npos)
      << got.head;
  EXPECT_LT(got.body.size(), kSlowSize) << "never as many bytes as promised";
  EXPECT_LE(got.body.size(), kept) << "never more than the file still holds";
  EXPECT_TRUE(got.body == std::string_view(content).substr(0, got.body.size()))
      << "every byte is the file's own, at its own offset";
  EXPECT_EQ(got.body.size(), kept) << "what was queued before the close still arrives";

  client.reset();
  auto after = fetch(doorman_->address(), httpGet("/static/small.txt"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "small\n");
  EXPECT_TRUE(fdCountReturnsTo(*doorman_, baselineFds));
}

TEST_F(StaticSendfileTest, AFileReplacedByRenameWhileSentStillSendsTheOpenedOne) {
  const std::string content = countingBytes(kSlowSize);
  const std::string path = www_ + "/replaced.bin";
  writeFile(path, content);
  start();
  size_t baselineFds = settledFdCount(*doorman_);

  std::unique_ptr<HttpClient> client = slowReaderOf("/static/replaced.bin");
  ASSERT_FALSE(HasFailure());
  const std::string replacement(300 * 1024, 'N');
  writeFile(www_ + "/.new", replacement);
  fs::rename(www_ + "/.new", path);

  auto response = client->readResponse(milliseconds(30000));
  ASSERT_TRUE(response) << client->error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), kSlowSize);
  EXPECT_TRUE(response->body == content) << "the old file, whole";

  auto next = fetch(doorman_->address(), httpGet("/static/replaced.bin"));
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->body == replacement) << "a new request opens the new file";
  client.reset();
  EXPECT_TRUE(fdCountReturnsTo(*doorman_, baselineFds));
}

TEST_F(StaticSendfileTest, RangesOfALargeFileWithCurl) {
  const std::string content = countingBytes(4 * kMiB);
  writeFile(www_ + "/ranges.bin", content);
  start();
  int code = -1;
  // One range: 206 and exactly those bytes (written to a file, compared below).
  std::string single = dir_.file("single.out");
  std::string out =
      bash("curl -sS -w '%{http_code}' --range 1000000-2999999 -o '" + single + "' \"$1\"",
           "/static/ranges.bin", code, "curl-single.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "206");
  EXPECT_TRUE(readFile(single) == content.substr(1000000, 2000000));

  // Two ranges: multipart/byteranges, each part's bytes after its own header.
  std::string multi = dir_.file("multi.out");
  out = bash("curl -sS -w '%{http_code} %{content_type}' --range 0-99,3000000-3000099 -o '" +
                 multi + "' \"$1\"",
             "/static/ranges.bin", code, "curl-multi.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.substr(0, 4), "206 ");
  EXPECT_NE(out.find("multipart/byteranges; boundary="), std::string::npos) << out;
  std::string body = readFile(multi);
  EXPECT_NE(
      body.find("Content-Range: bytes 0-99/4194304\r\n\r\n" + content.substr(0, 100) + "\r\n--"),
      std::string::npos);
  EXPECT_NE(body.find("Content-Range: bytes 3000000-3000099/4194304\r\n\r\n" +
                      content.substr(3000000, 100) + "\r\n--"),
            std::string::npos);
  EXPECT_LT(body.size(), 1000u);
}

TEST_F(StaticSendfileTest, TheHeadAndTheFileLeaveInOneSegment) {
  // 2 KiB: past max_file, so sendfile(2) sends it; head and file fit in one segment.
  const std::string content = countingBytes(2048);
  writeFile(www_ + "/two.bin", content);
  start("static_cache: { max_file: 1KiB }\n");
  HttpClient client(doorman_->address());
  auto roundTrip = [&] {
    ASSERT_TRUE(client.send(httpGet("/static/two.bin")));
    auto response = client.readResponse();
    ASSERT_TRUE(response) << client.error();
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(response->body == content);
  };
  for (int i = 0; i < 5 && !HasFailure(); ++i) {
    roundTrip();  // past the start of the connection
  }
  std::optional<uint32_t> before = dataSegmentsIn(client.fd());
  ASSERT_TRUE(before) << "TCP_INFO has no tcpi_data_segs_in on this kernel";
  constexpr uint32_t kRequests = 20;
  for (uint32_t i = 0; i < kRequests && !HasFailure(); ++i) {
    roundTrip();
  }
  std::optional<uint32_t> after = dataSegmentsIn(client.fd());
  ASSERT_TRUE(after);
  // One segment per response; a head sent on its own would make it two (40 here).
  EXPECT_GE(*after - *before, kRequests);
  EXPECT_LE(*after - *before, kRequests + kRequests / 4)
      << "the head went out in a segment of its own";
}

/// Drops `path` from the page cache; false when the kernel kept the page at `offset`
/// (tmpfs, a file system that ignores the advice). mincore(2) tells without reading:
/// a read that may not wait (RWF_NOWAIT) would start readahead of what it asked for.
bool evictFromPageCache(const std::string& path, off_t offset = 0) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  ::fdatasync(fd);  // dirty pages are not dropped
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  const auto page = static_cast<off_t>(::sysconf(_SC_PAGESIZE));
  const off_t at = offset / page * page;
  void* map = ::mmap(nullptr, static_cast<size_t>(page), PROT_READ, MAP_SHARED, fd, at);
  ::close(fd);
  if (map == MAP_FAILED) {
    return false;
  }
  unsigned char resident = 1;
  bool evicted = ::mincore(map, static_cast<size_t>(page), &resident) == 0 && (resident & 1) == 0;
  ::munmap(map, static_cast<size_t>(page));
  return evicted;
}

TEST_F(StaticSendfileTest, AColdFileIsReadOnTheThreadPoolBeforeSendfileSendsIt) {
  const size_t size = 6 * kMiB + 12345;  // 7 windows, the last one partial
  const std::string content = countingBytes(size);
  const std::string path = www_ + "/cold.bin";
  writeFile(path, content);
  const std::string admin = loopback(freeTcpPort());
  start("admin: { listen: \"" + admin + "\" }\n");
  if (!evictFromPageCache(path)) {
    GTEST_SKIP() << "the kernel keeps " << path << " in the page cache (tmpfs?)";
  }
  EXPECT_EQ(metric(admin, "doorman_file_warmups_total"), 0);

  HttpClient cold(doorman_->address());
  ASSERT_TRUE(cold.send(httpGet("/static/cold.bin")));
  auto response = cold.readResponse();
  ASSERT_TRUE(response) << cold.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), size);
  EXPECT_TRUE(response->body == content) << "the bytes differ from the file's";
  double warmups = metric(admin, "doorman_file_warmups_total");
  EXPECT_GE(warmups, 1) << "the cold file went to sendfile without a warm-up";
  EXPECT_LE(warmups, 7) << "more warm-ups than the file has windows";

  // Now it is cached: sent from the loop at once, with no trip to the pool.
  HttpClient hot(doorman_->address());
  ASSERT_TRUE(hot.send(httpGet("/static/cold.bin")));
  auto again = hot.readResponse();
  ASSERT_TRUE(again) << hot.error();
  EXPECT_TRUE(again->body == content);
  EXPECT_EQ(metric(admin, "doorman_file_warmups_total"), warmups);

  // A range in the middle of an evicted file: only its own windows are read.
  if (evictFromPageCache(path, 3 * kMiB)) {
    HttpClient ranged(doorman_->address());
    ASSERT_TRUE(
        ranged.send("GET /static/cold.bin HTTP/1.1\r\nHost: t\r\n"
                    "Range: bytes=3145728-3146751\r\n\r\n"));
    auto part = ranged.readResponse();
    ASSERT_TRUE(part) << ranged.error();
    EXPECT_EQ(part->status, 206);
    EXPECT_TRUE(part->body == content.substr(3 * kMiB, 1024));
    EXPECT_EQ(metric(admin, "doorman_file_warmups_total"), warmups + 1);
  }
}

}  // namespace
}  // namespace doorman::it
