#include "doorman/upstream/HealthProbe.hpp"

#include "doorman/uv/Requests.hpp"

namespace doorman::upstream {

HealthProbe::HealthProbe(uv::Loop& loop, const Endpoint& endpoint, std::string request,
                         uint64_t timeoutMs, HealthProbeListener& listener)
    : loop_(loop),
      endpoint_(endpoint),
      request_(std::move(request)),
      timeoutMs_(timeoutMs),
      listener_(listener),
      timer_(loop, *this) {}

HealthProbe::~HealthProbe() {
  timer_.stop();
  tcp_.reset();
  pipe_.reset();
}

uv_stream_t* HealthProbe::stream() noexcept {
  return tcp_ ? uv::asStream(tcp_.get()) : uv::asStream(pipe_.get());
}

void HealthProbe::start() {
  state_ = State::Connecting;
  timer_.start(timeoutMs_);
  int rc = 0;
  auto* req = new uv_connect_t{};
  auto onConnect = [](uv_connect_t* r, int status) {
    auto* self = uv::ownerOf<HealthProbe>(r->handle);
    delete r;
    if (self != nullptr) {
      self->onConnected(status);
    }
  };
  if (endpoint_.isUnix) {
    pipe_ = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
    if (pipe_) {
      pipe_->data = this;
      uv_pipe_connect(req, pipe_.get(), endpoint_.path.c_str(), onConnect);
      return;
    }
  } else {
    tcp_ = uv::makeHandle<uv_tcp_t>(loop_.raw(), rc, uv_tcp_init);
    if (tcp_) {
      tcp_->data = this;
      rc = uv_tcp_connect(req, tcp_.get(), reinterpret_cast<const sockaddr*>(&endpoint_.addr),
                          onConnect);
      if (rc == 0) {
        return;
      }
    }
  }
  delete req;
  startError_ = std::string("connect: ") + uv_strerror(rc);
  timer_.start(0);  // reported on the next loop turn
}

void HealthProbe::onConnected(int status) {
  if (state_ != State::Connecting) {
    return;
  }
  if (status != 0) {
    finish(false, std::string("connect: ") + uv_strerror(status));
    return;
  }
  if (request_.empty()) {
    finish(true, {});
    return;
  }
  state_ = State::Exchanging;
  uv_read_start(
      stream(),
      [](uv_handle_t*, size_t, uv_buf_t* b) {
        static char buf[512];  // only the status line matters
        *b = uv_buf_init(buf, sizeof buf);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        if (auto* self = uv::ownerOf<HealthProbe>(s)) {
          self->onRead(n, b->base);
        }
      });
  auto* write = new uv_write_t{};
  uv_buf_t buf = uv_buf_init(request_.data(), static_cast<unsigned>(request_.size()));
  int rc = uv_write(write, stream(), &buf, 1, [](uv_write_t* w, int) { delete w; });
  if (rc != 0) {
    delete write;
    finish(false, std::string("write: ") + uv_strerror(rc));
  }
}

void HealthProbe::onRead(ssize_t nread, const char* data) {
  if (state_ != State::Exchanging || nread == 0) {
    return;
  }
  if (nread < 0) {
    finish(false, "closed before a status line");
    return;
  }
  response_.append(data, static_cast<size_t>(nread));
  size_t eol = response_.find("\r\n");
  if (eol == std::string::npos) {
    if (response_.size() > 256) {
      finish(false, "no status line");
    }
    return;
  }
  // "HTTP/1.1 200 OK": the status is the three digits after the first space.
  size_t space = response_.find(' ');
  if (!response_.starts_with("HTTP/1.") || space == std::string::npos || space + 4 > eol) {
    finish(false, "not an HTTP response");
    return;
  }
  char cls = response_[space + 1];
  bool healthy = cls == '2' || cls == '3';
  finish(healthy, healthy ? std::string() : "status " + response_.substr(space + 1, 3));
}

void HealthProbe::onTimer() {
  if (state_ == State::Finished) {
    return;
  }
  if (!startError_.empty()) {
    finish(false, startError_);
    return;
  }
  finish(false, state_ == State::Connecting ? "connect timed out" : "health check timed out");
}

void HealthProbe::finish(bool healthy, const std::string& detail) {
  state_ = State::Finished;
  timer_.stop();
  tcp_.reset();
  pipe_.reset();
  listener_.onProbeResult(healthy, detail);
}

}  // namespace doorman::upstream
