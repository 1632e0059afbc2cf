// Against a backend that keeps connections alive, doorman reuses its upstream
// connections: a kept-alive connection to a prefork server holds one of its processes, so
// doorman must never open more connections than the server has workers.

#include <atomic>
#include <chrono>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"
#include "harness/Net.hpp"

namespace doorman::it {
namespace {

class UpstreamReuseTest : public IntegrationTest {
 protected:
  /// `clients` keep-alive client connections, `perClient` GET /hello each; the number of
  /// 200 answers. A client stops at its first failure (reported in `errors`).
  static int sendKeepAliveRequests(const std::string& address, size_t clients, int perClient,
                                   std::vector<std::string>& errors) {
    std::atomic<int> ok{0};
    errors = runInParallel(clients, [&](size_t) {
      HttpClient client(address);
      for (int i = 0; i < perClient; ++i) {
        if (!client.send(httpGet("/hello"))) throw std::runtime_error(client.error());
        auto response = client.readResponse();
        if (!response)
          throw std::runtime_error("request " + std::to_string(i) + ": " + client.error());
        if (response->status != 200) {
          throw std::runtime_error("request " + std::to_string(i) + ": status " +
                                   std::to_string(response->status) + " " + response->body);
        }
        ++ok;
      }
    });
    return ok.load();
  }
};

/// 1,000 requests over 8 client connections to a 4-process keep-alive server open at most
/// 4 upstream connections (one per worker), and never more than 4 requests at once.
TEST_F(UpstreamReuseTest, ThousandRequestsOpenAtMostFourConnectionsToPreforkServer) {
  PreforkBackend prefork(dir_, {.processes = 4, .sleepMs = 0, .closeAfter = 0});
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(prefork.address(), 4));
  std::vector<std::string> errors;
  int ok = sendKeepAliveRequests(doorman.address(), 8, 125, errors);
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  EXPECT_EQ(ok, 1000);
  auto stats = prefork.stats();
  EXPECT_EQ(stats.requests, 1000);
  EXPECT_LE(stats.connections, 4);
  EXPECT_GE(stats.connections, 1);
  EXPECT_LE(stats.peak, 4);
}

/// The same against uWSGI's http11-socket: 1,000 requests reach it over at most 4
/// distinct upstream connections (told apart by doorman's source port).
TEST_F(UpstreamReuseTest, ThousandRequestsOpenAtMostFourConnectionsToUwsgi) {
  UwsgiBackend uwsgi(dir_, 4);
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(uwsgi.address(), 4));
  std::vector<std::string> errors;
  int ok = sendKeepAliveRequests(doorman.address(), 8, 125, errors);
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  EXPECT_EQ(ok, 1000);
  auto stats = uwsgi.stats();
  EXPECT_EQ(stats.requests, 1000);
  EXPECT_LE(stats.distinctPorts, 4u);
  EXPECT_GE(stats.distinctPorts, 1u);
  EXPECT_LE(stats.peak, 4);
}

/// A backend that silently closes a kept-alive connection after every 3rd response
/// (max-requests-per-connection): every GET still succeeds, doorman reconnects instead
/// of failing the request that met the closed connection.
TEST_F(UpstreamReuseTest, BackendClosingKeptAliveConnectionsCostsNoRequests) {
  PreforkBackend prefork(dir_, {.processes = 2, .sleepMs = 0, .closeAfter = 3});
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(prefork.address(), 2));
  std::vector<std::string> errors;
  int ok = sendKeepAliveRequests(doorman.address(), 4, 30, errors);
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  EXPECT_EQ(ok, 120);
  auto stats = prefork.stats();
  EXPECT_EQ(stats.requests, 120);
  EXPECT_LE(stats.peak, 2);
}

/// upstreams.app.keepalive_idle: 1500ms, in front of prefork_server.py, which keeps a
/// connection open as long as its peer does (no idle timeout of its own). After one
/// request doorman holds the connection idle (/status: idle 1), then closes it itself
/// after keepalive_idle (not before: at least 1.4 s after the response), logs why, and
/// the next request opens a new connection.
TEST_F(UpstreamReuseTest, IdleUpstreamConnectionIsClosedAfterKeepaliveIdle) {
  PreforkBackend prefork(dir_, {.processes = 2});
  DoormanConfig config = DoormanConfig::forBackend(prefork.address(), 2);
  const uint16_t adminPort = freeTcpPort();
  config.upstreams[0].extra = "keepalive_idle: 1500ms";
  config.extra = "admin: { listen: \"" + loopback(adminPort) + "\" }\n";
  DoormanProcess doorman(dir_, config);
  auto idleConnections = [&]() -> int64_t {
    auto page = fetch(loopback(adminPort), httpGet("/status"));
    if (!page) return -1;
    auto doc = parseJson(page->body);
    if (!doc) return -1;
    const auto& servers = (*doc)["upstreams"]["app"]["servers"].elements();
    return servers.size() == 1 ? servers[0]["idle"].integer() : -1;
  };

  auto first = fetch(doorman.address(), httpGet("/hello"));
  const auto answered = std::chrono::steady_clock::now();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  EXPECT_EQ(idleConnections(), 1) << "the connection was not kept alive";
  EXPECT_EQ(prefork.stats().connections, 1);

  ASSERT_TRUE(waitUntil([&] { return idleConnections() == 0; }, milliseconds(15000)))
      << "the idle connection was never closed";
  const auto idleFor =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - answered);
  EXPECT_GE(idleFor.count(), 1400) << "closed before keepalive_idle";
  EXPECT_NE(doorman.log().find("closing idle connection (keepalive_idle)"), std::string::npos)
      << doorman.log();

  auto second = fetch(doorman.address(), httpGet("/hello"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(prefork.stats().connections, 2);
  EXPECT_EQ(prefork.stats().requests, 2);
}

}  // namespace
}  // namespace doorman::it
