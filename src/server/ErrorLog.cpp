// Error-log lines about a client connection: what it was doing (derived from its state
// machine, and from the upstream connection's while its request is at an upstream) and
// who it is, in nginx's shape: "... while reading response header from upstream, client:
// 127.0.0.1:5555, conn: 17, request: 5f0c... "GET /x HTTP/1.1", upstream: "app" ...".
#include <netinet/in.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>

#include "doorman/server/ClientConnection.hpp"
#include "doorman/upstream/UpstreamConnection.hpp"
#include "doorman/upstream/UpstreamPool.hpp"

namespace doorman::server {
namespace {

constexpr int kMaxLoggedTarget = 512;  ///< longer targets are cut in log lines

}  // namespace

core::Doing ClientConnection::doing() const noexcept {
  using core::Doing;
  switch (state_) {
    case State::Idle:
      return firstRequest_ ? Doing::WaitingForRequest : Doing::KeepAlive;
    case State::ReadingHead:
      return Doing::ReadingRequestHead;
    case State::ReadingBody:
      return Doing::ReadingRequestBody;
    case State::Waiting:
      if (ex_->awaitingBody) {
        return Doing::ReadingRequestBody;  // its last bytes are still going to disk
      }
      if (ex_->job) {
        if (ex_->job->state == upstream::Job::State::Queued) {
          return Doing::WaitingInQueue;
        }
        if (ex_->job->connection != nullptr) {
          return ex_->job->connection->doing();
        }
        return Doing::Processing;
      }
      return ex_->staticTicket ? Doing::ReadingFile : Doing::Processing;
    case State::Writing:
      return Doing::SendingResponse;
    case State::Lingering:
    case State::Closed:
      return Doing::Closing;
  }
  return Doing::Processing;
}

const http::Request* ClientConnection::loggedRequest() const noexcept {
  if (!ex_) {
    return nullptr;
  }
  if (!ex_->request.method.empty()) {
    return &ex_->request;  // complete
  }
  // The head is known from HeadComplete on, also when the body failed (ex_->parser.readingBody()
  // stays set until the next message begins).
  if (state_ == State::ReadingBody || (state_ != State::Idle && ex_->parser.readingBody())) {
    return &ex_->parser.request();
  }
  return nullptr;
}

void ClientConnection::describe(std::string& out) const {
  // The client's port is looked up only for a line that is written (the peer has none: it
  // is what X-Forwarded-For carries).
  sockaddr_storage ss{};
  int len = sizeof ss;
  int port = -1;
  if (isTcp() && uv_tcp_getpeername(reinterpret_cast<const uv_tcp_t*>(stream_),
                                    reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    if (ss.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    }
  }
  char peer[kPeerSize];
  peer_.format(peer);
  const bool v6 = std::strchr(peer, ':') != nullptr;
  if (port < 0) {
    core::Log::append(out, ", client: %s", peer);
  } else {
    core::Log::append(out, ", client: %s%s%s:%d", v6 ? "[" : "", peer, v6 ? "]" : "", port);
  }
  core::Log::append(out, ", conn: %llu, request: %s", static_cast<unsigned long long>(id_),
                    !ex_ || ex_->requestId.empty() ? "-" : ex_->requestId.c_str());
  if (const http::Request* r = loggedRequest()) {
    int targetLength = static_cast<int>(std::min<size_t>(r->target.size(), kMaxLoggedTarget));
    core::Log::append(out, " \"%s %.*s%s HTTP/1.%d\"", r->method.c_str(), targetLength,
                      r->target.c_str(), r->target.size() > kMaxLoggedTarget ? "..." : "",
                      r->versionMinor);
  }
}

void ClientConnection::logEvent(core::LogLevel level, const char* fmt, ...) const {
  std::string line;
  line.reserve(256);
  va_list args;
  va_start(args, fmt);
  core::Log::vappend(line, fmt, args);
  va_end(args);
  line += " while ";
  line += core::doingText(doing());
  describe(line);
  if (ex_ && ex_->route != nullptr && ex_->route->pool != nullptr && state_ != State::Idle) {
    const std::string& server = ex_->job ? ex_->job->timing.server : ex_->tel.server;
    core::Log::append(line, ", upstream: \"%s\"%s%s", ex_->route->pool->name().c_str(),
                      server.empty() ? "" : " ", server.c_str());
  }
  core::Log::write(level, "%s", line.c_str());
}

}  // namespace doorman::server
