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
  const std::string* host = ex_->request.headers.find("Host");
  ex_->route = ex_->gen->router->match(
      host != nullptr ? std::string_view(*host) : std::string_view(), ex_->request.target);
  if (ex_->route == nullptr) {
    respondError(404, "no route for this path", false);
    return;
  }
  if (ex_->route->route->staticFiles) {
    statics::CacheHit hit;
    if (ctx_.files.serveCached(*ex_->route->route, ex_->request, hit)) {
      respondCached(std::move(hit));
      return;
    }
    ex_->staticTicket = ctx_.files.serve(*ex_->route->route, ex_->request, *ex_);
    return;
  }
  forwardUpstream();
}

void ClientConnection::forwardUpstream() {
  if (ex_->route->pool == nullptr) {
    respondError(502, "route has no upstream", false);
    return;
  }
  if (!ex_->request.isHead() && reclaimOrExhausted()) {
    // Its response could not be buffered (no memory block, no disk): a worker would do
    // the work and doorman would throw the answer away with a 502. Refuse it first.
    CONN_LOG(Warn,
             "no room to buffer a response (buffering.memory_total and disk_total short); "
             "answering 503 before forwarding");
    ++ctx_.counters.upstreamErrors;
    respondError(503, "buffers exhausted, try again shortly", false, 1);
    return;
  }
  http::ForwardInfo info;
  info.clientAddress = ex_->peer;
  info.proto = "http";
  info.requestId = ex_->requestId;
  info.requestStartMicros = realtimeMicros();
  info.fallbackHost = ex_->route->pool->name();
  // The previous request's OutboundRequest, once the pool has let go of it (its job
  // ended), is reused in place: no allocation for it or for its head string.
  std::shared_ptr<upstream::OutboundRequest> out = std::move(ex_->outbound);
  if (!out || out.use_count() != 1) {
    out = std::make_shared<upstream::OutboundRequest>();
  }
  http::serializeUpstreamRequestHead(ex_->request, info, out->head);
  out->method = std::string_view(out->head).substr(0, ex_->request.method.size());
  out->body = std::move(ex_->request.body);
  out->body.setListener(nullptr);  // settled: no write of it is in flight, none will call
  out->headRequest = ex_->request.isHead();
  out->idempotent = isIdempotent(ex_->request);
  if (out->body.empty() && !out->body.spilled()) {
    // Kept only when it holds no body: a body is released when the job ends, as before.
    ex_->outbound = out;
  }
  upstream::UpstreamPool::Rejection rejection;
  ex_->tel.submitUs = ops::monotonicMicros();
  ex_->job = ex_->route->pool->submit(std::move(out), *ex_, ex_->route->queueTimeoutMs, rejection);
  if (!ex_->job) {
    CONN_LOG(Warn, "%s; answering %d", rejection.reason.c_str(), rejection.status);
    ++ctx_.counters.upstreamErrors;
    respondError(rejection.status, rejection.reason, false, rejection.retryAfterSeconds);
  }
}

void ClientConnection::recordUpstreamTelemetry() {
  ex_->tel.answeredUs = ops::monotonicMicros();
  if (!ex_->job) {
    return;
  }
  // The pool's own timing (upstream::JobTiming): queue wait until the last try got its
  // slot, upstream time of that try; 0 means the phase did not happen.
  const upstream::JobTiming& t = ex_->job->timing;
  ex_->tel.tries = t.tries;
  ex_->tel.server = t.server;
  if (t.queuedUs != 0) {
    uint64_t queueEnd = t.dispatchedUs != 0 ? t.dispatchedUs : t.completedUs;
    ex_->tel.queueUs = queueEnd >= t.queuedUs ? static_cast<int64_t>(queueEnd - t.queuedUs) : 0;
  }
  if (t.dispatchedUs != 0 && t.completedUs >= t.dispatchedUs) {
    ex_->tel.upstreamUs = static_cast<int64_t>(t.completedUs - t.dispatchedUs);
  }
}

void ClientConnection::onUpstreamResponse(http::Response response) {
  recordUpstreamTelemetry();
  ex_->job.reset();
  respond(std::move(response), false);
}

void ClientConnection::onUpstreamFailure(int status, std::string_view reason,
                                         uint64_t retryAfterSeconds) {
  recordUpstreamTelemetry();
  ex_->job.reset();
  ++ctx_.counters.upstreamErrors;  // the pool wrote the error-log line (it knows why)
  respondError(status, reason, false, retryAfterSeconds);
}

void ClientConnection::onStaticResponse(http::Response response) {
  ex_->staticTicket.reset();
  respond(std::move(response), false);
}

void ClientConnection::onStaticMiss() {
  ex_->staticTicket.reset();
  forwardUpstream();
}

void ClientConnection::cancelPending() {
  if (!ex_) {
    return;
  }
  if (ex_->job) {
    if (ex_->route != nullptr && ex_->route->pool != nullptr) {
      ex_->route->pool->cancel(*ex_->job);
    }
    ex_->job.reset();
  }
  if (ex_->staticTicket) {
    ctx_.files.cancel(*ex_->staticTicket);
    ex_->staticTicket.reset();
  }
}

}  // namespace doorman::server
