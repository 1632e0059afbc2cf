// Stage: writing the buffered response to the client, then keep-alive or close.
#include <string>
#include <vector>

#include "doorman/core/Log.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/ops/Clock.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {
namespace {

constexpr uint64_t kLingerMs = 2000;

}  // namespace

void ClientConnection::respond(http::Response response, bool closeAfter) {
  if (state_ != State::ReadingHead && state_ != State::ReadingBody && state_ != State::Waiting) {
    return;  // already answering or closed
  }
  if (ex_->bodyHeld) {
    ex_->bodyHeld = false;
    ex_->heldFirstMs = 0;
    ctx_.registry.stopWaitingForBudget(*this);
  }
  ex_->awaitingBody = false;
  ex_->response = std::move(response);
  ex_->tel.respondUs = ops::monotonicMicros();
  ex_->closeAfterResponse = closeAfter || !ex_->request.keepAlive || draining_ || ctx_.draining;
  http::ClientResponseOptions options;
  options.keepAlive = !ex_->closeAfterResponse;
  options.clientHttp10 = ex_->request.versionMinor == 0;
  options.headRequest = ex_->request.isHead();
  options.date = ctx_.dates.now();
  if (options.headRequest) {
    ex_->response.body.clear();
  }
  http::serializeClientResponseHead(ex_->response, options, ex_->responseHead);
  chargeWorkingMemory(false);
  transitionTo(State::Writing);
  ex_->deliveredAtArm = 0;
  ex_->timer.start(static_cast<uint64_t>(config().timeouts.sendIdle.count()));
  ex_->sender.start(stream(), ex_->responseHead, ex_->response.body, *ex_);
}

void ClientConnection::respondError(int status, std::string_view detail, bool closeAfter,
                                    uint64_t retryAfterSeconds) {
  http::Response response = http::makeErrorResponse(status, detail);
  if (retryAfterSeconds > 0) {
    response.headers.add("Retry-After", std::to_string(retryAfterSeconds));
  }
  respond(std::move(response), closeAfter);
}

void ClientConnection::onSendDone(int status) {
  if (ex_ != nullptr && ex_->cachedHit.file) {
    onCachedWriteDone(status);  // a response from the small-file cache (WriteCached.cpp)
    return;
  }
  if (state_ != State::Writing) {
    return;
  }
  ex_->tel.bytesOut += ex_->sender.handed();
  if (status != 0) {
    // UV_EIO from a file piece: a static file shrank while being sent. Closing is the
    // only honest end: the client sees a short body, never a wrong one.
    CONN_LOG(Info, "%s", uv_strerror(status));
    close();
    return;
  }
  finishResponse();
}

void ClientConnection::writeContinue() {
  static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  uv_buf_t buf = uv_buf_init(const_cast<char*>(kContinue), sizeof kContinue - 1);
  auto* req = new uv_write_t{};
  int rc = uv_write(req, stream(), &buf, 1, [](uv_write_t* w, int) { delete w; });
  if (rc != 0) {
    delete req;
  }
}

void ClientConnection::finishResponse() {
  ++ctx_.counters.responses;
  logRequest(ex_->response.status);
  ex_->timer.stop();
  if (ex_->closeAfterResponse) {
    startLingering();
    return;
  }
  resumeAfterResponse();
}

void ClientConnection::startLingering() {
  transitionTo(State::Lingering);
  ex_->pending.clear();
  ex_->response = http::Response{};
  auto* req = new uv_shutdown_t{};
  if (uv_shutdown(req, stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete req;
    close();
    return;
  }
  startReading();
  ex_->timer.start(kLingerMs);
}

}  // namespace doorman::server
