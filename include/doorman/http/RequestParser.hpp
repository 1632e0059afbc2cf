#pragma once
// Incremental HTTP/1.x request parser over llhttp (strict: no lenient flags).
//
// feed() consumes bytes and stops right after two events so the caller can act:
//   HeadComplete    - method, target, headers are known (check limits, Expect, route);
//                     feeding more continues with the body.
//   MessageComplete - the request (with de-chunked body) is ready: takeRequest().
//                     The parser is then ready for the next pipelined request; bytes
//                     after the message were NOT consumed (see Result::consumed).
// On Error, errorStatus() is the HTTP status to answer (400, 413, 414, 431, 501, 505)
// and errorReason() a short text for the log and the response body. Once in error the
// parser stays in error.
//
// Validation beyond llhttp (RFC 9112 framing): missing or duplicate Host in 1.1,
// Transfer-Encoding in 1.0, TE other than exactly "chunked", Content-Length not plain
// digits, CL with TE, obs-fold, bad header name characters.

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/Message.hpp"

namespace doorman::http {

struct RequestLimits {
  size_t uriBytes = 8 * 1024;       ///< request-target longer: 414
  size_t headerBytes = 16 * 1024;   ///< request line + all header lines longer: 431
  size_t headerCount = 100;         ///< more fields: 431
  uint64_t bodyBytes = 100ull << 20;  ///< body longer (declared or de-chunked so far): 413
};

class RequestParser {
 public:
  enum class Event { NeedMore, HeadComplete, MessageComplete, Error };
  struct Result {
    Event event;
    size_t consumed;  ///< bytes of the input used; feed the rest again
  };

  explicit RequestParser(RequestLimits limits, core::MemoryBudget* budget = nullptr);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  Result feed(const char* data, size_t len);
  Result feed(std::string_view bytes) { return feed(bytes.data(), bytes.size()); }

  /// The client closed its side. Error if a message was in progress (400), else NeedMore.
  Event finish();

  /// True once any byte of the current message has been seen.
  bool inMessage() const noexcept { return inMessage_; }
  /// True between HeadComplete and MessageComplete.
  bool readingBody() const noexcept { return readingBody_; }

  /// The message being parsed (valid from HeadComplete).
  Request& request() noexcept { return request_; }
  /// Moves out the completed request; the parser starts afresh for the next one.
  Request takeRequest();

  int errorStatus() const noexcept { return errorStatus_; }
  const std::string& errorReason() const noexcept { return errorReason_; }

 private:
  // llhttp callbacks (static trampolines defined in the .cpp)
  friend struct RequestParserCallbacks;

  int fail(int status, std::string reason);
  int onHeadersComplete();
  void reset();

  RequestLimits limits_;
  core::MemoryBudget* budget_;
  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  Request request_;
  std::string field_;  ///< header name being accumulated
  std::string value_;  ///< header value being accumulated
  bool inValue_ = false;
  size_t headBytes_ = 0;
  bool inMessage_ = false;
  bool readingBody_ = false;
  bool paused_ = false;  ///< paused by us at HeadComplete / MessageComplete
  int pausedEvent_ = 0;
  int errorStatus_ = 0;
  std::string errorReason_;
};

}  // namespace doorman::http
