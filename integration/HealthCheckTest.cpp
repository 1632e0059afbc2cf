// Active health checks (upstreams.<name>.health_check) against real gunicorn: a server
// whose check path fails is skipped while the other serves every request, it comes back
// once the path recovers, and a check never takes the worker a queued request waits for.
// testapp's /health answers 500 while a flag file exists; TESTAPP_RECORD makes every
// backend write the target of each request it starts, in order.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"
#include "harness/Net.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

/// Requests the backend started other than health checks.
size_t appRequests(const std::string& recordPath) {
  size_t n = 0;
  for (const auto& line : readLines(recordPath)) {
    if (!line.starts_with("/health")) ++n;
  }
  return n;
}

size_t healthChecks(const std::string& recordPath) {
  return readLines(recordPath).size() - appRequests(recordPath);
}

class HealthCheckTest : public IntegrationTest {
 protected:
  HealthCheckTest() : adminPort_(freeTcpPort()) {}

  /// gunicorn with `workers` sync workers that records every request in <tag>.record and
  /// fails /health while <tag>.down exists.
  std::unique_ptr<GunicornBackend> backend(const std::string& tag, int workers) {
    return std::make_unique<GunicornBackend>(
        dir_, workers,
        std::vector<std::string>{"--env", "TESTAPP_RECORD=" + record(tag), "--env",
                                 "TESTAPP_HEALTH_DOWN=" + flag(tag)});
  }
  std::string record(const std::string& tag) const { return dir_.file(tag + ".record"); }
  std::string flag(const std::string& tag) const { return dir_.file(tag + ".down"); }

  DoormanConfig configFor(const std::vector<std::pair<std::string, int>>& servers) {
    DoormanConfig c;
    UpstreamSpec app;
    for (const auto& [address, workers] : servers) app.servers.push_back({address, workers});
    app.healthCheck = "{ path: /health, interval: 100ms, timeout: 2s }";
    c.upstreams.push_back(app);
    c.logLevel = "info";
    c.extra = "admin: { listen: \"" + loopback(adminPort_) + "\" }\n";
    return c;
  }

  /// /status: upstreams.app.servers[index]
  std::optional<JsonValue> server(size_t index) {
    auto page = fetch(loopback(adminPort_), httpGet("/status"));
    if (!page) return std::nullopt;
    auto doc = parseJson(page->body);
    if (!doc) return std::nullopt;
    return (*doc)["upstreams"]["app"]["servers"].elements().at(index);
  }

  std::string metrics() {
    auto page = fetch(loopback(adminPort_), httpGet("/metrics"));
    return page ? page->body : std::string();
  }

  uint16_t adminPort_;
};

TEST_F(HealthCheckTest, FailingServerIsSkippedUntilItsCheckPassesAgain) {
  auto a = backend("a", 2);
  auto b = backend("b", 2);
  DoormanProcess doorman(dir_, configFor({{a->address(), 2}, {b->address(), 2}}));
  ASSERT_TRUE(waitUntil([&] { return healthChecks(record("a")) >= 2; }, milliseconds(10000)))
      << doorman.log();
  std::ofstream(flag("a")) << "down\n";
  const std::string downLine = "server " + a->address() + " fails its health check /health";
  ASSERT_TRUE(waitUntil([&] { return doorman.log().find(downLine) != std::string::npos; },
                        milliseconds(10000)))
      << doorman.log();
  auto view = server(0);
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)["up"].str(), "false");
  EXPECT_EQ((*view)["health_check"].str(), "failing");
  EXPECT_NE(metrics().find("doorman_upstream_server_up{upstream=\"app\",server=\"" + a->address() +
                           "\"} 0\n"),
            std::string::npos);

  // Every request goes to b: zero 5xx, none reaches a.
  const size_t aBefore = appRequests(record("a"));
  const size_t bBefore = appRequests(record("b"));
  constexpr int kClients = 4;
  constexpr int kEach = 15;
  std::atomic<int> ok{0};
  auto errors = runInParallel(kClients, [&](size_t) {
    for (int i = 0; i < kEach; ++i) {
      auto r = fetch(doorman.address(), httpGet("/hello"));
      if (r && r->status == 200) ++ok;
    }
  });
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  EXPECT_EQ(ok.load(), kClients * kEach);
  EXPECT_EQ(appRequests(record("a")), aBefore);
  EXPECT_EQ(appRequests(record("b")), bBefore + kClients * kEach);

  // The path recovers: a is back in service and gets requests again.
  std::filesystem::remove(flag("a"));
  const std::string upLine = "server " + a->address() + " passes its health check again";
  ASSERT_TRUE(waitUntil([&] { return doorman.log().find(upLine) != std::string::npos; },
                        milliseconds(10000)))
      << doorman.log();
  view = server(0);
  ASSERT_TRUE(view);
  EXPECT_EQ((*view)["up"].str(), "true");
  EXPECT_EQ((*view)["health_check"].str(), "passing");
  for (int i = 0; i < 20; ++i) {
    auto r = fetch(doorman.address(), httpGet("/hello"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_GT(appRequests(record("a")), aBefore);
}

/// One worker: a slow request holds it and a second one waits in doorman's queue. No check
/// may go out meanwhile, so the backend sees the queued request right after the slow one,
/// and the checks resume afterwards. (A check sent while the worker was busy would wait
/// in gunicorn's accept queue ahead of the queued request, and show up between them.)
TEST_F(HealthCheckTest, CheckNeverTakesTheWorkerOfAQueuedRequest) {
  auto a = backend("a", 1);
  DoormanConfig c = configFor({{a->address(), 1}});
  c.upstreams[0].healthCheck = "{ path: /health, interval: 20ms, timeout: 2s }";
  DoormanProcess doorman(dir_, c);
  ASSERT_TRUE(waitUntil([&] { return healthChecks(record("a")) >= 2; }, milliseconds(10000)))
      << doorman.log();

  HttpClient slow(doorman.address());
  ASSERT_TRUE(slow.send(httpGet("/sleep?ms=1500")));
  ASSERT_TRUE(waitUntil(
      [&] {
        auto lines = readLines(record("a"));
        return std::find(lines.begin(), lines.end(), "/sleep?ms=1500") != lines.end();
      },
      milliseconds(10000)));
  HttpClient queued(doorman.address());
  ASSERT_TRUE(queued.send(httpGet("/hello?queued=1")));
  auto r1 = slow.readResponse(milliseconds(10000));
  auto r2 = queued.readResponse(milliseconds(10000));
  ASSERT_TRUE(r1) << slow.error();
  ASSERT_TRUE(r2) << queued.error();
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto lines = readLines(record("a"));
        auto at = std::find(lines.begin(), lines.end(), "/hello?queued=1");
        return at != lines.end() && std::find(at, lines.end(), "/health") != lines.end();
      },
      milliseconds(10000)))
      << "the checks must resume";
  auto lines = readLines(record("a"));
  auto at = std::find(lines.begin(), lines.end(), "/sleep?ms=1500");
  ASSERT_NE(at, lines.end());
  ASSERT_NE(at + 1, lines.end());
  EXPECT_EQ(*(at + 1), "/hello?queued=1") << "a check got between the slow and the queued request";
  EXPECT_EQ(doorman.log().find("fails its health check"), std::string::npos) << doorman.log();
}

}  // namespace
}  // namespace doorman::it
