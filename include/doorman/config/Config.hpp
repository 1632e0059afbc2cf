#pragma once
// The typed, validated, immutable configuration. Every default lives here, in one place;
// config/doorman.yaml documents the same values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "doorman/core/Units.hpp"

namespace doorman::config {

using core::Millis;

/// "host:port", "[v6]:port" or "unix:/path".
struct Address {
  enum class Kind { Tcp, Unix };
  Kind kind = Kind::Tcp;
  std::string host;   ///< Tcp: host name or literal (no brackets for v6)
  uint16_t port = 0;  ///< Tcp; 0 = any free port (tests)
  std::string path;   ///< Unix
  std::string text;   ///< as written in the file (for logs)

  bool operator==(const Address&) const = default;
};

struct Limits {
  uint64_t headerBytes = 16 * 1024;    ///< limits.header_bytes: request line + headers (431)
  uint64_t headerCount = 100;          ///< limits.header_count (431)
  uint64_t uriBytes = 8 * 1024;        ///< limits.uri_bytes (414)
  uint64_t bodyBytes = 100ull << 20;   ///< limits.body_bytes (413)
  uint64_t connections = 10000;        ///< limits.connections: open client connections
  uint64_t pipelineBytes = 64 * 1024;  ///< limits.pipeline_bytes: read-ahead held while busy

  bool operator==(const Limits&) const = default;
};

struct Timeouts {
  Millis header{10000};      ///< timeouts.header: whole request head
  Millis bodyIdle{30000};    ///< timeouts.body_idle: gap between body bytes
  uint64_t bodyMinRate = 0;  ///< timeouts.body_min_rate: bytes/s (0 = off)
  Millis sendIdle{60000};    ///< timeouts.send_idle: client not reading its response
  Millis keepalive{75000};   ///< timeouts.keepalive: idle client connection
  Millis drain{30000};       ///< timeouts.drain: graceful stop

  bool operator==(const Timeouts&) const = default;
};

struct Buffering {
  uint64_t memoryPerMessage = 64 * 1024;         ///< buffering.memory_per_message
  uint64_t memoryTotal = 256ull << 20;           ///< buffering.memory_total
  std::string tempDir = "/var/lib/doorman/tmp";  ///< buffering.temp_dir
  uint64_t diskTotal = 4ull << 30;               ///< buffering.disk_total
  uint64_t maxResponseBytes = 1ull << 30;        ///< buffering.max_response_bytes (502 beyond)

  bool operator==(const Buffering&) const = default;
};

struct UpstreamServer {
  Address address;
  uint32_t workers = 1;  ///< upstreams.<name>.servers[].workers: max in flight

  bool operator==(const UpstreamServer&) const = default;
};

struct HealthCheck {
  std::string path;
  Millis interval{5000};
  Millis timeout{1000};

  bool operator==(const HealthCheck&) const = default;
};

struct Upstream {
  std::string name;
  std::vector<UpstreamServer> servers;
  uint64_t queueMax = 1000;                ///< upstreams.<name>.queue.max
  Millis queueTimeout{30000};              ///< upstreams.<name>.queue.timeout
  Millis connectTimeout{1000};             ///< upstreams.<name>.timeouts.connect
  Millis responseTimeout{60000};           ///< upstreams.<name>.timeouts.response
  uint32_t retries = 1;                    ///< upstreams.<name>.retries: extra tries when safe
  Millis keepaliveIdle{1000};              ///< upstreams.<name>.keepalive_idle
  std::optional<HealthCheck> healthCheck;  ///< upstreams.<name>.health_check

  bool operator==(const Upstream&) const = default;
};

struct StaticRoute {
  std::string root;                              ///< routes[].static.root
  std::optional<Millis> maxAge;                  ///< routes[].static.max_age -> Cache-Control
  bool immutable = false;                        ///< routes[].static.immutable
  std::vector<std::string> index{"index.html"};  ///< routes[].static.index
  bool followSymlinks = false;                   ///< routes[].static.follow_symlinks (out of root)
  bool precompressed = true;  ///< routes[].static.precompressed (.br/.gz siblings)

  bool operator==(const StaticRoute&) const = default;
};

struct Route {
  std::string prefix = "/";                ///< routes[].prefix
  std::optional<std::string> host;         ///< routes[].host: exact match, case-insensitive
  std::optional<std::string> upstream;     ///< routes[].upstream
  std::optional<StaticRoute> staticFiles;  ///< routes[].static
  std::optional<Millis> queueTimeout;      ///< routes[].queue_timeout override
  // With both upstream and static: try the file first, else the upstream (try_files).

  bool operator==(const Route&) const = default;
};

struct AccessLog {
  bool enabled = false;
  std::string path;                 ///< access_log.path ("off" disables)
  std::string format = "combined";  ///< access_log.format: combined | json

  bool operator==(const AccessLog&) const = default;
};

struct ErrorLog {
  std::string level = "info";  ///< log.level: debug | info | warn | error
  std::string path;            ///< log.path: empty = stderr

  bool operator==(const ErrorLog&) const = default;
};

struct StaticCache {
  uint64_t size = 64ull << 20;      ///< static_cache.size: all cached files (0: no cache)
  uint64_t maxFile = 256ull << 10;  ///< static_cache.max_file: larger files are not cached
  Millis checkInterval{1000};       ///< static_cache.check_interval: re-stat at most this often

  bool operator==(const StaticCache&) const = default;
};

struct Config {
  std::string sourcePath;              ///< the file this came from
  std::vector<Address> listen;         ///< listen
  std::optional<Address> adminListen;  ///< admin.listen
  Limits limits;
  Timeouts timeouts;
  Buffering buffering;
  std::map<std::string, Upstream> upstreams;  ///< upstreams.<name>
  std::vector<Route> routes;                  ///< routes, in file order
  StaticCache staticCache;                    ///< static_cache
  AccessLog accessLog;
  ErrorLog log;
  std::string user;   ///< user: drop to after binding (empty: stay)
  std::string group;  ///< group

  bool operator==(const Config&) const = default;
};

}  // namespace doorman::config
