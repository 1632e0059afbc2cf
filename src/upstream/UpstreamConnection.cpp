#include "doorman/upstream/UpstreamConnection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cassert>
#include <cerrno>
#include <vector>

#include "doorman/core/Clock.hpp"
#include "doorman/core/Log.hpp"
#include "doorman/uv/Requests.hpp"

namespace doorman::upstream {
namespace {

const char* stateName(UpstreamConnection::State s) {
  switch (s) {
    case UpstreamConnection::State::New:
      return "new";
    case UpstreamConnection::State::Connecting:
      return "connecting";
    case UpstreamConnection::State::Idle:
      return "idle";
    case UpstreamConnection::State::Busy:
      return "busy";
    case UpstreamConnection::State::Closed:
      return "closed";
  }
  return "?";
}

bool allowed(UpstreamConnection::State from, UpstreamConnection::State to) {
  using S = UpstreamConnection::State;
  switch (from) {
    case S::New:
      return to == S::Connecting || to == S::Closed;
    case S::Connecting:
      return to == S::Busy || to == S::Closed;
    case S::Busy:
      return to == S::Idle || to == S::Closed;
    case S::Idle:
      return to == S::Busy || to == S::Closed;
    case S::Closed:
      return false;
  }
  return false;
}

}  // namespace

UpstreamConnection::UpstreamConnection(uv::Loop& loop, const Endpoint& endpoint,
                                       const ConnectionSettings& settings,
                                       UpstreamConnectionListener& listener,
                                       core::BufferPolicy* buffers)
    : loop_(loop),
      endpoint_(endpoint),
      settings_(settings),
      listener_(listener),
      timer_(loop, timerHook_),
      parser_(settings.responseLimits, buffers),
      sender_(loop) {}

UpstreamConnection::~UpstreamConnection() { close(); }

void UpstreamConnection::transitionTo(State next) {
  if (!allowed(state_, next)) {
    LOG_ERROR("upstream %s: illegal transition %s -> %s", endpoint_.text.c_str(), stateName(state_),
              stateName(next));
    assert(false && "illegal upstream connection transition");
  }
  state_ = next;
}

uv_stream_t* UpstreamConnection::stream() noexcept {
  return tcp_ ? uv::asStream(tcp_.get()) : uv::asStream(pipe_.get());
}

void UpstreamConnection::start(JobPtr job) {
  assert(state_ == State::New || state_ == State::Idle);
  job_ = std::move(job);
  job_->connection = this;
  writeDone_ = false;
  desynced_ = false;
  writeError_.clear();
  parser_.start(job_->request->headRequest);
  parser_.body().setListener(this);
  readPaused_ = false;
  awaitingSettle_ = false;
  if (state_ == State::New) {
    connect();
    return;
  }
  transitionTo(State::Busy);
  sendRequest();
}

void UpstreamConnection::connect() {
  transitionTo(State::Connecting);
  int rc = 0;
  auto* req = new uv_connect_t{};
  auto onConnect = [](uv_connect_t* r, int status) {
    auto* self = uv::ownerOf<UpstreamConnection>(r->handle);
    delete r;
    if (self != nullptr) {
      self->onConnected(status);
    }
  };
  if (endpoint_.isUnix) {
    pipe_ = uv::makeHandle<uv_pipe_t>(loop_.raw(), rc, uv_pipe_init, 0);
    if (pipe_) {
      pipe_->data = this;
      // uv_pipe_connect reports every error through the callback.
      uv_pipe_connect(req, pipe_.get(), endpoint_.path.c_str(), onConnect);
      timer_.start(settings_.connectTimeoutMs);
      return;
    }
  } else {
    tcp_ = uv::makeHandle<uv_tcp_t>(loop_.raw(), rc, uv_tcp_init);
    if (tcp_) {
      tcp_->data = this;
      rc = uv_tcp_connect(req, tcp_.get(), reinterpret_cast<const sockaddr*>(&endpoint_.addr),
                          onConnect);
      if (rc == 0) {
        timer_.start(settings_.connectTimeoutMs);
        return;
      }
    }
  }
  delete req;
  // Report on the next loop turn: the pool must never see a failure inside its own call.
  connectError_ = uv_strerror(rc);
  timer_.start(0);
  LOG_DEBUG("upstream %s: connect failed at once: %s", endpoint_.text.c_str(), uv_strerror(rc));
}

void UpstreamConnection::onConnected(int status) {
  timer_.stop();
  if (status != 0) {
    fail(ExchangeFailure::Kind::Connect, std::string("connect: ") + uv_strerror(status));
    return;
  }
  if (tcp_) {
    uv_tcp_nodelay(tcp_.get(), 1);
  }
  // Read for the whole life of the connection: while Idle, a read is how a backend's
  // close is noticed before the connection is handed out again.
  startReading();
  transitionTo(State::Busy);
  sendRequest();
}

void UpstreamConnection::startReading() {
  uv_read_start(stream(), uv::allocSharedReadBuffer,
                [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                  if (auto* self = uv::ownerOf<UpstreamConnection>(s)) {
                    self->onRead(n, b->base);
                  }
                });
}

void UpstreamConnection::onBodyWritable() {
  if (readPaused_ && state_ == State::Busy) {
    readPaused_ = false;
    startReading();
  }
}

void UpstreamConnection::onBodySettled() {
  if (awaitingSettle_ && state_ == State::Busy) {
    awaitingSettle_ = false;
    finishExchange();
    return;
  }
  if (state_ == State::Busy && parser_.body().failed()) {
    fail(ExchangeFailure::Kind::ResponseTooLarge, parser_.body().error());
  }
}

void UpstreamConnection::setQuickAck() noexcept {
  // A backend that writes its response in several small writes without TCP_NODELAY
  // (paste.httpserver) waits for our ACK of each piece (Nagle); Linux's delayed ACK
  // would make it wait 40 ms. Setting TCP_QUICKACK sends an ACK that is being delayed at
  // once and leaves the kernel's delayed-ACK (pingpong) mode, which it may re-enter after
  // any send: so it is set after every read that leaves the response incomplete, the
  // only moment an ACK can be what the backend waits for. A response that arrives
  // whole in one read needs no system call for it.
  if (!tcp_) {
    return;
  }
  uv_os_fd_t fd = -1;
  if (uv_fileno(uv::asHandle(tcp_.get()), &fd) == 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
}

void UpstreamConnection::sendRequest() {
  const OutboundRequest& req = *job_->request;
  // Head and memory body blocks in one writev; a spilled body follows with sendfile.
  writeError_.clear();
  sendingInStart_ = true;
  sender_.start(stream(), req.head, req.body, *this);
  sendingInStart_ = false;
  if (!writeError_.empty()) {
    // Reported on the next loop turn: start() may be running inside the pool's submit().
    timer_.start(0);
    return;
  }
  timer_.start(settings_.responseTimeoutMs);
}

void UpstreamConnection::onSendDone(int status) {
  if (sendingInStart_) {
    writeError_ = std::string("write: ") + uv_strerror(status);
    return;
  }
  onWriteDone(status);
}

void UpstreamConnection::onWriteDone(int status) {
  if (state_ != State::Busy) {
    return;
  }
  if (status != 0) {
    // The backend may have answered and closed (e.g. an early 413); let the read side
    // decide if a response is already complete, otherwise this is a failure.
    if (!parser_.anyBytes()) {
      fail(ExchangeFailure::Kind::ClosedEarly, std::string("write: ") + uv_strerror(status),
           status == UV_EPIPE || status == UV_ECONNRESET);
    }
    return;
  }
  writeDone_ = true;
}

void UpstreamConnection::onRead(ssize_t nread, const char* data) {
  if (nread == 0) {
    return;
  }
  if (state_ == State::Idle) {
    // Data or EOF on an idle connection: the backend closed it (or misbehaves).
    LOG_DEBUG("upstream %s: idle connection closed by peer (%s)", endpoint_.text.c_str(),
              nread < 0 ? uv_strerror(static_cast<int>(nread)) : "unexpected bytes");
    close();
    listener_.onIdleClosed(*this);
    return;
  }
  if (state_ != State::Busy) {
    return;
  }
  if (awaitingSettle_) {
    // Anything now (EOF, stray bytes) only means the connection is not reused.
    desynced_ = true;
    uv_read_stop(stream());
    return;
  }
  if (nread < 0) {
    if (nread == UV_EOF && parser_.anyBytes()) {
      if (parser_.finishEof() == http::ResponseParser::Event::MessageComplete) {
        finishExchange();
        return;
      }
      fail(ExchangeFailure::Kind::BadResponse,
           "upstream closed mid-response: " + parser_.errorReason());
      return;
    }
    bool reset = nread == UV_ECONNRESET || nread == UV_EPIPE ||
                 (nread == UV_EOF && !parser_.anyBytes() && socketWasReset());
    fail(parser_.anyBytes() ? ExchangeFailure::Kind::BadResponse
                            : ExchangeFailure::Kind::ClosedEarly,
         std::string("read: ") +
             uv_strerror(reset ? static_cast<int>(UV_ECONNRESET) : static_cast<int>(nread)),
         reset);
    return;
  }
  if (!parser_.anyBytes()) {
    job_->timing.firstByteUs = core::monotonicMicros();
  }
  timer_.start(settings_.responseTimeoutMs);
  auto result = parser_.feed(data, static_cast<size_t>(nread));
  switch (result.event) {
    case http::ResponseParser::Event::NeedMore:
      setQuickAck();
      if (parser_.body().unflushed() >= core::Body::kMaxUnflushed) {
        // A spilling response outruns the disk: hold the backend back a moment.
        readPaused_ = true;
        uv_read_stop(stream());
      }
      return;
    case http::ResponseParser::Event::Error: {
      fail(parser_.errorWasSize() ? ExchangeFailure::Kind::ResponseTooLarge
                                  : ExchangeFailure::Kind::BadResponse,
           parser_.errorReason());
      return;
    }
    case http::ResponseParser::Event::MessageComplete:
      // Bytes after the response: the backend sent something nobody asked for. The
      // response itself is fine; the connection is out of sync and must not be reused.
      desynced_ = result.consumed != static_cast<size_t>(nread);
      finishExchange();
      return;
  }
}

void UpstreamConnection::finishExchange() {
  core::Body& body = parser_.body();
  body.finish();
  if (body.failed()) {
    fail(ExchangeFailure::Kind::ResponseTooLarge, body.error());
    return;
  }
  if (!body.settled()) {
    awaitingSettle_ = true;  // onBodySettled() comes back here
    return;
  }
  timer_.stop();
  http::Response response = parser_.takeResponse();
  response.body.setListener(nullptr);
  // The one place that decides reuse (h2o's close_client): only a cleanly ended
  // message on a connection whose request was fully written and whose backend allows it.
  bool reusable = response.keepAlive && writeDone_ && !desynced_;
  JobPtr job = releaseJob();
  ++completed_;
  if (reusable) {
    transitionTo(State::Idle);
    timer_.start(settings_.keepaliveIdleMs);
  } else {
    close();
  }
  listener_.onExchangeDone(*this, std::move(job), std::move(response), reusable);
}

bool UpstreamConnection::socketWasReset() noexcept {
  // A FIN that crossed our request is followed by the backend kernel's RST for the
  // bytes it will never read; on loopback the RST is here by the time the EOF is seen.
  uv_os_fd_t fd = -1;
  if (uv_fileno(tcp_ ? uv::asHandle(tcp_.get()) : uv::asHandle(pipe_.get()), &fd) != 0) {
    return false;
  }
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error != 0) {
    return error == ECONNRESET || error == EPIPE;
  }
  if (!tcp_) {
    // A unix socket whose peer closed with unread data carries ECONNRESET (above, or as
    // the read error itself); a send would report EPIPE after any close.
    return false;
  }
  // TCP: the pending error may already be consumed; a write of nothing on a connection
  // closed by a reset fails (after a FIN alone it succeeds).
  char byte = 0;
  ssize_t n = send(fd, &byte, 0, MSG_NOSIGNAL | MSG_DONTWAIT);
  return n < 0 && (errno == ECONNRESET || errno == EPIPE);
}

bool UpstreamConnection::stillUsable() noexcept {
  if (state_ != State::Idle) {
    return false;
  }
  uv_os_fd_t fd = -1;
  if (uv_fileno(tcp_ ? uv::asHandle(tcp_.get()) : uv::asHandle(pipe_.get()), &fd) != 0) {
    return false;
  }
  char byte = 0;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

core::Doing UpstreamConnection::doing() const noexcept {
  switch (state_) {
    case State::New:
    case State::Connecting:
      return core::Doing::ConnectingToUpstream;
    case State::Busy:
      if (parser_.headComplete()) {
        return core::Doing::ReadingResponseBody;
      }
      // A backend may answer before it has read the whole request (an early 413).
      return writeDone_ || parser_.anyBytes() ? core::Doing::ReadingResponseHead
                                              : core::Doing::SendingRequest;
    case State::Idle:
    case State::Closed:
      break;
  }
  return core::Doing::Processing;
}

JobPtr UpstreamConnection::releaseJob() noexcept {
  if (job_) {
    job_->connection = nullptr;
  }
  return std::move(job_);
}

void UpstreamConnection::fail(ExchangeFailure::Kind kind, std::string detail, bool peerReset) {
  ExchangeFailure failure{kind, std::move(detail), doing(), writeDone_, peerReset};
  JobPtr job = releaseJob();
  close();
  listener_.onExchangeFailed(*this, std::move(job), failure);
}

void UpstreamConnection::onTimer() {
  switch (state_) {
    case State::Connecting:
      fail(ExchangeFailure::Kind::Connect,
           connectError_.empty() ? "upstream timed out (connect " +
                                       std::to_string(settings_.connectTimeoutMs) + " ms)"
                                 : "connect: " + connectError_);
      return;
    case State::Busy:
      if (!writeError_.empty()) {
        fail(ExchangeFailure::Kind::ClosedEarly, std::move(writeError_));
        return;
      }
      fail(ExchangeFailure::Kind::Timeout,
           "upstream timed out (response " + std::to_string(settings_.responseTimeoutMs) + " ms)");
      return;
    case State::Idle:
      LOG_DEBUG("upstream %s: closing idle connection (keepalive_idle)", endpoint_.text.c_str());
      close();
      listener_.onIdleClosed(*this);
      return;
    case State::New:
    case State::Closed:
      return;
  }
}

void UpstreamConnection::close() noexcept {
  if (state_ == State::Closed) {
    return;
  }
  state_ = State::Closed;
  if (job_) {
    job_->connection = nullptr;  // abandoned: nobody may ask this connection any more
  }
  timer_.stop();
  sender_.cancel();
  parser_.body().setListener(nullptr);
  tcp_.reset();
  pipe_.reset();
}

}  // namespace doorman::upstream
