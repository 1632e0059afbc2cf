#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/ConfigTestSupport.hpp"

namespace doorman::config {
namespace {

using test::errorsOf;
using test::kMinimal;
using test::load;
using ::testing::HasSubstr;

/// Loads `text` and expects exactly one error, at `line`:`column` on `path`.
ConfigError onlyError(std::string_view text, int line, int column, const std::string& path) {
  const LoadResult r = load(text);
  EXPECT_EQ(r.errors.size(), 1u) << errorsOf(r);
  if (r.errors.empty()) return {};
  const ConfigError& e = r.errors.front();
  EXPECT_EQ(e.file, "doorman.yaml");
  EXPECT_EQ(e.line, line) << e.toString();
  EXPECT_EQ(e.column, column) << e.toString();
  EXPECT_EQ(e.keyPath, path) << e.toString();
  return e;
}

/// kMinimal plus `extra` lines; kMinimal is 6 lines long, so `extra` starts on line 7.
std::string minimalPlus(std::string_view extra) {
  return std::string(kMinimal) + std::string(extra);
}

TEST(ConfigErrors, ToStringNamesFileLineColumnKeyPathAndMessage) {
  const ConfigError e{"a.yaml", 3, 5, "limits.header_bytes", "expected a size"};
  EXPECT_EQ(e.toString(), "a.yaml:3:5: limits.header_bytes: expected a size");
  const ConfigError fileLevel{"a.yaml", 0, 0, "", "cannot read file"};
  EXPECT_EQ(fileLevel.toString(), "a.yaml:0:0: cannot read file");
}

TEST(ConfigErrors, YamlSyntaxErrorIsOneErrorAtTheParserMark) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: /, upstream: app}
)",
                                  3, 1, "");
  EXPECT_THAT(e.message, HasSubstr("invalid YAML"));
  EXPECT_THAT(e.message, HasSubstr("end of sequence flow not found"));
}

TEST(ConfigErrors, UnknownTopLevelKeySuggestsTheClosestKey) {
  const ConfigError e = onlyError(minimalPlus("acess_log: off\n"), 7, 1, "acess_log");
  EXPECT_EQ(e.message, "unknown key 'acess_log'; did you mean 'access_log'?");
}

TEST(ConfigErrors, UnknownKeyDifferingOnlyInCaseSuggestsTheKey) {
  const ConfigError e = onlyError(minimalPlus("Limits: {}\n"), 7, 1, "Limits");
  EXPECT_EQ(e.message, "unknown key 'Limits'; did you mean 'limits'?");
}

TEST(ConfigErrors, UnknownKeyWithNothingCloseListsTheKnownKeys) {
  const ConfigError e =
      onlyError(minimalPlus("limits: {frobnicate: 1}\n"), 7, 10, "limits.frobnicate");
  EXPECT_EQ(e.message,
            "unknown key 'frobnicate'; expected header_bytes, header_count, uri_bytes, "
            "body_bytes, connections or pipeline_bytes");
}

TEST(ConfigErrors, UnknownNestedKeyNamesTheFullPath) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app:
    servers:
      - address: "h:1"
        worker: 4
routes: [{prefix: /, upstream: app}]
)",
                                  6, 9, "upstreams.app.servers[0].worker");
  EXPECT_EQ(e.message, "unknown key 'worker'; did you mean 'workers'?");
}

TEST(ConfigErrors, AMisspeltRequiredKeyIsNotAlsoReportedMissing) {
  ConfigError e = onlyError(R"(
listn: "*:0"
routes: [{prefix: /, static: {root: /srv}}]
)",
                            1, 1, "listn");
  EXPECT_EQ(e.message, "unknown key 'listn'; did you mean 'listen'?");

  const LoadResult r = load(R"(
listen: "*:0"
upstreams: {app: {servers: [{adress: "h:1"}]}}
routes: [{prefix: /, upstrem: app, static: {rot: /srv}}]
)");
  ASSERT_EQ(r.errors.size(), 3u) << errorsOf(r);
  EXPECT_EQ(r.errors[0].keyPath, "upstreams.app.servers[0].adress");
  EXPECT_EQ(r.errors[1].keyPath, "routes[0].upstrem");
  EXPECT_EQ(r.errors[2].keyPath, "routes[0].static.rot");
}

TEST(ConfigErrors, DuplicateKeyIsAnError) {
  const ConfigError e = onlyError(minimalPlus("user: a\nuser: b\n"), 8, 1, "user");
  EXPECT_EQ(e.message, "duplicate key 'user' (first at line 7)");
}

TEST(ConfigErrors, MapWhereANumberIsExpected) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app:
    servers:
      - address: "h:1"
        workers: {count: 4}
routes: [{prefix: /, upstream: app}]
)",
                                  6, 18, "upstreams.app.servers[0].workers");
  EXPECT_EQ(e.message, "expected a whole number, got a map");
}

TEST(ConfigErrors, ScalarWhereAMapIsExpected) {
  const ConfigError e = onlyError(minimalPlus("limits: 5\n"), 7, 9, "limits");
  EXPECT_EQ(e.message, "expected a map of settings, got '5'");
}

TEST(ConfigErrors, ListWhereAStringIsExpected) {
  const ConfigError e = onlyError(minimalPlus("user: [a, b]\n"), 7, 7, "user");
  EXPECT_EQ(e.message, "expected a string, got a list");
}

TEST(ConfigErrors, EmptyValuePointsAtItsKey) {
  const ConfigError e = onlyError(minimalPlus("timeouts:\n  header:\n"), 8, 3, "timeouts.header");
  EXPECT_EQ(e.message, "expected a duration like 500ms or 30s, got nothing");
}

TEST(ConfigErrors, UnparsableSize) {
  const ConfigError e =
      onlyError(minimalPlus("limits:\n  body_bytes: 1.5GiB\n"), 8, 15, "limits.body_bytes");
  EXPECT_EQ(e.message, "expected a size like 64KiB, 10MB or a number of bytes, got '1.5GiB'");
}

TEST(ConfigErrors, NegativeSize) {
  const ConfigError e =
      onlyError(minimalPlus("limits: {body_bytes: -1}\n"), 7, 22, "limits.body_bytes");
  EXPECT_THAT(e.message, HasSubstr("got '-1'"));
}

TEST(ConfigErrors, UnparsableDuration) {
  const ConfigError e =
      onlyError(minimalPlus("timeouts: {header: abc}\n"), 7, 20, "timeouts.header");
  EXPECT_EQ(e.message, "expected a duration like 500ms or 30s, got 'abc'");
}

TEST(ConfigErrors, DurationWithoutAUnit) {
  const ConfigError e =
      onlyError(minimalPlus("timeouts: {keepalive: 64}\n"), 7, 23, "timeouts.keepalive");
  EXPECT_EQ(e.message, "a duration needs a unit (us, ms, s, m, h, d), e.g. 64s, got '64'");
}

TEST(ConfigErrors, UnparsableInteger) {
  const ConfigError e =
      onlyError(minimalPlus("limits: {header_count: lots}\n"), 7, 24, "limits.header_count");
  EXPECT_EQ(e.message, "expected a whole number, got 'lots'");
}

TEST(ConfigErrors, UnparsableBool) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: /srv, immutable: maybe}}]
)",
                                  2, 54, "routes[0].static.immutable");
  EXPECT_EQ(e.message, "expected true or false, got 'maybe'");
}

TEST(ConfigErrors, WorkersOutOfRange) {
  for (const char* workers : {"0", "100001"}) {
    const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app:
    servers: [{address: "h:1", workers: )" +
                                        std::string(workers) + R"(}]
routes: [{prefix: /, upstream: app}]
)",
                                    4, 41, "upstreams.app.servers[0].workers");
    EXPECT_EQ(e.message, "must be between 1 and 100000, got " + std::string(workers));
  }
}

TEST(ConfigErrors, IntegerPastTheLargestValueIsOutOfRange) {
  const ConfigError e = onlyError(minimalPlus("limits: {connections: 99999999999999999999}\n"), 7,
                                  23, "limits.connections");
  EXPECT_EQ(e.message, "must be at most 18446744073709551615, got 99999999999999999999");
}

TEST(ConfigErrors, NegativeQueueMax) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app:
    servers: [{address: "h:1"}]
    queue: {max: -1}
routes: [{prefix: /, upstream: app}]
)",
                                  5, 18, "upstreams.app.queue.max");
  EXPECT_EQ(e.message, "must be at least 0, got -1");
}

TEST(ConfigErrors, ZeroWhereZeroMakesNoSense) {
  ConfigError e =
      onlyError(minimalPlus("limits: {header_count: 0}\n"), 7, 24, "limits.header_count");
  EXPECT_EQ(e.message, "must be greater than 0, got 0");
  e = onlyError(minimalPlus("limits: {header_bytes: 0KiB}\n"), 7, 24, "limits.header_bytes");
  EXPECT_EQ(e.message, "must be greater than 0, got 0KiB");
  e = onlyError(minimalPlus("timeouts: {header: 0s}\n"), 7, 20, "timeouts.header");
  EXPECT_EQ(e.message, "must be longer than 0, got 0s");
  e = onlyError(minimalPlus("buffering: {memory_total: 0}\n"), 7, 27, "buffering.memory_total");
  EXPECT_EQ(e.message, "must be greater than 0, got 0");
}

TEST(ConfigErrors, TooManyRetries) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams: {app: {servers: [{address: "h:1"}], retries: 11}}
routes: [{prefix: /, upstream: app}]
)",
                                  2, 57, "upstreams.app.retries");
  EXPECT_EQ(e.message, "must be between 0 and 10, got 11");
}

TEST(ConfigErrors, BadAddressSaysWhatIsWrong) {
  const ConfigError e = onlyError(R"(
listen: ["*:80", "127.0.0.1:70000"]
routes: [{prefix: /, static: {root: /srv}}]
)",
                                  1, 18, "listen[1]");
  EXPECT_EQ(e.message,
            "expected an address like 127.0.0.1:8080, [::1]:8080 or unix:/path (port must be a "
            "number from 0 to 65535), got '127.0.0.1:70000'");
}

TEST(ConfigErrors, ListenNeedsAnIpAddressNotAHostName) {
  ConfigError e = onlyError(R"(
listen: "localhost:8080"
routes: [{prefix: /, static: {root: /srv}}]
)",
                            1, 9, "listen");
  EXPECT_EQ(e.message,
            "a listen address needs an IP address or *, not a host name, got 'localhost:8080'");
  e = onlyError(R"(
listen: "*:0"
admin: {listen: "admin.local:9901"}
routes: [{prefix: /, static: {root: /srv}}]
)",
                2, 17, "admin.listen");
  EXPECT_THAT(e.message, HasSubstr("not a host name"));
}

TEST(ConfigErrors, MissingListen) {
  const ConfigError e = onlyError(R"(
routes: [{prefix: /, static: {root: /srv}}]
)",
                                  1, 1, "listen");
  EXPECT_THAT(e.message, HasSubstr("at least one listen address is required"));
}

TEST(ConfigErrors, EmptyListenList) {
  const ConfigError e = onlyError(R"(
listen: []
routes: [{prefix: /, static: {root: /srv}}]
)",
                                  1, 9, "listen");
  EXPECT_THAT(e.message, HasSubstr("at least one listen address is required"));
}

TEST(ConfigErrors, MissingRoutes) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
)",
                                  1, 1, "routes");
  EXPECT_THAT(e.message, HasSubstr("at least one route is required"));
}

TEST(ConfigErrors, RouteWithNeitherUpstreamNorStatic) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes:
  - prefix: /
)",
                                  3, 5, "routes[0]");
  EXPECT_EQ(e.message, "a route needs an upstream, static files, or both");
}

TEST(ConfigErrors, RouteNamingAMissingUpstreamPointsAtTheNameAndListsTheUpstreams) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app: {servers: [{address: "h:1"}]}
  api: {servers: [{address: "h:2"}]}
routes:
  - prefix: /
    upstream: appp
)",
                                  7, 15, "routes[0].upstream");
  EXPECT_EQ(e.message, "unknown upstream 'appp'; did you mean 'app'? (defined: api and app)");
}

TEST(ConfigErrors, RouteNamingAnUpstreamWhenThereAreNone) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: /, upstream: app}]
)",
                                  2, 32, "routes[0].upstream");
  EXPECT_EQ(e.message, "unknown upstream 'app': no upstreams are defined");
}

TEST(ConfigErrors, UpstreamWithoutServers) {
  ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app: {queue: {max: 5}}
routes: [{prefix: /, upstream: app}]
)",
                            3, 8, "upstreams.app.servers");
  EXPECT_EQ(e.message, "an upstream needs at least one server");
  e = onlyError(R"(
listen: "*:0"
upstreams:
  app: {servers: []}
routes: [{prefix: /, upstream: app}]
)",
                3, 18, "upstreams.app.servers");
  EXPECT_EQ(e.message, "an upstream needs at least one server");
}

TEST(ConfigErrors, ServerWithoutAddress) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app:
    servers:
      - workers: 2
routes: [{prefix: /, upstream: app}]
)",
                                  5, 9, "upstreams.app.servers[0].address");
  EXPECT_EQ(e.message, "a server needs an address");
}

TEST(ConfigErrors, BadUpstreamName) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  "my app": {servers: [{address: "h:1"}]}
routes: [{prefix: /, upstream: "my app"}]
)",
                                  3, 3, "upstreams.my app");
  EXPECT_THAT(e.message, HasSubstr("only use letters, digits"));
}

TEST(ConfigErrors, HealthCheckWithoutPath) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
upstreams:
  app:
    servers: [{address: "h:1"}]
    health_check: {interval: 1s}
routes: [{prefix: /, upstream: app}]
)",
                                  5, 19, "upstreams.app.health_check.path");
  EXPECT_EQ(e.message, "a health check needs a path, e.g. /health");
}

TEST(ConfigErrors, PrefixMustStartWithASlash) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: static/, static: {root: /srv}}]
)",
                                  2, 19, "routes[0].prefix");
  EXPECT_EQ(e.message, "a prefix must start with '/', got 'static/'");
}

TEST(ConfigErrors, DuplicateHostAndPrefix) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes:
  - {prefix: /a/, host: Example.com, static: {root: /srv}}
  - {prefix: /a/, host: example.COM, static: {root: /srv2}}
)",
                                  4, 14, "routes[1].prefix");
  EXPECT_EQ(e.message,
            "duplicate route: routes[0] already has prefix '/a/' and host 'example.com'");
}

TEST(ConfigErrors, DuplicatePrefixWithoutHost) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes:
  - {prefix: /, static: {root: /srv}}
  - {static: {root: /srv2}}
)",
                                  4, 5, "routes[1].prefix");
  EXPECT_EQ(e.message, "duplicate route: routes[0] already has prefix '/'");
}

TEST(ConfigErrors, AccessLogFormatMustBeCombinedOrJson) {
  const ConfigError e = onlyError(minimalPlus("access_log: {path: /a.log, format: JSON}\n"), 7, 36,
                                  "access_log.format");
  EXPECT_EQ(e.message, "expected combined or json, got 'JSON'; did you mean 'json'?");
}

TEST(ConfigErrors, AccessLogScalarOtherThanOff) {
  const ConfigError e = onlyError(minimalPlus("access_log: /a.log\n"), 7, 13, "access_log");
  EXPECT_EQ(e.message, "expected a map with path and format, or off, got '/a.log'");
}

TEST(ConfigErrors, LogLevelMustBeKnown) {
  const ConfigError e = onlyError(minimalPlus("log: {level: verbose}\n"), 7, 14, "log.level");
  EXPECT_EQ(e.message, "expected debug, info, warn or error, got 'verbose'");
}

TEST(ConfigErrors, StaticRootMustBeAbsolute) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: srv/www}}]
)",
                                  2, 37, "routes[0].static.root");
  EXPECT_EQ(e.message, "expected an absolute path, got 'srv/www'");
}

TEST(ConfigErrors, StaticWithoutRoot) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: /, static: {max_age: 1h}}]
)",
                                  2, 30, "routes[0].static.root");
  EXPECT_EQ(e.message, "static files need a root directory");
}

TEST(ConfigErrors, TempDirMustBeAbsolute) {
  const ConfigError e =
      onlyError(minimalPlus("buffering: {temp_dir: tmp}\n"), 7, 23, "buffering.temp_dir");
  EXPECT_EQ(e.message, "expected an absolute path, got 'tmp'");
}

TEST(ConfigErrors, MemoryPerMessageAboveMemoryTotal) {
  const ConfigError e = onlyError(minimalPlus(R"(buffering:
  memory_total: 1MiB
  memory_per_message: 2MiB
)"),
                                  9, 23, "buffering.memory_per_message");
  EXPECT_EQ(e.message, "must not exceed buffering.memory_total (1MiB), got 2MiB");
}

TEST(ConfigErrors, QueueTimeoutOnAStaticOnlyRoute) {
  const ConfigError e = onlyError(R"(
listen: "*:0"
routes: [{prefix: /, static: {root: /srv}, queue_timeout: 1s}]
)",
                                  2, 59, "routes[0].queue_timeout");
  EXPECT_EQ(e.message, "queue_timeout only applies to a route with an upstream");
}

TEST(ConfigErrors, DuplicateListenAddress) {
  const ConfigError e = onlyError(R"(
listen: ["*:80", "0.0.0.0:80"]
routes: [{prefix: /, static: {root: /srv}}]
)",
                                  1, 18, "listen[1]");
  EXPECT_EQ(e.message, "'0.0.0.0:80' is already listed as listen[0]");
}

TEST(ConfigErrors, AdminListenSharedWithTraffic) {
  const ConfigError e = onlyError(R"(
listen: "127.0.0.1:80"
admin: {listen: "127.0.0.1:80"}
routes: [{prefix: /, static: {root: /srv}}]
)",
                                  2, 17, "admin.listen");
  EXPECT_EQ(e.message, "'127.0.0.1:80' is also a listen address for traffic");
}

TEST(ConfigErrors, TopLevelMustBeAMap) {
  const ConfigError e = onlyError("- listen\n- routes\n", 1, 1, "");
  EXPECT_EQ(e.message, "expected a map of settings, got a list");
}

TEST(ConfigErrors, OnlyOneDocumentIsAllowed) {
  const ConfigError e = onlyError(minimalPlus("---\nlisten: \"*:1\"\n"), 7, 1, "");
  EXPECT_THAT(e.message, HasSubstr("expected one YAML document, found 2"));
}

TEST(ConfigErrors, StrayCommaAtTheStartOfADocumentIsASyntaxError) {
  // yaml-cpp 0.7 alone would loop forever (LoadAll) or ignore the whole file (Load).
  ConfigError e = onlyError(",listen: \"*:0\"\n", 1, 1, "");
  EXPECT_EQ(e.message, "invalid YAML: unexpected ','");
  e = onlyError(minimalPlus("---\n, user: x\n"), 8, 1, "");
  EXPECT_EQ(e.message, "invalid YAML: unexpected ','");
}

TEST(ConfigErrors, EmptyFileLacksListenAndRoutes) {
  const LoadResult r = load("");
  ASSERT_EQ(r.errors.size(), 2u) << errorsOf(r);
  EXPECT_EQ(r.errors[0].toString(),
            "doorman.yaml:1:1: listen: at least one listen address is required, e.g. listen: "
            "[\"*:8080\"]");
  EXPECT_EQ(r.errors[1].keyPath, "routes");
}

TEST(ConfigErrors, EveryErrorIsCollectedInFileOrder) {
  const LoadResult r = load(R"(
listen: "*:0"
limits:
  header_bytes: lots
  body_byte: 1MiB
timeouts: {header: 10}
upstreams:
  app:
    servers: [{address: "h:1", workers: 0}]
routes:
  - {prefix: /, upstream: ap}
log: {level: loud}
)");
  ASSERT_EQ(r.errors.size(), 6u) << errorsOf(r);
  EXPECT_EQ(r.errors[0].keyPath, "limits.header_bytes");
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[1].keyPath, "limits.body_byte");
  EXPECT_THAT(r.errors[1].message, HasSubstr("did you mean 'body_bytes'?"));
  EXPECT_EQ(r.errors[1].line, 4);
  EXPECT_EQ(r.errors[2].keyPath, "timeouts.header");
  EXPECT_EQ(r.errors[2].line, 5);
  EXPECT_EQ(r.errors[3].keyPath, "upstreams.app.servers[0].workers");
  EXPECT_EQ(r.errors[3].line, 8);
  EXPECT_EQ(r.errors[4].keyPath, "routes[0].upstream");
  EXPECT_EQ(r.errors[4].line, 10);
  EXPECT_THAT(r.errors[4].message, HasSubstr("did you mean 'app'?"));
  EXPECT_EQ(r.errors[5].keyPath, "log.level");
  EXPECT_EQ(r.errors[5].line, 11);
  EXPECT_EQ(r.errors[5].toString(),
            "doorman.yaml:11:14: log.level: expected debug, info, warn or error, got 'loud'");
}

TEST(ConfigErrors, ABadValueIsReportedOnceNotOncePerConsequence) {
  // The route is not a map; "needs an upstream" or "duplicate route" would only be noise.
  const LoadResult r = load(R"(
listen: "*:0"
routes:
  - {prefix: /, static: {root: /srv}}
  - just-a-string
  - {prefix: 5, static: {root: /srv}}
)");
  ASSERT_EQ(r.errors.size(), 2u) << errorsOf(r);
  EXPECT_EQ(r.errors[0].keyPath, "routes[1]");
  EXPECT_EQ(r.errors[1].keyPath, "routes[2].prefix");
}

}  // namespace
}  // namespace doorman::config
