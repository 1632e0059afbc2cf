#pragma once
// Incremental HTTP/1.x response parser over llhttp (strict), for upstream responses.
//
// start(requestWasHead) before each response. feed() returns MessageComplete once the
// final response (1xx interim responses other than 101 are skipped) is complete,
// including close-delimited bodies when finishEof() is called at EOF. Any framing
// ambiguity (CL+TE, bad CL, bad chunking, TE not ending in chunked), a 101, a head over
// the header limit or a body over maxBodyBytes is an Error: the exchange answers 502
// and the connection is closed.

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

  explicit ResponseParser(ResponseLimits limits, core::MemoryBudget* budget = nullptr);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  /// Prepares for the response to one request.
  void start(bool requestWasHead);
  Result feed(const char* data, size_t len);
  Result feed(std::string_view bytes) { return feed(bytes.data(), bytes.size()); }
  /// The upstream closed. MessageComplete for a close-delimited body, else Error
  /// (or NeedMore-as-nothing if no byte was seen: check anyBytes()).
  Event finishEof();

  /// True once any byte of this response arrived (a request that got no byte back may
  /// be replayable).
  bool anyBytes() const noexcept { return anyBytes_; }
  /// Moves out the completed response (valid after MessageComplete).
  Response takeResponse();
  const std::string& errorReason() const noexcept { return errorReason_; }

 private:
  friend struct ResponseParserCallbacks;
  int fail(std::string reason);
  int onHeadersComplete();

  ResponseLimits limits_;
  core::MemoryBudget* budget_;
  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  Response response_;
  std::string field_;
  std::string value_;
  bool inValue_ = false;
  bool requestWasHead_ = false;
  bool anyBytes_ = false;
  bool complete_ = false;
  size_t headBytes_ = 0;
  std::string errorReason_;
};

}  // namespace doorman::http
