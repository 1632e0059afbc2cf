#include "doorman/http/ResponseParser.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace doorman::http {
namespace {

using Event = ResponseParser::Event;
using namespace std::string_literals;

std::string describe(const Response& r) {
  std::string out = "1." + std::to_string(r.versionMinor) + " " + std::to_string(r.status) + " [" +
                    r.reason + "]" + (r.keepAlive ? " keep-alive" : " close") + "\n";
  for (const auto& h : r.headers) {
    out += h.name + ": " + h.value + "\n";
  }
  out += "body[" + r.body.toString() + "]\n";
  return out;
}

struct Outcome {
  Event event = Event::NeedMore;
  size_t consumed = 0;  ///< bytes used up to MessageComplete
  std::string response;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{event " << static_cast<int>(o.event) << ", consumed " << o.consumed << ", error '"
      << o.error << "', response:\n"
      << o.response << "}";
}

/// Feeds one response in pieces; at the end of the input, EOF if `eof`.
Outcome parsePieces(std::string_view input, const std::vector<size_t>& cuts, bool head = false,
                    bool eof = false, ResponseLimits limits = {}) {
  ResponseParser parser(limits);
  parser.start(head);
  Outcome out;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    const auto r = parser.feed(input.substr(start, end - start));
    out.consumed += r.consumed;
    out.event = r.event;
    if (r.event == Event::MessageComplete) {
      out.response = describe(parser.takeResponse());
      return out;
    }
    if (r.event == Event::Error) {
      out.error = parser.errorReason();
      out.consumed = 0;  // meaningless after an error
      return out;
    }
    EXPECT_EQ(r.consumed, end - start);
    start = end;
  }
  if (eof) {
    out.event = parser.finishEof();
    if (out.event == Event::MessageComplete) {
      out.response = describe(parser.takeResponse());
    } else if (out.event == Event::Error) {
      out.error = parser.errorReason();
      out.consumed = 0;
    }
  }
  return out;
}

Outcome parseAll(std::string_view input, bool head = false, bool eof = false,
                 ResponseLimits limits = {}) {
  return parsePieces(input, {}, head, eof, limits);
}

TEST(HttpResponseParser, ParsesAContentLengthBody) {
  const std::string in =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  const auto out = parseAll(in);
  ASSERT_EQ(out.event, Event::MessageComplete) << out.error;
  EXPECT_EQ(out.consumed, in.size());
  EXPECT_EQ(out.response,
            "1.1 200 [OK] keep-alive\nContent-Type: text/plain\nContent-Length: 5\nbody[hello]\n");
}

TEST(HttpResponseParser, ValuesLoseSurroundingWhitespaceAndFieldsSplitAcrossReadsStayWhole) {
  const std::string in =
      "HTTP/1.1 200 OK\r\nX-A: \t a b \t\r\nX-Long-Field-Name: " + std::string(40, 'v') +
      "  \r\nX-Empty:\r\nContent-Length: 0\r\n\r\n";
  const std::string want =
      "1.1 200 [OK] keep-alive\nX-A: a b\nX-Long-Field-Name: " + std::string(40, 'v') +
      "\nX-Empty: \nContent-Length: 0\nbody[]\n";
  EXPECT_EQ(parseAll(in).response, want);
  // Cut inside names and values: the pieces are joined before the field is stored.
  EXPECT_EQ(parsePieces(in, {20, 22, 45, 60, 70}).response, want);
}

TEST(HttpResponseParser, LeavesBytesAfterTheResponseUnconsumed) {
  ResponseParser parser(ResponseLimits{});
  parser.start(false);
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  const auto r = parser.feed(first + "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(r.event, Event::MessageComplete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(parser.feed("x").event, Event::MessageComplete);  // until start() again
}

TEST(HttpResponseParser, IsReusableForTheNextResponseAfterStart) {
  ResponseParser parser(ResponseLimits{});
  parser.start(false);
  ASSERT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na").event,
            Event::MessageComplete);
  EXPECT_EQ(parser.takeResponse().body.toString(), "a");
  parser.start(false);
  EXPECT_FALSE(parser.anyBytes());
  ASSERT_EQ(parser.feed("HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb").event,
            Event::MessageComplete);
  const Response second = parser.takeResponse();
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.reason, "Not Found");
  EXPECT_EQ(second.body.toString(), "b");
}

TEST(HttpResponseParser, DechunksAChunkedBodyAndDropsTrailers) {
  const std::string in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
  const auto out = parseAll(in);
  ASSERT_EQ(out.event, Event::MessageComplete) << out.error;
  EXPECT_EQ(out.consumed, in.size());
  EXPECT_EQ(out.response, "1.1 200 [OK] keep-alive\nTransfer-Encoding: chunked\nbody[wikipedia]\n");
}

TEST(HttpResponseParser, MalformedTrailerFieldsAreErrors) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n";
  for (const std::string& trailer :
       std::vector<std::string>{"X-Bad Name: y\r\n\r\n",
                                "X-Ok: a\x01"
                                "b\r\n\r\n",
                                "X-Big: " + std::string(128 * 1024, 'v') + "\r\n\r\n"}) {
    const auto out = parseAll(head + trailer);
    EXPECT_EQ(out.event, Event::Error) << trailer.substr(0, 20);
  }
}

TEST(HttpResponseParser, CompletesACloseDelimitedBodyAtEofWithoutKeepAlive) {
  const auto out = parseAll("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nabc", false, true);
  ASSERT_EQ(out.event, Event::MessageComplete) << out.error;
  EXPECT_EQ(out.response, "1.1 200 [OK] close\nContent-Type: text/html\nbody[abc]\n");
}

TEST(HttpResponseParser, EofBeforeAnyByteIsNothingRatherThanAnError) {
  ResponseParser parser(ResponseLimits{});
  parser.start(false);
  EXPECT_FALSE(parser.anyBytes());
  EXPECT_EQ(parser.finishEof(), Event::NeedMore);
}

TEST(HttpResponseParser, EofInTheMiddleIsAnError) {
  auto out = parseAll("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", false, true);
  EXPECT_EQ(out.event, Event::Error);
  EXPECT_FALSE(out.error.empty());
  out = parseAll("HTTP/1.1 200 OK\r\nContent-Le", false, true);
  EXPECT_EQ(out.event, Event::Error);
  out = parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", false, true);
  EXPECT_EQ(out.event, Event::Error);
}

TEST(HttpResponseParser, ResponseToHeadHasNoBodyAndKeepsContentLength) {
  ResponseParser parser(ResponseLimits{});
  parser.start(true);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  const auto r = parser.feed(head + "HTTP/1.1");
  EXPECT_EQ(r.event, Event::MessageComplete);
  EXPECT_EQ(r.consumed, head.size());
  const Response resp = parser.takeResponse();
  EXPECT_TRUE(resp.body.empty());
  EXPECT_EQ(*resp.headers.find("Content-Length"), "1000");
  EXPECT_TRUE(resp.keepAlive);
}

TEST(HttpResponseParser, ResponseToHeadWithChunkedHeaderHasNoBody) {
  const std::string in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto out = parseAll(in, true);
  ASSERT_EQ(out.event, Event::MessageComplete) << out.error;
  EXPECT_EQ(out.consumed, in.size());
}

TEST(HttpResponseParser, NoContentAndNotModifiedHaveNoBodyWhateverContentLengthSays) {
  for (const char* status : {"204 No Content", "304 Not Modified"}) {
    SCOPED_TRACE(status);
    const std::string head =
        std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n";
    ResponseParser parser(ResponseLimits{});
    parser.start(false);
    const auto r = parser.feed(head + "hello");
    EXPECT_EQ(r.event, Event::MessageComplete);
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_TRUE(parser.takeResponse().body.empty());
  }
}

TEST(HttpResponseParser, SkipsInterimResponsesAndReturnsTheFinalOne) {
  const std::string in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  const auto whole = parseAll(in);
  ASSERT_EQ(whole.event, Event::MessageComplete) << whole.error;
  EXPECT_EQ(whole.consumed, in.size());
  EXPECT_EQ(whole.response, "1.1 201 [Created] keep-alive\nContent-Length: 2\nbody[ok]\n");
}

TEST(HttpResponseParser, InterimResponseWithContentLengthHasNoBody) {
  const std::string in =
      "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  const auto out = parseAll(in);
  ASSERT_EQ(out.event, Event::MessageComplete) << out.error;
  EXPECT_EQ(out.response, "1.1 200 [OK] keep-alive\nContent-Length: 3\nbody[abc]\n");
}

TEST(HttpResponseParser, InterimResponseAloneIsNotComplete) {
  ResponseParser parser(ResponseLimits{});
  parser.start(false);
  const std::string in = "HTTP/1.1 100 Continue\r\n\r\n";
  const auto r = parser.feed(in);
  EXPECT_EQ(r.event, Event::NeedMore);
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_TRUE(parser.anyBytes());
  EXPECT_EQ(parser.finishEof(), Event::Error);
}

TEST(HttpResponseParser, SwitchingProtocolsIsAnError) {
  const auto out = parseAll(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  EXPECT_EQ(out.event, Event::Error);
  EXPECT_NE(out.error.find("upgrade"), std::string::npos);
}

TEST(HttpResponseParser, KeepAliveFollowsVersionAndConnection) {
  auto out = parseAll("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(out.response, "1.1 200 [OK] close\nConnection: close\nContent-Length: 0\nbody[]\n");
  out = parseAll("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(out.response, "1.0 200 [OK] close\nContent-Length: 0\nbody[]\n");
  out = parseAll("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(out.response,
            "1.0 200 [OK] keep-alive\nConnection: keep-alive\nContent-Length: 0\nbody[]\n");
}

TEST(HttpResponseParser, AcceptsAnEmptyReasonPhrase) {
  const auto out = parseAll("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(out.event, Event::MessageComplete) << out.error;
  EXPECT_EQ(out.response, "1.1 200 [] keep-alive\nContent-Length: 0\nbody[]\n");
}

TEST(HttpResponseParser, FeedingAtEveryBoundaryGivesIdenticalResults) {
  const std::string in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nServer: gunicorn\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
  const auto whole = parseAll(in);
  ASSERT_EQ(whole.event, Event::MessageComplete) << whole.error;
  std::vector<size_t> cuts;
  for (size_t i = 1; i < in.size(); ++i) {
    cuts.push_back(i);
  }
  EXPECT_EQ(parsePieces(in, cuts), whole);
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    EXPECT_EQ(parsePieces(in, {cut}), whole) << "split at " << cut;
  }
}

// --- Framing errors ------------------------------------------------------------------

TEST(HttpResponseParser, ContentLengthWithTransferEncodingIsAnError) {
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "0\r\n\r\n")
                .event,
            Event::Error);
}

TEST(HttpResponseParser, InvalidOrDuplicateContentLengthIsAnError) {
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc").event, Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd").event,
            Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 3 4\r\n\r\nabcd").event, Event::Error);
}

TEST(HttpResponseParser, TransferEncodingOtherThanChunkedIsAnError) {
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", false, true).event,
            Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n").event,
            Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n").event,
            Event::Error);
}

TEST(HttpResponseParser, TransferEncodingInHttp10IsAnError) {
  EXPECT_EQ(parseAll("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").event,
            Event::Error);
}

TEST(HttpResponseParser, BadChunkingIsAnError) {
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").event,
            Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n").event,
            Event::Error);
}

// Found by fuzz_chunked: llhttp accepts an empty chunk-extension name or value.
TEST(HttpResponseParser, EmptyChunkExtensionNameOrValueIsAnError) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(parseAll(head + "0;=d0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll(head + "1;a=\r\nx\r\n0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll(head + "1;a=b\r\nx\r\n0;c\r\n\r\n").event, Event::MessageComplete);
}

// Found by fuzz_chunked: llhttp 8.1 takes "a=b;;c" and "a=b;" (a second ';', or none
// at all, after an unquoted value); RFC 9112 allows neither.
TEST(HttpResponseParser, ExtensionAfterAnUnquotedValueIsAnError) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(parseAll(head + "0;a=b;;c\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll(head + "1;a=b;\r\nx\r\n0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll(head + "0;a=\"b\";c\r\n\r\n").event, Event::MessageComplete);
}

// Found by fuzz_chunked: llhttp 8.1 ends a chunked body at a bare LF after the last
// chunk and takes any two bytes after chunk data for its CRLF; doorman refuses the
// response (502) instead of guessing where it ends.
TEST(HttpResponseParser, BareLfInChunkedFramingIsAnError) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string body :
       {"0\r\n\n", "000\r\n\n", "0\r\nX-T: 1\n\r\n", "3;x\nabc\r\n0\r\n\r\n", "3\r\nabc\r\n0\n\r\n",
        "5\r\nhelloXY0\r\n\r\n", "3\r\nabc\r\r0\r\n\r\n"}) {
    SCOPED_TRACE(body);
    EXPECT_EQ(parseAll(head + body).event, Event::Error);
    for (size_t cut = 1; cut < head.size() + body.size(); ++cut) {
      EXPECT_EQ(parsePieces(head + body, {cut}).event, Event::Error) << "cut at " << cut;
    }
  }
  const auto ok = parseAll(head + "3\r\na\nb\r\n0\r\n\r\n");
  EXPECT_EQ(ok.event, Event::MessageComplete);
  EXPECT_NE(ok.response.find("a\nb"), std::string::npos);
}

// Found by fuzz_chunked / fuzz_response: llhttp 8.1 takes CR followed by any byte as the
// end of a chunk-size line ("000\r0\r\n\r\n", "5\rfff...1\r\n\r\n").
TEST(HttpResponseParser, CrWithoutLfInChunkedFramingIsAnError) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string body :
       {"000\r0\r\n\r\n", "5\rfffffffffffffff1\r\n\r\n", "3\rxabc\r\n0\r\n\r\n"}) {
    SCOPED_TRACE(body);
    EXPECT_EQ(parseAll(head + body).event, Event::Error);
    for (size_t cut = 1; cut < head.size() + body.size(); ++cut) {
      EXPECT_EQ(parsePieces(head + body, {cut}).event, Event::Error) << "cut at " << cut;
    }
  }
}

TEST(HttpResponseParser, UnsupportedVersionOrStatusIsAnError) {
  EXPECT_EQ(parseAll("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll("garbage\r\n\r\n").event, Event::Error);
}

TEST(HttpResponseParser, InvalidHeaderFieldsAreAnError) {
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nX y: 1\r\nContent-Length: 0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n"s).event,
            Event::Error);
}

TEST(HttpResponseParser, HeadOverTheLimitIsAnError) {
  ResponseLimits limits;
  limits.headerBytes = 48;
  const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_LE(in.size(), 48u);
  EXPECT_EQ(parseAll(in, false, false, limits).event, Event::MessageComplete);
  const auto out =
      parseAll("HTTP/1.1 200 OK\r\nX-Big: " + std::string(40, 'x'), false, false, limits);
  EXPECT_EQ(out.event, Event::Error);
}

TEST(HttpResponseParser, EachInterimResponseHasItsOwnHeadLimit) {
  ResponseLimits limits;
  limits.headerBytes = 48;
  std::string in;
  for (int i = 0; i < 5; ++i) {
    in += "HTTP/1.1 100 Continue\r\n\r\n";
  }
  in += "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parseAll(in, false, false, limits).event, Event::MessageComplete);
}

TEST(HttpResponseParser, TooManyHeaderFieldsIsAnError) {
  ResponseLimits limits;
  limits.headerCount = 2;
  EXPECT_EQ(
      parseAll("HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n", false, false, limits).event,
      Event::MessageComplete);
  EXPECT_EQ(
      parseAll("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n", false, false, limits)
          .event,
      Event::Error);
}

TEST(HttpResponseParser, BodyOverTheLimitIsAnError) {
  ResponseLimits limits;
  limits.bodyBytes = 4;
  EXPECT_EQ(
      parseAll("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", false, false, limits).event,
      Event::MessageComplete);
  auto out = parseAll("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, false, limits);
  EXPECT_EQ(out.event, Event::Error);
  EXPECT_EQ(out.error, "response larger than buffering.max_response_bytes");
  out = parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n", false,
                 false, limits);
  EXPECT_EQ(out.event, Event::Error);
  EXPECT_EQ(out.error, "response larger than buffering.max_response_bytes");
  out = parseAll("HTTP/1.1 200 OK\r\n\r\nabcde", false, false, limits);
  EXPECT_EQ(out.event, Event::Error);
  EXPECT_EQ(out.error, "response larger than buffering.max_response_bytes");
}

TEST(HttpResponseParser, ContentLengthOverTheLimitIsFineForHead) {
  ResponseLimits limits;
  limits.bodyBytes = 4;
  EXPECT_EQ(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", true, false, limits).event,
            Event::MessageComplete);
}

TEST(HttpResponseParser, BudgetRefusalIsAnError) {
  core::MemoryBudget budget(0);
  ResponseParser parser(ResponseLimits{}, &budget);
  parser.start(false);
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc").event, Event::Error);
  EXPECT_EQ(parser.errorReason(), "out of buffer memory");
}

TEST(HttpResponseParser, AnErrorIsFinalUntilStart) {
  ResponseParser parser(ResponseLimits{});
  parser.start(false);
  EXPECT_EQ(parser.feed("HTTP/1.1 101 Switching Protocols\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\n\r\n").event, Event::Error);
  EXPECT_EQ(parser.finishEof(), Event::Error);
  parser.start(false);
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").event,
            Event::MessageComplete);
}

TEST(HttpResponseParser, SurvivesMutatedInputFedInRandomPieces) {
  const std::string base =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nServer: gunicorn\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n";
  std::mt19937 rng(20240502);
  for (int round = 0; round < 3000; ++round) {
    std::string in = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % in.size();
      switch (rng() % 3) {
        case 0:
          in[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          in.insert(at, 1, static_cast<char>(rng() % 256));
          break;
        default:
          in.erase(at, 1);
          break;
      }
    }
    std::vector<size_t> cuts;
    for (size_t pos = rng() % 30; pos < in.size(); pos += 1 + rng() % 30) {
      cuts.push_back(pos);
    }
    const bool head = rng() % 4 == 0;
    auto pieces = parsePieces(in, cuts, head, true);
    auto whole = parseAll(in, head, true);
    pieces.error.clear();  // which check fires first may differ, not the outcome
    whole.error.clear();
    EXPECT_EQ(pieces, whole) << "round " << round << " input " << testing::PrintToString(in);
  }
}

}  // namespace
}  // namespace doorman::http

namespace doorman::http {
namespace {

TEST(HttpResponseParser, SizeErrorsAreToldApartFromSyntaxErrors) {
  ResponseLimits limits;
  limits.bodyBytes = 4;
  ResponseParser parser(limits);
  parser.start(false);
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").event,
            ResponseParser::Event::Error);
  EXPECT_TRUE(parser.errorWasSize());

  ResponseParser syntax(limits);
  syntax.start(false);
  EXPECT_EQ(syntax.feed("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").event,
            ResponseParser::Event::Error);
  EXPECT_FALSE(syntax.errorWasSize());
}

}  // namespace
}  // namespace doorman::http
