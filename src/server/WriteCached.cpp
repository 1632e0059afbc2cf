// Stage: writing a static file from the small-file cache. The head and body were built
// when the file was cached; only the Date line and the connection tail are per response,
// so the whole answer is one uv_write of up to four buffers and nothing is serialized or
// copied here. The CacheHit keeps the bytes alive until the write completes, even if the
// cache drops or replaces the entry meanwhile.
#include <cstring>

#include "doorman/core/Log.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {
namespace {

uv_buf_t bufOf(std::string_view bytes) {
  return uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
}

}  // namespace

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
  uv_buf_t bufs[4];
  unsigned count = 0;
  bufs[count++] = bufOf(ex_->cachedHit.head());
  bufs[count++] = bufOf(std::string_view(ex_->dateLine, dateLength));
  bufs[count++] = bufOf(tail);
  if (!ex_->cachedHit.notModified && !ex_->request.isHead() && !ex_->cachedHit.file->body.empty()) {
    bufs[count++] = bufOf(ex_->cachedHit.file->body);
  }

  transitionTo(State::Writing);
  auto* req = new uv_write_t{};
  int rc = uv_write(req, stream(), bufs, count, [](uv_write_t* w, int status) {
    auto* self = uv::ownerOf<ClientConnection>(w->handle);
    delete w;
    if (self != nullptr) {
      self->onCachedWriteDone(status);
    }
  });
  if (rc != 0) {
    delete req;
    ex_->cachedHit = {};
    CONN_LOG(Info, "%s", uv_strerror(rc));
    close();
    return;
  }
  ex_->cachedHanded = 0;
  for (unsigned i = 0; i < count; ++i) {
    ex_->cachedHanded += bufs[i].len;
  }
  ex_->deliveredAtArm = 0;
  ex_->timer.start(static_cast<uint64_t>(config().timeouts.sendIdle.count()));
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
