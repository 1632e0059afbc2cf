// Upstream response parsing and the head doorman writes to the client.
//
// Input: one mode byte (request was HEAD, small limits, read size), then the bytes a
// backend sends. Properties:
//   - the parser never crashes, consumes no more than it is given, and on NeedMore has
//     consumed everything; the outcome does not depend on how the bytes were cut;
//   - a completed response is final (>= 200, never 101), and responses to HEAD, 204
//     and 304 carry no body;
//   - round trip: the head doorman writes to the client plus the body parses back as
//     exactly one complete response with the same status and body, and writing that
//     again gives the same bytes (no header injection, no framing the client could read
//     differently).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/ResponseParser.hpp"
#include "doorman/http/Serializer.hpp"

namespace {

using doorman::core::MemoryBudget;
using doorman::http::ClientResponseOptions;
using doorman::http::Response;
using doorman::http::ResponseLimits;
using doorman::http::ResponseParser;
namespace fz = doorman::fuzz;

std::string toClient(const Response& response, bool head) {
  ClientResponseOptions options;
  options.headRequest = head;
  options.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  std::string out = doorman::http::serializeClientResponseHead(response, options);
  if (!head) {
    out += response.body.toString();
  }
  return out;
}

void checkRoundTrip(const Response& response, bool head) {
  const std::string wire = toClient(response, head);
  ResponseParser again(ResponseLimits{1 << 20, 100000, UINT64_MAX});
  again.start(head);
  const auto r = again.feed(wire);
  fz::check(r.event == ResponseParser::Event::MessageComplete,
            "the response written to the client does not parse", wire);
  fz::check(r.consumed == wire.size(), "the response written to the client has extra bytes", wire);
  const Response back = again.takeResponse();
  fz::check(back.status == response.status, "status changed", wire);
  fz::check(back.body.toString() == response.body.toString(), "body changed", wire);
  fz::check(toClient(back, head) == wire, "writing the response again changes it", wire);
}

std::vector<std::string> parse(std::string_view input, size_t piece, bool head,
                               const ResponseLimits& limits) {
  MemoryBudget budget(8u << 20);
  ResponseParser parser(limits, &budget);
  parser.start(head);
  std::vector<std::string> outcome;
  size_t offset = 0;
  bool done = false;
  while (!done && offset < input.size()) {
    const size_t end = piece == 0 ? input.size() : std::min(input.size(), offset + piece);
    const std::string_view chunk = input.substr(offset, end - offset);
    const auto r = parser.feed(chunk);
    fz::check(r.consumed <= chunk.size(), "consumed more than given");
    offset += r.consumed;
    switch (r.event) {
      case ResponseParser::Event::Error:
        outcome.push_back(std::string("error ") + (parser.errorWasSize() ? "size" : "syntax"));
        return outcome;
      case ResponseParser::Event::NeedMore:
        fz::check(r.consumed == chunk.size(), "NeedMore with bytes left");
        break;
      case ResponseParser::Event::MessageComplete:
        done = true;
        break;
    }
  }
  if (!done) {
    const auto eof = parser.finishEof();
    if (eof == ResponseParser::Event::Error) {
      outcome.push_back("eof error");
      return outcome;
    }
    if (eof == ResponseParser::Event::NeedMore) {
      fz::check(!parser.anyBytes(), "NeedMore at EOF after response bytes");
      outcome.push_back("nothing");
      return outcome;
    }
  }
  const Response response = parser.takeResponse();
  fz::check(response.status >= 200 && response.status <= 599, "final status out of range");
  const bool bodyless = head || response.status == 204 || response.status == 304;
  fz::check(!bodyless || response.body.empty(), "body on a response that has none");
  checkRoundTrip(response, head);
  outcome.push_back(toClient(response, head) + (response.keepAlive ? "|keep" : "|close") + "|" +
                    std::to_string(offset));
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fz::FuzzInput in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view bytes = in.rest();
  const bool head = (mode & 0x40) != 0;
  ResponseLimits limits;
  limits.headerBytes = 4096;
  limits.headerCount = 64;
  limits.bodyBytes = 1 << 20;
  if ((mode & 0x80) != 0) {
    limits.headerBytes = 128;
    limits.headerCount = 4;
    limits.bodyBytes = 32;
  }
  const size_t piece = mode & 0x0f;
  const auto whole = parse(bytes, 0, head, limits);
  if (piece != 0) {
    fz::check(whole == parse(bytes, piece, head, limits),
              "outcome depends on how the bytes were cut", bytes);
  }
  return 0;
}
