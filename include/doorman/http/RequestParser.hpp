#pragma once
// Incremental HTTP/1.x request parser over llhttp (strict: no lenient flags).
//
// feed() consumes bytes and stops right after two events so the caller can act:
//   HeadComplete    - method, target, headers are known (check limits, Expect, route);
//                     feeding more continues with the body. HeadComplete is reported
//                     for every request, with or without a body: call feed() again
//                     even when no bytes are left (a request without a body then
//                     completes with MessageComplete and consumed == 0).
//   MessageComplete - the request (with de-chunked body) is ready: takeRequest().
//                     The parser is then ready for the next pipelined request; bytes
//                     after the message were NOT consumed (see Result::consumed).
//                     Until takeRequest(), feed() keeps answering MessageComplete with
//                     consumed == 0.
// On Error, errorStatus() is the HTTP status to answer (400, 413, 414, 417, 431, 501,
// 503, 505) and errorReason() a short text for the log and the response body. Once in
// error the parser stays in error.
//
// Validation beyond llhttp (RFC 9112 framing): missing or duplicate Host in 1.1,
// invalid Host, Transfer-Encoding in 1.0, TE other than exactly "chunked" in a single
// field, Content-Length not plain digits, CL with TE, obs-fold, bare LF line ends,
// more than one SP between request-line parts, bad header name characters, control
// characters in values or target, request-target other than origin-form,
// absolute-form (converted) or "*" for OPTIONS (so authority-form CONNECT is 400),
// CONNECT with a body. Upgrade is never honoured: an Upgrade/CONNECT request completes
// like any other and the next bytes are parsed as the next request. Trailer fields of
// a chunked body are dropped (bounded by headerBytes/headerCount all the same).

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "doorman/core/Body.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/Message.hpp"

namespace doorman::http {

struct RequestLimits {
  size_t uriBytes = 8 * 1024;         ///< request-target longer: 414
  size_t headerBytes = 16 * 1024;     ///< request line + all header lines longer: 431
  size_t headerCount = 100;           ///< more fields: 431
  uint64_t bodyBytes = 100ull << 20;  ///< body longer (declared or de-chunked so far): 413
};

class RequestParser {
 public:
  enum class Event { NeedMore, HeadComplete, MessageComplete, Error };
  struct Result {
    Event event;
    size_t consumed;  ///< bytes of the input used; feed the rest again
  };

  explicit RequestParser(const RequestLimits& limits, core::MemoryBudget* budget = nullptr);
  /// Bodies buffered (and spilled to disk) as `buffers` says.
  RequestParser(const RequestLimits& limits, core::BufferPolicy* buffers);
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
  const Request& request() const noexcept { return request_; }
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
  void failFromParser(llhttp_errno_t err, const char* errorPos);
  int countTrailer(const char* at, size_t len);  ///< framing up to at+len, then the size bound
  /// Records whether the byte after the method's SP (if in data) starts the target.
  void noteByteAfterMethodSpace(const char* data, size_t len);
  bool decideMethod(const char* data, size_t len);
  int validateTarget();
  int validateFraming();
  /// Stream offset of a byte llhttp hands to a callback (for adjacency checks).
  uint64_t streamPos(const char* at) const noexcept {
    return streamOffset_ + static_cast<uint64_t>(at - execData_);
  }

  RequestLimits limits_;
  core::MemoryBudget* budget_;
  core::BufferPolicy* buffers_ = nullptr;
  core::Body newBody() { return buffers_ != nullptr ? core::Body(buffers_) : core::Body(budget_); }
  llhttp_t parser_{};
  Request request_;
  std::string field_;  ///< header name being accumulated
  std::string value_;  ///< header value being accumulated
  size_t headBytes_ = 0;
  bool inMessage_ = false;
  bool readingBody_ = false;
  bool paused_ = false;  ///< paused by us at HeadComplete / MessageComplete
  int pausedEvent_ = 0;
  int errorStatus_ = 0;
  std::string errorReason_;

  const char* execData_ = nullptr;   ///< the buffer llhttp is executing
  uint64_t streamOffset_ = 0;        ///< bytes consumed before execData_[0]
  uint64_t methodEnd_ = 0;           ///< stream offset just past the method
  int targetRightAfterMethod_ = -1;  ///< byte after the method's SP is not SP: 1, is: 0, unseen: -1
  uint64_t urlEnd_ = 0;              ///< stream offset just past the request-target
  bool urlStarted_ = false;
  bool urlComplete_ = false;  ///< llhttp reached the end of the request-target
  bool versionStarted_ = false;
  bool headDone_ = false;      ///< headers complete: header callbacks now carry trailers
  bool complete_ = false;      ///< MessageComplete reported, takeRequest() not yet called
  char lastHeadByte_ = 0;      ///< last head byte of the previous feed (bare LF, obs-fold)
  char methodProbe_[32] = {};  ///< first bytes of the message, to tell 501 from 400
  size_t methodProbeLen_ = 0;
  bool methodPending_ = false;  ///< llhttp refused the method; 400 or 501 not yet known
  size_t trailerBytes_ = 0;
  size_t trailerCount_ = 0;
  size_t chunkExtBytes_ = 0;           ///< chunked body: bytes of the extension name/value so far
  const char* chunkExtEnd_ = nullptr;  ///< chunked body: just past the last extension span
  char chunkExtFirst_ = 0;             ///< chunked body: first byte of that name/value
  bool inTrailers_ = false;            ///< chunked body: past the last chunk (trailer section)
  const char* framingFrom_ = nullptr;  ///< chunked body: first framing byte not yet checked
  const char* framingEnd_ = nullptr;   ///< chunked body: end of what llhttp is executing
  char framingPrev_ = 0;               ///< chunked body: the framing byte before it
  int crlfDue_ = 0;                    ///< chunked body: CRLF bytes owed after chunk data
  uint64_t chunkLeft_ = 0;             ///< chunked body: data bytes left in this chunk
};

}  // namespace doorman::http
