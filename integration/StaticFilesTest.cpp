// Static routes end to end: the real doorman binary serving a scratch tree, checked on the
// wire (status, Content-Length, bodies, connection reuse) with our raw client and with
// curl as a real client. Table-driven: each row is one request and what must come back.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Process.hpp"
#include "harness/TcpInfo.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMtime = 1700000000;  // Tue, 14 Nov 2023 22:13:20 GMT
const std::string kHello = "Hello, world!\n";
const std::string kHelloEtag = "\"6553f100-e\"";
const std::string kHelloDate = "Tue, 14 Nov 2023 22:13:20 GMT";
const std::string kSecret = "TOP-SECRET-OUTSIDE-THE-ROOT";

/// <dir>/www is the root of /static/; <dir>/secret.txt and <dir>/www/.env must never leak.
class StaticFilesTest : public IntegrationTest {
 protected:
  StaticFilesTest() {
    www_ = dir_.file("www");
    fs::create_directories(www_ + "/sub");
    fs::create_directories(www_ + "/noidx");
    fs::create_directories(www_ + "/try");
    write(dir_.file("secret.txt"), kSecret);
    write(www_ + "/hello.txt", kHello);
    write(www_ + "/hello.txt.gz", "GZ-HELLO");
    write(www_ + "/hello.txt.br", "BR");
    write(www_ + "/style.css", "body { color: red }\n");
    write(www_ + "/sub/index.html", "<h1>sub</h1>\n");
    write(www_ + "/noidx/a.txt", "a\n");
    write(www_ + "/.env", kSecret);
    write(www_ + "/try/file.txt", "from disk\n");
    std::string big;
    for (int i = 0; i < 300000; ++i) {
      big.push_back(static_cast<char>('a' + i % 26));
    }
    write(www_ + "/big.bin", big);
    big_ = big;
    fs::create_symlink("../secret.txt", www_ + "/escape.txt");
    fs::create_symlink("hello.txt", www_ + "/inside.txt");
    for (const auto& entry : fs::recursive_directory_iterator(www_)) {
      if (entry.is_regular_file() && !entry.is_symlink()) {
        timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
        ::utimensat(AT_FDCWD, entry.path().c_str(), times, 0);
      }
    }
  }

  static void write(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  /// doorman with /static/ on www (and extra route YAML lines).
  void start(const std::string& extraRoutes = "", const std::string& upstreams = "") {
    std::string yaml =
        "listen: [ \"127.0.0.1:{port}\" ]\n"
        "buffering: { temp_dir: \"{dir}\" }\n"
        "log: { level: debug }\n" +
        upstreams +
        "routes:\n"
        "  - { prefix: /static/, static: { root: \"" +
        www_ + "\", max_age: 1h } }\n" + extraRoutes;
    doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
  }

  std::optional<HttpResponse> get(const std::string& target, const HeaderList& headers = {},
                                  const std::string& method = "GET") {
    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
    for (const auto& [name, value] : headers) {
      raw += name + ": " + value + "\r\n";
    }
    raw += "\r\n";
    HttpClient client(doorman_->address());
    if (!client.send(raw)) {
      return std::nullopt;
    }
    return client.readResponse(milliseconds(10000), method == "HEAD");
  }

  /// curl with `args` against `path`; stdout (the -w/-D output), exit code in `exitCode`.
  std::string curl(std::vector<std::string> args, const std::string& path, int& exitCode) {
    ProcessOptions options;
    options.name = "curl";
    options.argv = {"curl", "-sS", "--max-time", "20"};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.argv.push_back("http://" + doorman_->address() + path);
    options.logPath = dir_.file("curl-" + std::to_string(++curlRuns_) + ".out");
    std::string output;
    auto status = runToCompletion(options, milliseconds(30000), output);
    exitCode = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return output;
  }

  std::string www_;
  std::string big_;
  int curlRuns_ = 0;
  std::unique_ptr<DoormanProcess> doorman_;
};

struct Row {
  const char* what;
  std::string target;
  HeaderList headers;
  int status;
  std::string body;  ///< "*" : not checked
  HeaderList expectHeaders;
};

void checkRows(StaticFilesTest* self, const std::vector<Row>& rows,
               const std::function<std::optional<HttpResponse>(const Row&)>& send) {
  (void)self;
  for (const Row& row : rows) {
    auto response = send(row);
    ASSERT_TRUE(response) << row.what;
    EXPECT_EQ(response->status, row.status) << row.what;
    if (row.body != "*") {
      EXPECT_EQ(response->body, row.body) << row.what;
    }
    for (const auto& [name, value] : row.expectHeaders) {
      EXPECT_EQ(response->header(name).value_or("<none>"), value) << row.what << ": " << name;
    }
    if (response->status != 304 && response->status >= 200) {
      EXPECT_EQ(response->header("Content-Length").value_or("<none>"),
                std::to_string(response->body.size()))
          << row.what;
    }
  }
}

TEST_F(StaticFilesTest, ConditionalAndRangeMatrix) {
  start();
  const std::vector<Row> rows = {
      {"plain GET",
       "/static/hello.txt",
       {},
       200,
       kHello,
       {{"Content-Type", "text/plain; charset=utf-8"},
        {"ETag", kHelloEtag},
        {"Last-Modified", kHelloDate},
        {"Accept-Ranges", "bytes"},
        {"Cache-Control", "public, max-age=3600"},
        {"Vary", "Accept-Encoding"}}},
      {"If-None-Match hit",
       "/static/hello.txt",
       {{"If-None-Match", kHelloEtag}},
       304,
       "",
       {{"ETag", kHelloEtag}, {"Content-Length", "<none>"}}},
      {"If-None-Match weak",
       "/static/hello.txt",
       {{"If-None-Match", "W/" + kHelloEtag}},
       304,
       "",
       {}},
      {"If-None-Match list",
       "/static/hello.txt",
       {{"If-None-Match", "\"x\", " + kHelloEtag}},
       304,
       "",
       {}},
      {"If-None-Match *", "/static/hello.txt", {{"If-None-Match", "*"}}, 304, "", {}},
      {"If-None-Match miss", "/static/hello.txt", {{"If-None-Match", "\"x\""}}, 200, kHello, {}},
      {"If-Modified-Since equal",
       "/static/hello.txt",
       {{"If-Modified-Since", kHelloDate}},
       304,
       "",
       {}},
      {"If-Modified-Since older",
       "/static/hello.txt",
       {{"If-Modified-Since", "Mon, 13 Nov 2023 00:00:00 GMT"}},
       200,
       kHello,
       {}},
      {"If-Match miss", "/static/hello.txt", {{"If-Match", "\"x\""}}, 412, "*", {}},
      {"If-Match hit", "/static/hello.txt", {{"If-Match", kHelloEtag}}, 200, kHello, {}},
      {"If-Unmodified-Since older",
       "/static/hello.txt",
       {{"If-Unmodified-Since", "Mon, 13 Nov 2023 00:00:00 GMT"}},
       412,
       "*",
       {}},
      {"range",
       "/static/hello.txt",
       {{"Range", "bytes=0-4"}},
       206,
       "Hello",
       {{"Content-Range", "bytes 0-4/14"}}},
      {"suffix range",
       "/static/hello.txt",
       {{"Range", "bytes=-6"}},
       206,
       "orld!\n",
       {{"Content-Range", "bytes 8-13/14"}}},
      {"open range",
       "/static/hello.txt",
       {{"Range", "bytes=7-"}},
       206,
       "world!\n",
       {{"Content-Range", "bytes 7-13/14"}}},
      {"unsatisfiable",
       "/static/hello.txt",
       {{"Range", "bytes=14-"}},
       416,
       "*",
       {{"Content-Range", "bytes */14"}}},
      {"If-Range match",
       "/static/hello.txt",
       {{"Range", "bytes=0-4"}, {"If-Range", kHelloEtag}},
       206,
       "Hello",
       {}},
      {"If-Range stale",
       "/static/hello.txt",
       {{"Range", "bytes=0-4"}, {"If-Range", "\"old\""}},
       200,
       kHello,
       {}},
      {"range on big file",
       "/static/big.bin",
       {{"Range", "bytes=100000-100009"}},
       206,
       big_.substr(100000, 10),
       {{"Content-Range", "bytes 100000-100009/300000"}}},
      {"whole big file", "/static/big.bin", {}, 200, big_, {}},
  };
  checkRows(this, rows, [&](const Row& row) { return get(row.target, row.headers); });

  // Several ranges: multipart/byteranges with a correct Content-Length.
  auto multi = get("/static/hello.txt", {{"Range", "bytes=0-1,7-10"}});
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->status, 206);
  std::string type = multi->header("Content-Type").value_or("");
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u) << type;
  std::string boundary = type.substr(type.find('=') + 1);
  EXPECT_EQ(multi->body, "--" + boundary +
                             "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes "
                             "0-1/14\r\n\r\nHe\r\n--" +
                             boundary +
                             "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes "
                             "7-10/14\r\n\r\nworl\r\n--" +
                             boundary + "--\r\n");
}

TEST_F(StaticFilesTest, TraversalAttemptsNeverLeaveTheRoot) {
  start();
  struct Attempt {
    const char* target;
    int status;
  };
  const Attempt attempts[] = {
      {"/static/../secret.txt", 404},
      {"/static/sub/../../secret.txt", 404},
      {"/static/%2e%2e/secret.txt", 404},
      {"/static/%2E%2E/secret.txt", 404},
      {"/static/.%2e/secret.txt", 404},
      {"/static/%2e%2e%2fsecret.txt", 404},
      {"/static/..%2fsecret.txt", 404},
      {"/static/sub%2f..%2f..%2fsecret.txt", 404},
      {"/static/..%5csecret.txt", 404},
      {"/static/..\\secret.txt", 404},
      {"/static/%252e%252e/secret.txt", 404},  // decoded once: a file named "%2e%2e"
      {"/static/hello.txt%00.png", 404},
      {"/static/%c0%ae%c0%ae/secret.txt", 400},  // overlong UTF-8 dots
      {"/static/%e0%80%ae%e0%80%ae/secret.txt", 400},
      {"/static/%c0%af", 400},
      {"/static/%zz", 400},
      {"/static/.env", 404},  // dotfiles denied
      {"/static/%2eenv", 404},
      {"/static/sub/./index.html", 404},
      {"/static/escape.txt", 404},  // symlink out of the root
      {"/static//../secret.txt", 404},
  };
  for (const auto& attempt : attempts) {
    auto response = get(attempt.target);
    ASSERT_TRUE(response) << attempt.target;
    EXPECT_EQ(response->status, attempt.status) << attempt.target;
    EXPECT_EQ(response->body.find(kSecret), std::string::npos) << attempt.target;
  }
  auto inside = get("/static/inside.txt");  // a symlink that stays inside is fine
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->status, 200);
  EXPECT_EQ(inside->body, kHello);
}

TEST_F(StaticFilesTest, SymlinksOutOfTheRootOnlyWhenConfigured) {
  std::string yaml =
      "listen: [ \"127.0.0.1:{port}\" ]\n"
      "buffering: { temp_dir: \"{dir}\" }\n"
      "routes:\n"
      "  - { prefix: /static/, static: { root: \"" +
      www_ + "\", follow_symlinks: true } }\n";
  doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
  auto response = get("/static/escape.txt");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, kSecret);
  EXPECT_EQ(get("/static/../secret.txt")->status, 404) << "'..' stays refused";
}

TEST_F(StaticFilesTest, PrecompressedSiblingsHeadMethodsAndDirectories) {
  start();
  const std::vector<Row> rows = {
      {"gzip",
       "/static/hello.txt",
       {{"Accept-Encoding", "gzip"}},
       200,
       "GZ-HELLO",
       {{"Content-Encoding", "gzip"},
        {"Vary", "Accept-Encoding"},
        {"ETag", "\"6553f100-8-gzip\""},
        {"Content-Type", "text/plain; charset=utf-8"}}},
      {"br preferred",
       "/static/hello.txt",
       {{"Accept-Encoding", "gzip, deflate, br"}},
       200,
       "BR",
       {{"Content-Encoding", "br"}, {"ETag", "\"6553f100-2-br\""}}},
      {"q-values",
       "/static/hello.txt",
       {{"Accept-Encoding", "br;q=0.1, gzip;q=0.9"}},
       200,
       "GZ-HELLO",
       {{"Content-Encoding", "gzip"}}},
      {"refused",
       "/static/hello.txt",
       {{"Accept-Encoding", "gzip;q=0"}},
       200,
       kHello,
       {{"Content-Encoding", "<none>"}}},
      {"range of the encoded file",
       "/static/hello.txt",
       {{"Accept-Encoding", "gzip"}, {"Range", "bytes=3-"}},
       206,
       "HELLO",
       {{"Content-Range", "bytes 3-7/8"}, {"Content-Encoding", "gzip"}}},
      {"no sibling",
       "/static/style.css",
       {{"Accept-Encoding", "gzip, br"}},
       200,
       "body { color: red }\n",
       {{"Content-Encoding", "<none>"},
        {"Vary", "<none>"},
        {"Content-Type", "text/css; charset=utf-8"}}},
      {"directory redirect", "/static/sub?x=1", {}, 301, "*", {{"Location", "/static/sub/?x=1"}}},
      {"index file",
       "/static/sub/",
       {},
       200,
       "<h1>sub</h1>\n",
       {{"Content-Type", "text/html; charset=utf-8"}}},
      {"no index, no listing", "/static/noidx/", {}, 404, "*", {}},
      {"missing", "/static/nope.txt", {}, 404, "*", {}},
      {"file with slash", "/static/hello.txt/", {}, 404, "*", {}},
  };
  checkRows(this, rows, [&](const Row& row) { return get(row.target, row.headers); });

  // 405 with Allow for everything but GET and HEAD.
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    HttpClient client(doorman_->address());
    ASSERT_TRUE(client.send(std::string(method) +
                            " /static/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
    auto response = client.readResponse();
    ASSERT_TRUE(response) << method;
    EXPECT_EQ(response->status, 405) << method;
    EXPECT_EQ(response->header("Allow").value_or(""), "GET, HEAD") << method;
  }

  // HEAD: the GET headers with the full Content-Length, no body, and the connection stays
  // usable (a body would be read as the next response).
  HttpClient client(doorman_->address());
  ASSERT_TRUE(
      client.send("HEAD /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /static/hello.txt "
                  "HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.readResponse(milliseconds(10000), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length").value_or(""), "300000");
  EXPECT_EQ(head->header("ETag").value_or(""), "\"6553f100-493e0\"");
  auto next = client.readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, kHello);
}

TEST_F(StaticFilesTest, TryFilesServesTheFileElseTheApp) {
  GunicornBackend gunicorn(dir_, 1);
  start("  - { prefix: /echo/, static: { root: \"" + www_ +
            "/try\" }, upstream: app }\n"
            "  - { prefix: /, upstream: app }\n",
        "upstreams:\n  app:\n    servers: [ { address: \"" + gunicorn.address() +
            "\", workers: 1 } ]\n");
  auto file = get("/echo/file.txt");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->status, 200);
  EXPECT_EQ(file->body, "from disk\n");
  auto missing = get("/echo/not-a-file");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 200);
  EXPECT_NE(missing->body.find("\"path\": \"/echo/not-a-file\""), std::string::npos)
      << missing->body;
  auto post = get("/echo/file.txt", {{"Content-Length", "0"}}, "POST");
  ASSERT_TRUE(post);
  EXPECT_NE(post->body.find("\"method\": \"POST\""), std::string::npos) << post->body;
}

TEST_F(StaticFilesTest, CurlAsARealClient) {
  start();
  int code = 0;
  // --range: a single range and a multipart one.
  EXPECT_EQ(curl({"--range", "0-4"}, "/static/hello.txt", code), "Hello");
  EXPECT_EQ(code, 0);
  std::string out = curl({"-D", "-", "--range", "0-1,7-10"}, "/static/hello.txt", code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("HTTP/1.1 206"), std::string::npos) << out;
  EXPECT_NE(out.find("multipart/byteranges"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\nworl\r\n--"), std::string::npos) << out;
  // --compressed: curl asks for gzip (and br when built with it) and decodes; a real gzip
  // sibling makes this check the bytes, not just the header.
  const std::string text = "doorman serves pre-compressed files\n";
  write(www_ + "/z.txt", text);
  ProcessOptions gzip;
  gzip.name = "gzip";
  gzip.argv = {"gzip", "-k", "-n", "-9", www_ + "/z.txt"};
  gzip.logPath = dir_.file("gzip.out");
  std::string ignored;
  ASSERT_TRUE(runToCompletion(gzip, milliseconds(10000), ignored));
  out = curl(
      {"--compressed", "-H", "Accept-Encoding: gzip", "-w", "\n%{content_type}|%{size_download}"},
      "/static/z.txt", code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.substr(0, text.size()), text);
  EXPECT_EQ(out.substr(text.size()),
            "\ntext/plain; charset=utf-8|" + std::to_string(fs::file_size(www_ + "/z.txt.gz")));
  // -I (HEAD) and -z (If-Modified-Since).
  out = curl({"-I"}, "/static/big.bin", code);
  EXPECT_NE(out.find("Content-Length: 300000"), std::string::npos) << out;
  out =
      curl({"-o", "/dev/null", "-w", "%{http_code}", "-z", kHelloDate}, "/static/hello.txt", code);
  EXPECT_EQ(out, "304");
  // A download manager's resume: -C - continues a partial file with a range.
  const std::string partial = dir_.file("big.part");
  write(partial, big_.substr(0, 123456));
  curl({"-C", "-", "-o", partial}, "/static/big.bin", code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(readFile(partial) == big_);
}

/// Files from the small-file cache (prebuilt head + body): framing on a kept-alive and
/// pipelined connection, HTTP/1.0, Connection: close, and an edit seen within the check
/// interval.
TEST_F(StaticFilesTest, CachedFilesOnTheWire) {
  std::string yaml =
      "listen: [ \"127.0.0.1:{port}\" ]\n"
      "buffering: { temp_dir: \"{dir}\" }\n"
      "static_cache: { size: 1MiB, max_file: 64KiB, check_interval: 100ms }\n"
      "routes:\n"
      "  - { prefix: /static/, static: { root: \"" +
      www_ + "\" } }\n";
  doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
  ASSERT_EQ(get("/static/hello.txt")->body, kHello);  // fills the cache

  HttpClient client(doorman_->address());
  const std::string h = " HTTP/1.1\r\nHost: x\r\n";
  ASSERT_TRUE(client.send("GET /static/hello.txt" + h + "\r\n" +  //
                          "HEAD /static/hello.txt" + h + "\r\n" + "GET /static/hello.txt" + h +
                          "If-None-Match: " + kHelloEtag + "\r\n\r\n" + "GET /static/hello.txt" +
                          h + "Connection: close\r\n\r\n"));
  auto first = client.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, kHello);
  EXPECT_EQ(first->header("Content-Length").value_or(""), "14");
  EXPECT_TRUE(first->has("Date"));
  EXPECT_FALSE(first->connectionClose());
  auto head = client.readResponse(milliseconds(10000), true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length").value_or(""), "14");
  auto notModified = client.readResponse();
  ASSERT_TRUE(notModified);
  EXPECT_EQ(notModified->status, 304);
  EXPECT_FALSE(notModified->has("Content-Length"));
  EXPECT_EQ(notModified->body, "");
  auto last = client.readResponse();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, kHello);
  EXPECT_TRUE(last->connectionClose());
  EXPECT_TRUE(client.waitForClose());

  HttpClient old(doorman_->address());
  ASSERT_TRUE(old.send("GET /static/hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto http10 = old.readResponse();
  ASSERT_TRUE(http10);
  EXPECT_EQ(http10->body, kHello);
  EXPECT_EQ(http10->header("Connection").value_or(""), "keep-alive");

  // Edited in place: the new bytes show up once the entry is checked.
  write(www_ + "/hello.txt", "Hello, doorman\n");
  bool seen = waitUntil([&] { return get("/static/hello.txt")->body == "Hello, doorman\n"; },
                        milliseconds(10000), milliseconds(20));
  EXPECT_TRUE(seen);
  auto fresh = get("/static/hello.txt");
  EXPECT_NE(fresh->header("ETag").value_or(""), kHelloEtag);
  EXPECT_EQ(fresh->header("Content-Length").value_or(""), "15");
}

/// The small-file cache lives in buffering.memory_total with everything else and takes
/// only memory nobody else wants: with a 256 KiB budget and the default 64 MiB cache,
/// 40 files of 8 KiB (more than the whole budget) are each served twice, and requests
/// with an 8 KiB head still find room (a cache that kept the budget full answered them
/// 503).
TEST_F(StaticFilesTest, TheCacheGivesWayToRequestsInASmallMemoryBudget) {
  fs::create_directories(www_ + "/many");
  for (int i = 0; i < 40; ++i) {
    write(www_ + "/many/" + std::to_string(i) + ".txt", std::string(8 * 1024, 'a' + i % 26));
  }
  std::string yaml =
      "listen: [ \"127.0.0.1:{port}\" ]\n"
      "buffering: { temp_dir: \"{dir}\", memory_total: 256KiB, memory_per_message: 64KiB }\n"
      "routes:\n"
      "  - { prefix: /static/, static: { root: \"" +
      www_ + "\" } }\n";
  doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      auto response = get("/static/many/" + std::to_string(i) + ".txt",
                          {{"X-Pad", std::string(8 * 1024, 'p')}});
      ASSERT_TRUE(response) << "round " << round << ", file " << i;
      ASSERT_EQ(response->status, 200)
          << "round " << round << ", file " << i << ": " << response->body;
      EXPECT_EQ(response->body, std::string(8 * 1024, 'a' + i % 26));
    }
  }
}

/// The cache in front of the pipelined tests: one small file, cached before they start.
const char* kCacheYaml = "static_cache: { size: 1MiB, max_file: 64KiB, check_interval: 10s }\n";

/// Pipelined requests for cached files: each answer but the last is corked (MSG_MORE)
/// and leaves with the next ones, instead of one small segment per answer (without it:
/// 16 data segments for 16 answers, seen; with it: 4).
TEST_F(StaticFilesTest, PipelinedCachedAnswersShareSegments) {
  start("", kCacheYaml);
  ASSERT_EQ(get("/static/hello.txt")->body, kHello);  // fills the cache

  constexpr size_t kRequests = 16;
  HttpClient client(doorman_->address());
  std::string batch;
  for (size_t i = 0; i < kRequests; ++i) {
    batch += "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  auto before = dataSegmentsIn(client.fd());
  ASSERT_TRUE(before) << "the kernel does not count segments (TCP_INFO)";
  ASSERT_TRUE(client.send(batch));
  auto responses = client.readResponses(kRequests);
  ASSERT_EQ(responses.size(), kRequests);
  for (const auto& response : responses) {
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, kHello);
  }
  uint32_t segments = dataSegmentsIn(client.fd()).value_or(0) - *before;
  EXPECT_LE(segments, kRequests / 2)
      << segments << " segments for " << kRequests << " pipelined answers";
  // Nothing more is owed, and the connection is still open for the next request.
  EXPECT_EQ(client.pull(1, milliseconds(200)), 0u);
  ASSERT_TRUE(client.send("GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto after = client.readResponse();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, kHello);
}

/// A corked answer whose next request is still incomplete is pushed out at once, not
/// held until that request completes. Linux itself sends held bytes after about 200 ms,
/// so this test cannot tell a missing push from a working one (0.05 ms with the push,
/// about 207 ms without, measured); it checks that the answer arrives with the next
/// request still unfinished, and that finishing it later gets the second answer.
TEST_F(StaticFilesTest, ACorkedAnswerIsNotHeldBehindAnIncompleteRequest) {
  start("", kCacheYaml);
  ASSERT_EQ(get("/static/hello.txt")->body, kHello);

  HttpClient client(doorman_->address());
  ASSERT_TRUE(client.send(
      "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /static/hello.txt HTTP/1.1\r\n"));
  auto first = client.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, kHello);
  ASSERT_TRUE(client.send("Host: x\r\n\r\n"));
  auto second = client.readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, kHello);
}

/// A corked answer whose next request goes to the app is pushed out before the app
/// answers (the same limit as above: Linux's own release after about 200 ms hides a
/// missing push); both answers arrive in order.
TEST_F(StaticFilesTest, ACorkedAnswerIsNotHeldWhileTheNextRequestIsAtTheApp) {
  GunicornBackend gunicorn(dir_, 1);
  start("  - { prefix: /, upstream: app }\n",
        std::string(kCacheYaml) + "upstreams:\n  app:\n    servers: [ { address: \"" +
            gunicorn.address() + "\", workers: 1 } ]\n");
  ASSERT_EQ(get("/static/hello.txt")->body, kHello);

  HttpClient client(doorman_->address());
  ASSERT_TRUE(
      client.send("GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, kHello);
  auto second = client.readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_NE(second->body.find("\"path\": \"/echo/next\""), std::string::npos) << second->body;
}

}  // namespace
}  // namespace doorman::it
