// slowhttptest (Debian's) against doorman in front of a 2-worker gunicorn, in its three
// modes, each holding hundreds of connections: slowloris (-H, a head that never ends),
// slow body (-B, a body trickled a few bytes at a time) and slow read (-X, a large
// response read through a tiny receive window). For each mode:
//   - while the attack holds its connections, normal clients are all served (200);
//   - doorman's RSS stays within its memory budget plus a fixed overhead;
//   - every attack connection is closed by the configured timeout (timeouts.header,
//     timeouts.body_min_rate, timeouts.send_idle): doorman's log names the timeout once
//     per connection, and slowhttptest ends before its time limit because no connection
//     is left open (it never closes one itself);
//   - afterwards doorman's descriptors come back to the baseline.
// Short timeouts keep each test within about 20 s; slowhttptest's -l is only a bound.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harness/Backends.hpp"
#include "harness/Checks.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Process.hpp"
#include "harness/Resources.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

constexpr size_t kMiB = 1 << 20;

#ifdef DOORMAN_IT_SANITIZED
constexpr bool kRssMeaningful = false;  // ASan's shadow memory and quarantine
#else
constexpr bool kRssMeaningful = true;
#endif

/// One line of slowhttptest's CSV statistics (one a second).
struct AttackSecond {
  int closed = 0;
  int pending = 0;
  int connected = 0;
};

/// "Seconds,Closed,Pending,Connected,Service Available" rows.
std::vector<AttackSecond> readAttackCsv(const std::string& path) {
  std::vector<AttackSecond> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<int> fields;
    std::stringstream fieldStream(line);
    std::string field;
    while (std::getline(fieldStream, field, ',')) {
      fields.push_back(std::atoi(field.c_str()));
    }
    if (fields.size() >= 4) {
      rows.push_back({fields[1], fields[2], fields[3]});
    }
  }
  return rows;
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

struct Attack {
  std::string mode;                   ///< -H, -B, -X
  int connections = 400;              ///< -c
  int rate = 200;                     ///< -r: connections per second
  std::string path;                   ///< on doorman
  std::vector<std::string> modeArgs;  ///< the mode's own options
  std::string closedBy;               ///< doorman's log line for the timeout
  size_t held = 250;                  ///< connections doorman must hold at once
  /// Log lines of attack requests doorman shed with a 503 (an overloaded upstream): their
  /// connections are then idle and closed by timeouts.keepalive.
  std::vector<std::string> shedBy = {};
  /// slowhttptest notices doorman's closes at once (not a slow reader with bytes left).
  bool attackerSeesCloses = true;
};

class SlowHttpTest : public IntegrationTest {
 protected:
  static constexpr int kNormalThreads = 4;
  static constexpr int kNormalPerThread = 10;
  static constexpr const char* kMemoryTotal = "16MiB";
  static constexpr size_t kMemoryTotalBytes = 16 * kMiB;

  SlowHttpTest() : gunicorn_(dir_, 2) {}

  void SetUp() override {
    // slowhttptest (our child) needs a descriptor per connection; doorman raises its own
    // soft limit to the hard one.
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    if (files.rlim_cur < 2048 && files.rlim_max > files.rlim_cur) {
      files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
      ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
    }
    if (files.rlim_cur < 1024) {
      GTEST_SKIP() << "RLIMIT_NOFILE " << files.rlim_cur << " is too low for 500 connections";
    }
  }

  DoormanConfig config() const {
    DoormanConfig c = DoormanConfig::forBackend(gunicorn_.address(), 2);
    c.limits = "{ header_bytes: 16KiB, uri_bytes: 8KiB, body_bytes: 1MiB, connections: 2000 }";
    // Short enough to end each attack within seconds, long enough that hundreds of
    // connections are open at once while normal clients are served.
    c.timeouts =
        "{ header: 10s, body_idle: 10s, body_min_rate: 1KiB, send_idle: 2s, keepalive: 4s }";
    c.memoryTotal = kMemoryTotal;
    // The slow-read attack's requests are real work for the two workers; normal clients
    // queue behind them and must not be shed on a slow machine.
    c.upstreams[0].queueTimeout = "60s";
    c.upstreams[0].responseTimeout = "30s";
    c.logLevel = "info";  // one line per closed attack connection, not a dozen
    return c;
  }

  /// Runs `attack` against a fresh doorman and checks everything the header promises.
  void runAttack(const Attack& attack) {
    DoormanProcess doorman(dir_, config());
    ASSERT_TRUE(servesHello(doorman.address()));
    const size_t baselineFds = settledFdCount(doorman);
    const size_t baselineRss = rssOf(doorman.pid());
    ResourceSampler sampler(doorman.pid());

    const std::string csvPrefix = dir_.file("attack");
    std::vector<std::string> argv = {"/usr/bin/slowhttptest",
                                     attack.mode,
                                     "-c",
                                     std::to_string(attack.connections),
                                     "-r",
                                     std::to_string(attack.rate),
                                     "-l",
                                     "45",  // a bound only: doorman closes them far earlier
                                     "-p",
                                     "3",
                                     "-g",
                                     "-o",
                                     csvPrefix,
                                     "-u",
                                     "http://" + doorman.address() + attack.path};
    argv.insert(argv.end(), attack.modeArgs.begin(), attack.modeArgs.end());
    const auto started = Clock::now();
    ProcessOptions options;
    options.name = "slowhttptest";
    options.argv = argv;
    options.logPath = dir_.file("slowhttptest.log");
    options.stopGrace = milliseconds(2000);
    Process slowhttptest(std::move(options));

    // Hundreds of attack connections open at once in doorman.
    ASSERT_TRUE(waitUntil([&] { return doorman.countOpenFds() >= baselineFds + attack.held; },
                          milliseconds(30000), milliseconds(20)))
        << "doorman never held " << attack.held << " attack connections (peak "
        << sampler.peakFds() - baselineFds << ")\n"
        << slowhttptest.log();
    const size_t heldAtStart = doorman.countOpenFds() - baselineFds;

    // Normal clients, a few at a time, while the attack goes on.
    std::atomic<int> ok{0};
    auto failures = runInParallel(kNormalThreads, [&](size_t t) {
      for (int i = 0; i < kNormalPerThread; ++i) {
        bool echo = i % 2 == 1;
        std::string body = "normal client " + std::to_string(t) + "-" + std::to_string(i);
        auto response =
            fetch(doorman.address(), echo ? httpRequest("POST", "/echo", body) : httpGet("/hello"),
                  milliseconds(30000));
        if (!response) throw std::runtime_error("no response");
        if (response->status != 200)
          throw std::runtime_error("status " + std::to_string(response->status));
        if (!echo && response->body != "hello\n") throw std::runtime_error("wrong body");
        ++ok;
      }
    });
    const size_t fdsAfterNormal = doorman.countOpenFds();
    const size_t heldAfterNormal = fdsAfterNormal - std::min(baselineFds, fdsAfterNormal);
    EXPECT_TRUE(failures.empty()) << joinLines(failures);
    EXPECT_EQ(ok.load(), kNormalThreads * kNormalPerThread);

    // Every attack connection is closed by doorman: its descriptors come back while the
    // attacker still runs.
    const bool allClosed = waitUntil([&] { return doorman.countOpenFds() <= baselineFds; },
                                     milliseconds(50000), milliseconds(50));
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    EXPECT_TRUE(allClosed) << describeFds(doorman.pid());
    if (attack.attackerSeesCloses) {
      // It never closes a connection itself before its time limit: it stops once none
      // is left.
      auto status = slowhttptest.waitForExit(milliseconds(30000));
      EXPECT_TRUE(status) << "slowhttptest still running";
      EXPECT_NE(slowhttptest.log().find("No open connections left"), std::string::npos)
          << slowhttptest.log();
    } else {
      // A slow reader sees the reset only after reading what its receive buffer holds,
      // at 32 bytes a second: doorman is done with it long before.
      EXPECT_TRUE(slowhttptest.running()) << slowhttptest.log();
      slowhttptest.stop();
    }
    const std::string output = slowhttptest.log();
    auto rows = readAttackCsv(csvPrefix + ".csv");
    ASSERT_FALSE(rows.empty()) << output;
    int peakConnected = 0;
    for (const auto& row : rows) peakConnected = std::max(peakConnected, row.connected);
    const std::string log = doorman.log();
    const size_t closedByTimeout = occurrences(log, attack.closedBy);
    size_t shed = 0;
    for (const auto& marker : attack.shedBy) shed += occurrences(log, marker);
    EXPECT_GE(closedByTimeout + shed, static_cast<size_t>(peakConnected))
        << "doorman's log names '" << attack.closedBy << "' fewer times than connections were open";
    EXPECT_GE(static_cast<size_t>(peakConnected), attack.held) << output;

    const size_t peakRss = sampler.stop();
    if (kRssMeaningful) {
      // The memory budget, plus 16 MiB for everything else: per-connection state and
      // read buffers of ~500 connections, allocator slack.
      EXPECT_LE(peakRss, baselineRss + kMemoryTotalBytes + 16 * kMiB)
          << "peak RSS " << peakRss / kMiB << " MiB, baseline " << baselineRss / kMiB << " MiB";
    }
    EXPECT_TRUE(servesHello(doorman.address()));
    std::printf(
        "[ figures  ] %s: %d connections, peak %zu fds over the baseline (%zu -> %zu while normal "
        "clients ran; slowhttptest peak %d), %d/%d normal requests 200, %zu closed by '%s', %zu "
        "shed with 503, RSS %zu -> peak %zu KiB, fds %zu -> peak %zu, attack over in %.1f s\n",
        attack.mode.c_str(), attack.connections, sampler.peakFds() - baselineFds, heldAtStart,
        heldAfterNormal, peakConnected, ok.load(), kNormalThreads * kNormalPerThread,
        closedByTimeout, attack.closedBy.c_str(), shed, baselineRss / 1024, peakRss / 1024,
        baselineFds, sampler.peakFds(), seconds);
  }

  GunicornBackend gunicorn_;
};

/// Slowloris: 400 connections each send a partial head and one more header line every
/// second; timeouts.header (10 s) answers each with 408 and closes it.
TEST_F(SlowHttpTest, SlowlorisHeadersAreCutByTheHeaderTimeout) {
  runAttack({.mode = "-H",
             .connections = 400,
             .rate = 400,
             .path = "/hello",
             .modeArgs = {"-i", "1", "-x", "24"},
             .closedBy = "client timed out (timeouts.header",
             .held = 250});
}

/// Slow body: 400 POSTs declare 8 KiB and send ~20 bytes every 2 s; after the 5 s grace
/// period timeouts.body_min_rate (1 KiB/s) answers each with 408 and closes it.
TEST_F(SlowHttpTest, SlowBodiesAreCutByTheMinimumBodyRate) {
  runAttack({.mode = "-B",
             .connections = 400,
             .rate = 400,
             .path = "/echo",
             .modeArgs = {"-i", "2", "-x", "10", "-s", "8192"},
             .closedBy = "request body slower than timeouts.body_min_rate",
             .held = 250});
}

/// Slow read: 200 connections ask for 2.5 MiB each and read 32 bytes a second through
/// a receive window of at most 1 KiB. doorman takes each response from a worker at
/// local speed (spilling past the budget), the kernel's send buffer fills (about 1.6 MB
/// of it on loopback), nothing moves for timeouts.send_idle (2 s, checked twice), and
/// doorman resets the connection. Fewer connections than the other modes: each one is
/// 2.5 MiB of work for the two workers, and pins about 4 MiB of kernel socket memory
/// until it is reset. On a slow machine doorman may shed some of these requests with 503
/// (predicted queue wait); those connections are closed by timeouts.keepalive.
TEST_F(SlowHttpTest, SlowReadersAreCutBySendIdle) {
  runAttack({.mode = "-X",
             .connections = 200,
             .rate = 100,
             .path = "/large?bytes=2621440",
             .modeArgs = {"-k", "1", "-n", "1", "-z", "32", "-w", "512", "-y", "1024"},
             .closedBy = "client timed out (timeouts.send_idle",
             .held = 150,
             .shedBy = {"is overloaded: predicted wait", "no worker became free within"},
             .attackerSeesCloses = false});
}

}  // namespace
}  // namespace doorman::it
