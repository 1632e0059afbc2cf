// Stage: writing a static file from the small-file cache. The head and body were built
// when the file was cached; only the Date line and the connection tail are per response,
// so the whole answer is one write of up to four buffers (the connection's BodySender)
// and nothing is serialized or copied here. The CacheHit keeps the bytes alive until the write
// completes, even if the cache drops or replaces the entry meanwhile.
#include <cstring>

#include "doorman/core/Log.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {

void ClientConnection::respondCached(statics::CacheHit hit) {
  if (state_ != State::ReadingHead && state_ != State::ReadingBody && state_ != State::Waiting) {
    return;
  }
  ex_->closeAfterResponse = !ex_->request.keepAlive || draining_ || ctx_.draining;
  ex_->cachedHit = std::move(hit);
  ex_->response.status = ex_->cachedHit.notModified ? 304 : 200;  // for whoever reports the status

  // Copied: the DateCache string changes each second, maybe while this write is queued.
  const std::string& date = ctx_.dates.now();
  size_t dateLength = 0;
  if (date.size() + 8 <= sizeof ex_->dateLine) {
    std::memcpy(ex_->dateLine, "Date: ", 6);
    std::memcpy(ex_->dateLine + 6, date.data(), date.size());
    std::memcpy(ex_->dateLine + 6 + date.size(), "\r\n", 2);
    dateLength = date.size() + 8;
  }
  std::string_view tail = "\r\n";
  if (ex_->closeAfterResponse) {
    tail = "Connection: close\r\n\r\n";
  } else if (ex_->request.versionMinor == 0) {
    tail = "Connection: keep-alive\r\n\r\n";
  }
  std::string_view parts[4];
  size_t count = 0;
  parts[count++] = ex_->cachedHit.head();
  parts[count++] = std::string_view(ex_->dateLine, dateLength);
  parts[count++] = tail;
  if (!ex_->cachedHit.notModified && !ex_->request.isHead() && !ex_->cachedHit.file->body.empty()) {
    parts[count++] = ex_->cachedHit.file->body;
  }

  transitionTo(State::Writing);
  Exchange* ex = ex_.get();
  ex->cachedHanded = 0;
  ex->deliveredAtArm = 0;
  ex->timer.start(static_cast<uint64_t>(config().timeouts.sendIdle.count()));
  // Pipelined requests already read: their answers follow this one at once, so this one
  // is corked (MSG_MORE) and leaves in the same segments as theirs instead of one small
  // segment per answer. resumeAfterResponse() pushes it if no cached answer follows.
  bool more = !ex->closeAfterResponse && !ex->pending.empty();
  corked_ = more;
  ++cachedWrites_;
  // Usually one writev that the socket takes whole; onSendDone hands the end to
  // onCachedWriteDone. A write refused at once closes the connection inside start(),
  // ending the exchange.
  ex->sender.start(stream(), std::span<const std::string_view>(parts, count), *ex, more);
  if (ex_.get() == ex) {
    ex->cachedHanded = ex->sender.handed();  // all of it, unless uv_write refused at once
  }
}

void ClientConnection::pushCorked() noexcept {
  if (!corked_) {
    return;
  }
  corked_ = false;
  // Setting TCP_NODELAY (already on) makes Linux push what MSG_MORE held back, at once;
  // without it the kernel sends it after about 200 ms.
  if (isTcp()) {
    uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(stream_), 1);
  }
}

void ClientConnection::onCachedWriteDone(int status) {
  if (!ex_) {
    return;
  }
  ex_->cachedHit = {};
  ex_->tel.bytesOut += ex_->cachedHanded;
  if (state_ != State::Writing) {
    return;
  }
  if (status != 0) {
    CONN_LOG(Info, "%s", uv_strerror(status));
    close();
    return;
  }
  finishResponse();
}

}  // namespace doorman::server
