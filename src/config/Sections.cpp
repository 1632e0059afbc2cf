// The flat sections: listen, admin, limits, timeouts, buffering, access_log, log.
// Minimums: 0 is accepted wherever it has a meaning ("no request bodies", "no keep-alive",
// "stop at once", "rate check off"), and rejected where it would make doorman useless.

#include <arpa/inet.h>

#include <algorithm>
#include <limits>

#include "Sections.hpp"

namespace doorman::config::detail {
namespace {

constexpr uint64_t kAnySize = 0;
constexpr uint64_t kPositiveSize = 1;
constexpr Millis kAnyDuration{0};
constexpr Millis kPositiveDuration{1};

/// doorman binds listen addresses itself and does not resolve names for them (a name can
/// stand for several addresses, or for none at start-up): an IP literal, `*`, or a socket.
bool readListenAddress(Context& ctx, const Value& v, Address& out) {
  Address address;
  if (!readAddress(ctx, v, address)) return false;
  in_addr scratch{};
  const bool isLiteral = address.kind == Address::Kind::Unix ||
                         address.host.find(':') != std::string::npos ||  // checked IPv6
                         inet_pton(AF_INET, address.host.c_str(), &scratch) == 1;
  if (!isLiteral) {
    ctx.error(v, "a listen address needs an IP address or *, not a host name, got '" +
                     address.text + "'");
    return false;
  }
  out = std::move(address);
  return true;
}

/// body_min_rate is a size per second: "1KiB", "1KiB/s" or plain bytes.
void readRate(Context& ctx, const Value& v, uint64_t& out) {
  static constexpr std::string_view kPerSecond = "/s";
  if (v.node.IsScalar()) {
    const std::string& text = v.node.Scalar();
    if (text.size() > kPerSecond.size() && text.ends_with(kPerSecond)) {
      const Value bare{YAML::Node(text.substr(0, text.size() - kPerSecond.size())), v.mark, v.path};
      readSize(ctx, bare, kAnySize, out);
      return;
    }
  }
  readSize(ctx, v, kAnySize, out);
}

}  // namespace

void readListen(Context& ctx, const Value& v, std::vector<Address>& out) {
  ctx.remember(v);
  if (v.node.IsScalar()) {
    Address address;
    if (readListenAddress(ctx, v, address)) out.push_back(std::move(address));
    return;
  }
  if (!v.node.IsSequence()) {
    ctx.error(v, "expected an address or a list of addresses, got " + describe(v.node));
    return;
  }
  readList(ctx, v, [&](const Value& item) {
    Address address;
    if (readListenAddress(ctx, item, address)) out.push_back(std::move(address));
  });
}

void readAdmin(Context& ctx, const Value& v, std::optional<Address>& out) {
  readMap(ctx, v,
          {{"listen", [&](const Value& listen) {
              Address address;
              // A port alone is on loopback: the endpoint has no authentication.
              const std::string text =
                  listen.node.IsScalar() ? listen.node.Scalar() : std::string();
              const bool portOnly =
                  !text.empty() && std::all_of(text.begin(), text.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
              const Value loopback{YAML::Node("127.0.0.1:" + text), listen.mark, listen.path};
              if (readListenAddress(ctx, portOnly ? loopback : listen, address)) {
                out = std::move(address);
              }
            }}});
}

void readLimits(Context& ctx, const Value& v, Limits& out) {
  readMap(ctx, v,
          {
              {"header_bytes",
               [&](const Value& x) { readSize(ctx, x, kPositiveSize, out.headerBytes); }},
              {"header_count",
               [&](const Value& x) {
                 readUint(ctx, x, 1, std::numeric_limits<uint64_t>::max(), out.headerCount);
               }},
              {"uri_bytes", [&](const Value& x) { readSize(ctx, x, kPositiveSize, out.uriBytes); }},
              {"body_bytes", [&](const Value& x) { readSize(ctx, x, kAnySize, out.bodyBytes); }},
              {"connections",
               [&](const Value& x) {
                 readUint(ctx, x, 1, std::numeric_limits<uint64_t>::max(), out.connections);
               }},
              {"pipeline_bytes",
               [&](const Value& x) { readSize(ctx, x, kAnySize, out.pipelineBytes); }},
          });
}

void readTimeouts(Context& ctx, const Value& v, Timeouts& out) {
  readMap(
      ctx, v,
      {
          {"header", [&](const Value& x) { readDuration(ctx, x, kPositiveDuration, out.header); }},
          {"body_idle",
           [&](const Value& x) { readDuration(ctx, x, kPositiveDuration, out.bodyIdle); }},
          {"body_min_rate", [&](const Value& x) { readRate(ctx, x, out.bodyMinRate); }},
          {"send_idle",
           [&](const Value& x) { readDuration(ctx, x, kPositiveDuration, out.sendIdle); }},
          {"keepalive", [&](const Value& x) { readDuration(ctx, x, kAnyDuration, out.keepalive); }},
          {"drain", [&](const Value& x) { readDuration(ctx, x, kAnyDuration, out.drain); }},
      });
}

void readBuffering(Context& ctx, const Value& v, Buffering& out) {
  readMap(ctx, v,
          {
              {"memory_per_message",
               [&](const Value& x) { readSize(ctx, x, kPositiveSize, out.memoryPerMessage); }},
              {"memory_total",
               [&](const Value& x) { readSize(ctx, x, kPositiveSize, out.memoryTotal); }},
              {"temp_dir", [&](const Value& x) { readAbsolutePath(ctx, x, out.tempDir); }},
              {"disk_total", [&](const Value& x) { readSize(ctx, x, kAnySize, out.diskTotal); }},
              {"max_response_bytes",
               [&](const Value& x) { readSize(ctx, x, kPositiveSize, out.maxResponseBytes); }},
          });
}

void readStaticCache(Context& ctx, const Value& v, StaticCache& out) {
  readMap(ctx, v,
          {
              {"size", [&](const Value& x) { readSize(ctx, x, kAnySize, out.size); }},
              {"max_file", [&](const Value& x) { readSize(ctx, x, kAnySize, out.maxFile); }},
              {"check_interval",
               [&](const Value& x) { readDuration(ctx, x, Millis{0}, out.checkInterval); }},
          });
}

void readAccessLog(Context& ctx, const Value& v, AccessLog& out) {
  if (v.node.IsScalar()) {
    if (v.node.Scalar() == "off") {
      out.enabled = false;
      out.path.clear();
    } else {
      ctx.error(v, "expected a map with path and format, or off, got '" + v.node.Scalar() + "'");
    }
    return;
  }
  std::string path;
  readMap(ctx, v,
          {
              {"path",
               [&](const Value& x) {
                 if (readString(ctx, x, path) && path.empty()) {
                   ctx.error(x, "expected a file path, or off");
                 }
               }},
              {"format",
               [&](const Value& x) {
                 readChoice(ctx, x, {"combined", "json"}, out.format);
               }},
          });
  // Disabled is always {enabled = false, path = ""}, however it was written.
  out.enabled = !path.empty() && path != "off";
  out.path = out.enabled ? path : std::string();
}

void readErrorLog(Context& ctx, const Value& v, ErrorLog& out) {
  readMap(ctx, v,
          {
              {"level",
               [&](const Value& x) {
                 readChoice(ctx, x, {"debug", "info", "warn", "error"}, out.level);
               }},
              {"path", [&](const Value& x) { readString(ctx, x, out.path); }},
          });
}

}  // namespace doorman::config::detail
