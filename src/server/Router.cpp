#include "doorman/server/Router.hpp"

#include <algorithm>

#include "doorman/http/HeaderMap.hpp"

namespace doorman::server {

Router::Router(const std::vector<config::Route>& routes,
               const std::map<std::string, upstream::UpstreamPool*>& pools,
               const std::map<std::string, config::Upstream>& upstreams) {
  for (const auto& route : routes) {
    RouteEntry entry;
    entry.route = &route;
    if (route.upstream) {
      auto pool = pools.find(*route.upstream);
      entry.pool = pool == pools.end() ? nullptr : pool->second;
      auto up = upstreams.find(*route.upstream);
      if (up != upstreams.end()) {
        entry.queueTimeoutMs = static_cast<uint64_t>(up->second.queueTimeout.count());
      }
    }
    if (route.queueTimeout) {
      entry.queueTimeoutMs = static_cast<uint64_t>(route.queueTimeout->count());
    }
    entries_.push_back(entry);
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const RouteEntry& a, const RouteEntry& b) {
    return a.route->prefix.size() > b.route->prefix.size();
  });
}

const RouteEntry* Router::match(std::string_view host, std::string_view target) const {
  std::string_view path = target.substr(0, target.find('?'));
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  const RouteEntry* hostless = nullptr;
  for (const auto& entry : entries_) {
    const auto& prefix = entry.route->prefix;
    if (path.substr(0, prefix.size()) != prefix) {
      continue;
    }
    if (entry.route->host) {
      if (http::equalsIgnoreCase(*entry.route->host, host)) {
        return &entry;  // longest host-specific match
      }
      continue;
    }
    if (hostless == nullptr) {
      hostless = &entry;
    }
  }
  return hostless;
}

}  // namespace doorman::server
