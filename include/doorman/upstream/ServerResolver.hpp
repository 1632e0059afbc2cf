#pragma once
// Resolves the addresses of every upstream server of a configuration on libuv's thread
// pool (uv_getaddrinfo), so a reload never blocks the loop on DNS. The result is reported
// once, from a loop callback (never from inside start()): every server's Endpoint, or the
// first failure naming the upstream, the server and the resolver's error. Destroying the
// resolver first cancels the lookups and nothing is reported.
//
//   Idle --start()--> Resolving --every lookup answered--> Done (reported)
//                         +------destroyed----------------> lookups cancelled, no report

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/upstream/Endpoint.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::upstream {

/// Endpoints by upstream name, in the order of its servers.
using ResolvedServers = std::map<std::string, std::vector<Endpoint>>;

/// Blocking (getaddrinfo): for the configuration doorman starts with, before the loop
/// runs. Empty string on success, else the first failure.
std::string resolveServersNow(const std::map<std::string, config::Upstream>& upstreams,
                              ResolvedServers& out);

class ServerResolver final : public uv::Deletable, private uv::TimerListener {
 public:
  /// `error` is empty on success.
  using Done = std::function<void(const std::string& error, ResolvedServers servers)>;

  explicit ServerResolver(uv::Loop& loop);
  ~ServerResolver() override;
  ServerResolver(const ServerResolver&) = delete;
  ServerResolver& operator=(const ServerResolver&) = delete;

  /// Starts resolving every server of `upstreams`. Call once.
  void start(const std::map<std::string, config::Upstream>& upstreams, Done done);

 private:
  struct Batch;
  void onTimer() override;  // reports a batch without any name to look up

  uv::Loop& loop_;
  uv::Timer timer_;
  std::shared_ptr<Batch> batch_;
};

/// "upstream 'app': server no-such-host.invalid:80: cannot resolve ...": the wording
/// of every resolution failure.
std::string describeResolveFailure(const std::string& upstream, const config::Address& address,
                                   const std::string& reason);

}  // namespace doorman::upstream
