// routes[]: which requests go where. Order is kept as written; the router picks the
// longest matching prefix itself, so order carries no meaning beyond readability.

#include <filesystem>

#include "Sections.hpp"

namespace doorman::config::detail {
namespace {

constexpr Millis kAnyDuration{0};

std::string lowered(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

void readIndexName(Context& ctx, const Value& v, std::vector<std::string>& out) {
  std::string name;
  if (!readString(ctx, v, name)) return;
  if (name.empty() || name.find('/') != std::string::npos) {
    ctx.error(v, "expected a file name without '/', got '" + name + "'");
    return;
  }
  out.push_back(std::move(name));
}

/// `index`: one file name or a list of them, tried in order; [] turns index files off.
void readIndex(Context& ctx, const Value& v, std::vector<std::string>& out) {
  std::vector<std::string> names;
  if (v.node.IsScalar()) {
    readIndexName(ctx, v, names);
  } else if (v.node.IsSequence()) {
    readList(ctx, v, [&](const Value& item) { readIndexName(ctx, item, names); });
  } else {
    ctx.error(v, "expected a file name or a list of file names, got " + describe(v.node));
    return;
  }
  out = std::move(names);
}

/// `root`: absolute, or relative to the directory of the config file (so that a checkout
/// can ship a working example); always absolute in the Config.
void readRoot(Context& ctx, const Value& v, std::string& out) {
  std::string root;
  if (!readString(ctx, v, root)) return;
  if (root.starts_with('/')) {
    out = std::move(root);
  } else if (!root.empty() && !ctx.baseDir().empty()) {
    std::string resolved = (std::filesystem::path(ctx.baseDir()) / root).lexically_normal();
    if (resolved.size() > 1 && resolved.ends_with('/')) resolved.pop_back();
    out = std::move(resolved);
  } else {
    ctx.error(v, "expected an absolute path, got '" + root + "'");
  }
}

void readStatic(Context& ctx, const Value& v, std::optional<StaticRoute>& out) {
  StaticRoute files;
  bool hasRoot = false;
  const bool isMap = readMap(
      ctx, v,
      {
          {"root",
           [&](const Value& x) {
             hasRoot = true;
             readRoot(ctx, x, files.root);
           }},
          {"max_age",
           [&](const Value& x) {
             Millis age{0};
             if (readDuration(ctx, x, kAnyDuration, age)) files.maxAge = age;
           }},
          {"immutable", [&](const Value& x) { readBool(ctx, x, files.immutable); }},
          {"index", [&](const Value& x) { readIndex(ctx, x, files.index); }},
          {"follow_symlinks", [&](const Value& x) { readBool(ctx, x, files.followSymlinks); }},
          {"precompressed", [&](const Value& x) { readBool(ctx, x, files.precompressed); }},
      });
  if (!isMap) return;
  if (!hasRoot && !ctx.failed(v.path + ".root"))
    ctx.error(v.mark, v.path + ".root", "static files need a root directory");
  out = std::move(files);
}

void readHost(Context& ctx, const Value& v, std::optional<std::string>& out) {
  std::string host;
  if (!readString(ctx, v, host)) return;
  if (host.empty() || host.find_first_of(" \t/") != std::string::npos) {
    ctx.error(v, "expected a host name like example.com, got '" + host + "'");
    return;
  }
  // Host matching is case-insensitive (RFC 9110 4.2.3); store the canonical form.
  out = lowered(std::move(host));
}

void readRoute(Context& ctx, const Value& v, Route& out) {
  if (!v.node.IsMap()) {
    ctx.error(v, "expected a map with prefix and upstream or static, got " + describe(v.node));
    return;
  }
  readMap(ctx, v,
          {
              {"prefix",
               [&](const Value& x) {
                 std::string prefix;
                 if (!readString(ctx, x, prefix)) return;
                 if (!prefix.starts_with('/')) {
                   ctx.error(x, "a prefix must start with '/', got '" + prefix + "'");
                   return;
                 }
                 out.prefix = std::move(prefix);
               }},
              {"host", [&](const Value& x) { readHost(ctx, x, out.host); }},
              {"upstream",
               [&](const Value& x) {
                 std::string name;
                 if (readString(ctx, x, name)) out.upstream = std::move(name);
               }},
              {"static", [&](const Value& x) { readStatic(ctx, x, out.staticFiles); }},
              {"queue_timeout",
               [&](const Value& x) {
                 Millis timeout{0};
                 if (readDuration(ctx, x, kAnyDuration, timeout)) out.queueTimeout = timeout;
               }},
          });
}

}  // namespace

void readRoutes(Context& ctx, const Value& v, std::vector<Route>& out) {
  readList(ctx, v, [&](const Value& item) {
    // Kept even when bad, so that routes[i] keeps naming the i-th entry.
    out.emplace_back();
    readRoute(ctx, item, out.back());
  });
}

}  // namespace doorman::config::detail
