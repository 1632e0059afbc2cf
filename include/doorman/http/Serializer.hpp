#pragma once
// Writing messages: what doorman sends upstream and to clients. Everything doorman
// writes passes through here, so header values are checked for CR/LF/NUL here once.

#include <cstdint>
#include <string>
#include <string_view>

#include "doorman/http/Message.hpp"

namespace doorman::http {

/// Standard reason phrase ("Not Found"), or "Unknown" for unregistered codes.
std::string_view reasonPhrase(int status) noexcept;

/// True for hop-by-hop fields (RFC 9110 7.6.1): Connection, Keep-Alive,
/// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, and also the names
/// listed in this message's Connection header(s).
bool isHopByHop(std::string_view name, const HeaderMap& headers);

struct ForwardInfo {
  std::string_view clientAddress;  ///< appended to X-Forwarded-For
  std::string_view proto;          ///< "http" / "https" for X-Forwarded-Proto
  std::string_view requestId;      ///< X-Request-ID to send (the kept or generated one)
  int64_t requestStartMicros = 0;  ///< X-Request-Start: t=<this>
  std::string_view fallbackHost;   ///< Host to send when the request had none (HTTP/1.0)
};

/// Head doorman sends upstream: "METHOD target HTTP/1.1", the request's end-to-end
/// headers (hop-by-hop, Expect, Content-Length and existing X-Forwarded-Proto /
/// X-Request-Start / X-Request-ID removed), X-Forwarded-For appended to any existing
/// value, the forwarding headers, and Content-Length of the buffered body (sent also
/// as 0 for POST/PUT/PATCH with an empty body; omitted for other empty bodies).
/// Never chunked, never "Connection: close" (the pool decides reuse).
/// Replaces `out`'s contents and keeps its capacity: a kept string serializes every
/// request of a connection without allocating.
void serializeUpstreamRequestHead(const Request& request, const ForwardInfo& info,
                                  std::string& out);
inline std::string serializeUpstreamRequestHead(const Request& request, const ForwardInfo& info) {
  std::string out;
  serializeUpstreamRequestHead(request, info, out);
  return out;
}

struct ClientResponseOptions {
  bool keepAlive = true;      ///< doorman will keep the client connection open
  bool clientHttp10 = false;  ///< the request was HTTP/1.0 (keep-alive must be explicit)
  bool headRequest = false;   ///< the response to a HEAD: Content-Length kept from upstream
  std::string_view date;      ///< IMF-fixdate for the Date header
  std::string_view server = "doorman";
};

/// Head doorman sends to a client: "HTTP/1.1 status reason", the response's end-to-end
/// headers (hop-by-hop, Content-Length, Date, Server removed), Date, Server,
/// Content-Length (body size; for HEAD the upstream's Content-Length if it sent one;
/// none for 1xx/204/304), and Connection: close / keep-alive as needed.
/// Replaces `out`'s contents and keeps its capacity.
void serializeClientResponseHead(const Response& response, const ClientResponseOptions& options,
                                 std::string& out);
inline std::string serializeClientResponseHead(const Response& response,
                                               const ClientResponseOptions& options) {
  std::string out;
  serializeClientResponseHead(response, options, out);
  return out;
}

/// A short plain-text error response doorman generates itself (body: "<status> <reason>\n"
/// plus an optional detail line); `Connection: close` is decided by the caller.
Response makeErrorResponse(int status, std::string_view detail = {});

/// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for a Unix time in seconds.
std::string formatHttpDate(int64_t unixSeconds);

/// True when `value` is safe to write as a header value (no CR, LF, NUL).
bool isSafeHeaderValue(std::string_view value) noexcept;

}  // namespace doorman::http
