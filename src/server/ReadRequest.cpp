// Stage: reading a request completely (head, then body) before anything is dispatched.
#include "doorman/core/Log.hpp"
#include "doorman/ops/Clock.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {

void ClientConnection::consume(const char* data, size_t len) {
  using Event = http::RequestParser::Event;
  // After HeadComplete the parser is fed again even with no bytes left: a request
  // without a body completes right there.
  bool afterHead = false;
  while (len > 0 || afterHead) {
    afterHead = false;
    if (state_ == State::Idle) {
      transitionTo(State::ReadingHead);
      beginRequest();
      if (!firstRequest_) {
        timer_.start(static_cast<uint64_t>(config().timeouts.header.count()));
      }
    }
    if (state_ != State::ReadingHead && state_ != State::ReadingBody) {
      // A complete request is being served: what follows is pipelined.
      pending_.append(data, len);
      return;
    }
    auto result = parser_.feed(data, len);
    data += result.consumed;
    len -= result.consumed;
    tel_.bytesIn += result.consumed;
    if (state_ == State::ReadingBody) {
      bodyReceived_ += result.consumed;
    }
    switch (result.event) {
      case Event::NeedMore:
        if (state_ == State::ReadingBody) {
          if (bodyTooSlow()) {
            LOG_INFO("conn %llu: %s: request body slower than timeouts.body_min_rate",
                     static_cast<unsigned long long>(id_), peer_.c_str());
            respondError(408, "request body arrived too slowly", true);
            return;
          }
          timer_.start(static_cast<uint64_t>(config().timeouts.bodyIdle.count()));
        }
        return;
      case Event::HeadComplete:
        onHeadComplete();
        afterHead = true;
        break;
      case Event::MessageComplete:
        if (len > 0) {
          pending_.append(data, len);
          len = 0;
        }
        onRequestComplete();
        return;
      case Event::Error:
        LOG_INFO("conn %llu: %s: bad request (%d): %s", static_cast<unsigned long long>(id_),
                 peer_.c_str(), parser_.errorStatus(), parser_.errorReason().c_str());
        ++ctx_.counters.clientErrors;
        respondError(parser_.errorStatus(), parser_.errorReason(), true);
        return;
    }
  }
}

bool ClientConnection::bodyTooSlow() const {
  // The average rate since the body began, once a grace period has passed (TCP slow
  // start, a phone waking its radio). A drip-feeding client is caught at its next byte;
  // one that stops entirely is caught by timeouts.body_idle.
  static constexpr uint64_t kGraceMs = 5000;
  uint64_t rate = config().timeouts.bodyMinRate;
  uint64_t elapsed = ctx_.loop.nowMs() - bodyStartMs_;
  return rate > 0 && elapsed >= kGraceMs && bodyReceived_ * 1000 < rate * elapsed;
}

void ClientConnection::onHeadComplete() {
  transitionTo(State::ReadingBody);
  bodyStartMs_ = ctx_.loop.nowMs();
  bodyReceived_ = 0;
  timer_.start(static_cast<uint64_t>(config().timeouts.bodyIdle.count()));
  const http::Request& req = parser_.request();
  bool bodyExpected = req.chunked || (req.hasContentLength && req.contentLength > 0);
  if (req.expectContinue && bodyExpected) {
    // The parser already refused a declared body over limits.body_bytes (413) before
    // we got here, so the client may go ahead.
    writeContinue();
  }
}

void ClientConnection::beginRequest() {
  gen_ = ctx_.current;  // pinned until the response is written
  requestId_.clear();
  tel_ = Telemetry{};
  tel_.startUnixUs = ops::wallMicros();
  tel_.startUs = ops::monotonicMicros();
}

void ClientConnection::onRequestComplete() {
  tel_.completeUs = ops::monotonicMicros();
  timer_.stop();
  transitionTo(State::Waiting);
  firstRequest_ = false;
  request_ = parser_.takeRequest();
  ++ctx_.counters.requests;
  dispatch();
}

void ClientConnection::onClientEof(const char* why) {
  switch (state_) {
    case State::Idle:
      close();  // an ordinary end of a keep-alive connection
      return;
    case State::ReadingHead:
    case State::ReadingBody:
      LOG_INFO("conn %llu: %s: %s in the middle of a request", static_cast<unsigned long long>(id_),
               peer_.c_str(), why);
      close();
      return;
    case State::Waiting:
      // The client gave up while its request waited or ran: leave the queue (or let the
      // upstream side finish and drop the response).
      LOG_INFO("conn %llu: %s: %s while its request was being served (request id %s)",
               static_cast<unsigned long long>(id_), peer_.c_str(), why, requestId_.c_str());
      close();
      return;
    case State::Writing:
      // A client may half-close after its request; the response is complete in our
      // buffers, so finish sending it (a real reset shows up as a write error).
      stopReading();
      closeAfterResponse_ = true;
      return;
    case State::Lingering:
    case State::Closed:
      close();
      return;
  }
}

void ClientConnection::resumeAfterResponse() {
  // Back to Idle for the next request; pipelined bytes already read come first.
  transitionTo(State::Idle);
  request_ = http::Request{};
  response_ = http::Response{};
  responseHead_.clear();
  route_ = nullptr;
  gen_.reset();  // an idle connection pins no configuration
  if (draining_ || ctx_.draining) {
    close();
    return;
  }
  timer_.start(static_cast<uint64_t>(config().timeouts.keepalive.count()));
  if (!pending_.empty()) {
    std::string bytes = std::move(pending_);
    pending_.clear();
    consume(bytes.data(), bytes.size());
  }
  if (state_ == State::Idle || state_ == State::ReadingHead || state_ == State::ReadingBody) {
    startReading();
  }
}

}  // namespace doorman::server
