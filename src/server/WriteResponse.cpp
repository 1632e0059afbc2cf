// Stage: writing the buffered response to the client, then keep-alive or close.
#include <string>
#include <vector>

#include "doorman/core/Log.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/ops/Clock.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {
namespace {

constexpr size_t kMaxBufsPerWrite = 64;
constexpr size_t kMaxBytesPerWrite = 1 << 20;
constexpr uint64_t kLingerMs = 2000;

}  // namespace

void ClientConnection::respond(http::Response response, bool closeAfter) {
  if (state_ != State::ReadingHead && state_ != State::ReadingBody && state_ != State::Waiting) {
    return;  // already answering or closed
  }
  response_ = std::move(response);
  tel_.respondUs = ops::monotonicMicros();
  closeAfterResponse_ = closeAfter || !request_.keepAlive || draining_ || ctx_.draining;
  http::ClientResponseOptions options;
  options.keepAlive = !closeAfterResponse_;
  options.clientHttp10 = request_.versionMinor == 0;
  options.headRequest = request_.isHead();
  options.date = ctx_.dates.now();
  if (options.headRequest) {
    response_.body.clear();
  }
  responseHead_ = http::serializeClientResponseHead(response_, options);
  transitionTo(State::Writing);
  nextSegment_ = 0;
  headWritten_ = false;
  writeNextBatch();
}

void ClientConnection::respondError(int status, std::string_view detail, bool closeAfter,
                                    uint64_t retryAfterSeconds) {
  http::Response response = http::makeErrorResponse(status, detail);
  if (retryAfterSeconds > 0) {
    response.headers.add("Retry-After", std::to_string(retryAfterSeconds));
  }
  respond(std::move(response), closeAfter);
}

void ClientConnection::writeNextBatch() {
  std::vector<uv_buf_t> bufs;
  size_t bytes = 0;
  if (!headWritten_) {
    bufs.push_back(uv_buf_init(responseHead_.data(), static_cast<unsigned>(responseHead_.size())));
    bytes += responseHead_.size();
    headWritten_ = true;
  }
  while (nextSegment_ < response_.body.segmentCount() && bufs.size() < kMaxBufsPerWrite &&
         bytes < kMaxBytesPerWrite) {
    std::string_view seg = response_.body.segment(nextSegment_++);
    bufs.push_back(uv_buf_init(const_cast<char*>(seg.data()), static_cast<unsigned>(seg.size())));
    bytes += seg.size();
  }
  auto* req = new uv_write_t{};
  int rc = uv_write(req, stream(), bufs.data(), static_cast<unsigned>(bufs.size()),
                    [](uv_write_t* w, int status) {
                      auto* self = uv::ownerOf<ClientConnection>(w->handle);
                      delete w;
                      if (self != nullptr) {
                        self->onWriteDone(status);
                      }
                    });
  if (rc != 0) {
    delete req;
    LOG_INFO("conn %llu: write failed: %s", static_cast<unsigned long long>(id_), uv_strerror(rc));
    close();
    return;
  }
  writeInFlight_ = true;
  tel_.bytesOut += bytes;
  writeQueueAtArm_ = unsentBytes();
  timer_.start(static_cast<uint64_t>(config().timeouts.sendIdle.count()));
}

void ClientConnection::onWriteDone(int status) {
  writeInFlight_ = false;
  if (state_ != State::Writing) {
    return;
  }
  if (status != 0) {
    LOG_INFO("conn %llu: %s: write failed: %s", static_cast<unsigned long long>(id_), peer_.c_str(),
             uv_strerror(status));
    close();
    return;
  }
  if (nextSegment_ < response_.body.segmentCount()) {
    writeNextBatch();
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
  logRequest(response_.status);
  timer_.stop();
  if (closeAfterResponse_) {
    startLingering();
    return;
  }
  resumeAfterResponse();
}

void ClientConnection::startLingering() {
  transitionTo(State::Lingering);
  pending_.clear();
  response_ = http::Response{};
  auto* req = new uv_shutdown_t{};
  if (uv_shutdown(req, stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete req;
    close();
    return;
  }
  startReading();
  timer_.start(kLingerMs);
}

}  // namespace doorman::server
