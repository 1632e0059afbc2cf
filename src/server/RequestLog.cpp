// The access log line and the request metrics of one exchange, written when it ends
// (response written, or the connection closed while it waited or was being answered).
#include "doorman/ops/AccessLog.hpp"
#include "doorman/ops/Clock.hpp"
#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {
namespace {

std::string_view headerOr(const http::Request& r, const char* name) {
  const std::string* v = r.headers.find(name);
  return v != nullptr ? std::string_view(*v) : std::string_view();
}

int64_t span(int64_t from, int64_t to) { return from >= 0 && to >= from ? to - from : -1; }

}  // namespace

std::string routeLabel(const config::Route& route) {
  return route.host ? *route.host + route.prefix : route.prefix;
}

void ClientConnection::logRequest(int status) {
  if (!ex_ || ex_->tel.logged || ex_->tel.startUs < 0) {
    return;
  }
  ex_->tel.logged = true;
  int64_t now = ops::monotonicMicros();
  std::string route = ex_->route != nullptr ? routeLabel(*ex_->route->route) : std::string();
  int64_t total = span(ex_->tel.startUs, now);
  ctx_.metrics.recordRequest(route, status, total);
  const bool upstream =
      ex_->tel.submitUs >= 0 && ex_->route != nullptr && ex_->route->pool != nullptr;
  if (upstream && ex_->tel.queueUs >= 0) {
    ctx_.metrics.queueWait[ex_->route->pool->name()].observeMicros(ex_->tel.queueUs);
  }
  if (ctx_.accessLog == nullptr || !config().accessLog.enabled) {
    return;
  }
  ops::RequestRecord r;
  r.startUnixMicros = ex_->tel.startUnixUs;
  r.client = ex_->peer;
  r.method = ex_->request.method;
  r.target = ex_->request.target;
  r.versionMinor = ex_->request.versionMinor;
  r.status = status;
  r.bytesIn = ex_->tel.bytesIn;
  r.bytesOut = ex_->tel.bytesOut;
  r.bodyOut = ex_->tel.bytesOut > ex_->responseHead.size()
                  ? ex_->tel.bytesOut - ex_->responseHead.size()
                  : 0;
  r.requestId = ex_->requestId;
  r.referer = headerOr(ex_->request, "Referer");
  r.userAgent = headerOr(ex_->request, "User-Agent");
  r.route = route;
  if (upstream) {
    r.upstream = ex_->route->pool->name();
    r.server = ex_->tel.server;
    r.tries = ex_->tel.tries;
    r.queueUs = ex_->tel.queueUs;
    r.upstreamUs = ex_->tel.upstreamUs;
  }
  r.receiveUs = span(ex_->tel.startUs, ex_->tel.completeUs);
  r.sendUs = span(ex_->tel.respondUs, now);
  r.totalUs = total;
  ops::AccessLogFormat format = ops::AccessLogFormat::Combined;
  ops::parseAccessLogFormat(config().accessLog.format, format);
  ctx_.accessLog->append(format == ops::AccessLogFormat::Json ? ops::formatJson(r)
                                                              : ops::formatCombined(r));
}

}  // namespace doorman::server
