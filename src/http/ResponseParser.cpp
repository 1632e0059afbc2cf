#include "doorman/http/ResponseParser.hpp"

#include <algorithm>
#include <utility>

#include "Syntax.hpp"

namespace doorman::http {

namespace {

constexpr const char* kTooLarge = "response larger than buffering.max_response_bytes";

}  // namespace

struct ResponseParserCallbacks {
  static ResponseParser& self(llhttp_t* p) { return *static_cast<ResponseParser*>(p->data); }

  static int onStatus(llhttp_t* p, const char* at, size_t len) {
    self(p).response_.reason.append(at, len);
    return 0;
  }

  static int onHeaderField(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.headDone_ && s.countTrailer(len) != 0) {
      return HPE_USER;
    }
    s.field_.append(at, len);  // a trailer's too: checked, then dropped
    return 0;
  }

  static int onHeaderFieldComplete(llhttp_t* p) {
    auto& s = self(p);
    if (!syntax::isToken(s.field_)) {
      return s.fail(s.headDone_ ? "invalid trailer field name in upstream response"
                                : "invalid header field name in upstream response");
    }
    if (s.headDone_) {
      return 0;
    }
    if (s.response_.headers.size() >= s.limits_.headerCount) {
      return s.fail("too many header fields in upstream response");
    }
    return 0;
  }

  static int onHeaderValue(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.headDone_ && s.countTrailer(len) != 0) {
      return HPE_USER;
    }
    s.value_.append(at, len);
    return 0;
  }

  static int onHeaderValueComplete(llhttp_t* p) {
    auto& s = self(p);
    // llhttp hands an obs-fold continuation over as more value bytes: it ends up as
    // SP-joined text, which is what RFC 9112 5.2 allows a proxy to do.
    const auto value = syntax::trimOws(s.value_);
    if (!syntax::isFieldValue(value)) {
      return s.fail(s.headDone_ ? "invalid character in upstream response trailer value"
                                : "invalid character in upstream response header value");
    }
    if (s.headDone_) {
      s.field_.clear();  // trailers are dropped
      s.value_.clear();
      return 0;
    }
    syntax::keepOnly(s.value_, value);  // without the whitespace around it
    s.response_.headers.takeChecked(s.field_, s.value_);
    return 0;
  }

  static int onHeadersComplete(llhttp_t* p) { return self(p).onHeadersComplete(); }

  // As on the request side: no empty chunk-extension name or value (RFC 9112 7.1.1).
  static int onChunkExtensionPart(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.chunkExtBytes_ == 0 && len > 0) {
      s.chunkExtFirst_ = *at;
    }
    s.chunkExtBytes_ += len;
    s.chunkExtEnd_ = at + len;
    return 0;
  }
  static int onChunkExtensionComplete(llhttp_t* p) {
    auto& s = self(p);
    return std::exchange(s.chunkExtBytes_, 0) == 0
               ? s.fail("empty chunk extension name or value in upstream response")
               : 0;
  }
  static int onChunkExtensionValueComplete(llhttp_t* p) {
    auto& s = self(p);
    if (onChunkExtensionComplete(p) != 0) {
      return -1;
    }
    if (syntax::unquotedValueEndsWithSemicolon(s.chunkExtEnd_, s.framingEnd_, s.chunkExtFirst_)) {
      return s.fail("chunk extension after an unquoted extension value in upstream response");
    }
    return 0;
  }

  static int onChunkHeader(llhttp_t* p) {
    auto& s = self(p);
    // The framing first, so that the error does not depend on how the input was split.
    size_t len = static_cast<size_t>(s.framingEnd_ - s.framingFrom_);
    if (!syntax::chunkSizeLineFramingOk(s.framingFrom_, len, s.framingPrev_, s.crlfDue_)) {
      return s.fail("invalid line end in chunked upstream response body");
    }
    s.framingFrom_ += len;
    s.chunkLeft_ = p->content_length;
    if (p->content_length > s.limits_.bodyBytes - s.response_.body.size()) {
      return s.failTooLarge(kTooLarge);
    }
    return 0;
  }

  static int onBody(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.chunkedBody_) {
      // The framing bytes before this chunk data must end their lines with CRLF.
      if (!syntax::chunkedFramingOk(s.framingFrom_, static_cast<size_t>(at - s.framingFrom_),
                                    s.framingPrev_, s.crlfDue_)) {
        return s.fail("invalid line end in chunked upstream response body");
      }
      s.framingPrev_ = 0;
      s.framingFrom_ = at + len;
      s.chunkLeft_ -= std::min<uint64_t>(len, s.chunkLeft_);
      if (s.chunkLeft_ == 0) {
        s.crlfDue_ = 2;  // the chunk's data ends here
      }
    }
    if (len > s.limits_.bodyBytes - s.response_.body.size()) {
      return s.failTooLarge(kTooLarge);
    }
    if (!s.response_.body.append({at, len})) {
      return s.failTooLarge(s.response_.body.failed() ? s.response_.body.error().c_str()
                                                      : "out of buffer memory");
    }
    return 0;
  }

  static int onMessageComplete(llhttp_t* p) {
    auto& s = self(p);
    if (s.response_.status < 200) {
      s.interim_ = true;
    } else {
      // A close-delimited body ends the connection; otherwise llhttp knows (HTTP/1.0
      // needs keep-alive, HTTP/1.1 may say close).
      s.response_.keepAlive = !s.atEof_ && llhttp_should_keep_alive(p) != 0;
      s.complete_ = true;
    }
    return HPE_PAUSED;
  }
};

namespace {

/// The callbacks are the same for every parser: one table, built once, shared.
const llhttp_settings_t& responseSettings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_status = &ResponseParserCallbacks::onStatus;
    s.on_header_field = &ResponseParserCallbacks::onHeaderField;
    s.on_header_field_complete = &ResponseParserCallbacks::onHeaderFieldComplete;
    s.on_header_value = &ResponseParserCallbacks::onHeaderValue;
    s.on_header_value_complete = &ResponseParserCallbacks::onHeaderValueComplete;
    s.on_headers_complete = &ResponseParserCallbacks::onHeadersComplete;
    s.on_chunk_extension_name = &ResponseParserCallbacks::onChunkExtensionPart;
    s.on_chunk_extension_name_complete = &ResponseParserCallbacks::onChunkExtensionComplete;
    s.on_chunk_extension_value = &ResponseParserCallbacks::onChunkExtensionPart;
    s.on_chunk_extension_value_complete = &ResponseParserCallbacks::onChunkExtensionValueComplete;
    s.on_chunk_header = &ResponseParserCallbacks::onChunkHeader;
    s.on_body = &ResponseParserCallbacks::onBody;
    s.on_message_complete = &ResponseParserCallbacks::onMessageComplete;
    return s;
  }();
  return settings;
}

}  // namespace

ResponseParser::ResponseParser(const ResponseLimits& limits, core::MemoryBudget* budget)
    : limits_(limits), budget_(budget) {
  start(false);
}

ResponseParser::ResponseParser(const ResponseLimits& limits, core::BufferPolicy* buffers)
    : ResponseParser(limits, buffers != nullptr ? buffers->memory : nullptr) {
  buffers_ = buffers;
  response_.body = newBody();
}

void ResponseParser::start(bool requestWasHead) {
  requestWasHead_ = requestWasHead;
  anyBytes_ = false;
  complete_ = false;
  failed_ = false;
  tooLarge_ = false;
  atEof_ = false;
  errorReason_.clear();
  response_ = Response{};
  response_.body = newBody();
  resetMessage();
}

void ResponseParser::resetMessage() {
  // Also used between an interim (1xx) response and the next one: a fresh llhttp
  // state and a fresh head, same request.
  llhttp_init(&parser_, HTTP_RESPONSE, &responseSettings());
  parser_.data = this;
  response_.status = 200;
  response_.reason.clear();
  response_.versionMinor = 1;
  response_.headers.clear();
  response_.keepAlive = true;
  field_.clear();
  value_.clear();
  headBytes_ = 0;
  trailerBytes_ = 0;
  chunkExtBytes_ = 0;
  chunkExtEnd_ = nullptr;
  chunkExtFirst_ = 0;
  headDone_ = false;
  interim_ = false;
  chunkedBody_ = false;
  atBody_ = false;
  framingPrev_ = 0;
  crlfDue_ = 0;
  chunkLeft_ = 0;
}

int ResponseParser::failTooLarge(std::string reason) {
  if (!failed_) {
    tooLarge_ = true;
  }
  return fail(std::move(reason));
}

int ResponseParser::countTrailer(size_t len) {
  trailerBytes_ += len;
  if (trailerBytes_ > limits_.headerBytes) {
    return fail("trailer section of upstream response too large");
  }
  return 0;
}

int ResponseParser::fail(std::string reason) {
  if (!failed_) {
    failed_ = true;
    errorReason_ = std::move(reason);
  }
  return HPE_USER;
}

ResponseParser::Result ResponseParser::feed(const char* data, size_t len) {
  if (failed_) {
    return {Event::Error, 0};
  }
  if (complete_) {
    return {Event::MessageComplete, 0};
  }
  static constexpr char kNothing[1] = {0};
  if (data == nullptr) {
    data = kNothing;
    len = 0;
  }
  if (len > 0) {
    anyBytes_ = true;
  }
  size_t offset = 0;
  while (true) {
    const size_t remaining = len - offset;
    // As in RequestParser: llhttp never sees more head bytes than the limit allows.
    const bool headPhase = !headDone_;
    size_t slice = remaining;
    if (headPhase) {
      const size_t allowance =
          limits_.headerBytes > headBytes_ ? limits_.headerBytes - headBytes_ : 0;
      slice = std::min(remaining, allowance);
    }
    const char* begin = data + offset;
    framingFrom_ = begin;
    framingEnd_ = begin + slice;
    const llhttp_errno_t err = llhttp_execute(&parser_, begin, slice);
    size_t consumed = slice;
    if (err == HPE_PAUSED) {
      consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - begin);
    }
    if ((err == HPE_OK || err == HPE_PAUSED) && chunkedBody_ && !headPhase &&
        !syntax::chunkedFramingOk(framingFrom_,
                                  static_cast<size_t>(begin + consumed - framingFrom_),
                                  framingPrev_, crlfDue_)) {
      // Checked before MessageComplete is reported: "0\r\n\n" never completes.
      fail("invalid line end in chunked upstream response body");
      return {Event::Error, offset};
    }
    if (err != HPE_OK && err != HPE_PAUSED) {
      if (!failed_) {
        const char* reason = llhttp_get_error_reason(&parser_);
        fail(std::string("malformed upstream response: ") + (reason != nullptr ? reason : "?"));
      }
      return {Event::Error, offset};
    }
    if (headPhase && !headDone_) {
      headBytes_ += consumed;
    }
    offset += consumed;

    if (err == HPE_PAUSED && atBody_) {
      // Paused at the end of a chunked head: the body's framing is checked from here.
      atBody_ = false;
      llhttp_resume(&parser_);
      if (offset >= len) {
        return {Event::NeedMore, offset};
      }
      continue;
    }
    if (err == HPE_PAUSED) {
      if (complete_) {
        return {Event::MessageComplete, offset};
      }
      // An interim response (100 Continue, 103 Early Hints...) is not forwarded; the
      // final response follows on the same connection.
      resetMessage();
      continue;
    }
    if (headPhase && !headDone_ && slice < remaining) {
      fail("upstream response head larger than the limit");
      return {Event::Error, offset};
    }
    if (offset >= len) {
      return {Event::NeedMore, offset};
    }
  }
}

ResponseParser::Event ResponseParser::finishEof() {
  if (failed_) {
    return Event::Error;
  }
  if (complete_) {
    return Event::MessageComplete;
  }
  if (!anyBytes_) {
    return Event::NeedMore;
  }
  if (headDone_ && llhttp_message_needs_eof(&parser_) != 0) {
    atEof_ = true;
    const llhttp_errno_t err = llhttp_finish(&parser_);
    if (complete_ && (err == HPE_OK || err == HPE_PAUSED)) {
      return Event::MessageComplete;
    }
  }
  fail("upstream closed the connection before the response was complete");
  return Event::Error;
}

Response ResponseParser::takeResponse() {
  Response out = std::move(response_);
  response_ = Response{};
  response_.body = newBody();
  return out;
}

int ResponseParser::onHeadersComplete() {
  headDone_ = true;
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    return fail("unsupported HTTP version in upstream response");
  }
  response_.versionMinor = parser_.http_minor;
  const int status = parser_.status_code;
  response_.status = status;
  if (status == 101) {
    return fail("upgrade not supported (101 Switching Protocols)");
  }
  if (status < 100 || status > 599) {
    return fail("invalid status code in upstream response");
  }
  if (const int rc = validateFraming(); rc != 0) {
    return rc;
  }
  // RFC 9112 6.3: responses to HEAD, 1xx, 204 and 304 end with their head, whatever
  // Content-Length or Transfer-Encoding say (llhttp 8.1 would read a body after a 204
  // with Content-Length). Returning 1 tells llhttp there is no body.
  const bool noBody = requestWasHead_ || status < 200 || status == 204 || status == 304;
  if (noBody) {
    return 1;
  }
  if ((parser_.flags & F_CONTENT_LENGTH) != 0 && parser_.content_length > limits_.bodyBytes) {
    return failTooLarge(kTooLarge);
  }
  if ((parser_.flags & F_CHUNKED) != 0) {
    // Pause so that feed() knows where the body starts (llhttp gives callbacks without
    // positions no offset): the framing check begins with the next byte.
    chunkedBody_ = true;
    atBody_ = true;
    return HPE_PAUSED;
  }
  return 0;
}

int ResponseParser::validateFraming() {
  // RFC 9112 6.1-6.3 and 6.1's rule for HTTP/1.0: CL with TE, TE in 1.0, several or
  // non-numeric CLs are framing errors. A transfer coding other than chunked alone
  // is refused too: doorman would forward a still-coded body as if it were identity.
  size_t teCount = 0;
  size_t clCount = 0;
  const std::string* te = nullptr;
  const std::string* cl = nullptr;
  for (const auto& field : response_.headers) {
    if (equalsIgnoreCase(field.name, "Transfer-Encoding")) {
      te = &field.value;
      ++teCount;
    } else if (equalsIgnoreCase(field.name, "Content-Length")) {
      cl = &field.value;
      ++clCount;
    }
  }
  if (teCount > 0) {
    if (response_.versionMinor == 0) {
      return fail("Transfer-Encoding in an HTTP/1.0 upstream response");
    }
    if (clCount > 0) {
      return fail("both Content-Length and Transfer-Encoding in upstream response");
    }
    if (teCount > 1 || !equalsIgnoreCase(*te, "chunked")) {
      return fail("unsupported Transfer-Encoding in upstream response");
    }
  }
  if (clCount > 1) {
    return fail("more than one Content-Length in upstream response");
  }
  uint64_t length = 0;
  if (clCount == 1 && !syntax::parseDecimal(*cl, length)) {
    return fail("invalid Content-Length in upstream response");
  }
  return 0;
}

}  // namespace doorman::http
