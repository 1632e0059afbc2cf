#pragma once
// The admin endpoint (admin.listen): a tiny HTTP/1.x server for /metrics and /status.
// One request per connection (answered with Connection: close), GET/HEAD only, a head
// of at most 8 KiB read within 10 s. Kept apart from ClientConnection on purpose: its
// traffic never touches the proxy's limits, budgets, access log or metrics.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "doorman/config/Config.hpp"
#include "doorman/server/Listener.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::server {

class AdminServer final : private AcceptHandler {
 public:
  struct Reply {
    int status = 200;
    std::string contentType;
    std::string body;
  };
  /// Answers one GET (target with its query string).
  using Handler = std::function<Reply(std::string_view method, std::string_view target)>;

  AdminServer(uv::Loop& loop, const config::Address& address, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  std::string open();
  const config::Address& address() const noexcept { return listener_.address(); }
  const std::string& boundName() const noexcept { return listener_.boundName(); }

  class Connection;

 private:
  friend class Connection;
  bool onConnectionPending(Listener& listener) override;
  void onClosed(Connection& connection);

  uv::Loop& loop_;
  Handler handler_;
  Listener listener_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace doorman::server
