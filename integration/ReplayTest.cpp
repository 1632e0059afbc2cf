// Safe replay against a recording prefork backend (prefork_server.py --record): a request
// is sent again only when that cannot make the app do it twice, or when the request says
// repeating it is harmless (idempotent method, Idempotency-Key). Every request the
// backend read is in its record, with doorman's X-Request-ID.

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Net.hpp"
#include "harness/Process.hpp"

namespace doorman::it {
namespace {

class ReplayTest : public IntegrationTest {
 protected:
  /// "METHOD TARGET" -> how many times the backend read it.
  std::map<std::string, int> recorded() const {
    std::map<std::string, int> counts;
    std::istringstream lines(readFile(record_));
    std::string method;
    std::string target;
    std::string id;
    while (lines >> method >> target >> id) {
      ++counts[method + " " + target];
    }
    return counts;
  }

  /// Sends `first` then `second` on one client connection (so doorman reuses its
  /// upstream connection for the second); returns the second's status.
  int secondStatusOnOneConnection(const DoormanProcess& doorman, const std::string& first,
                                  const std::string& second) {
    HttpClient client(doorman.address());
    EXPECT_TRUE(client.send(first)) << client.error();
    auto r1 = client.readResponse();
    EXPECT_TRUE(r1) << client.error();
    if (!r1) return 0;
    EXPECT_EQ(r1->status, 200);
    EXPECT_TRUE(client.send(second)) << client.error();
    auto r2 = client.readResponse();
    EXPECT_TRUE(r2) << client.error();
    return r2 ? r2->status : 0;
  }

  std::string record_ = dir_.file("record.txt");
};

/// The keep-alive race, made deterministic: the backend answers a request and closes the
/// connection 300 ms later without reading what arrived meanwhile. A POST sent on that
/// connection is reset unread: doorman sends it again on a new connection, the client
/// gets 200 and the app saw the POST exactly once. /metrics counts the replay:
/// doorman_upstream_retries_total goes from 0 to above 0.
TEST_F(ReplayTest, PostResetUnreadOnAStaleConnectionIsReplayedAndProcessedOnce) {
  PreforkBackend prefork(
      dir_, {.processes = 1, .closeAfter = 1, .closeDelayMs = 300, .recordPath = record_});
  DoormanConfig config = DoormanConfig::forBackend(prefork.address(), 1);
  const uint16_t adminPort = freeTcpPort();
  config.extra = "admin: { listen: \"" + loopback(adminPort) + "\" }\n";
  DoormanProcess doorman(dir_, config);
  auto retries = [&]() -> double {
    auto page = fetch(loopback(adminPort), httpGet("/metrics"));
    if (!page || page->status != 200) return -1;
    std::smatch m;
    if (!std::regex_search(
            page->body, m,
            std::regex(R"(\ndoorman_upstream_retries_total\{upstream="app"\} (\S+)\n)"))) {
      return -1;
    }
    return std::stod(m[1].str());
  };
  EXPECT_EQ(retries(), 0.0);
  int status = secondStatusOnOneConnection(doorman, httpGet("/hello"),
                                           httpRequest("POST", "/echo/order-1", "pay 10"));
  EXPECT_EQ(status, 200);
  auto counts = recorded();
  EXPECT_EQ(counts["POST /echo/order-1"], 1) << readFile(record_);
  EXPECT_EQ(prefork.stats().connections, 2);
  EXPECT_NE(doorman.log().find("replaying request"), std::string::npos) << "retry not logged";
  EXPECT_GT(retries(), 0.0) << "the replay is not in doorman_upstream_retries_total";
}

/// The same over TCP (the reset arrives as ECONNRESET/EPIPE instead of a unix socket's
/// error).
TEST_F(ReplayTest, PostResetUnreadOverTcpIsReplayedAndProcessedOnce) {
  PreforkBackend prefork(
      dir_,
      {.processes = 1, .closeAfter = 1, .closeDelayMs = 300, .recordPath = record_, .tcp = true});
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(prefork.address(), 1));
  int status = secondStatusOnOneConnection(doorman, httpGet("/hello"),
                                           httpRequest("POST", "/echo/order-2", "pay 20"));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(recorded()["POST /echo/order-2"], 1) << readFile(record_);
}

/// A worker that read a POST and died (connection closed, no answer, nothing left
/// unread): the app may have acted on it, so it is not sent again: 502, read once.
TEST_F(ReplayTest, PostReadByAWorkerThatDiedIsNotReplayed) {
  PreforkBackend prefork(dir_, {.processes = 2, .recordPath = record_});
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(prefork.address(), 1));
  int status = secondStatusOnOneConnection(doorman, httpGet("/hello"),
                                           httpRequest("POST", "/vanish", "pay 30"));
  EXPECT_EQ(status, 502);
  EXPECT_EQ(recorded()["POST /vanish"], 1) << readFile(record_);
}

/// The same over TCP: a FIN after everything was read is not taken for a reset.
TEST_F(ReplayTest, PostReadByAWorkerThatDiedOverTcpIsNotReplayed) {
  PreforkBackend prefork(dir_, {.processes = 2, .recordPath = record_, .tcp = true});
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(prefork.address(), 1));
  int status = secondStatusOnOneConnection(doorman, httpGet("/hello"),
                                           httpRequest("POST", "/vanish", "pay 40"));
  EXPECT_EQ(status, 502);
  EXPECT_EQ(recorded()["POST /vanish"], 1) << readFile(record_);
}

/// The same failure for a GET (idempotent) and for a POST with an Idempotency-Key: sent
/// again once (retries: 1), so the backend read each twice, then 502.
TEST_F(ReplayTest, IdempotentRequestsReadByAWorkerThatDiedAreReplayedOnce) {
  PreforkBackend prefork(dir_, {.processes = 2, .recordPath = record_});
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(prefork.address(), 1));
  EXPECT_EQ(secondStatusOnOneConnection(doorman, httpGet("/hello"), httpGet("/vanish?get")), 502);
  EXPECT_EQ(secondStatusOnOneConnection(
                doorman, httpGet("/hello"),
                httpRequest("POST", "/vanish?key", "x", {{"Idempotency-Key", "k-1"}})),
            502);
  auto counts = recorded();
  // The replay goes out on a new connection: a fresh connection that dies is not the
  // stale-connection race, so it is not replayed again.
  EXPECT_EQ(counts["GET /vanish?get"], 2) << readFile(record_);
  EXPECT_EQ(counts["POST /vanish?key"], 2) << readFile(record_);
}

}  // namespace
}  // namespace doorman::it
