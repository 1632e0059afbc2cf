// Checks that need more than one value at a time. They run after reading and skip anything
// that already has an error, so one mistake is reported once, not once per consequence.

#include <map>
#include <utility>

#include "Sections.hpp"
#include "doorman/core/Units.hpp"

namespace doorman::config::detail {
namespace {

void error(Context& ctx, const std::string& path, std::string message) {
  ctx.error(ctx.markOf(path), path, std::move(message));
}

/// Two addresses that would bind the same socket; port 0 (any free port) never collides.
bool sameEndpoint(const Address& a, const Address& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Address::Kind::Unix) return a.path == b.path;
  return a.port != 0 && a.host == b.host && a.port == b.port;
}

void checkListen(Context& ctx, const Config& config) {
  if (ctx.failed("listen")) return;
  if (config.listen.empty()) {
    error(ctx, "listen", "at least one listen address is required, e.g. listen: [\"*:8080\"]");
    return;
  }
  for (size_t i = 0; i < config.listen.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (sameEndpoint(config.listen[i], config.listen[j])) {
        error(ctx, "listen[" + std::to_string(i) + "]",
              "'" + config.listen[i].text + "' is already listed as listen[" + std::to_string(j) +
                  "]");
        break;
      }
    }
  }
  if (config.adminListen && !ctx.failed("admin")) {
    for (const Address& address : config.listen) {
      if (sameEndpoint(*config.adminListen, address)) {
        error(ctx, "admin.listen",
              "'" + config.adminListen->text + "' is also a listen address for traffic");
        break;
      }
    }
  }
}

void checkUpstreams(Context& ctx, const Config& config) {
  for (const auto& [name, upstream] : config.upstreams) {
    const std::string path = "upstreams." + name + ".servers";
    if (upstream.servers.empty() && !ctx.failed(path)) {
      error(ctx, path, "an upstream needs at least one server");
    }
  }
}

void checkRouteTarget(Context& ctx, const Config& config, const Route& route,
                      const std::string& path) {
  if (!route.upstream && !route.staticFiles) {
    if (!ctx.failed(path + ".upstream") && !ctx.failed(path + ".static")) {
      error(ctx, path, "a route needs an upstream, static files, or both");
    }
    return;
  }
  if (route.queueTimeout && !route.upstream && !ctx.failed(path + ".upstream")) {
    error(ctx, path + ".queue_timeout", "queue_timeout only applies to a route with an upstream");
  }
  if (!route.upstream || config.upstreams.contains(*route.upstream)) return;
  std::vector<std::string> names;
  for (const auto& entry : config.upstreams) names.push_back(entry.first);
  std::string message = "unknown upstream '" + *route.upstream + "'";
  if (names.empty()) {
    message += ": no upstreams are defined";
  } else {
    const std::string guess = closestMatch(*route.upstream, names);
    if (!guess.empty()) message += "; did you mean '" + guess + "'?";
    message += " (defined: " + joinNames(names) + ")";
  }
  error(ctx, path + ".upstream", std::move(message));
}

void checkRoutes(Context& ctx, const Config& config) {
  if (config.routes.empty()) {
    if (!ctx.failed("routes")) {
      error(ctx, "routes",
            "at least one route is required, e.g. routes: [{prefix: /, upstream: app}]");
    }
    return;
  }
  std::map<std::pair<std::string, std::string>, size_t> seen;  // (host, prefix) -> index
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const Route& route = config.routes[i];
    const std::string path = "routes[" + std::to_string(i) + "]";
    if (ctx.failedAt(path)) continue;  // not even a map: its own error says so
    checkRouteTarget(ctx, config, route, path);
    if (ctx.failed(path + ".prefix") || ctx.failed(path + ".host")) continue;
    const auto key = std::make_pair(route.host.value_or(""), route.prefix);
    if (auto [first, inserted] = seen.emplace(key, i); !inserted) {
      error(ctx, path + ".prefix",
            "duplicate route: routes[" + std::to_string(first->second) + "] already has prefix '" +
                route.prefix + "'" + (route.host ? " and host '" + *route.host + "'" : ""));
    }
  }
}

void checkBuffering(Context& ctx, const Config& config) {
  const Buffering& b = config.buffering;
  if (b.memoryPerMessage <= b.memoryTotal) return;
  if (ctx.failed("buffering.memory_per_message") || ctx.failed("buffering.memory_total")) return;
  error(ctx, "buffering.memory_per_message",
        "must not exceed buffering.memory_total (" + core::formatSize(b.memoryTotal) + "), got " +
            core::formatSize(b.memoryPerMessage));
}

}  // namespace

void validate(Context& ctx, const Config& config) {
  checkListen(ctx, config);
  checkUpstreams(ctx, config);
  checkRoutes(ctx, config);
  checkBuffering(ctx, config);
}

}  // namespace doorman::config::detail
