#pragma once
// Incremental HTTP/1.x response parser over llhttp (strict), for upstream responses.
//
// start(requestWasHead) before each response. feed() returns MessageComplete once the
// final response (1xx interim responses other than 101 are skipped) is complete,
// including close-delimited bodies when finishEof() is called at EOF. Any framing
// ambiguity (CL+TE, bad CL, bad chunking, any TE other than exactly "chunked" - a
// coding before chunked would reach the client undecoded -, TE in HTTP/1.0), a 101, a
// head over the header limit or a body over ResponseLimits::bodyBytes is an Error: the
// exchange answers 502 and the connection is closed. Responses to HEAD, 1xx, 204 and
// 304 never have a body, whatever their Content-Length says. Trailers are dropped.

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "doorman/core/Body.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/Message.hpp"

namespace doorman::http {

struct ResponseLimits {
  size_t headerBytes = 64 * 1024;
  size_t headerCount = 200;
  uint64_t bodyBytes = UINT64_MAX;  ///< buffering.max_response_bytes
};

class ResponseParser {
 public:
  enum class Event { NeedMore, MessageComplete, Error };
  struct Result {
    Event event;
    size_t consumed;
  };

  explicit ResponseParser(const ResponseLimits& limits, core::MemoryBudget* budget = nullptr);
  /// Bodies buffered (and spilled to disk) as `buffers` says.
  ResponseParser(const ResponseLimits& limits, core::BufferPolicy* buffers);
  /// The body of the response being read (to watch a spill).
  core::Body& body() noexcept { return response_.body; }
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  /// Prepares for the response to one request.
  void start(bool requestWasHead);
  Result feed(const char* data, size_t len);
  Result feed(std::string_view bytes) { return feed(bytes.data(), bytes.size()); }
  /// The upstream closed. MessageComplete for a close-delimited body (keepAlive false),
  /// NeedMore when no byte of this response was seen (nothing to report: the caller
  /// decides, see anyBytes()), else Error.
  Event finishEof();

  /// True once any byte of this response arrived (a request that got no byte back may
  /// be replayable).
  bool anyBytes() const noexcept { return anyBytes_; }
  /// The final (non-1xx) response head is parsed: what follows is its body.
  bool headComplete() const noexcept { return headDone_ && response_.status >= 200; }
  /// Moves out the completed response (valid after MessageComplete).
  Response takeResponse();
  const std::string& errorReason() const noexcept { return errorReason_; }
  /// The error was the size of the response (max_response_bytes or the memory budget),
  /// not its syntax.
  bool errorWasSize() const noexcept { return tooLarge_; }

 private:
  friend struct ResponseParserCallbacks;
  int fail(std::string reason);
  int failTooLarge(std::string reason);
  int countTrailer(size_t len);  ///< bounds the trailer section by headerBytes
  int onHeadersComplete();
  int validateFraming();
  void resetMessage();

  ResponseLimits limits_;
  core::MemoryBudget* budget_;
  core::BufferPolicy* buffers_ = nullptr;
  core::Body newBody() { return buffers_ != nullptr ? core::Body(buffers_) : core::Body(budget_); }
  llhttp_t parser_{};
  Response response_;
  std::string field_;
  std::string value_;
  bool requestWasHead_ = false;
  bool anyBytes_ = false;
  bool complete_ = false;
  size_t headBytes_ = 0;
  size_t trailerBytes_ = 0;
  size_t chunkExtBytes_ = 0;           ///< chunked body: bytes of the extension name/value so far
  const char* chunkExtEnd_ = nullptr;  ///< chunked body: just past the last extension span
  char chunkExtFirst_ = 0;             ///< chunked body: first byte of that name/value
  std::string errorReason_;
  bool tooLarge_ = false;

  bool failed_ = false;
  bool headDone_ = false;     ///< the head of the current (interim or final) response is parsed
  bool interim_ = false;      ///< the message just completed was a 1xx: skip it
  bool atEof_ = false;        ///< finishEof() is completing a close-delimited body
  bool chunkedBody_ = false;  ///< the current response's body is chunked
  bool atBody_ = false;       ///< paused at the end of a chunked response's head
  const char* framingFrom_ = nullptr;  ///< chunked body: first framing byte not yet checked
  const char* framingEnd_ = nullptr;   ///< chunked body: end of what llhttp is executing
  char framingPrev_ = 0;               ///< chunked body: the framing byte before it
  int crlfDue_ = 0;                    ///< chunked body: CRLF bytes owed after chunk data
  uint64_t chunkLeft_ = 0;             ///< chunked body: data bytes left in this chunk
};

}  // namespace doorman::http
