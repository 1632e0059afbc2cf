// Stage: a complete request is routed to a static root or handed to an upstream pool.
#include <ctime>

#include "doorman/core/Log.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/ops/Clock.hpp"
#include "doorman/server/ClientConnection.hpp"
#include "doorman/upstream/UpstreamPool.hpp"

namespace doorman::server {
namespace {

int64_t realtimeMicros() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

bool isIdempotent(const http::Request& r) {
  // RFC 9110 9.2.2, plus an explicit Idempotency-Key from the client.
  const std::string& m = r.method;
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE" ||
         m == "TRACE" || r.headers.find("Idempotency-Key") != nullptr;
}

}  // namespace

void ClientConnection::dispatch() {
  const std::string* host = request_.headers.find("Host");
  route_ = gen_->router->match(host != nullptr ? std::string_view(*host) : std::string_view(),
                               request_.target);
  if (route_ == nullptr) {
    respondError(404, "no route for this path", false);
    return;
  }
  if (route_->route->staticFiles) {
    statics::CacheHit hit;
    if (ctx_.files.serveCached(*route_->route, request_, hit)) {
      respondCached(std::move(hit));
      return;
    }
    staticTicket_ = ctx_.files.serve(*route_->route, request_, *this);
    return;
  }
  forwardUpstream();
}

void ClientConnection::forwardUpstream() {
  if (route_->pool == nullptr) {
    respondError(502, "route has no upstream", false);
    return;
  }
  http::ForwardInfo info;
  info.clientAddress = peer_;
  info.proto = "http";
  info.requestId = requestId_;
  info.requestStartMicros = realtimeMicros();
  info.fallbackHost = route_->pool->name();
  auto out = std::make_shared<upstream::OutboundRequest>();
  out->head = http::serializeUpstreamRequestHead(request_, info);
  out->method = std::string_view(out->head).substr(0, request_.method.size());
  out->body = std::move(request_.body);
  out->headRequest = request_.isHead();
  out->idempotent = isIdempotent(request_);
  upstream::UpstreamPool::Rejection rejection;
  tel_.submitUs = ops::monotonicMicros();
  job_ = route_->pool->submit(std::move(out), *this, route_->queueTimeoutMs, rejection);
  if (!job_) {
    CONN_LOG(Warn, "%s; answering %d", rejection.reason.c_str(), rejection.status);
    ++ctx_.counters.upstreamErrors;
    respondError(rejection.status, rejection.reason, false, rejection.retryAfterSeconds);
  }
}

void ClientConnection::recordUpstreamTelemetry() {
  tel_.answeredUs = ops::monotonicMicros();
  if (!job_) {
    return;
  }
  // The pool's own timing (upstream::JobTiming): queue wait until the last try got its
  // slot, upstream time of that try; 0 means the phase did not happen.
  const upstream::JobTiming& t = job_->timing;
  tel_.tries = t.tries;
  tel_.server = t.server;
  if (t.queuedUs != 0) {
    uint64_t queueEnd = t.dispatchedUs != 0 ? t.dispatchedUs : t.completedUs;
    tel_.queueUs = queueEnd >= t.queuedUs ? static_cast<int64_t>(queueEnd - t.queuedUs) : 0;
  }
  if (t.dispatchedUs != 0 && t.completedUs >= t.dispatchedUs) {
    tel_.upstreamUs = static_cast<int64_t>(t.completedUs - t.dispatchedUs);
  }
}

void ClientConnection::onUpstreamResponse(http::Response response) {
  recordUpstreamTelemetry();
  job_.reset();
  respond(std::move(response), false);
}

void ClientConnection::onUpstreamFailure(int status, std::string_view reason,
                                         uint64_t retryAfterSeconds) {
  recordUpstreamTelemetry();
  job_.reset();
  ++ctx_.counters.upstreamErrors;  // the pool wrote the error-log line (it knows why)
  respondError(status, reason, false, retryAfterSeconds);
}

void ClientConnection::onStaticResponse(http::Response response) {
  staticTicket_.reset();
  respond(std::move(response), false);
}

void ClientConnection::onStaticMiss() {
  staticTicket_.reset();
  forwardUpstream();
}

void ClientConnection::cancelPending() {
  if (job_) {
    if (route_ != nullptr && route_->pool != nullptr) {
      route_->pool->cancel(*job_);
    }
    job_.reset();
  }
  if (staticTicket_) {
    ctx_.files.cancel(*staticTicket_);
    staticTicket_.reset();
  }
}

}  // namespace doorman::server
