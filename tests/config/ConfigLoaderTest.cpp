#include <gtest/gtest.h>

#include "config/ConfigTestSupport.hpp"

namespace doorman::config {
namespace {

using test::errorsOf;
using test::kMinimal;
using test::load;

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

TEST(ConfigLoader, MinimalFileLoads) {
  const LoadResult r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.sourcePath, "doorman.yaml");
  ASSERT_EQ(r.config.listen.size(), 1u);
  EXPECT_EQ(r.config.listen[0].host, "127.0.0.1");
  ASSERT_EQ(r.config.upstreams.size(), 1u);
  const Upstream& app = r.config.upstreams.at("app");
  EXPECT_EQ(app.name, "app");
  ASSERT_EQ(app.servers.size(), 1u);
  EXPECT_EQ(app.servers[0].address.port, 9000);
  ASSERT_EQ(r.config.routes.size(), 1u);
  EXPECT_EQ(r.config.routes[0].upstream, "app");
}

TEST(ConfigLoader, EveryDefaultIsFilledIn) {
  const LoadResult r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  const Config& c = r.config;

  EXPECT_FALSE(c.adminListen);
  EXPECT_EQ(c.limits.headerBytes, 16 * KiB);
  EXPECT_EQ(c.limits.headerCount, 100u);
  EXPECT_EQ(c.limits.uriBytes, 8 * KiB);
  EXPECT_EQ(c.limits.bodyBytes, 100 * MiB);
  EXPECT_EQ(c.limits.connections, 10000u);
  EXPECT_EQ(c.limits.pipelineBytes, 64 * KiB);

  EXPECT_EQ(c.timeouts.header, Millis{10'000});
  EXPECT_EQ(c.timeouts.bodyIdle, Millis{30'000});
  EXPECT_EQ(c.timeouts.bodyMinRate, 0u);
  EXPECT_EQ(c.timeouts.sendIdle, Millis{60'000});
  EXPECT_EQ(c.timeouts.keepalive, Millis{75'000});
  EXPECT_EQ(c.timeouts.drain, Millis{30'000});

  EXPECT_EQ(c.buffering.memoryPerMessage, 64 * KiB);
  EXPECT_EQ(c.buffering.memoryTotal, 256 * MiB);
  EXPECT_EQ(c.buffering.tempDir, "/var/lib/doorman/tmp");
  EXPECT_EQ(c.buffering.diskTotal, 4 * GiB);
  EXPECT_EQ(c.buffering.maxResponseBytes, 1 * GiB);

  const Upstream& app = c.upstreams.at("app");
  EXPECT_EQ(app.servers[0].workers, 1u);
  EXPECT_EQ(app.queueMax, 1000u);
  EXPECT_EQ(app.queueTimeout, Millis{30'000});
  EXPECT_EQ(app.connectTimeout, Millis{1'000});
  EXPECT_EQ(app.responseTimeout, Millis{60'000});
  EXPECT_EQ(app.retries, 1u);
  EXPECT_EQ(app.keepaliveIdle, Millis{1'000});
  EXPECT_FALSE(app.healthCheck);

  const Route& route = c.routes[0];
  EXPECT_EQ(route.prefix, "/");
  EXPECT_FALSE(route.host);
  EXPECT_FALSE(route.staticFiles);
  EXPECT_FALSE(route.queueTimeout);

  EXPECT_FALSE(c.accessLog.enabled);
  EXPECT_EQ(c.accessLog.path, "");
  EXPECT_EQ(c.accessLog.format, "combined");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.path, "");
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.group, "");
}

TEST(ConfigLoader, EveryKeyIsAccepted) {
  const LoadResult r = load(R"(
listen: ["*:8080", "[::1]:8081", "unix:/run/doorman.sock"]
admin: {listen: "127.0.0.1:9901"}
limits:
  header_bytes: 32KiB
  header_count: 50
  uri_bytes: 4KiB
  body_bytes: 10MB
  connections: 500
  pipeline_bytes: 128KiB
timeouts:
  header: 5s
  body_idle: 15s
  body_min_rate: 1KiB
  send_idle: 2m
  keepalive: 0s
  drain: 1m30s
buffering:
  memory_per_message: 128KiB
  memory_total: 1GiB
  temp_dir: /tmp/doorman
  disk_total: 0
  max_response_bytes: 512MiB
upstreams:
  app:
    servers:
      - {address: "unix:/run/app/gunicorn.sock", workers: 4}
      - {address: "10.0.0.2:8000", workers: 8}
    queue: {max: 0, timeout: 5s}
    timeouts: {connect: 250ms, response: 2m}
    retries: 0
    keepalive_idle: 10s
    health_check: {path: /health, interval: 10s, timeout: 2s}
  api:
    servers: [{address: "localhost:9000"}]
routes:
  - {prefix: /static/, static: {root: /srv/static, max_age: 1h, immutable: true, index: [index.html, index.htm], follow_symlinks: true, precompressed: false}}
  - {prefix: /api/, host: API.Example.com, upstream: api, queue_timeout: 1s}
  - {prefix: /, upstream: app, static: {root: /srv/public}}
access_log: {path: /var/log/doorman/access.log, format: json}
log: {level: debug, path: /var/log/doorman/error.log}
user: www-data
group: www-data
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  const Config& c = r.config;

  ASSERT_EQ(c.listen.size(), 3u);
  EXPECT_EQ(c.listen[0].host, "0.0.0.0");
  EXPECT_EQ(c.listen[1].host, "::1");
  EXPECT_EQ(c.listen[2].kind, Address::Kind::Unix);
  ASSERT_TRUE(c.adminListen);
  EXPECT_EQ(c.adminListen->port, 9901);

  EXPECT_EQ(c.limits, (Limits{32 * KiB, 50, 4 * KiB, 10'000'000, 500, 128 * KiB}));
  EXPECT_EQ(c.timeouts.header, Millis{5'000});
  EXPECT_EQ(c.timeouts.bodyIdle, Millis{15'000});
  EXPECT_EQ(c.timeouts.bodyMinRate, KiB);
  EXPECT_EQ(c.timeouts.sendIdle, Millis{120'000});
  EXPECT_EQ(c.timeouts.keepalive, Millis{0});
  EXPECT_EQ(c.timeouts.drain, Millis{90'000});
  EXPECT_EQ(c.buffering, (Buffering{128 * KiB, GiB, "/tmp/doorman", 0, 512 * MiB}));

  const Upstream& app = c.upstreams.at("app");
  ASSERT_EQ(app.servers.size(), 2u);
  EXPECT_EQ(app.servers[0].address.path, "/run/app/gunicorn.sock");
  EXPECT_EQ(app.servers[0].workers, 4u);
  EXPECT_EQ(app.servers[1].workers, 8u);
  EXPECT_EQ(app.queueMax, 0u);
  EXPECT_EQ(app.queueTimeout, Millis{5'000});
  EXPECT_EQ(app.connectTimeout, Millis{250});
  EXPECT_EQ(app.responseTimeout, Millis{120'000});
  EXPECT_EQ(app.retries, 0u);
  EXPECT_EQ(app.keepaliveIdle, Millis{10'000});
  ASSERT_TRUE(app.healthCheck);
  EXPECT_EQ(*app.healthCheck, (HealthCheck{"/health", Millis{10'000}, Millis{2'000}}));
  EXPECT_EQ(c.upstreams.at("api").servers[0].address.host, "localhost");

  ASSERT_EQ(c.routes.size(), 3u);
  ASSERT_TRUE(c.routes[0].staticFiles);
  const StaticRoute& files = *c.routes[0].staticFiles;
  EXPECT_EQ(files.root, "/srv/static");
  EXPECT_EQ(files.maxAge, Millis{3'600'000});
  EXPECT_TRUE(files.immutable);
  EXPECT_EQ(files.index, (std::vector<std::string>{"index.html", "index.htm"}));
  EXPECT_TRUE(files.followSymlinks);
  EXPECT_FALSE(files.precompressed);
  EXPECT_FALSE(c.routes[0].upstream);
  EXPECT_EQ(c.routes[1].host, "api.example.com");
  EXPECT_EQ(c.routes[1].queueTimeout, Millis{1'000});
  EXPECT_EQ(c.routes[2].upstream, "app");
  EXPECT_EQ(c.routes[2].staticFiles->root, "/srv/public");

  EXPECT_TRUE(c.accessLog.enabled);
  EXPECT_EQ(c.accessLog.path, "/var/log/doorman/access.log");
  EXPECT_EQ(c.accessLog.format, "json");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.path, "/var/log/doorman/error.log");
  EXPECT_EQ(c.user, "www-data");
  EXPECT_EQ(c.group, "www-data");
}

TEST(ConfigLoader, RoutesKeepFileOrder) {
  const LoadResult r = load(R"(
listen: "*:0"
upstreams: {app: {servers: [{address: "h:1"}]}}
routes:
  - {prefix: /, upstream: app}
  - {prefix: /a/b/, upstream: app}
  - {prefix: /a/, upstream: app}
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  ASSERT_EQ(r.config.routes.size(), 3u);
  EXPECT_EQ(r.config.routes[0].prefix, "/");
  EXPECT_EQ(r.config.routes[1].prefix, "/a/b/");
  EXPECT_EQ(r.config.routes[2].prefix, "/a/");
}

TEST(ConfigLoader, ListenMayBeASingleStringOrAList) {
  LoadResult r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.listen.size(), 1u);

  r = load(R"(
listen:
  - "127.0.0.1:8080"
  - "127.0.0.1:8081"
routes: [{prefix: /, static: {root: /srv}}]
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  ASSERT_EQ(r.config.listen.size(), 2u);
  EXPECT_EQ(r.config.listen[1].port, 8081);
}

TEST(ConfigLoader, AStaticOnlyConfigNeedsNoUpstreams) {
  const LoadResult r = load(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: /srv/www}}]
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_TRUE(r.config.upstreams.empty());
  EXPECT_EQ(r.config.routes[0].staticFiles->index, std::vector<std::string>{"index.html"});
}

TEST(ConfigLoader, AccessLogOffDisablesIt) {
  for (const char* setting :
       {"access_log: off", "access_log: \"off\"", "access_log: {path: \"off\"}",
        "access_log: {path: off}", "access_log: {format: json}", "access_log:"}) {
    const LoadResult r = load(std::string(kMinimal) + setting + "\n");
    ASSERT_TRUE(r.ok()) << setting << "\n" << errorsOf(r);
    EXPECT_FALSE(r.config.accessLog.enabled) << setting;
    EXPECT_EQ(r.config.accessLog.path, "") << setting;
  }
}

TEST(ConfigLoader, AccessLogWithAPathIsEnabledWithTheCombinedFormat) {
  const LoadResult r = load(std::string(kMinimal) + "access_log: {path: /var/log/a.log}\n");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_TRUE(r.config.accessLog.enabled);
  EXPECT_EQ(r.config.accessLog.path, "/var/log/a.log");
  EXPECT_EQ(r.config.accessLog.format, "combined");
}

TEST(ConfigLoader, EmptySectionsMeanAllDefaults) {
  const LoadResult r = load(std::string(kMinimal) + R"(
limits:
timeouts: {}
buffering:
admin:
log:
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.limits, Limits{});
  EXPECT_EQ(r.config.timeouts, Timeouts{});
  EXPECT_EQ(r.config.buffering, Buffering{});
  EXPECT_FALSE(r.config.adminListen);
  EXPECT_EQ(r.config.log, ErrorLog{});
}

TEST(ConfigLoader, AnAdminPortAloneIsOnLoopback) {
  const LoadResult r = load(std::string(kMinimal) + "admin: {listen: 9901}\n");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  ASSERT_TRUE(r.config.adminListen);
  EXPECT_EQ(r.config.adminListen->host, "127.0.0.1");
  EXPECT_EQ(r.config.adminListen->port, 9901);
  EXPECT_EQ(r.config.adminListen->text, "127.0.0.1:9901");
  EXPECT_FALSE(load(std::string(kMinimal) + "admin: {listen: 99999}\n").ok());
}

TEST(ConfigLoader, AnIntegerSizeIsBytes) {
  const LoadResult r = load(std::string(kMinimal) + "limits: {header_bytes: 4096}\n");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.limits.headerBytes, 4096u);
}

TEST(ConfigLoader, BodyMinRateIsASizePerSecond) {
  for (const auto& [text, bytes] : std::vector<std::pair<std::string, uint64_t>>{
           {"1KiB", 1024}, {"1KiB/s", 1024}, {"500", 500}, {"0", 0}, {"2 KB/s", 2000}}) {
    const LoadResult r = load(std::string(kMinimal) + "timeouts: {body_min_rate: " + text + "}\n");
    ASSERT_TRUE(r.ok()) << text << "\n" << errorsOf(r);
    EXPECT_EQ(r.config.timeouts.bodyMinRate, bytes) << text;
  }
}

TEST(ConfigLoader, BooleansAcceptYamlSpellings) {
  for (const auto& [text, value] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                             {"yes", true},
                                                                             {"on", true},
                                                                             {"True", true},
                                                                             {"false", false},
                                                                             {"no", false},
                                                                             {"off", false},
                                                                             {"FALSE", false}}) {
    const LoadResult r = load(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: /srv, immutable: )" +
                              text + "}}]\n");
    ASSERT_TRUE(r.ok()) << text << "\n" << errorsOf(r);
    EXPECT_EQ(r.config.routes[0].staticFiles->immutable, value) << text;
  }
}

TEST(ConfigLoader, IndexMayBeOneNameOrAnEmptyList) {
  LoadResult r = load(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: /srv, index: default.htm}}]
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.routes[0].staticFiles->index, std::vector<std::string>{"default.htm"});

  r = load(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: /srv, index: []}}]
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_TRUE(r.config.routes[0].staticFiles->index.empty());
}

TEST(ConfigLoader, SameHostDifferentPrefixAndSamePrefixDifferentHostAreDistinctRoutes) {
  const LoadResult r = load(R"(
listen: "*:0"
upstreams: {app: {servers: [{address: "h:1"}]}}
routes:
  - {prefix: /, upstream: app}
  - {prefix: /, host: a.example, upstream: app}
  - {prefix: /x/, host: a.example, upstream: app}
  - {prefix: /, host: b.example, upstream: app}
)");
  EXPECT_TRUE(r.ok()) << errorsOf(r);
}

TEST(ConfigLoader, AnchorsAndAliasesWork) {
  const LoadResult r = load(R"(
listen: "*:0"
upstreams:
  app: &backend
    servers: [{address: "h:1", workers: 3}]
  copy: *backend
routes: [{prefix: /, upstream: copy}]
)");
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.upstreams.at("copy").servers[0].workers, 3u);
  EXPECT_EQ(r.config.upstreams.at("copy").name, "copy");
}

TEST(ConfigLoader, UpstreamAndSameListenPortZeroMayRepeat) {
  const LoadResult r = load(R"(
listen: ["127.0.0.1:0", "127.0.0.1:0"]
admin: {listen: "127.0.0.1:0"}
routes: [{prefix: /, static: {root: /srv}}]
)");
  EXPECT_TRUE(r.ok()) << errorsOf(r);
}

}  // namespace
}  // namespace doorman::config
