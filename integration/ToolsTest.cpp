// Real HTTP clients against doorman: curl, ApacheBench (keep-alive) and httperf finish
// with zero failures. Their own output is parsed for the counts.

#include <sys/wait.h>

#include <regex>

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/Doorman.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Net.hpp"

namespace doorman::it {
namespace {

class ToolsTest : public IntegrationTest {
 protected:
  ToolsTest()
      : gunicorn_(dir_, 4), doorman_(dir_, DoormanConfig::forBackend(gunicorn_.address(), 4)) {}

  /// Runs a tool to completion; its combined stdout+stderr, or a failure.
  std::string run(const std::string& name, std::vector<std::string> argv, int& exitCode) {
    ProcessOptions options;
    options.name = name;
    options.argv = std::move(argv);
    options.logPath = dir_.file(name + ".out");
    std::string output;
    auto status = runToCompletion(options, milliseconds(60000), output);
    exitCode = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return output;
  }

  /// The integer after `label` in `text` ("Failed requests:        0"), or -1.
  static long long numberAfter(const std::string& text, const std::string& label) {
    std::smatch match;
    std::regex re(label + "\\s*([0-9]+)");
    return std::regex_search(text, match, re) ? std::stoll(match[1]) : -1;
  }

  std::string url(const std::string& path) const { return "http://" + doorman_.address() + path; }

  GunicornBackend gunicorn_;
  DoormanProcess doorman_;
};

/// curl -sS fetches a 100 kB body through doorman: exit 0, status 200, every byte intact.
TEST_F(ToolsTest, CurlFetchesAResponseIntact) {
  const std::string file = dir_.file("curl.body");
  int exitCode = 0;
  std::string out = run("curl",
                        {"curl", "-sS", "-o", file, "-w", "%{http_code} %{size_download}",
                         url("/large?bytes=100000")},
                        exitCode);
  EXPECT_EQ(exitCode, 0) << out;
  EXPECT_EQ(out, "200 100000");
  EXPECT_TRUE(readFile(file) == patternBytes(0, 100000));
}

/// ab -k -n 500 -c 10: 500 complete, 0 failed, 0 non-2xx, all 500 on kept-alive
/// connections.
TEST_F(ToolsTest, ApacheBenchWithKeepAliveHasNoFailures) {
  int exitCode = 0;
  std::string out = run("ab", {"ab", "-k", "-n", "500", "-c", "10", url("/hello")}, exitCode);
  EXPECT_EQ(exitCode, 0) << out;
  EXPECT_EQ(numberAfter(out, "Complete requests:"), 500) << out;
  EXPECT_EQ(numberAfter(out, "Failed requests:"), 0) << out;
  EXPECT_EQ(out.find("Non-2xx responses"), std::string::npos) << out;
  EXPECT_EQ(numberAfter(out, "Keep-Alive requests:"), 500) << out;
  EXPECT_EQ(gunicorn_.stats().requests, 500);
}

/// httperf --num-conns 20 --num-calls 10: 200 replies, all 2xx, 0 errors.
TEST_F(ToolsTest, HttperfHasNoErrors) {
  int exitCode = 0;
  std::string out =
      run("httperf",
          {"httperf", "--server", "127.0.0.1", "--port", std::to_string(doorman_.port()), "--uri",
           "/hello", "--num-conns", "20", "--num-calls", "10", "--timeout", "10"},
          exitCode);
  EXPECT_EQ(exitCode, 0) << out;
  EXPECT_EQ(numberAfter(out, "2xx="), 200) << out;
  EXPECT_EQ(numberAfter(out, "4xx="), 0) << out;
  EXPECT_EQ(numberAfter(out, "5xx="), 0) << out;
  EXPECT_EQ(numberAfter(out, "Errors: total"), 0) << out;
  EXPECT_EQ(gunicorn_.stats().requests, 200);
}

}  // namespace
}  // namespace doorman::it
