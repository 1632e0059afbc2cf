// Lifecycle of a client connection: states, reading, timers, closing.
#include "doorman/server/ClientConnection.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "doorman/core/Log.hpp"
#include "doorman/uv/Requests.hpp"

namespace doorman::server {
namespace {

http::RequestLimits limitsFrom(const config::Config& c) {
  http::RequestLimits l;
  l.uriBytes = static_cast<size_t>(c.limits.uriBytes);
  l.headerBytes = static_cast<size_t>(c.limits.headerBytes);
  l.headerCount = static_cast<size_t>(c.limits.headerCount);
  l.bodyBytes = c.limits.bodyBytes;
  return l;
}

const char* stateName(ClientConnection::State s) {
  using S = ClientConnection::State;
  switch (s) {
    case S::Idle:
      return "idle";
    case S::ReadingHead:
      return "reading-head";
    case S::ReadingBody:
      return "reading-body";
    case S::Waiting:
      return "waiting";
    case S::Writing:
      return "writing";
    case S::Lingering:
      return "lingering";
    case S::Closed:
      return "closed";
  }
  return "?";
}

bool allowed(ClientConnection::State from, ClientConnection::State to) {
  using S = ClientConnection::State;
  if (to == S::Closed) {
    return from != S::Closed;
  }
  switch (from) {
    case S::Idle:
      return to == S::ReadingHead;
    case S::ReadingHead:
      return to == S::ReadingBody || to == S::Waiting || to == S::Writing;
    case S::ReadingBody:
      return to == S::Waiting || to == S::Writing;
    case S::Waiting:
      return to == S::Writing;
    case S::Writing:
      return to == S::Idle || to == S::Lingering;
    case S::Lingering:
    case S::Closed:
      return false;
  }
  return false;
}

}  // namespace

ClientConnection::Peer ClientConnection::Peer::parse(std::string_view text) noexcept {
  Peer p;
  char buf[kPeerSize] = {};
  if (text.size() >= sizeof buf) {
    return p;
  }
  std::memcpy(buf, text.data(), text.size());
  if (text == "unix") {
    p.kind = Kind::Unix;
  } else if (uv_inet_pton(AF_INET, buf, p.addr) == 0) {
    p.kind = Kind::V4;
  } else if (uv_inet_pton(AF_INET6, buf, p.addr) == 0) {
    p.kind = Kind::V6;
  }
  return p;
}

void ClientConnection::Peer::format(char (&out)[kPeerSize]) const noexcept {
  const char* fixed = "unknown";
  switch (kind) {
    case Kind::V4:
      if (uv_inet_ntop(AF_INET, addr, out, sizeof out) == 0) {
        return;
      }
      break;
    case Kind::V6:
      if (uv_inet_ntop(AF_INET6, addr, out, sizeof out) == 0) {
        return;
      }
      break;
    case Kind::Unix:
      fixed = "unix";
      break;
    case Kind::Unknown:
      break;
  }
  std::memcpy(out, fixed, std::strlen(fixed) + 1);
}

ClientConnection::Exchange::Exchange(ClientConnection& connection, GenerationPtr generation)
    : owner(&connection),
      ctx(connection.ctx_),
      gen(std::move(generation)),
      timer(connection.ctx_.loop, *this),
      parser(limitsFrom(gen->config), &connection.ctx_.requestBuffers),
      sender(connection.ctx_.loop) {
  sender.countWarmupsIn(&connection.ctx_.counters.fileWarmups);
}

ClientConnection::Exchange::~Exchange() = default;

void ClientConnection::Exchange::recycle() {
  gen.reset();
  route = nullptr;
  job.reset();
  staticTicket.reset();
  request = http::Request{};
  response = http::Response{};
  // The kept head strings save an allocation per message; one grown by a large head is
  // let go, so that a spare exchange does not sit on it.
  if (responseHead.capacity() > kKeptHeadCapacity) {
    responseHead = std::string();
  } else {
    responseHead.clear();
  }
  if (outbound && outbound->head.capacity() > kKeptHeadCapacity) {
    outbound.reset();
  }
  requestId.clear();
  pending = std::string();  // pipelined bytes may have grown it large
  headBytes = 0;
  closeAfterResponse = false;
  bodyHeld = false;
  awaitingBody = false;
  cachedHanded = 0;
  deliveredAtArm = 0;
  bodyStartMs = 0;
  bodyReceived = 0;
  windowBytes = 0;
  heldSinceMs = 0;
  heldFirstMs = 0;
  cachedHit = {};
  tel = Telemetry{};
}

ClientConnection::ClientConnection(ServerContext& context, uv::HandlePtr<uv_tcp_t> tcp,
                                   uv::HandlePtr<uv_pipe_t> pipe, std::string_view peer,
                                   uint64_t id)
    : ctx_(context),
      stream_(tcp ? uv::asStream(tcp.release()) : uv::asStream(pipe.release())),
      id_(id),
      peer_(Peer::parse(peer)) {
  uv::asHandle(stream())->data = this;
  ++ctx_.counters.open;
}

ClientConnection::~ClientConnection() {
  // A sink must never be called after its owner is gone: leave every queue first.
  if (ex_) {
    ctx_.budget.release(ex_->charged);
    ex_->charged = 0;
    cancelPending();
    ex_->parser.request().body.setListener(nullptr);
    ex_->request.body.setListener(nullptr);
  }
  closeStream();
  --ctx_.counters.open;
}

void ClientConnection::endExchange() {
  if (!ex_) {
    return;
  }
  cancelPending();
  ex_->timer.stop();
  ex_->sender.cancel();
  ex_->parser.request().body.setListener(nullptr);
  ex_->request.body.setListener(nullptr);
  if (ex_->bodyHeld || ex_->awaitingBody) {
    ctx_.registry.stopWaitingForBudget(*this);
  }
  --ctx_.counters.exchanges;
  ctx_.budget.release(ex_->charged);
  ex_->charged = 0;
  const bool parserClean =
      ex_->tel.completeUs >= 0 && !ex_->parser.inMessage() && ex_->parser.errorStatus() == 0;
  if (parserClean && ctx_.spareExchanges.size() < ServerContext::kSpareExchanges) {
    // Its parser is between messages (its request was taken whole): keep it for the next
    // request of any connection, saving the allocations and llhttp/timer set-up. Taken
    // again in this same callback only by this connection's pipelined request, which
    // reuses it the way a connection always reused its own parser, sender and timer.
    ex_->recycle();
    ctx_.spareExchanges.push_back(std::move(ex_));
    return;
  }
  // Deferred: this may run inside a callback of the sender, the timer or a body.
  ctx_.loop.deferDelete(std::move(ex_));
}

void ClientConnection::closeStream() noexcept {
  if (stream_ == nullptr) {
    return;
  }
  if (stream_->type == UV_TCP) {
    uv::HandlePtr<uv_tcp_t>(reinterpret_cast<uv_tcp_t*>(stream_)).reset();
  } else {
    uv::HandlePtr<uv_pipe_t>(reinterpret_cast<uv_pipe_t*>(stream_)).reset();
  }
  stream_ = nullptr;
}

void ClientConnection::transitionTo(State next) {
  if (!allowed(state_, next)) {
    CONN_LOG(Error, "illegal transition %s -> %s", stateName(state_), stateName(next));
    assert(false && "illegal client connection transition");
  }
  state_ = next;
}

void ClientConnection::start() {
  // The first request's head must arrive within timeouts.header (slowloris).
  ctx_.idle.watch(*this, IdleTimeouts::Kind::FirstRequest);
  startReading();
}

size_t ClientConnection::unsentBytes() {
  // libuv's queue plus the kernel's send queue: the kernel only reports a socket
  // writable again once a good part of its (autotuned, often megabytes) buffer has
  // drained, so a slow reader makes progress long before libuv writes another byte.
  size_t unsent = uv_stream_get_write_queue_size(stream());
  uv_os_fd_t fd = -1;
  int queued = 0;
  if (uv_fileno(uv::asHandle(stream()), &fd) == 0 && ioctl(fd, SIOCOUTQ, &queued) == 0 &&
      queued > 0) {
    unsent += static_cast<size_t>(queued);
  }
  return unsent;
}

uint64_t ClientConnection::deliveredBytes() {
  uint64_t handed = ex_->cachedHit.file ? ex_->cachedHanded : ex_->sender.handed();
  size_t unsent = unsentBytes();
  return handed > unsent ? handed - unsent : 0;
}

void ClientConnection::resetOnClose() {
  // The client takes nothing more: a graceful close would queue the FIN behind the
  // unsent response and leave an orphan socket holding those bytes (megabytes of kernel
  // memory on loopback) until its zero-window probes give up, about a minute later. An
  // abortive close (RST, as nginx's reset_timedout_connection) frees them at once.
  if (!isTcp()) {
    return;  // a unix socket's buffers go with its last descriptor anyway
  }
  uv_os_fd_t fd = -1;
  linger abort{1, 0};
  if (uv_fileno(uv::asHandle(stream()), &fd) == 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
}

void ClientConnection::startReading() {
  if (reading_ || state_ == State::Closed) {
    return;
  }
  int rc = uv_read_start(stream(), uv::allocSharedReadBuffer,
                         [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                           if (auto* self = uv::ownerOf<ClientConnection>(s)) {
                             self->onRead(n, b);
                           }
                         });
  reading_ = rc == 0;
}

void ClientConnection::stopReading() {
  if (reading_) {
    uv_read_stop(stream());
    reading_ = false;
  }
}

void ClientConnection::onRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) {
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF && state_ == State::Writing) {
      CONN_LOG(Info, "%s", uv_strerror(static_cast<int>(nread)));
      close();
      return;
    }
    onClientEof(nread == UV_EOF ? "client closed the connection"
                                : uv_strerror(static_cast<int>(nread)));
    return;
  }
  size_t len = static_cast<size_t>(nread);
  switch (state_) {
    case State::Idle:
    case State::ReadingHead:
    case State::ReadingBody:
      if (ex_ && ex_->bodyHeld) {
        // Held back: these bytes come after the ones already waiting.
        ex_->pending.append(buf->base, len);
        stopReading();
        return;
      }
      consume(buf->base, len);
      return;
    case State::Waiting:
    case State::Writing:
      // Pipelined requests: keep them for later, up to a bound.
      ex_->pending.append(buf->base, len);
      if (ex_->pending.size() >= config().limits.pipelineBytes) {
        stopReading();
      }
      return;
    case State::Lingering:  // dropped on purpose
    case State::Closed:
      return;
  }
}

void ClientConnection::onIdleTimeout() {
  if (state_ != State::Idle) {
    return;
  }
  if (firstRequest_) {
    CONN_LOG(Debug, "no request within timeouts.header (%lld ms)",
             static_cast<long long>(config().timeouts.header.count()));
  }
  close();
}

void ClientConnection::onTimer() {
  if (!ex_) {
    return;  // idle connections are timed by ctx_.idle
  }
  switch (state_) {
    case State::Idle:
      return;
    case State::ReadingHead:
      CONN_LOG(Info, "client timed out (timeouts.header %lld ms); answering 408",
               static_cast<long long>(config().timeouts.header.count()));
      respondError(408, "request head not received in time", true);
      return;
    case State::ReadingBody:
      if (ex_->bodyHeld) {
        // doorman held the client back for a whole body_idle and there is still no
        // room: the buffers stay exhausted. Not the client's fault: 503.
        CONN_LOG(Warn,
                 "no buffer room for the request body within timeouts.body_idle "
                 "(buffering.memory_total / disk_total exhausted); answering 503");
        respondError(503, "buffers exhausted, try again shortly", true, 1);
        return;
      }
      CONN_LOG(Info, "client timed out (timeouts.body_idle %lld ms); answering 408",
               static_cast<long long>(config().timeouts.bodyIdle.count()));
      respondError(408, "request body not received in time", true);
      return;
    case State::Writing: {
      // The timeout is about progress, not about finishing a batch: a slow but steady
      // reader drains the write queue and keeps its connection.
      uint64_t delivered = deliveredBytes();
      // While a file is read into the page cache it is doorman that waits (for the
      // disk), not the client: no progress is owed.
      if (delivered > ex_->deliveredAtArm || ex_->sender.waitingForDisk()) {
        ex_->deliveredAtArm = delivered;
        ex_->timer.start(static_cast<uint64_t>(config().timeouts.sendIdle.count()));
        return;
      }
      CONN_LOG(Info, "client timed out (timeouts.send_idle %lld ms): it stopped reading",
               static_cast<long long>(config().timeouts.sendIdle.count()));
      resetOnClose();
      close();
      return;
    }
    case State::Lingering:
      close();
      return;
    case State::Waiting:
      if (ex_->awaitingBody) {
        CONN_LOG(Warn,
                 "the request body could not be written to disk within timeouts.body_idle "
                 "(buffering.disk_total exhausted); answering 503");
        ex_->awaitingBody = false;
        respondError(503, "buffers exhausted, try again shortly", true, 1);
      }
      return;
    case State::Closed:
      return;
  }
}

void ClientConnection::drain() {
  draining_ = true;
  if (state_ == State::Idle) {
    close();
  }
}

void ClientConnection::abort() { close(); }

void ClientConnection::close() {
  if (state_ == State::Closed) {
    return;
  }
  if (state_ == State::Waiting) {
    logRequest(499);  // nginx's code for "the client closed the connection first"
  } else if (state_ == State::Writing) {
    logRequest(ex_->response.status);  // with the bytes that did go out
  }
  pushCorked();
  unlink();  // from the idle lists
  endExchange();
  state_ = State::Closed;
  reading_ = false;
  ctx_.registry.stopWaitingForBudget(*this);
  closeStream();
  ctx_.registry.onConnectionClosed(*this);
}

}  // namespace doorman::server
