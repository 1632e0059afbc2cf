// Stage: reading a request completely (head, then body) before anything is dispatched.
#include <algorithm>

#include "doorman/core/Log.hpp"
#include "doorman/ops/Clock.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {
namespace {

bool acceptableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 200) {
    return false;
  }
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

void ClientConnection::consume(const char* data, size_t len) {
  using Event = http::RequestParser::Event;
  // After HeadComplete the parser is fed again even with no bytes left: a request
  // without a body completes right there.
  bool afterHead = false;
  while (len > 0 || afterHead) {
    afterHead = false;
    if (state_ == State::Idle) {
      startReadingHead();
    }
    if (!ex_) {
      return;  // closed
    }
    if (state_ != State::ReadingHead && state_ != State::ReadingBody) {
      // A complete request is being served: what follows is pipelined.
      ex_->pending.append(data, len);
      return;
    }
    size_t feedLen = len;
    if (state_ == State::ReadingBody && !bodyFeedLength(data, len, feedLen)) {
      return;
    }
    const bool inHead = state_ == State::ReadingHead;
    auto result = ex_->parser.feed(data, feedLen);
    data += result.consumed;
    len -= result.consumed;
    ex_->tel.bytesIn += result.consumed;
    if (state_ == State::ReadingBody) {
      ex_->bodyReceived += result.consumed;
    }
    if (inHead) {
      ex_->headBytes += result.consumed;
      if (!chargeWorkingMemory(true)) {
        refuseForMemory();
        return;
      }
    }
    switch (result.event) {
      case Event::NeedMore:
        if (len > 0) {
          continue;  // fed only what the body buffers could take: feed the rest
        }
        awaitMoreRequestBytes();
        return;
      case Event::HeadComplete:
        onHeadComplete();
        afterHead = true;
        break;
      case Event::MessageComplete:
        if (len > 0) {
          ex_->pending.append(data, len);
          len = 0;
        }
        onRequestComplete();
        return;
      case Event::Error:
        onBadRequest();
        return;
    }
  }
}

bool ClientConnection::chargeWorkingMemory(bool mayRefuse) {
  // Bodies reserve their own blocks (core::Body); this is the rest of what a request
  // holds while it is read, waits and is answered. Refusable only while the head is read
  // (503); later bytes were already read and are counted, so that bodies spill earlier
  // and new requests are refused until they are gone.
  // Bytes read ahead of the request (pipelined, or held back by back-pressure) are not
  // counted: at most limits.pipeline_bytes or one read per connection, they are what
  // the next request or the body needs room for, and counting them would make that
  // room go to the bytes waiting for it (a held body waiting for itself, a response of
  // the request before them refused its first block).
  uint64_t total = sizeof(Exchange) + ex_->headBytes + ex_->responseHead.size();
  if (total > ex_->charged) {
    uint64_t more = total - ex_->charged;
    if (!ctx_.budget.tryReserve(more)) {
      if (mayRefuse) {
        return false;
      }
      ctx_.budget.forceReserve(more);
    }
  } else {
    ctx_.budget.release(ex_->charged - total);
  }
  ex_->charged = total;
  return true;
}

void ClientConnection::refuseForMemory() {
  // The refused head is dropped with the connection: only the answer is charged.
  ex_->headBytes = 0;
  CONN_LOG(Warn,
           "memory budget (buffering.memory_total) exhausted while reading a request head; "
           "answering 503");
  respondError(503, "server busy, try again shortly", true, 1);
}

void ClientConnection::startReadingHead() {
  unlink();  // from the idle lists; idleSinceMs stays: when the connection became idle
  transitionTo(State::ReadingHead);
  beginRequest();
  uint64_t header = static_cast<uint64_t>(config().timeouts.header.count());
  if (firstRequest_) {
    // The first request's head is due timeouts.header after the accept (slowloris).
    uint64_t waited = ctx_.loop.nowMs() - idleSinceMs;
    ex_->timer.start(waited < header ? header - waited : 0);
  } else {
    ex_->timer.start(header);
  }
}

bool ClientConnection::bodyFeedLength(const char* data, size_t len, size_t& feedLen) {
  // Feed no more body than the buffers can take now; the rest waits (back-pressure).
  const http::Request& req = ex_->parser.request();
  core::Body& body = ex_->parser.request().body;
  uint64_t want = len;
  if (!req.chunked) {
    want = std::min<uint64_t>(len, req.contentLength - std::min(req.contentLength, body.size()));
  }
  if (want == 0) {
    return true;
  }
  size_t granted = body.prepare(static_cast<size_t>(want));
  if (body.failed()) {
    CONN_LOG(Warn, "request body could not be buffered: %s; answering 503", body.error().c_str());
    respondError(503, "request body could not be buffered", true, 1);
    return false;
  }
  if (granted == 0) {
    holdBody(data, len);
    return false;
  }
  feedLen = std::min(len, granted);
  return true;
}

void ClientConnection::awaitMoreRequestBytes() {
  if (state_ != State::ReadingBody) {
    return;
  }
  if (bodyTooSlow()) {
    CONN_LOG(Info, "request body slower than timeouts.body_min_rate; answering 408");
    respondError(408, "request body arrived too slowly", true);
    return;
  }
  ex_->timer.start(static_cast<uint64_t>(config().timeouts.bodyIdle.count()));
}

void ClientConnection::onBadRequest() {
  CONN_LOG(Info, "bad request: %s; answering %d", ex_->parser.errorReason().c_str(),
           ex_->parser.errorStatus());
  ++ctx_.counters.clientErrors;
  respondError(ex_->parser.errorStatus(), ex_->parser.errorReason(), true);
}

bool ClientConnection::bodyTooSlow() {
  // timeouts.body_min_rate, averaged over windows of kWindowMs. The first window begins
  // with the body (TCP slow start, a phone waking its radio get that long); every later
  // window must carry the rate too, so a client that sent fast and then trickles is
  // caught within about two windows instead of living on its early bytes. Checked when
  // bytes arrive: one that stops entirely is caught by timeouts.body_idle. Time doorman
  // held the client back (back-pressure) is not the client's (resumeBody).
  static constexpr uint64_t kWindowMs = 5000;
  uint64_t rate = config().timeouts.bodyMinRate;
  uint64_t now = ctx_.loop.nowMs();
  uint64_t elapsed = now - ex_->bodyStartMs;
  if (rate == 0 || elapsed < kWindowMs) {
    return false;
  }
  if ((ex_->bodyReceived - ex_->windowBytes) * 1000 / elapsed < rate) {  // bytes per second
    return true;
  }
  ex_->bodyStartMs = now;
  ex_->windowBytes = ex_->bodyReceived;
  return false;
}

bool ClientConnection::reclaimOrExhausted() {
  // The disk budget has no reclaimer: asking it reclaims nothing.
  bool diskShort =
      ctx_.requestBuffers.disk == nullptr || !ctx_.diskBudget.hasRoomFor(core::Body::kBlockSize);
  if (!diskShort) {
    return false;  // room on disk: no reason to empty the small-file cache
  }
  // Memory the small-file cache holds is room: it gives way before anything is refused.
  return !ctx_.budget.hasRoomFor(core::Body::kBlockSize);
}

void ClientConnection::holdBody(const char* data, size_t len) {
  // Back-pressure: the buffers are short. Keep what was read, stop reading, and let the
  // client's TCP window close; the body timeouts do not run while doorman holds it.
  ex_->pending.insert(0, data, len);
  uint64_t now = ctx_.loop.nowMs();
  if (!ex_->bodyHeld) {
    ex_->bodyHeld = true;
    ex_->heldSinceMs = now;
    if (ex_->heldFirstMs == 0) {
      ex_->heldFirstMs = now;
    }
  }
  stopReading();
  // The body timeouts are the client's; while held, body_idle bounds how long doorman
  // waits for room (without any progress) before it gives up with 503 (onTimer).
  uint64_t idle = static_cast<uint64_t>(config().timeouts.bodyIdle.count());
  uint64_t waited = now - ex_->heldFirstMs;
  ex_->timer.start(waited < idle ? idle - waited : 1);
  if (!ex_->parser.request().body.writing()) {
    ctx_.registry.waitForBudget(*this);  // no disk write of ours will wake us
  }
}

void ClientConnection::resumeBody() {
  if (state_ != State::ReadingBody || !ex_->bodyHeld) {
    return;
  }
  ex_->bodyHeld = false;
  ctx_.registry.stopWaitingForBudget(*this);
  ex_->bodyStartMs += ctx_.loop.nowMs() - ex_->heldSinceMs;  // held time is not the client's
  ex_->timer.start(static_cast<uint64_t>(config().timeouts.bodyIdle.count()));
  uint64_t sizeBefore = ex_->parser.request().body.size();
  uint64_t firstHeld = ex_->heldFirstMs;
  ex_->heldFirstMs = 0;
  std::string bytes = std::move(ex_->pending);
  ex_->pending.clear();
  consume(bytes.data(), bytes.size());
  if (state_ == State::ReadingBody && ex_->bodyHeld &&
      ex_->parser.request().body.size() == sizeBefore) {
    // Held again without taking a byte: the wait for room goes on from where it was.
    ex_->heldFirstMs = firstHeld;
    uint64_t idle = static_cast<uint64_t>(config().timeouts.bodyIdle.count());
    uint64_t waited = ctx_.loop.nowMs() - firstHeld;
    ex_->timer.start(waited < idle ? idle - waited : 1);
  }
  if (state_ != State::Closed && state_ != State::Lingering && !(ex_ && ex_->bodyHeld)) {
    startReading();
  }
}

void ClientConnection::onBudgetPoll() {
  if (state_ == State::Waiting && ex_->awaitingBody) {
    continueSettling();
    return;
  }
  resumeBody();
}

void ClientConnection::onBodyWritable() {
  if (state_ == State::Waiting && ex_->awaitingBody) {
    continueSettling();
    return;
  }
  resumeBody();
}

void ClientConnection::continueSettling() {
  // The request is complete; its last spilled bytes wait for the disk budget (a chunked
  // body reserves as it goes). Retry; with no write in flight, nothing else would.
  core::Body& body = ex_->request.body;
  (void)body.prepare(0);  // starts the next write if the budget has room now
  if (body.settled() || body.failed()) {
    ex_->awaitingBody = false;
    requestBodyReady();
    return;
  }
  if (!body.writing()) {
    ctx_.registry.waitForBudget(*this);
  }
}

void ClientConnection::onBodySettled() {
  if (state_ == State::Waiting && ex_->awaitingBody) {
    ex_->awaitingBody = false;
    requestBodyReady();
    return;
  }
  if (state_ == State::ReadingBody && ex_->parser.request().body.failed()) {
    CONN_LOG(Warn, "request body could not be buffered: %s; answering 503",
             ex_->parser.request().body.error().c_str());
    respondError(503, "request body could not be buffered", true, 1);
  }
}

void ClientConnection::requestBodyReady() {
  if (ex_->request.body.failed()) {
    CONN_LOG(Warn, "request body could not be buffered: %s; answering 503",
             ex_->request.body.error().c_str());
    respondError(503, "request body could not be buffered", true, 1);
    return;
  }
  ex_->timer.stop();  // the body_idle bound of a settling body (onRequestComplete)
  dispatch();
}

void ClientConnection::onHeadComplete() {
  transitionTo(State::ReadingBody);
  if (const std::string* given = ex_->parser.request().headers.find("X-Request-ID");
      given != nullptr && acceptableRequestId(*given)) {
    ex_->requestId = *given;
  }
  ex_->bodyStartMs = ctx_.loop.nowMs();
  ex_->bodyReceived = 0;
  ex_->windowBytes = 0;
  ex_->timer.start(static_cast<uint64_t>(config().timeouts.bodyIdle.count()));
  const http::Request& req = ex_->parser.request();
  bool bodyExpected = req.chunked || (req.hasContentLength && req.contentLength > 0);
  if (bodyExpected) {
    const core::BufferPolicy& buffers = ctx_.requestBuffers;
    // A body past memory_per_message goes to disk whole (its memory part too) and
    // reserves its whole length there: it must fit disk_total alone.
    uint64_t capacity = buffers.disk != nullptr
                            ? std::max(buffers.disk->limit(),
                                       std::min(buffers.memoryPerMessage, ctx_.budget.limit()))
                            : ctx_.budget.limit();
    if (req.hasContentLength && req.contentLength > capacity) {
      // It could never be buffered, however long it waited.
      CONN_LOG(Warn,
               "request body of %llu bytes is larger than the buffers can hold "
               "(buffering.disk_total); answering 413",
               static_cast<unsigned long long>(req.contentLength));
      respondError(413, "request body larger than the server can buffer", true);
      return;
    }
    if (reclaimOrExhausted()) {
      // Memory and disk are both spoken for: refuse now rather than read a body that
      // would have to wait for room.
      CONN_LOG(Warn, "buffers exhausted (buffering.memory_total and disk_total); answering 503");
      respondError(503, "buffers exhausted, try again shortly", true, 1);
      return;
    }
    ex_->parser.request().body.setListener(ex_.get());
    if (req.hasContentLength) {
      ex_->parser.request().body.expectSize(req.contentLength);
    }
  }
  if (req.expectContinue && bodyExpected) {
    // The parser already refused a declared body over limits.body_bytes (413) before
    // we got here, so the client may go ahead.
    writeContinue();
  }
}

void ClientConnection::beginRequest() {
  // The exchange pins the newest generation until the response is written.
  if (!ctx_.spareExchanges.empty()) {
    ex_.reset(static_cast<Exchange*>(ctx_.spareExchanges.back().release()));
    ctx_.spareExchanges.pop_back();
    ex_->owner = this;
    ex_->gen = ctx_.current;
  } else {
    ex_ = std::make_unique<Exchange>(*this, ctx_.current);
  }
  ++ctx_.counters.exchanges;
  if (!ex_->peerKnown || !(ex_->peerOf == peer_)) {
    // Formatting an address costs more than the rest of taking an exchange: a spare
    // one last used for the same client (one host, or a load balancer) keeps its text.
    peer_.format(ex_->peer);
    ex_->peerOf = peer_;
    ex_->peerKnown = true;
  }
  // Every request has an id from its first byte on (log lines, access log); a valid
  // X-Request-ID of the client replaces it when the head is complete.
  ctx_.ids.next(ex_->requestId);
  ex_->tel.startUnixUs = ops::wallMicros();
  ex_->tel.startUs = ops::monotonicMicros();
}

void ClientConnection::onRequestComplete() {
  ex_->tel.completeUs = ops::monotonicMicros();
  ex_->timer.stop();
  transitionTo(State::Waiting);
  firstRequest_ = false;
  ex_->request = ex_->parser.takeRequest();
  ++ctx_.counters.requests;
  ex_->request.body.finish();
  if (!ex_->request.body.settled() && !ex_->request.body.failed()) {
    ex_->awaitingBody = true;  // the last spilled bytes are being written: onBodySettled()
    // Bounded like a held body: no room within body_idle is a 503 (onTimer).
    ex_->timer.start(static_cast<uint64_t>(config().timeouts.bodyIdle.count()));
    if (!ex_->request.body.writing()) {
      ctx_.registry.waitForBudget(*this);
    }
    return;
  }
  requestBodyReady();
}

void ClientConnection::onClientEof(const char* why) {
  switch (state_) {
    case State::Idle:
      close();  // an ordinary end of a keep-alive connection
      return;
    case State::ReadingHead:
    case State::ReadingBody:
      CONN_LOG(Info, "%s", why);
      close();
      return;
    case State::Waiting:
      // The client gave up while its request waited or ran: leave the queue (or let the
      // upstream side finish and drop the response).
      CONN_LOG(Info, "%s; the request is cancelled", why);
      close();
      return;
    case State::Writing:
      // A client may half-close after its request; the response is complete in our
      // buffers, so finish sending it (a real reset shows up as a write error).
      stopReading();
      ex_->closeAfterResponse = true;
      return;
    case State::Lingering:
    case State::Closed:
      close();
      return;
  }
}

void ClientConnection::resumeAfterResponse() {
  // Back to Idle for the next request: the exchange ends (an idle connection pins no
  // configuration and holds no parser or buffers); pipelined bytes already read come first.
  transitionTo(State::Idle);
  std::string bytes = std::move(ex_->pending);
  endExchange();
  if (draining_ || ctx_.draining) {
    close();
    return;
  }
  ctx_.idle.watch(*this, IdleTimeouts::Kind::KeepAlive);
  if (!bytes.empty()) {
    uint32_t writes = cachedWrites_;
    consume(bytes.data(), bytes.size());
    if (cachedWrites_ == writes) {
      // The next request is incomplete, or went to an app, or got an answer that was not
      // corked: whatever the last cached answer left in the kernel goes now.
      pushCorked();
    }
  }
  if ((state_ == State::Idle || state_ == State::ReadingHead || state_ == State::ReadingBody) &&
      !(ex_ && ex_->bodyHeld)) {
    startReading();
  }
}

}  // namespace doorman::server
