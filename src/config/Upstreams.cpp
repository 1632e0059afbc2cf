// upstreams.<name>: the servers of one upstream, their worker counts, the queue in front
// of them and the timeouts of talking to them.

#include <algorithm>
#include <limits>

#include "Sections.hpp"

namespace doorman::config::detail {
namespace {

constexpr uint32_t kMaxWorkers = 100000;
// More retries than this only multiplies the load of a failing backend.
constexpr uint32_t kMaxRetries = 10;
constexpr Millis kAnyDuration{0};
constexpr Millis kPositiveDuration{1};

/// Names end up in key paths and metric labels: keep them to one plain word.
bool isValidName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

void readServer(Context& ctx, const Value& v, UpstreamServer& out) {
  if (!v.node.IsMap()) {
    ctx.error(v, "expected a map with address and workers, got " + describe(v.node));
    return;
  }
  bool hasAddress = false;
  readMap(ctx, v,
          {
              {"address",
               [&](const Value& x) {
                 hasAddress = true;
                 readAddress(ctx, x, out.address);
               }},
              {"workers", [&](const Value& x) { readUint32(ctx, x, 1, kMaxWorkers, out.workers); }},
          });
  if (!hasAddress && !ctx.failed(v.path + ".address"))
    ctx.error(v.mark, v.path + ".address", "a server needs an address");
}

void readHealthCheck(Context& ctx, const Value& v, std::optional<HealthCheck>& out) {
  HealthCheck check;
  bool hasPath = false;
  const bool isMap = readMap(
      ctx, v,
      {
          {"path",
           [&](const Value& x) {
             hasPath = true;
             if (!readString(ctx, x, check.path)) return;
             // Sent as the request target: visible ASCII only (no space, CR or LF).
             bool visible = std::all_of(check.path.begin(), check.path.end(),
                                        [](char c) { return c > ' ' && c < 0x7f; });
             if (!check.path.starts_with('/') || !visible) {
               ctx.error(x,
                         "expected a request path starting with '/' (visible ASCII, no "
                         "spaces), got '" +
                             check.path + "'");
             }
           }},
          {"interval",
           [&](const Value& x) { readDuration(ctx, x, kPositiveDuration, check.interval); }},
          {"timeout",
           [&](const Value& x) { readDuration(ctx, x, kPositiveDuration, check.timeout); }},
      });
  if (!isMap) return;
  if (!hasPath && !ctx.failed(v.path + ".path"))
    ctx.error(v.mark, v.path + ".path", "a health check needs a path, e.g. /health");
  out = std::move(check);
}

void readUpstream(Context& ctx, const Value& v, Upstream& out) {
  readMap(ctx, v,
          {
              {"servers",
               [&](const Value& x) {
                 readList(ctx, x, [&](const Value& item) {
                   // Kept even when bad, so that servers[i] keeps naming the i-th entry.
                   out.servers.emplace_back();
                   readServer(ctx, item, out.servers.back());
                 });
               }},
              {"queue",
               [&](const Value& x) {
                 readMap(ctx, x,
                         {
                             {"max",
                              [&](const Value& y) {
                                readUint(ctx, y, 0, std::numeric_limits<uint64_t>::max(),
                                         out.queueMax);
                              }},
                             {"timeout",
                              [&](const Value& y) {
                                readDuration(ctx, y, kAnyDuration, out.queueTimeout);
                              }},
                         });
               }},
              {"timeouts",
               [&](const Value& x) {
                 readMap(ctx, x,
                         {
                             {"connect",
                              [&](const Value& y) {
                                readDuration(ctx, y, kPositiveDuration, out.connectTimeout);
                              }},
                             {"response",
                              [&](const Value& y) {
                                readDuration(ctx, y, kPositiveDuration, out.responseTimeout);
                              }},
                         });
               }},
              {"retries", [&](const Value& x) { readUint32(ctx, x, 0, kMaxRetries, out.retries); }},
              {"keepalive_idle",
               [&](const Value& x) { readDuration(ctx, x, kAnyDuration, out.keepaliveIdle); }},
              {"health_check", [&](const Value& x) { readHealthCheck(ctx, x, out.healthCheck); }},
          });
}

}  // namespace

void readUpstreams(Context& ctx, const Value& v, std::map<std::string, Upstream>& out) {
  readNamedMap(ctx, v, [&](const std::string& name, const YAML::Mark& keyMark, const Value& x) {
    if (!isValidName(name)) {
      ctx.error(keyMark, x.path,
                "an upstream name may only use letters, digits, '_' and '-', got '" + name + "'");
    }
    Upstream& upstream = out[name];
    upstream.name = name;
    readUpstream(ctx, x, upstream);
  });
}

}  // namespace doorman::config::detail
