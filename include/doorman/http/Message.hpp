#pragma once
// The request and response as doorman understood them. doorman re-serialises every
// message it forwards, so a peer only ever sees what is in these structs.

#include <cstdint>
#include <string>

#include "doorman/core/Body.hpp"
#include "doorman/http/HeaderMap.hpp"

namespace doorman::http {

struct Request {
  std::string method;     ///< as on the wire ("GET")
  std::string target;     ///< origin-form ("/a?b"); absolute-form is converted (RFC 9112 3.2.2)
  int versionMinor = 1;   ///< HTTP/1.<minor>; only 1.0 and 1.1 are accepted
  HeaderMap headers;      ///< as received, hop-by-hop included (the serializer drops them)
  bool keepAlive = true;  ///< the client allows another request on this connection
  bool chunked = false;   ///< the body arrived with Transfer-Encoding: chunked
  bool expectContinue = false;  ///< "Expect: 100-continue" was sent
  bool hasContentLength = false;
  uint64_t contentLength = 0;  ///< valid when hasContentLength
  core::Body body;             ///< de-chunked

  bool isHead() const noexcept { return method == "HEAD"; }
};

struct Response {
  int status = 200;
  std::string reason;  ///< empty: the serializer uses the standard phrase
  int versionMinor = 1;
  HeaderMap headers;      ///< as received, hop-by-hop included
  bool keepAlive = true;  ///< the sender allows reuse of its connection after this
  core::Body body;
};

}  // namespace doorman::http
