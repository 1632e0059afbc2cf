#pragma once
// Picks the route of a request: routes whose `host` equals the request's Host (port
// ignored, case-insensitive) are preferred; among the candidates the longest matching
// prefix wins. Upstream routes forward the path unchanged.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/upstream/UpstreamPool.hpp"

namespace doorman::server {

struct RouteEntry {
  const config::Route* route = nullptr;
  upstream::UpstreamPool* pool = nullptr;  ///< set when the route has an upstream
  uint64_t queueTimeoutMs = 0;             ///< route override or the upstream's
};

/// The route's name in metrics and logs: its prefix, after its host when it has one.
std::string routeLabel(const config::Route& route);

class Router {
 public:
  Router(const std::vector<config::Route>& routes,
         const std::map<std::string, upstream::UpstreamPool*>& pools,
         const std::map<std::string, config::Upstream>& upstreams);

  /// nullptr when nothing matches (404).
  const RouteEntry* match(std::string_view host, std::string_view target) const;

 private:
  std::vector<RouteEntry> entries_;  ///< sorted: longest prefix first
};

}  // namespace doorman::server
