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
  if (tel_.logged || tel_.startUs < 0) {
    return;
  }
  tel_.logged = true;
  int64_t now = ops::monotonicMicros();
  std::string route = route_ != nullptr ? routeLabel(*route_->route) : std::string();
  int64_t total = span(tel_.startUs, now);
  ctx_.metrics.recordRequest(route, status, total);
  const bool upstream = tel_.submitUs >= 0 && route_ != nullptr && route_->pool != nullptr;
  if (upstream && tel_.queueUs >= 0) {
    ctx_.metrics.queueWait[route_->pool->name()].observeMicros(tel_.queueUs);
  }
  if (ctx_.accessLog == nullptr || !config().accessLog.enabled) {
    return;
  }
  ops::RequestRecord r;
  r.startUnixMicros = tel_.startUnixUs;
  r.client = peer_;
  r.method = request_.method;
  r.target = request_.target;
  r.versionMinor = request_.versionMinor;
  r.status = status;
  r.bytesIn = tel_.bytesIn;
  r.bytesOut = tel_.bytesOut;
  r.bodyOut = tel_.bytesOut > responseHead_.size() ? tel_.bytesOut - responseHead_.size() : 0;
  r.requestId = requestId_;
  r.referer = headerOr(request_, "Referer");
  r.userAgent = headerOr(request_, "User-Agent");
  r.route = route;
  if (upstream) {
    r.upstream = route_->pool->name();
    r.server = tel_.server;
    r.tries = tel_.tries;
    r.queueUs = tel_.queueUs;
    r.upstreamUs = tel_.upstreamUs;
  }
  r.receiveUs = span(tel_.startUs, tel_.completeUs);
  r.sendUs = span(tel_.respondUs, now);
  r.totalUs = total;
  ops::AccessLogFormat format = ops::AccessLogFormat::Combined;
  ops::parseAccessLogFormat(config().accessLog.format, format);
  ctx_.accessLog->append(format == ops::AccessLogFormat::Json ? ops::formatJson(r)
                                                              : ops::formatCombined(r));
}

}  // namespace doorman::server
