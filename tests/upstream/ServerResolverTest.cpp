// ServerResolver: server names resolved on libuv's thread pool, reported from the loop.
#include "doorman/upstream/ServerResolver.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <optional>

namespace doorman::upstream {
namespace {

config::Upstream upstreamOf(const std::string& name, std::vector<config::Address> addresses) {
  config::Upstream u;
  u.name = name;
  for (auto& a : addresses) {
    config::UpstreamServer s;
    s.address = std::move(a);
    u.servers.push_back(s);
  }
  return u;
}

config::Address tcp(const std::string& host, uint16_t port) {
  config::Address a;
  a.host = host;
  a.port = port;
  a.text = host + ":" + std::to_string(port);
  return a;
}

config::Address unixSocket(const std::string& path) {
  config::Address a;
  a.kind = config::Address::Kind::Unix;
  a.path = path;
  a.text = "unix:" + path;
  return a;
}

struct Outcome {
  std::string error;
  ResolvedServers servers;
};

class ServerResolverTest : public ::testing::Test {
 protected:
  /// Runs the loop until the resolver reports (or 10 s of loop time pass).
  std::optional<Outcome> resolve(const std::map<std::string, config::Upstream>& upstreams) {
    std::optional<Outcome> outcome;
    ServerResolver resolver(loop_);
    bool insideStart = true;
    bool reportedInsideStart = false;
    resolver.start(upstreams, [&](const std::string& error, ResolvedServers servers) {
      reportedInsideStart = insideStart;
      outcome = Outcome{error, std::move(servers)};
    });
    insideStart = false;
    uint64_t deadline = loop_.nowMs() + 10000;
    while (!outcome && loop_.nowMs() < deadline) {
      uv_run(loop_.raw(), UV_RUN_ONCE);
    }
    EXPECT_FALSE(reportedInsideStart);
    return outcome;
  }

  uv::Loop loop_;
};

std::string ipOf(const Endpoint& e) {
  char text[INET6_ADDRSTRLEN] = {};
  const auto& in = reinterpret_cast<const sockaddr_in&>(e.addr);
  inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(in.sin_port));
}

TEST_F(ServerResolverTest, ResolvesNamesLiteralsAndUnixSocketsInServerOrder) {
  auto outcome = resolve({{"app", upstreamOf("app", {tcp("localhost", 8001), unixSocket("/x.sock"),
                                                     tcp("127.0.0.1", 8002)})},
                          {"other", upstreamOf("other", {tcp("127.0.0.1", 9000)})}});
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error, "");
  const auto& app = outcome->servers.at("app");
  ASSERT_EQ(app.size(), 3u);
  EXPECT_EQ(ipOf(app[0]), "127.0.0.1:8001");  // IPv4 preferred
  EXPECT_EQ(app[0].text, "localhost:8001");
  EXPECT_TRUE(app[1].isUnix);
  EXPECT_EQ(app[1].path, "/x.sock");
  EXPECT_EQ(ipOf(app[2]), "127.0.0.1:8002");
  EXPECT_EQ(ipOf(outcome->servers.at("other").at(0)), "127.0.0.1:9000");
  // The same address written differently is the same place.
  EXPECT_TRUE(app[0].sameAddress(app[0]));
  EXPECT_FALSE(app[0].sameAddress(app[2]));
}

TEST_F(ServerResolverTest, OnlyUnixSocketsIsReportedFromTheLoopToo) {
  auto outcome = resolve({{"app", upstreamOf("app", {unixSocket("/a.sock")})}});
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error, "");
  EXPECT_TRUE(outcome->servers.at("app").at(0).isUnix);
}

TEST_F(ServerResolverTest, AnUnresolvableNameFailsNamingUpstreamServerAndReason) {
  auto outcome = resolve(
      {{"app", upstreamOf("app", {tcp("127.0.0.1", 8001), tcp("no-such-host.invalid", 80)})}});
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.rfind("upstream 'app': server no-such-host.invalid:80: cannot resolve "
                                 "'no-such-host.invalid': ",
                                 0),
            0u)
      << outcome->error;
  EXPECT_TRUE(outcome->servers.empty());
}

TEST_F(ServerResolverTest, DestroyedBeforeTheAnswerReportsNothing) {
  bool reported = false;
  {
    ServerResolver resolver(loop_);
    resolver.start({{"app", upstreamOf("app", {tcp("localhost", 1)})}},
                   [&](const std::string&, ResolvedServers) { reported = true; });
  }
  // Let the cancelled (or finished) lookup come back and free itself.
  for (int i = 0; i < 50 && uv_loop_alive(loop_.raw()) != 0; ++i) {
    uv_run(loop_.raw(), UV_RUN_ONCE);
  }
  EXPECT_FALSE(reported);
}

}  // namespace
}  // namespace doorman::upstream
