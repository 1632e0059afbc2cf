#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/ConfigTestSupport.hpp"

namespace doorman::config {
namespace {

using test::errorsOf;
using test::kMinimal;
using test::load;
using ::testing::HasSubstr;

/// Loads `text`, dumps it, loads the dump: both loads must give the same Config.
void expectRoundTrip(std::string_view text) {
  const LoadResult first = load(text);
  ASSERT_TRUE(first.ok()) << errorsOf(first);
  const std::string dumped = dumpConfig(first.config);
  const LoadResult second = loadConfigString(dumped, first.config.sourcePath);
  ASSERT_TRUE(second.ok()) << errorsOf(second) << "\n" << dumped;
  EXPECT_EQ(second.config, first.config) << dumped;
  EXPECT_EQ(dumpConfig(second.config), dumped);
}

TEST(ConfigDump, MinimalConfigRoundTrips) { expectRoundTrip(kMinimal); }

TEST(ConfigDump, ConfigUsingEveryKeyRoundTrips) {
  expectRoundTrip(R"(
listen: ["*:8080", "[::1]:8081", "unix:/run/doorman.sock"]
admin: {listen: "127.0.0.1:9901"}
limits: {header_bytes: 32KiB, header_count: 50, uri_bytes: 4000, body_bytes: 10MB, connections: 500, pipeline_bytes: 0}
timeouts: {header: 5s, body_idle: 1500ms, body_min_rate: 1KiB/s, send_idle: 2m, keepalive: 0s, drain: 1m30s}
buffering: {memory_per_message: 128KiB, memory_total: 1GiB, temp_dir: /tmp/d, disk_total: 0, max_response_bytes: 1234567}
upstreams:
  app:
    servers:
      - {address: "unix:/run/app/gunicorn.sock", workers: 4}
      - {address: "10.0.0.2:8000", workers: 100000}
    queue: {max: 0, timeout: 0s}
    timeouts: {connect: 250us, response: 2m}
    retries: 10
    keepalive_idle: 1d
    health_check: {path: /health, interval: 10s, timeout: 2s}
  api-2:
    servers: [{address: "localhost:9000"}]
routes:
  - {prefix: /static/, static: {root: /srv/static, max_age: 0s, immutable: true, index: [], follow_symlinks: true, precompressed: false}}
  - {prefix: /api/, host: API.Example.com, upstream: api-2, queue_timeout: 1s}
  - {prefix: /, upstream: app, static: {root: /srv/public, index: [a.html, b.html]}}
access_log: {path: /var/log/doorman/access.log, format: json}
log: {level: warn, path: /var/log/doorman/error.log}
user: www-data
group: "123"
)");
}

TEST(ConfigDump, DisabledAccessLogKeepsItsFormat) {
  expectRoundTrip(std::string(kMinimal) + "access_log: {path: \"off\", format: json}\n");
  expectRoundTrip(std::string(kMinimal) + "access_log: off\n");
}

TEST(ConfigDump, StringsThatLookLikeOtherTypesStayStrings) {
  expectRoundTrip(std::string(kMinimal) +
                  "user: \"yes\"\ngroup: \"~\"\nlog: {path: \"null\"}\n"
                  "buffering: {temp_dir: \"/tmp/#not a comment: really\"}\n");
}

TEST(ConfigDump, ShowsDefaultsInTheUnitsTheyAreDocumentedIn) {
  const LoadResult r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  const std::string dumped = dumpConfig(r.config);
  EXPECT_THAT(dumped, HasSubstr("# effective configuration of doorman.yaml"));
  EXPECT_THAT(dumped, HasSubstr("header_bytes: 16KiB"));
  EXPECT_THAT(dumped, HasSubstr("body_bytes: 100MiB"));
  EXPECT_THAT(dumped, HasSubstr("memory_total: 256MiB"));
  EXPECT_THAT(dumped, HasSubstr("disk_total: 4GiB"));
  EXPECT_THAT(dumped, HasSubstr("keepalive: 75s"));
  EXPECT_THAT(dumped, HasSubstr("workers: 1"));
  EXPECT_THAT(dumped, HasSubstr("access_log: off"));
}

TEST(ConfigDump, DefaultConfigObjectDumpsToLoadableYaml) {
  // An empty Config is not valid (nothing to listen on), but its dump must still parse.
  const LoadResult r = loadConfigString(dumpConfig(Config{}), "dump");
  ASSERT_EQ(r.errors.size(), 2u) << errorsOf(r);
  EXPECT_EQ(r.errors[0].keyPath, "listen");
  EXPECT_EQ(r.errors[1].keyPath, "routes");
}

}  // namespace
}  // namespace doorman::config
