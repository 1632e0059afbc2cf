#include "doorman/http/RequestParser.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "Syntax.hpp"

namespace doorman::http {

namespace {

constexpr int kPausedAtHead = 1;
constexpr int kPausedAtMessage = 2;

/// llhttp reports every unknown method as HPE_INVALID_METHOD. A request line that
/// starts with a well-formed token followed by SP is a method doorman does not know
/// (501, RFC 9110 9.1); anything else is not HTTP at all (400). 0: the bytes so far are
/// all token characters, the next ones decide.
int classifyUnknownMethod(std::string_view bytes, bool full) {
  while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) {
    bytes.remove_prefix(1);
  }
  size_t n = 0;
  while (n < bytes.size() && syntax::isTchar(static_cast<unsigned char>(bytes[n]))) {
    ++n;
  }
  if (n == bytes.size()) {
    return full ? 501 : 0;  // a token longer than any method llhttp knows
  }
  return n > 0 && bytes[n] == ' ' ? 501 : 400;
}

/// Index of the first byte that completes a bare LF or starts an obs-fold line, given
/// the byte before data[0]; len when there is none. Only the bytes at and after each LF
/// matter, so the LFs are found with memchr rather than by looking at every byte.
size_t findLineViolation(const char* data, size_t len, char prev) {
  if (len == 0) {
    return len;
  }
  if (prev == '\n' && (data[0] == ' ' || data[0] == '\t')) {
    return 0;
  }
  size_t from = 0;
  while (from < len) {
    const auto* lf = static_cast<const char*>(std::memchr(data + from, '\n', len - from));
    if (lf == nullptr) {
      return len;
    }
    const auto at = static_cast<size_t>(lf - data);
    if ((at > 0 ? data[at - 1] : prev) != '\r') {
      return at;
    }
    if (at + 1 < len && (data[at + 1] == ' ' || data[at + 1] == '\t')) {
      return at + 1;
    }
    from = at + 1;
  }
  return len;
}

/// request-target characters: no controls, no whitespace, no DEL. Bytes >= 0x80 are let
/// through (clients send raw UTF-8 paths; the upstream decides).
bool isTargetText(std::string_view target) {
  return std::none_of(target.begin(), target.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f;
  });
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

// The llhttp callbacks. Span callbacks return HPE_USER on failure, the others return it
// too (llhttp treats any unexpected value as a callback error); the status to answer is
// recorded by fail() first.
struct RequestParserCallbacks {
  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }

  static int onMessageBegin(llhttp_t* p) {
    self(p).inMessage_ = true;
    return 0;
  }

  static int onMethod(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    s.request_.method.append(at, len);
    s.methodEnd_ = s.streamPos(at) + len;
    return 0;
  }

  static int onUrl(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    // RFC 9112 3: exactly one SP between method and request-target.
    if (!s.urlStarted_ && s.streamPos(at) != s.methodEnd_ + 1) {
      return s.fail(400, "malformed request line");
    }
    s.urlStarted_ = true;
    s.urlEnd_ = s.streamPos(at) + len;
    if (s.request_.target.size() + len > s.limits_.uriBytes) {
      return s.fail(414, "request-target too long");
    }
    s.request_.target.append(at, len);
    return 0;
  }

  static int onUrlComplete(llhttp_t* p) {
    self(p).urlComplete_ = true;
    return 0;
  }

  static int onVersion(llhttp_t* p, const char* at, size_t /*len*/) {
    auto& s = self(p);
    // Exactly " HTTP/" between the target and the version digits.
    if (!s.versionStarted_ && s.streamPos(at) != s.urlEnd_ + 6) {
      return s.fail(400, "malformed request line");
    }
    s.versionStarted_ = true;
    return 0;
  }

  static int onHeaderField(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.headDone_ && s.countTrailer(at, len) != 0) {
      return HPE_USER;
    }
    s.field_.append(at, len);  // a trailer's too: checked, then dropped
    return 0;
  }

  static int onHeaderFieldComplete(llhttp_t* p) {
    auto& s = self(p);
    if (s.headDone_) {
      if (++s.trailerCount_ > s.limits_.headerCount) {
        return s.fail(431, "too many trailer fields");
      }
      // Trailers are dropped, but a trailer section two parsers could read differently
      // is refused like a bad header (RFC 9112 7.1.2: field lines as in the head).
      if (!syntax::isToken(s.field_)) {
        return s.fail(400, "invalid trailer field name");
      }
      return 0;
    }
    // llhttp lets "Name :" and an empty name through; RFC 9112 5.1 does not.
    if (!syntax::isToken(s.field_)) {
      return s.fail(400, "invalid header field name");
    }
    if (s.request_.headers.size() >= s.limits_.headerCount) {
      return s.fail(431, "too many header fields");
    }
    return 0;
  }

  static int onHeaderValue(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.headDone_ && s.countTrailer(at, len) != 0) {
      return HPE_USER;
    }
    s.value_.append(at, len);
    return 0;
  }

  static int onHeaderValueComplete(llhttp_t* p) {
    auto& s = self(p);
    const auto value = syntax::trimOws(s.value_);
    if (!syntax::isFieldValue(value)) {
      return s.fail(400, s.headDone_ ? "invalid character in trailer field value"
                                     : "invalid character in header field value");
    }
    if (s.headDone_) {
      s.field_.clear();  // trailers are dropped (doorman forwards a Content-Length body)
      s.value_.clear();
      return 0;
    }
    syntax::keepOnly(s.value_, value);  // without the whitespace around it
    s.request_.headers.takeChecked(s.field_, s.value_);
    return 0;
  }

  static int onHeadersComplete(llhttp_t* p) { return self(p).onHeadersComplete(); }

  // llhttp lets an empty chunk-extension name or value through (";=x", ";;", ";a=");
  // RFC 9112 7.1.1 asks for a token, and "=" for a token or quoted-string after it.
  static int onChunkExtensionPart(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.chunkExtBytes_ == 0 && len > 0) {
      s.chunkExtFirst_ = *at;
    }
    s.chunkExtBytes_ += len;
    s.chunkExtEnd_ = at + len;  // llhttp reports a span's last part at its delimiter
    return 0;
  }
  static int onChunkExtensionNameComplete(llhttp_t* p) {
    auto& s = self(p);
    return std::exchange(s.chunkExtBytes_, 0) == 0 ? s.fail(400, "empty chunk extension name") : 0;
  }
  static int onChunkExtensionValueComplete(llhttp_t* p) {
    auto& s = self(p);
    if (std::exchange(s.chunkExtBytes_, 0) == 0) {
      return s.fail(400, "empty chunk extension value");
    }
    // llhttp 8.1 wants a second ';' after an unquoted value ("a=b;;c" for "a=b;c", and
    // "a=b;" with nothing after it): RFC 9112 allows neither, and llhttp refuses the
    // valid "a=b;c" anyway, so no extension may follow an unquoted value (fuzz_chunked).
    if (syntax::unquotedValueEndsWithSemicolon(s.chunkExtEnd_, s.framingEnd_, s.chunkExtFirst_)) {
      return s.fail(400, "chunk extension after an unquoted extension value");
    }
    return 0;
  }

  static int onChunkHeader(llhttp_t* p) {
    auto& s = self(p);
    // The framing first, so that a bad line end is a 400 however the input was split.
    size_t len = static_cast<size_t>(s.framingEnd_ - s.framingFrom_);
    if (!syntax::chunkSizeLineFramingOk(s.framingFrom_, len, s.framingPrev_, s.crlfDue_)) {
      return s.fail(400, "invalid line end in chunked body");
    }
    s.framingFrom_ += len;
    s.chunkLeft_ = p->content_length;
    s.inTrailers_ = p->content_length == 0;  // the last chunk: field lines follow
    // parser->content_length is the size of the chunk announced: refuse before reading it.
    if (p->content_length > s.limits_.bodyBytes - s.request_.body.size()) {
      return s.fail(413, "request body too large");
    }
    return 0;
  }

  static int onBody(llhttp_t* p, const char* at, size_t len) {
    auto& s = self(p);
    if (s.request_.chunked) {
      // The framing bytes before this chunk data must end their lines with CRLF.
      if (!syntax::chunkedFramingOk(s.framingFrom_, static_cast<size_t>(at - s.framingFrom_),
                                    s.framingPrev_, s.crlfDue_)) {
        return s.fail(400, "invalid line end in chunked body");
      }
      s.framingPrev_ = 0;
      s.framingFrom_ = at + len;
      s.chunkLeft_ -= std::min<uint64_t>(len, s.chunkLeft_);
      if (s.chunkLeft_ == 0) {
        s.crlfDue_ = 2;  // the chunk's data ends here
      }
    }
    if (len > s.limits_.bodyBytes - s.request_.body.size()) {
      return s.fail(413, "request body too large");
    }
    if (!s.request_.body.append({at, len})) {
      return s.fail(503, s.request_.body.failed() ? "request body could not be buffered"
                                                  : "out of buffer memory");
    }
    return 0;
  }

  static int onMessageComplete(llhttp_t* p) {
    auto& s = self(p);
    s.readingBody_ = false;
    s.complete_ = true;
    s.pausedEvent_ = kPausedAtMessage;
    return HPE_PAUSED;
  }
};

namespace {

/// The callbacks are the same for every parser: one table, built once, shared.
const llhttp_settings_t& requestSettings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &RequestParserCallbacks::onMessageBegin;
    s.on_method = &RequestParserCallbacks::onMethod;
    s.on_url = &RequestParserCallbacks::onUrl;
    s.on_url_complete = &RequestParserCallbacks::onUrlComplete;
    s.on_version = &RequestParserCallbacks::onVersion;
    s.on_header_field = &RequestParserCallbacks::onHeaderField;
    s.on_header_field_complete = &RequestParserCallbacks::onHeaderFieldComplete;
    s.on_header_value = &RequestParserCallbacks::onHeaderValue;
    s.on_header_value_complete = &RequestParserCallbacks::onHeaderValueComplete;
    s.on_headers_complete = &RequestParserCallbacks::onHeadersComplete;
    s.on_chunk_extension_name = &RequestParserCallbacks::onChunkExtensionPart;
    s.on_chunk_extension_name_complete = &RequestParserCallbacks::onChunkExtensionNameComplete;
    s.on_chunk_extension_value = &RequestParserCallbacks::onChunkExtensionPart;
    s.on_chunk_extension_value_complete = &RequestParserCallbacks::onChunkExtensionValueComplete;
    s.on_chunk_header = &RequestParserCallbacks::onChunkHeader;
    s.on_body = &RequestParserCallbacks::onBody;
    s.on_message_complete = &RequestParserCallbacks::onMessageComplete;
    return s;
  }();
  return settings;
}

}  // namespace

RequestParser::RequestParser(const RequestLimits& limits, core::MemoryBudget* budget)
    : limits_(limits), budget_(budget) {
  reset();
}

RequestParser::RequestParser(const RequestLimits& limits, core::BufferPolicy* buffers)
    : RequestParser(limits, buffers != nullptr ? buffers->memory : nullptr) {
  buffers_ = buffers;
  request_.body = newBody();
}

void RequestParser::reset() {
  // A fresh llhttp state per message: the previous one may have ended paused (at
  // message complete, or before an Upgrade/CONNECT switch doorman never makes) or in
  // llhttp's "closed" state after Connection: close. Whether the connection continues
  // is the caller's decision (Request::keepAlive), not llhttp's.
  llhttp_init(&parser_, HTTP_REQUEST, &requestSettings());
  parser_.data = this;
  request_ = Request{};
  request_.body = newBody();
  field_.clear();
  value_.clear();
  headBytes_ = 0;
  inMessage_ = false;
  readingBody_ = false;
  paused_ = false;
  pausedEvent_ = 0;
  methodEnd_ = 0;
  targetRightAfterMethod_ = -1;
  urlEnd_ = 0;
  urlStarted_ = false;
  urlComplete_ = false;
  versionStarted_ = false;
  headDone_ = false;
  complete_ = false;
  lastHeadByte_ = 0;
  methodPending_ = false;
  methodProbeLen_ = 0;
  trailerBytes_ = 0;
  trailerCount_ = 0;
  chunkExtBytes_ = 0;
  chunkExtEnd_ = nullptr;
  chunkExtFirst_ = 0;
  inTrailers_ = false;
  framingPrev_ = 0;
  crlfDue_ = 0;
  chunkLeft_ = 0;
}

int RequestParser::fail(int status, std::string reason) {
  if (errorStatus_ == 0) {
    errorStatus_ = status;
    errorReason_ = std::move(reason);
  }
  readingBody_ = false;
  return HPE_USER;
}

int RequestParser::countTrailer(const char* at, size_t len) {
  // The framing of every byte up to the end of this span first: a bad line end before
  // the point where the section grows too large is a 400 however the bytes were split
  // (otherwise one read would see the 431 before the framing check at the end of feed).
  if (!syntax::chunkedFramingOk(framingFrom_, static_cast<size_t>(at + len - framingFrom_),
                                framingPrev_, crlfDue_)) {
    return fail(400, "invalid line end in chunked body");
  }
  framingFrom_ = at + len;
  trailerBytes_ += len;
  if (trailerBytes_ > limits_.headerBytes) {
    return fail(431, "trailer section too large");
  }
  return 0;
}

void RequestParser::noteByteAfterMethodSpace(const char* data, size_t len) {
  const uint64_t at = methodEnd_ + 1;  // where the request-target should start
  if (methodEnd_ == 0 || targetRightAfterMethod_ >= 0 || at < streamOffset_ ||
      at >= streamOffset_ + len) {
    return;
  }
  targetRightAfterMethod_ = data[at - streamOffset_] != ' ' ? 1 : 0;
}

void RequestParser::failFromParser(llhttp_errno_t err, const char* errorPos) {
  if (errorStatus_ != 0) {
    return;  // a callback already said why
  }
  // A trailer field name or value is reported in one span when it ends, and llhttp does
  // not report the part before an invalid byte. Fed in pieces, those bytes would have
  // been counted (and their framing checked) as each piece ended: count them here too,
  // so that a trailer section already too large is 431 however the bytes arrived (found
  // by fuzz_request). Any span open in the trailer section is a name or a value.
  const auto* spanStart = static_cast<const char*>(parser_._span_pos0);
  if (inTrailers_ && errorPos != nullptr && spanStart != nullptr && spanStart >= execData_ &&
      spanStart <= errorPos &&
      countTrailer(spanStart, static_cast<size_t>(errorPos - spanStart)) != 0) {
    return;
  }
  const char* reason = llhttp_get_error_reason(&parser_);
  // llhttp reports the request-target in one span when it ends, so an invalid byte far
  // into an over-long target fails before on_url ever saw it. Fed in small pieces the
  // same target would already have been refused with 414: answer 414 here too, so the
  // status does not depend on how the bytes arrived.
  // Only when the target starts right after the method's SP: with more spaces, small
  // pieces would have been refused by onUrl as a malformed request line (found by
  // fuzz_request).
  if (methodEnd_ > 0 && !urlComplete_ && errorPos != nullptr && targetRightAfterMethod_ == 1 &&
      streamPos(errorPos) > methodEnd_ + 1 + limits_.uriBytes) {
    fail(414, "request-target too long");
    return;
  }
  switch (err) {
    case HPE_INVALID_METHOD:
      methodPending_ = true;  // decided by decideMethod(), maybe after more bytes
      return;
    case HPE_INVALID_VERSION:
      // "Invalid HTTP version" is llhttp's word for well-formed digits it does not
      // support (HTTP/1.2, HTTP/3.0); the other reasons are syntax errors.
      if (reason != nullptr && std::strcmp(reason, "Invalid HTTP version") == 0) {
        fail(505, "HTTP version not supported");
      } else {
        fail(400, "malformed HTTP version");
      }
      return;
    case HPE_PAUSED_H2_UPGRADE:
      fail(505, "HTTP/2 is not supported");
      return;
    default:
      fail(400, std::string("malformed request: ") + (reason != nullptr ? reason : "?"));
      return;
  }
}

bool RequestParser::decideMethod(const char* data, size_t len) {
  const size_t n = std::min(len, sizeof methodProbe_ - methodProbeLen_);
  std::memcpy(methodProbe_ + methodProbeLen_, data, n);
  methodProbeLen_ += n;
  const int status = classifyUnknownMethod({methodProbe_, methodProbeLen_},
                                           methodProbeLen_ == sizeof methodProbe_);
  if (status == 0) {
    return false;
  }
  methodPending_ = false;
  fail(status, status == 501 ? "method not implemented" : "invalid method");
  return true;
}

RequestParser::Result RequestParser::feed(const char* data, size_t len) {
  if (errorStatus_ != 0) {
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
  if (methodPending_) {
    // llhttp gave up on the method; the answer (400 or 501) waits for the byte after
    // the token so that it does not depend on how the bytes were split.
    return decideMethod(data, len) ? Result{Event::Error, 0} : Result{Event::NeedMore, len};
  }
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
    pausedEvent_ = 0;
  }

  // While the head is incomplete llhttp never sees more than what is left of the head
  // limit: if the head is still incomplete after that, it is too large (431), and the
  // check happens as the bytes arrive rather than at the end of the head. Nor does it
  // see a bare LF or an obs-fold, which it would accept (RFC 9112 2.2, 5.2: two parsers
  // may read them differently): it stops just before, and the request is refused.
  const bool headPhase = !headDone_;
  size_t slice = len;
  size_t violation = len;
  if (headPhase) {
    const size_t allowance =
        limits_.headerBytes > headBytes_ ? limits_.headerBytes - headBytes_ : 0;
    slice = std::min(len, allowance);
    violation = findLineViolation(data, slice, lastHeadByte_);
    // Collected until the target starts: llhttp may report the method complete before
    // the byte that makes it invalid ("PUT\x99") arrives in a later feed.
    if (!urlStarted_ && methodProbeLen_ < sizeof methodProbe_) {
      const size_t n = std::min(slice, sizeof methodProbe_ - methodProbeLen_);
      std::memcpy(methodProbe_ + methodProbeLen_, data, n);
      methodProbeLen_ += n;
    }
  }
  const size_t execLen = std::min(slice, violation);

  execData_ = data;
  framingFrom_ = data;
  framingEnd_ = data + execLen;
  const llhttp_errno_t err = llhttp_execute(&parser_, data, execLen);
  size_t consumed = execLen;
  if (headPhase) {
    noteByteAfterMethodSpace(data, execLen);
  }
  if (err == HPE_PAUSED) {
    consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
    paused_ = true;
  }
  if ((err == HPE_OK || err == HPE_PAUSED) && !headPhase && request_.chunked &&
      !syntax::chunkedFramingOk(framingFrom_, static_cast<size_t>(data + consumed - framingFrom_),
                                framingPrev_, crlfDue_)) {
    // Checked before MessageComplete is reported: "0\r\n\n" never completes a request.
    fail(400, "invalid line end in chunked body");
  }
  if (err != HPE_OK && err != HPE_PAUSED) {
    const char* pos = llhttp_get_error_pos(&parser_);
    const bool posInData = pos != nullptr && pos >= data && pos <= data + execLen;
    if (posInData) {
      consumed = static_cast<size_t>(pos - data);
    }
    failFromParser(err, posInData ? pos : nullptr);
    streamOffset_ += consumed;
    if (methodPending_) {
      // The probe already holds this feed's bytes (up to its size): decide on them, or
      // wait for the next ones.
      if (!decideMethod(data, 0)) {
        return {Event::NeedMore, slice};
      }
    }
    return {Event::Error, consumed};
  }
  streamOffset_ += consumed;

  if (headPhase) {
    if (consumed > 0) {
      lastHeadByte_ = data[consumed - 1];
    }
    headBytes_ += consumed;
    if (!headDone_ && consumed == violation && violation < slice) {
      const bool bareLf = data[violation] == '\n';
      fail(400, bareLf ? "bare LF in request head" : "obsolete line folding in request head");
      return {Event::Error, consumed};
    }
    if (!headDone_ && slice < len) {
      fail(431, "request head too large");
      return {Event::Error, consumed};
    }
  }
  if (errorStatus_ != 0) {
    return {Event::Error, consumed};
  }
  if (pausedEvent_ == kPausedAtMessage) {
    return {Event::MessageComplete, consumed};
  }
  if (pausedEvent_ == kPausedAtHead) {
    return {Event::HeadComplete, consumed};
  }
  return {Event::NeedMore, consumed};
}

RequestParser::Event RequestParser::finish() {
  if (errorStatus_ != 0) {
    return Event::Error;
  }
  if (complete_) {
    return Event::MessageComplete;
  }
  if (inMessage_) {
    fail(400, "connection closed before the request was complete");
    return Event::Error;
  }
  return Event::NeedMore;
}

Request RequestParser::takeRequest() {
  Request out = std::move(request_);
  reset();
  return out;
}

int RequestParser::onHeadersComplete() {
  headDone_ = true;
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    return fail(505, "HTTP version not supported");
  }
  request_.versionMinor = parser_.http_minor;
  if (const int rc = validateTarget(); rc != 0) {
    return rc;
  }
  if (const int rc = validateFraming(); rc != 0) {
    return rc;
  }

  // Expect (RFC 9110 10.1.1): only 100-continue is defined; a server that does not
  // support an expectation answers 417. An HTTP/1.0 client cannot expect 100.
  bool expect = false;
  for (const auto& field : request_.headers) {
    if (!equalsIgnoreCase(field.name, "Expect")) {
      continue;
    }
    std::string_view rest = field.value;
    while (true) {
      const auto comma = rest.find(',');
      const auto element = syntax::trimOws(rest.substr(0, comma));
      if (equalsIgnoreCase(element, "100-continue")) {
        expect = true;
      } else if (!element.empty()) {
        return fail(417, "unsupported expectation");
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  request_.expectContinue = expect && request_.versionMinor == 1;

  if (request_.hasContentLength && request_.contentLength > limits_.bodyBytes) {
    return fail(413, "request body too large");
  }
  request_.keepAlive = llhttp_should_keep_alive(&parser_) != 0;
  readingBody_ = true;
  pausedEvent_ = kPausedAtHead;
  return HPE_PAUSED;
}

int RequestParser::validateTarget() {
  auto& target = request_.target;
  if (!isTargetText(target)) {
    return fail(400, "invalid character in request-target");
  }
  // RFC 9112 3.2: exactly one Host in HTTP/1.1 (absolute-form included), at most one
  // in HTTP/1.0, and a valid value.
  const size_t hosts = request_.headers.count("Host");
  if (hosts > 1) {
    return fail(400, "more than one Host header");
  }
  if (hosts == 0 && request_.versionMinor == 1) {
    return fail(400, "missing Host header");
  }
  if (hosts == 1 && !syntax::isAuthority(*request_.headers.find("Host"))) {
    return fail(400, "invalid Host header");
  }

  if (!target.empty() && target.front() == '/') {
    return 0;  // origin-form
  }
  if (target == "*") {
    return request_.method == "OPTIONS" ? 0 : fail(400, "asterisk-form is only for OPTIONS");
  }
  size_t schemeEnd = 0;
  if (startsWithIgnoreCase(target, "http://")) {
    schemeEnd = 7;
  } else if (startsWithIgnoreCase(target, "https://")) {
    schemeEnd = 8;
  } else {
    // authority-form (CONNECT host:port) included: doorman makes no tunnels.
    return fail(400, "unsupported request-target form");
  }
  // absolute-form (RFC 9112 3.2.2): the authority replaces Host, the rest is the
  // origin-form doorman forwards.
  const std::string_view rest = std::string_view(target).substr(schemeEnd);
  const size_t authorityEnd = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authorityEnd);
  if (authority.empty() || !syntax::isAuthority(authority)) {
    return fail(400, "invalid authority in request-target");
  }
  std::string originForm;
  const std::string_view path = rest.substr(authorityEnd);
  if (path.empty() || path.front() != '/') {
    originForm.reserve(path.size() + 1);
    originForm += '/';
  }
  originForm.append(path);
  request_.headers.set("Host", std::string(authority));
  target = std::move(originForm);
  return 0;
}

int RequestParser::validateFraming() {
  // RFC 9112 6.1-6.3: the only framings doorman accepts are "no body", a single
  // plain Content-Length, or exactly "Transfer-Encoding: chunked" in HTTP/1.1.
  const std::string* te = nullptr;
  const std::string* cl = nullptr;
  size_t teCount = 0;
  size_t clCount = 0;
  for (const auto& field : request_.headers) {
    if (equalsIgnoreCase(field.name, "Transfer-Encoding")) {
      te = &field.value;
      ++teCount;
    } else if (equalsIgnoreCase(field.name, "Content-Length")) {
      cl = &field.value;
      ++clCount;
    }
  }
  if (teCount > 0) {
    if (request_.versionMinor == 0) {
      return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (clCount > 0) {
      return fail(400, "both Content-Length and Transfer-Encoding");
    }
    if (teCount > 1 || !equalsIgnoreCase(*te, "chunked")) {
      return fail(400, "unsupported Transfer-Encoding");
    }
    request_.chunked = true;
  }
  if (clCount > 1) {
    return fail(400, "more than one Content-Length");
  }
  if (clCount == 1) {
    if (!syntax::parseDecimal(*cl, request_.contentLength)) {
      return fail(400, "invalid Content-Length");
    }
    request_.hasContentLength = true;
  }
  // llhttp must frame the body exactly as decided here.
  const bool llhttpChunked = (parser_.flags & F_CHUNKED) != 0;
  if (llhttpChunked != request_.chunked ||
      (request_.hasContentLength && parser_.content_length != request_.contentLength)) {
    return fail(400, "ambiguous message framing");
  }
  // llhttp reads no body after CONNECT: a CONNECT with a body would be split into two
  // requests, so it is refused.
  if (parser_.method == HTTP_CONNECT && (request_.chunked || request_.contentLength > 0)) {
    return fail(400, "CONNECT with a body");
  }
  return 0;
}

}  // namespace doorman::http
