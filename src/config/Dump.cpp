// The effective configuration (every default filled in) as YAML that loads back into the
// same Config: `doorman -t --dump-config` shows what a file really means.

#include <yaml-cpp/yaml.h>

#include "doorman/config/Loader.hpp"
#include "doorman/core/Units.hpp"

namespace doorman::config {
namespace {

using core::formatDuration;
using core::formatSize;

void emitSize(YAML::Emitter& out, const char* key, uint64_t bytes) {
  out << YAML::Key << key << YAML::Value << formatSize(bytes);
}

void emitDuration(YAML::Emitter& out, const char* key, Millis duration) {
  out << YAML::Key << key << YAML::Value << formatDuration(duration);
}

void emitString(YAML::Emitter& out, const char* key, const std::string& value) {
  // Quoted always, so that "off", "yes" or "123" stay strings for any reader.
  out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
}

void emitLimits(YAML::Emitter& out, const Limits& limits) {
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  emitSize(out, "header_bytes", limits.headerBytes);
  out << YAML::Key << "header_count" << YAML::Value << limits.headerCount;
  emitSize(out, "uri_bytes", limits.uriBytes);
  emitSize(out, "body_bytes", limits.bodyBytes);
  out << YAML::Key << "connections" << YAML::Value << limits.connections;
  emitSize(out, "pipeline_bytes", limits.pipelineBytes);
  out << YAML::EndMap;
}

void emitTimeouts(YAML::Emitter& out, const Timeouts& timeouts) {
  out << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
  emitDuration(out, "header", timeouts.header);
  emitDuration(out, "body_idle", timeouts.bodyIdle);
  emitSize(out, "body_min_rate", timeouts.bodyMinRate);
  emitDuration(out, "send_idle", timeouts.sendIdle);
  emitDuration(out, "keepalive", timeouts.keepalive);
  emitDuration(out, "drain", timeouts.drain);
  out << YAML::EndMap;
}

void emitBuffering(YAML::Emitter& out, const Buffering& buffering) {
  out << YAML::Key << "buffering" << YAML::Value << YAML::BeginMap;
  emitSize(out, "memory_per_message", buffering.memoryPerMessage);
  emitSize(out, "memory_total", buffering.memoryTotal);
  emitString(out, "temp_dir", buffering.tempDir);
  emitSize(out, "disk_total", buffering.diskTotal);
  emitSize(out, "max_response_bytes", buffering.maxResponseBytes);
  out << YAML::EndMap;
}

void emitUpstream(YAML::Emitter& out, const Upstream& upstream) {
  out << YAML::Key << upstream.name << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "servers" << YAML::Value << YAML::BeginSeq;
  for (const UpstreamServer& server : upstream.servers) {
    out << YAML::Flow << YAML::BeginMap;
    emitString(out, "address", server.address.text);
    out << YAML::Key << "workers" << YAML::Value << server.workers << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "queue" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "max" << YAML::Value << upstream.queueMax;
  emitDuration(out, "timeout", upstream.queueTimeout);
  out << YAML::EndMap;
  out << YAML::Key << "timeouts" << YAML::Value << YAML::Flow << YAML::BeginMap;
  emitDuration(out, "connect", upstream.connectTimeout);
  emitDuration(out, "response", upstream.responseTimeout);
  out << YAML::EndMap;
  out << YAML::Key << "retries" << YAML::Value << upstream.retries;
  emitDuration(out, "keepalive_idle", upstream.keepaliveIdle);
  if (upstream.healthCheck) {
    out << YAML::Key << "health_check" << YAML::Value << YAML::Flow << YAML::BeginMap;
    emitString(out, "path", upstream.healthCheck->path);
    emitDuration(out, "interval", upstream.healthCheck->interval);
    emitDuration(out, "timeout", upstream.healthCheck->timeout);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void emitStatic(YAML::Emitter& out, const StaticRoute& files) {
  out << YAML::Key << "static" << YAML::Value << YAML::BeginMap;
  emitString(out, "root", files.root);
  if (files.maxAge) emitDuration(out, "max_age", *files.maxAge);
  out << YAML::Key << "immutable" << YAML::Value << files.immutable;
  out << YAML::Key << "index" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& name : files.index) out << YAML::DoubleQuoted << name;
  out << YAML::EndSeq;
  out << YAML::Key << "follow_symlinks" << YAML::Value << files.followSymlinks;
  out << YAML::Key << "precompressed" << YAML::Value << files.precompressed;
  out << YAML::EndMap;
}

void emitRoute(YAML::Emitter& out, const Route& route) {
  out << YAML::BeginMap;
  emitString(out, "prefix", route.prefix);
  if (route.host) emitString(out, "host", *route.host);
  if (route.upstream) emitString(out, "upstream", *route.upstream);
  if (route.staticFiles) emitStatic(out, *route.staticFiles);
  if (route.queueTimeout) emitDuration(out, "queue_timeout", *route.queueTimeout);
  out << YAML::EndMap;
}

void emitStaticCache(YAML::Emitter& out, const StaticCache& cache) {
  out << YAML::Key << "static_cache" << YAML::Value << YAML::BeginMap;
  emitSize(out, "size", cache.size);
  emitSize(out, "max_file", cache.maxFile);
  emitDuration(out, "check_interval", cache.checkInterval);
  out << YAML::EndMap;
}

void emitLogs(YAML::Emitter& out, const AccessLog& access, const ErrorLog& log) {
  out << YAML::Key << "access_log" << YAML::Value;
  if (!access.enabled && access.format == AccessLog{}.format) {
    out << "off";
  } else {
    out << YAML::BeginMap;
    emitString(out, "path", access.enabled ? access.path : "off");
    emitString(out, "format", access.format);
    out << YAML::EndMap;
  }
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  emitString(out, "level", log.level);
  emitString(out, "path", log.path);
  out << YAML::EndMap;
}

void emitConfig(YAML::Emitter& out, const Config& config) {
  out << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << YAML::BeginSeq;
  for (const Address& address : config.listen) out << YAML::DoubleQuoted << address.text;
  out << YAML::EndSeq;
  if (config.adminListen) {
    out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap;
    emitString(out, "listen", config.adminListen->text);
    out << YAML::EndMap;
  }
  emitLimits(out, config.limits);
  emitTimeouts(out, config.timeouts);
  emitBuffering(out, config.buffering);
  out << YAML::Key << "upstreams" << YAML::Value << YAML::BeginMap;
  for (const auto& entry : config.upstreams) emitUpstream(out, entry.second);
  out << YAML::EndMap;
  out << YAML::Key << "routes" << YAML::Value << YAML::BeginSeq;
  for (const Route& route : config.routes) emitRoute(out, route);
  out << YAML::EndSeq;
  emitStaticCache(out, config.staticCache);
  emitLogs(out, config.accessLog, config.log);
  emitString(out, "user", config.user);
  emitString(out, "group", config.group);
  out << YAML::EndMap;
}

}  // namespace

std::string dumpConfig(const Config& config) {
  try {
    YAML::Emitter out;
    out << YAML::Comment("effective configuration of " + config.sourcePath) << YAML::Newline;
    emitConfig(out, config);
    if (!out.good()) return "# cannot dump the configuration: " + out.GetLastError() + "\n";
    return std::string(out.c_str()) + "\n";
  } catch (const std::exception& e) {
    return std::string("# cannot dump the configuration: ") + e.what() + "\n";
  }
}

}  // namespace doorman::config
