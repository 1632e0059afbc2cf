#include "doorman/server/AdminServer.hpp"

#include <vector>

#include "doorman/core/Log.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/uv/Requests.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::server {
namespace {

constexpr size_t kMaxHead = 8 * 1024;
constexpr uint64_t kTimeoutMs = 10000;
constexpr size_t kMaxConnections = 64;

}  // namespace

class AdminServer::Connection final : public uv::Deletable, private uv::TimerListener {
 public:
  Connection(AdminServer& owner, uv::HandlePtr<uv_tcp_t> tcp, uv::HandlePtr<uv_pipe_t> pipe)
      : owner_(owner), tcp_(std::move(tcp)), pipe_(std::move(pipe)), timer_(owner.loop_, *this) {
    uv::asHandle(stream())->data = this;
  }

  void start() {
    timer_.start(kTimeoutMs);
    uv_read_start(stream(), uv::allocSharedReadBuffer,
                  [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                    if (auto* self = uv::ownerOf<Connection>(s)) {
                      self->onRead(n, b);
                    }
                  });
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    timer_.stop();
    tcp_.reset();
    pipe_.reset();
    owner_.onClosed(*this);
  }

 private:
  uv_stream_t* stream() noexcept {
    return tcp_ ? uv::asStream(tcp_.get()) : uv::asStream(pipe_.get());
  }

  void onTimer() override { close(); }

  void onRead(ssize_t n, const uv_buf_t* buf) {
    if (n < 0) {
      close();
      return;
    }
    if (answered_) {
      return;
    }
    head_.append(buf->base, static_cast<size_t>(n));
    size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      end = head_.find("\n\n");
    }
    if (end == std::string::npos) {
      if (head_.size() > kMaxHead) {
        answer({431, "text/plain", "request head too large\n"}, false);
      }
      return;
    }
    // The request line: METHOD SP TARGET SP VERSION
    size_t lineEnd = head_.find_first_of("\r\n");
    std::string_view line(head_.data(), lineEnd);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
      answer({400, "text/plain", "bad request\n"}, false);
      return;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method != "GET" && method != "HEAD") {
      answer({405, "text/plain", "only GET and HEAD\n"}, false);
      return;
    }
    answer(owner_.handler_(method, target), method == "HEAD");
  }

  void answer(const Reply& reply, bool headOnly) {
    answered_ = true;
    timer_.start(kTimeoutMs);  // for the write
    out_ = "HTTP/1.1 " + std::to_string(reply.status) + " " +
           std::string(http::reasonPhrase(reply.status)) + "\r\nContent-Type: " +
           (reply.contentType.empty() ? std::string("text/plain") : reply.contentType) +
           "\r\nContent-Length: " + std::to_string(reply.body.size()) +
           "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
    if (!headOnly) {
      out_ += reply.body;
    }
    uv_buf_t b = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
    auto* req = new uv_write_t{};
    int rc = uv_write(req, stream(), &b, 1, [](uv_write_t* w, int) {
      auto* self = uv::ownerOf<Connection>(w->handle);
      delete w;
      if (self != nullptr) {
        self->shutdown();
      }
    });
    if (rc != 0) {
      delete req;
      close();
    }
  }

  void shutdown() {
    auto* req = new uv_shutdown_t{};
    int rc = uv_shutdown(req, stream(), [](uv_shutdown_t* r, int) {
      auto* self = uv::ownerOf<Connection>(r->handle);
      delete r;
      if (self != nullptr) {
        self->close();
      }
    });
    if (rc != 0) {
      delete req;
      close();
    }
  }

  AdminServer& owner_;
  uv::HandlePtr<uv_tcp_t> tcp_;
  uv::HandlePtr<uv_pipe_t> pipe_;
  uv::Timer timer_;
  std::string head_;
  std::string out_;
  bool answered_ = false;
  bool closed_ = false;
};

AdminServer::AdminServer(uv::Loop& loop, const config::Address& address, Handler handler)
    : loop_(loop), handler_(std::move(handler)), listener_(loop, address, *this) {}

AdminServer::~AdminServer() {
  std::vector<Connection*> all;
  for (auto& [raw, c] : connections_) {
    all.push_back(raw);
  }
  for (auto* c : all) {
    c->close();
  }
  connections_.clear();
}

std::string AdminServer::open() { return listener_.open(); }

bool AdminServer::onConnectionPending(Listener& listener) {
  if (connections_.size() >= kMaxConnections) {
    return false;
  }
  uv::HandlePtr<uv_tcp_t> tcp;
  uv::HandlePtr<uv_pipe_t> pipe;
  std::string peer;
  if (listener.accept(tcp, pipe, peer) != 0) {
    return true;
  }
  auto connection = std::make_unique<Connection>(*this, std::move(tcp), std::move(pipe));
  Connection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  raw->start();
  return true;
}

void AdminServer::onClosed(Connection& connection) {
  auto it = connections_.find(&connection);
  if (it == connections_.end()) {
    return;
  }
  loop_.deferDelete(std::move(it->second));
  connections_.erase(it);
  listener_.resume();
}

}  // namespace doorman::server
