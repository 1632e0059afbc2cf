// Against a backend that keeps connections alive, doorman reuses its upstream
// connections: a kept-alive connection to a prefork server holds one of its processes, so
// doorman must never open more connections than the server has workers.

#include <atomic>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

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

}  // namespace
}  // namespace doorman::it
