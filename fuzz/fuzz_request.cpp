// Request parsing + validation + re-serialisation, the path every client byte takes.
//
// Input: one mode byte (how the bytes are cut into reads, which limits apply), then the
// bytes a client sends. Properties:
//   - the parser never crashes, never consumes more than it is given, and on NeedMore
//     has consumed everything;
//   - the outcome (requests, error status) does not depend on how the bytes were cut;
//   - an error status is one doorman documents;
//   - round trip: the head doorman would forward upstream, followed by the body, parses
//     back as exactly one complete request - same method, target and body, no byte
//     left over - and serialising that again gives the same bytes. So the backend can
//     only ever see what doorman understood.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/RequestParser.hpp"
#include "doorman/http/Serializer.hpp"

namespace {

using doorman::core::MemoryBudget;
using doorman::http::ForwardInfo;
using doorman::http::Request;
using doorman::http::RequestLimits;
using doorman::http::RequestParser;
namespace fz = doorman::fuzz;

ForwardInfo forwardInfo() {
  ForwardInfo info;
  info.clientAddress = "192.0.2.7";
  info.proto = "http";
  info.requestId = "0123456789abcdef";
  info.requestStartMicros = 1700000000123456;
  info.fallbackHost = "app";  // Dispatch passes the upstream's name
  return info;
}

bool isDocumentedStatus(int status) {
  switch (status) {
    case 400:
    case 413:
    case 414:
    case 417:
    case 431:
    case 501:
    case 503:
    case 505:
      return true;
    default:
      return false;
  }
}

/// What doorman forwards for `request`: head + body.
std::string forwarded(const Request& request, const ForwardInfo& info) {
  return doorman::http::serializeUpstreamRequestHead(request, info) + request.body.toString();
}

void checkRoundTrip(const Request& request, const std::string& wire) {
  // The upstream side has no reason for doorman's client limits; generous ones.
  RequestLimits limits;
  limits.uriBytes = 1 << 20;
  limits.headerBytes = 1 << 20;
  limits.headerCount = 100000;
  limits.bodyBytes = 1ull << 32;
  RequestParser again(limits);
  size_t used = 0;
  auto r = again.feed(wire);
  used += r.consumed;
  fz::check(r.event == RequestParser::Event::HeadComplete, "forwarded head does not parse", wire);
  r = again.feed(std::string_view(wire).substr(used));
  used += r.consumed;
  fz::check(r.event == RequestParser::Event::MessageComplete, "forwarded request incomplete", wire);
  fz::check(used == wire.size(), "forwarded bytes parse as more than one request", wire);
  const Request back = again.takeRequest();
  fz::check(back.method == request.method, "method changed on the way upstream", wire);
  fz::check(back.target == request.target, "target changed on the way upstream", wire);
  fz::check(!back.chunked, "forwarded request is chunked", wire);
  fz::check(back.body.toString() == request.body.toString(), "body changed on the way upstream",
            wire);
  // Forwarding what the backend got once more (the client address is already in
  // X-Forwarded-For) gives the same bytes.
  ForwardInfo info = forwardInfo();
  info.clientAddress = {};
  fz::check(forwarded(back, info) == wire, "re-serialising the forwarded request changes it", wire);
}

/// Requests completed (as forwarded bytes) and the final error status, feeding `input`
/// in pieces of `piece` bytes (0: all at once), as ClientConnection does.
std::vector<std::string> parse(std::string_view input, size_t piece, const RequestLimits& limits,
                               bool withReasons = false) {
  MemoryBudget budget(8u << 20);
  RequestParser parser(limits, &budget);
  std::vector<std::string> outcome;
  size_t offset = 0;
  while (true) {
    const size_t end = piece == 0 ? input.size() : std::min(input.size(), offset + piece);
    std::string_view chunk = input.substr(offset, end - offset);
    offset = end;
    while (true) {
      const auto r = parser.feed(chunk);
      fz::check(r.consumed <= chunk.size(), "consumed more than given");
      chunk.remove_prefix(r.consumed);
      if (r.event == RequestParser::Event::Error) {
        fz::check(isDocumentedStatus(parser.errorStatus()), "undocumented error status",
                  parser.errorReason());
        outcome.push_back("error " + std::to_string(parser.errorStatus()) +
                          (withReasons ? " " + std::string(parser.errorReason()) : ""));
        return outcome;
      }
      if (r.event == RequestParser::Event::HeadComplete) {
        fz::check(parser.readingBody(), "HeadComplete outside of the body phase");
        continue;
      }
      if (r.event == RequestParser::Event::MessageComplete) {
        const Request request = parser.takeRequest();
        fz::check(request.versionMinor == 0 || request.versionMinor == 1, "version");
        fz::check(
            !request.target.empty() && (request.target.front() == '/' || request.target == "*"),
            "target is not origin-form", request.target);
        const std::string wire = forwarded(request, forwardInfo());
        checkRoundTrip(request, wire);
        outcome.push_back(wire);
        continue;
      }
      fz::check(chunk.empty(), "NeedMore with bytes left");
      break;
    }
    if (offset >= input.size()) {
      break;
    }
  }
  if (parser.finish() == RequestParser::Event::Error) {
    outcome.push_back("eof error " + std::to_string(parser.errorStatus()));
  }
  return outcome;
}

/// Both outcomes side by side, for the report of a cut-dependent result.
std::string describe(const std::vector<std::string>& whole, const std::vector<std::string>& cut) {
  std::string out;
  for (const auto* side : {&whole, &cut}) {
    out += side == &whole ? "in one read:\n" : "byte by byte (or in pieces):\n";
    for (const std::string& item : *side) {
      out += "  [" + item + "]\n";
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::FuzzInput in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view bytes = in.rest();

  RequestLimits limits;
  if ((mode & 0x80) != 0) {
    // Small limits, so that 413/414/431 are reachable with small inputs.
    limits.uriBytes = 64;
    limits.headerBytes = 256;
    limits.headerCount = 8;
    limits.bodyBytes = 64;
  }
  const size_t piece = mode & 0x0f;  // 0: one read
  const auto whole = parse(bytes, 0, limits);
  if (piece != 0) {
    const auto cut = parse(bytes, piece, limits);
    if (whole != cut) {
      // Again with the error reasons (they may differ where the statuses agree).
      fz::fail("outcome depends on how the bytes were cut",
               describe(parse(bytes, 0, limits, true), parse(bytes, piece, limits, true)));
    }
  }
  return 0;
}
