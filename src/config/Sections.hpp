#pragma once
// Private to the config module: one reader per top-level section, and the checks that
// need the whole config (they run after every section has been read).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "Reader.hpp"
#include "doorman/config/Config.hpp"

namespace doorman::config::detail {

/// `listen`: a list of addresses, or one address.
void readListen(Context& ctx, const Value& v, std::vector<Address>& out);
void readAdmin(Context& ctx, const Value& v, std::optional<Address>& out);
void readLimits(Context& ctx, const Value& v, Limits& out);
void readTimeouts(Context& ctx, const Value& v, Timeouts& out);
void readBuffering(Context& ctx, const Value& v, Buffering& out);
/// `access_log`: a map, or the word `off`.
void readStaticCache(Context& ctx, const Value& v, StaticCache& out);
void readAccessLog(Context& ctx, const Value& v, AccessLog& out);
void readErrorLog(Context& ctx, const Value& v, ErrorLog& out);
void readUpstreams(Context& ctx, const Value& v, std::map<std::string, Upstream>& out);
void readRoutes(Context& ctx, const Value& v, std::vector<Route>& out);

/// Checks across sections: something to listen on and to route to, routes that name
/// existing upstreams, no duplicate routes or listen addresses, consistent budgets.
void validate(Context& ctx, const Config& config);

}  // namespace doorman::config::detail
