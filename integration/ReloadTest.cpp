// Configuration reload on SIGHUP: a good file takes effect without a dropped connection
// or a failed request (shown under wrk load), a bad, vanished or unreadable file is
// refused and the running configuration keeps serving, listeners come and go, server host
// names are resolved off the loop and one that does not resolve refuses the reload.

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"
#include "harness/Net.hpp"
#include "harness/Process.hpp"

namespace doorman::it {
namespace {

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class ReloadTest : public IntegrationTest {
 protected:
  ReloadTest() : adminPort_(freeTcpPort()) {}

  DoormanConfig configFor(const std::string& backend, int workers, const std::string& extra = "") {
    DoormanConfig c = DoormanConfig::forBackend(backend, workers);
    c.logLevel = "info";
    c.extra = "admin: { listen: \"" + loopback(adminPort_) + "\" }\n" + extra;
    return c;
  }

  /// Replaces the file doorman was started with (atomically, as an editor or a
  /// configuration manager would) and sends SIGHUP.
  void reloadWith(DoormanProcess& doorman, const std::string& yaml) {
    const std::string next = doorman.configPath() + ".next";
    std::ofstream(next) << yaml;
    std::filesystem::rename(next, doorman.configPath());
    ASSERT_EQ(::kill(doorman.pid(), SIGHUP), 0);
  }

  std::string render(const DoormanProcess& doorman, const DoormanConfig& c) {
    return c.toYaml(doorman.port(), dir_.path());
  }

  int64_t generation() {
    auto page = fetch(loopback(adminPort_), httpGet("/status"));
    if (!page) return -1;
    auto doc = parseJson(page->body);
    return doc ? (*doc)["generation"].integer() : -1;
  }

  bool waitForLogCount(const DoormanProcess& doorman, const std::string& needle, size_t count) {
    return waitUntil([&] { return countOf(doorman.log(), needle) >= count; }, milliseconds(20000));
  }

  uint16_t adminPort_;
};

/// 20 reloads during a steady wrk load, each one rebuilding the upstream pool (its queue
/// timeout changes) and adding or removing a second listener: zero socket errors, zero
/// non-2xx responses.
TEST_F(ReloadTest, TwentyReloadsUnderLoadLoseNothing) {
  PreforkBackend backend(dir_, PreforkOptions{4, 2, 0});  // keep-alive workers, 2 ms each
  DoormanConfig a = configFor(backend.address(), 4);
  DoormanProcess doorman(dir_, a);
  const uint16_t extraPort = freeTcpPort();

  ProcessOptions wrk;
  wrk.name = "wrk";
  wrk.argv = {"wrk", "-t2", "-c16", "-d8s", "http://" + doorman.address() + "/hello"};
  wrk.logPath = dir_.file("wrk.log");
  Process load(std::move(wrk));
  std::this_thread::sleep_for(milliseconds(1000));  // load is flowing before the first reload

  constexpr int kReloads = 20;
  for (int i = 1; i <= kReloads; ++i) {
    DoormanConfig next = a;
    next.upstreams[0].queueTimeout = std::to_string(10 + i) + "s";
    std::string yaml = render(doorman, next);
    if (i % 2 == 1) {  // odd reloads add a listener, even ones remove it again
      yaml = std::regex_replace(yaml, std::regex("listen: \\[ (\"[^\"]+\") \\]"),
                                "listen: [ $1, \"" + loopback(extraPort) + "\" ]");
    }
    reloadWith(doorman, yaml);
    ASSERT_TRUE(waitForLogCount(doorman, "in force", static_cast<size_t>(i))) << doorman.log();
    std::this_thread::sleep_for(milliseconds(250));
  }
  auto status = load.waitForExit(milliseconds(30000));
  ASSERT_TRUE(status) << "wrk did not finish";
  const std::string out = load.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((\d+) requests in)"))) << out;
  const long requests = std::stol(m[1].str());
  // The load flowed through the reloads (more requests than reloads); not a throughput
  // figure: a loaded machine serves far fewer than an idle one.
  EXPECT_GT(requests, static_cast<long>(kReloads)) << out;
  EXPECT_EQ(out.find("Socket errors"), std::string::npos) << out;
  EXPECT_EQ(out.find("Non-2xx"), std::string::npos) << out;
  EXPECT_EQ(generation(), kReloads + 1);
  EXPECT_EQ(countOf(doorman.log(), "reload refused"), 0u) << doorman.log();
  std::printf("[ reload ] %d reloads during %ld requests: no socket error, no non-2xx\n", kReloads,
              requests);
}

/// A file with an error is refused: logged with its position, the old configuration
/// keeps serving, the failure is counted; a fixed file is then accepted.
TEST_F(ReloadTest, BadFileKeepsTheRunningConfiguration) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig good = configFor(gunicorn.address(), 2);
  DoormanProcess doorman(dir_, good);
  reloadWith(doorman, render(doorman, good) + "acces_log: off\n");
  ASSERT_TRUE(waitForLogCount(doorman, "reload refused", 1)) << doorman.log();
  EXPECT_NE(doorman.log().find("acces_log"), std::string::npos) << doorman.log();
  auto response = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(generation(), 1);
  auto metrics = fetch(loopback(adminPort_), httpGet("/metrics"));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("doorman_config_reloads_total{result=\"failure\"} 1\n"),
            std::string::npos);

  reloadWith(doorman, render(doorman, good));
  ASSERT_TRUE(waitForLogCount(doorman, "in force", 1)) << doorman.log();
  EXPECT_EQ(generation(), 2);
  metrics = fetch(loopback(adminPort_), httpGet("/metrics"));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("doorman_config_reloads_total{result=\"success\"} 1\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("doorman_config_reloads_total{result=\"failure\"} 1\n"),
            std::string::npos)
      << metrics->body;
}

/// A request parses under the limits of the configuration in force when it began, also
/// on a keep-alive connection and with exchanges (parsers) kept from before the reload.
TEST_F(ReloadTest, NewLimitsApplyToTheNextRequestOnAKeptAliveConnection) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig wide = configFor(gunicorn.address(), 2);
  DoormanProcess doorman(dir_, wide);
  const std::string target = "/hello?pad=" + std::string(3000, 'x');
  HttpClient kept(doorman.address());
  for (int i = 0; i < 3; ++i) {  // parsers made under uri_bytes 8KiB, then idle
    ASSERT_TRUE(kept.send(httpGet(target)));
    auto response = kept.readResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  DoormanConfig narrow = wide;
  narrow.limits = "{ header_bytes: 16KiB, uri_bytes: 1KiB, body_bytes: 100MiB }";
  reloadWith(doorman, render(doorman, narrow));
  ASSERT_TRUE(waitForLogCount(doorman, "in force", 1)) << doorman.log();
  ASSERT_TRUE(kept.send(httpGet(target)));
  auto refused = kept.readResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 414);
  auto small = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
}

/// The file vanished, then became unreadable (a directory in its place): both refused,
/// doorman keeps serving.
TEST_F(ReloadTest, VanishedOrUnreadableFileIsRefused) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanProcess doorman(dir_, configFor(gunicorn.address(), 2));
  std::filesystem::remove(doorman.configPath());
  ASSERT_EQ(::kill(doorman.pid(), SIGHUP), 0);
  ASSERT_TRUE(waitForLogCount(doorman, "reload refused", 1)) << doorman.log();
  std::filesystem::create_directory(doorman.configPath());
  ASSERT_EQ(::kill(doorman.pid(), SIGHUP), 0);
  ASSERT_TRUE(waitForLogCount(doorman, "reload refused", 2)) << doorman.log();
  auto response = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(generation(), 1);
  std::filesystem::remove(doorman.configPath());
}

/// A request in flight on an upstream whose pool is rebuilt finishes on the old pool
/// (200); a listener named only by the new file opens, one no longer named closes, and a
/// port that cannot be bound fails the whole reload.
TEST_F(ReloadTest, InFlightRequestsFinishAndListenersFollowTheFile) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig a = configFor(gunicorn.address(), 2);
  DoormanProcess doorman(dir_, a);
  HttpClient slow(doorman.address());
  ASSERT_TRUE(slow.send(httpGet("/sleep?ms=1500")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn.stats().inflight == 1; }, milliseconds(5000)));

  const uint16_t extra = freeTcpPort();
  DoormanConfig b = configFor(gunicorn.address(), 1);  // the pool is rebuilt
  std::string yaml =
      std::regex_replace(render(doorman, b), std::regex("listen: \\[ (\"[^\"]+\") \\]"),
                         "listen: [ $1, \"" + loopback(extra) + "\" ]");
  reloadWith(doorman, yaml);
  ASSERT_TRUE(waitForLogCount(doorman, "in force", 1)) << doorman.log();
  auto response = slow.readResponse(milliseconds(10000));
  ASSERT_TRUE(response) << slow.error();
  EXPECT_EQ(response->status, 200);
  auto viaExtra = fetch(loopback(extra), httpGet("/hello"));
  ASSERT_TRUE(viaExtra);
  EXPECT_EQ(viaExtra->status, 200);

  // A port already taken (the admin port) fails the reload as a whole.
  std::string clash =
      std::regex_replace(render(doorman, a), std::regex("listen: \\[ (\"[^\"]+\") \\]"),
                         "listen: [ $1, \"" + loopback(adminPort_) + "\" ]");
  reloadWith(doorman, clash);
  ASSERT_TRUE(waitForLogCount(doorman, "reload refused", 1)) << doorman.log();
  EXPECT_EQ(generation(), 2);
  ASSERT_TRUE(fetch(loopback(extra), httpGet("/hello"))) << "the extra listener must stay";

  reloadWith(doorman, render(doorman, a));
  ASSERT_TRUE(waitForLogCount(doorman, "in force", 2)) << doorman.log();
  EXPECT_EQ(connectTo(loopback(extra), deadlineIn(milliseconds(300))), -1)
      << "a listener no longer in the file must close";
  auto after = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

/// workers: 1. One request is in the worker (/sleep) and one waits in the queue when
/// SIGHUP brings a file that rebuilds the pool (queue timeout and response timeout
/// changed) and adds a static route. The new pool starts empty (/status: nothing queued
/// or busy while both old requests are still pending), both requests finish 200 on the
/// old pool, and the new route answers afterwards (before the reload its path went to the
/// app: 404).
TEST_F(ReloadTest, QueuedAndInFlightRequestsFinishOnTheOldPoolAndANewRouteAnswers) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig a = configFor(gunicorn.address(), 1);
  a.upstreams[0].queueTimeout = "30s";
  DoormanProcess doorman(dir_, a);
  std::filesystem::create_directories(dir_.file("files"));
  std::ofstream(dir_.file("files/note.txt")) << "new route\n";
  auto before = fetch(doorman.address(), httpGet("/files/note.txt"));
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 404);  // testapp's answer: no such route yet
  auto appStatus = [&](const std::string& key) -> int64_t {
    auto page = fetch(loopback(adminPort_), httpGet("/status"));
    if (!page) return -1;
    auto doc = parseJson(page->body);
    return doc ? (*doc)["upstreams"]["app"][key].integer() : -1;
  };

  HttpClient inFlight(doorman.address());
  ASSERT_TRUE(inFlight.send(httpGet("/sleep?ms=6000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn.stats().inflight == 1; }, milliseconds(10000)));
  HttpClient queued(doorman.address());
  ASSERT_TRUE(queued.send(httpGet("/echo/queued")));
  ASSERT_TRUE(waitUntil([&] { return appStatus("queue") == 1; }, milliseconds(10000)));

  DoormanConfig b = a;
  b.upstreams[0].queueTimeout = "40s";
  b.upstreams[0].responseTimeout = "20s";
  std::string yaml = render(doorman, b);
  const size_t routes = yaml.find("routes:\n");
  ASSERT_NE(routes, std::string::npos);
  yaml.insert(routes + 8,
              "  - { prefix: /files/, static: { root: \"" + dir_.file("files") + "\" } }\n");
  reloadWith(doorman, yaml);
  ASSERT_TRUE(waitForLogCount(doorman, "in force", 1)) << doorman.log();
  ASSERT_EQ(generation(), 2);
  // Both old requests are still pending (the worker sleeps 6 s), and not in the new pool.
  ASSERT_EQ(gunicorn.stats().inflight, 1) << "the slow request ended before the reload";
  EXPECT_EQ(gunicorn.stats().requests, 2);  // the 404 and the slow one: the queued one waits
  EXPECT_EQ(appStatus("queue"), 0);
  EXPECT_EQ(appStatus("busy"), 0);

  auto slow = inFlight.readResponse(milliseconds(30000));
  ASSERT_TRUE(slow) << inFlight.error();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->body, "slept\n");
  auto waited = queued.readResponse(milliseconds(30000));
  ASSERT_TRUE(waited) << queued.error();
  EXPECT_EQ(waited->status, 200);
  EXPECT_NE(waited->body.find("/echo/queued"), std::string::npos) << waited->body;

  auto added = fetch(doorman.address(), httpGet("/files/note.txt"));
  ASSERT_TRUE(added);
  EXPECT_EQ(added->status, 200);
  EXPECT_EQ(added->body, "new route\n");
  auto app = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200);
  EXPECT_EQ(gunicorn.stats().requests, 4);
  EXPECT_EQ(countOf(doorman.log(), "reload refused"), 0u) << doorman.log();
}

/// Under wrk load, a reload names the server "localhost:PORT" (resolved on the thread pool,
/// a new pool), then one naming a host that does not resolve is refused with the
/// upstream, the server and the resolver's error in the log, and the configuration in
/// force keeps serving: zero socket errors, zero non-2xx.
TEST_F(ReloadTest, HostNamesAreResolvedOnReloadAndAnUnresolvableOneIsRefused) {
  PreforkOptions options{4, 2, 0};
  options.tcp = true;
  PreforkBackend backend(dir_, options);  // 127.0.0.1:PORT
  const std::string port = backend.address().substr(backend.address().rfind(':') + 1);
  DoormanConfig a = configFor(backend.address(), 4);
  DoormanProcess doorman(dir_, a);

  ProcessOptions wrk;
  wrk.name = "wrk";
  wrk.argv = {"wrk", "-t2", "-c8", "-d5s", "http://" + doorman.address() + "/hello"};
  wrk.logPath = dir_.file("wrk.log");
  Process load(std::move(wrk));
  std::this_thread::sleep_for(milliseconds(500));  // load is flowing before the reload

  DoormanConfig byName = configFor("localhost:" + port, 4);
  reloadWith(doorman, render(doorman, byName));
  ASSERT_TRUE(waitForLogCount(doorman, "in force", 1)) << doorman.log();
  EXPECT_EQ(generation(), 2);
  std::this_thread::sleep_for(milliseconds(500));

  DoormanConfig unresolvable = byName;
  unresolvable.upstreams[0].servers.push_back({"no-such-host.invalid:80", 1});
  reloadWith(doorman, render(doorman, unresolvable));
  ASSERT_TRUE(waitForLogCount(doorman, "reload refused", 1)) << doorman.log();
  EXPECT_NE(doorman.log().find("upstream 'app': server no-such-host.invalid:80: cannot resolve "
                               "'no-such-host.invalid'"),
            std::string::npos)
      << doorman.log();
  EXPECT_EQ(generation(), 2);
  auto response = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);

  auto status = load.waitForExit(milliseconds(30000));
  ASSERT_TRUE(status) << "wrk did not finish";
  const std::string out = load.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((\d+) requests in)"))) << out;
  EXPECT_GT(std::stol(m[1].str()), 100) << out;
  EXPECT_EQ(out.find("Socket errors"), std::string::npos) << out;
  EXPECT_EQ(out.find("Non-2xx"), std::string::npos) << out;
  auto page = fetch(loopback(adminPort_), httpGet("/status"));
  ASSERT_TRUE(page);
  auto doc = parseJson(page->body);
  ASSERT_TRUE(doc) << page->body;
  EXPECT_EQ((*doc)["upstreams"]["app"]["servers"].elements().at(0)["address"].str(),
            "localhost:" + port);
}

}  // namespace
}  // namespace doorman::it
