#include "doorman/http/Serializer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace doorman::http {
namespace {

Request makeRequest(std::string method, std::string target, int versionMinor = 1) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.versionMinor = versionMinor;
  return r;
}

ForwardInfo basicInfo() {
  ForwardInfo info;
  info.clientAddress = "192.0.2.7";
  info.proto = "http";
  info.requestId = "abc-123";
  info.requestStartMicros = 1700000000000000;
  info.fallbackHost = "fallback.example:8080";
  return info;
}

TEST(HttpSerializer, UpstreamRequestDropsHopByHopAndClientForwardingFields) {
  Request r = makeRequest("GET", "/path?q=1");
  r.headers.add("Host", "example.com");
  r.headers.add("Connection", "keep-alive, X-Secret");
  r.headers.add("Keep-Alive", "timeout=5");
  r.headers.add("X-Secret", "hidden");
  r.headers.add("Accept", "text/html");
  r.headers.add("X-Forwarded-For", "203.0.113.1");
  r.headers.add("x-forwarded-for", "198.51.100.2");
  r.headers.add("X-Request-ID", "client-chosen");
  r.headers.add("X-Forwarded-Proto", "https");
  r.headers.add("X-Request-Start", "t=1");
  r.headers.add("Upgrade", "websocket");
  r.headers.add("TE", "trailers");
  r.headers.add("Trailer", "Expires");
  r.headers.add("Proxy-Connection", "keep-alive");
  r.headers.add("Expect", "100-continue");
  r.headers.add("Content-Length", "0");
  r.headers.add("User-Agent", "test");
  EXPECT_EQ(serializeUpstreamRequestHead(r, basicInfo()),
            "GET /path?q=1 HTTP/1.1\r\n"
            "Host: example.com\r\n"
            "Accept: text/html\r\n"
            "User-Agent: test\r\n"
            "X-Forwarded-For: 203.0.113.1, 198.51.100.2, 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Request-ID: abc-123\r\n"
            "X-Request-Start: t=1700000000000000\r\n"
            "\r\n");
}

TEST(HttpSerializer, UpstreamRequestStartsXForwardedForWithTheClient) {
  Request r = makeRequest("GET", "/");
  r.headers.add("Host", "a");
  ForwardInfo info;
  info.clientAddress = "2001:db8::1";
  EXPECT_EQ(serializeUpstreamRequestHead(r, info),
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 2001:db8::1\r\n\r\n");
}

TEST(HttpSerializer, UpstreamRequestSendsContentLengthZeroForAnEmptyPost) {
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    SCOPED_TRACE(method);
    Request r = makeRequest(method, "/form");
    r.headers.add("Host", "a");
    EXPECT_EQ(serializeUpstreamRequestHead(r, ForwardInfo{}),
              std::string(method) + " /form HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  }
  Request get = makeRequest("GET", "/");
  get.headers.add("Host", "a");
  get.headers.add("Content-Length", "0");
  EXPECT_EQ(serializeUpstreamRequestHead(get, ForwardInfo{}), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(HttpSerializer, UpstreamRequestSendsTheBufferedBodyLengthNeverChunked) {
  Request r = makeRequest("POST", "/upload");
  r.headers.add("Host", "a");
  r.headers.add("Transfer-Encoding", "chunked");
  r.chunked = true;
  ASSERT_TRUE(r.body.append("hello world"));
  EXPECT_EQ(serializeUpstreamRequestHead(r, ForwardInfo{}),
            "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n");
}

TEST(HttpSerializer, UpstreamRequestIsHttp11WithTheFallbackHostForHttp10Clients) {
  Request r = makeRequest("GET", "/old", 0);
  r.headers.add("Accept", "*/*");
  EXPECT_EQ(serializeUpstreamRequestHead(r, basicInfo()),
            "GET /old HTTP/1.1\r\n"
            "Host: fallback.example:8080\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Request-ID: abc-123\r\n"
            "X-Request-Start: t=1700000000000000\r\n"
            "\r\n");
}

TEST(HttpSerializer, UpstreamRequestKeepsHostEvenWhenConnectionListsIt) {
  Request r = makeRequest("GET", "/");
  r.headers.add("Host", "a");
  r.headers.add("Connection", "Host, X-Forwarded-For");
  r.headers.add("X-Forwarded-For", "10.0.0.1");
  ForwardInfo info;
  info.clientAddress = "192.0.2.7";
  EXPECT_EQ(serializeUpstreamRequestHead(r, info),
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n");
}

TEST(HttpSerializer, AnUnsafeFieldAddedToAParsedMessageIsStillDropped) {
  // Parsed fields are trusted (HeaderMap::addChecked); one added later by code is not,
  // and it makes the serializer check every field again.
  Request r = makeRequest("GET", "/");
  r.headers.addChecked("Host", "a");
  r.headers.addChecked("X-Parsed", "ok");
  r.headers.add("X-Bad", "a\r\nInjected: 1");
  EXPECT_EQ(serializeUpstreamRequestHead(r, ForwardInfo{}),
            "GET / HTTP/1.1\r\nHost: a\r\nX-Parsed: ok\r\n\r\n");
  Response response;
  response.status = 200;
  response.headers.addChecked("X-Parsed", "ok");
  response.headers.add("X-Bad", "a\nb");
  ClientResponseOptions o;
  o.server = "";
  EXPECT_EQ(serializeClientResponseHead(response, o),
            "HTTP/1.1 200 OK\r\nX-Parsed: ok\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpSerializer, UpstreamRequestNeverWritesUnsafeFields) {
  Request r = makeRequest("GET", "/a b\r\nX: y");
  r.headers.add("Host", "a");
  r.headers.add("X-Bad", "a\r\nInjected: 1");
  r.headers.add("X-Nul", std::string("a\0b", 3));
  r.headers.add("Bad Name", "v");
  r.headers.add("X-Good", "ok");
  ForwardInfo info;
  info.requestId = "id\r\nX-Evil: 1";
  info.clientAddress = "1.2.3.4\n";
  EXPECT_EQ(serializeUpstreamRequestHead(r, info),
            "GET /a%20b%0D%0AX:%20y HTTP/1.1\r\nHost: a\r\nX-Good: ok\r\n\r\n");
}

ClientResponseOptions dated() {
  ClientResponseOptions o;
  o.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  return o;
}

TEST(HttpSerializer, ClientResponseReplacesFramingDateAndServerAndDropsHopByHop) {
  Response r;
  r.status = 200;
  r.reason = "OK";
  r.headers.add("Content-Type", "text/html");
  r.headers.add("Content-Length", "999");
  r.headers.add("Date", "Mon, 01 Jan 2001 00:00:00 GMT");
  r.headers.add("Server", "gunicorn");
  r.headers.add("Connection", "close, X-Hop");
  r.headers.add("X-Hop", "1");
  r.headers.add("Transfer-Encoding", "chunked");
  r.headers.add("Keep-Alive", "timeout=5");
  r.headers.add("Set-Cookie", "a=1");
  r.headers.add("Set-Cookie", "b=2");
  ASSERT_TRUE(r.body.append("hello"));
  EXPECT_EQ(serializeClientResponseHead(r, dated()),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/html\r\n"
            "Set-Cookie: a=1\r\n"
            "Set-Cookie: b=2\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Server: doorman\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
}

TEST(HttpSerializer, ClientResponseToHttp10SaysKeepAliveExplicitly) {
  Response r;
  auto o = dated();
  o.clientHttp10 = true;
  o.server = "";
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n"
            "Connection: keep-alive\r\n\r\n");
}

TEST(HttpSerializer, ClientResponseSaysCloseWhenTheConnectionEnds) {
  Response r;
  r.status = 404;
  auto o = dated();
  o.keepAlive = false;
  o.clientHttp10 = true;
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: doorman\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(HttpSerializer, ClientResponseToHeadKeepsTheUpstreamContentLength) {
  Response r;
  r.headers.add("Content-Length", "1234");
  auto o = dated();
  o.headRequest = true;
  o.date = "";
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 200 OK\r\nServer: doorman\r\nContent-Length: 1234\r\n\r\n");
  Response noLength;
  EXPECT_EQ(serializeClientResponseHead(noLength, o), "HTTP/1.1 200 OK\r\nServer: doorman\r\n\r\n");
}

TEST(HttpSerializer, ClientResponseHasNoContentLengthFor1xx204And304) {
  ClientResponseOptions o;
  o.server = "";
  for (int status : {100, 103, 204, 304}) {
    SCOPED_TRACE(status);
    Response r;
    r.status = status;
    r.headers.add("Content-Length", "10");
    r.headers.add("ETag", "\"v1\"");
    EXPECT_EQ(serializeClientResponseHead(r, o), "HTTP/1.1 " + std::to_string(status) + " " +
                                                     std::string(reasonPhrase(status)) +
                                                     "\r\nETag: \"v1\"\r\n\r\n");
  }
}

TEST(HttpSerializer, ClientResponseKeepsACustomReasonUnlessItIsUnsafe) {
  ClientResponseOptions o;
  o.server = "";
  Response r;
  r.status = 200;
  r.reason = "Fine Thanks";
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n");
  r.reason = "OK\r\nX-Injected: 1";
  EXPECT_EQ(serializeClientResponseHead(r, o), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  r.status = 299;
  r.reason = "";
  EXPECT_EQ(serializeClientResponseHead(r, o), "HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpSerializer, ClientResponseNeverWritesUnsafeFields) {
  ClientResponseOptions o;
  o.server = "";
  o.date = "bad\r\ndate";
  Response r;
  r.headers.add("X-Bad", "a\nb");
  r.headers.add("X-Good", "ok");
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 200 OK\r\nX-Good: ok\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpSerializer, SerializingIntoAKeptStringReplacesItsContentsAndKeepsItsCapacity) {
  // A connection keeps one string per head and serializes every message into it.
  Request big = makeRequest("GET", "/" + std::string(300, 'a'));
  big.headers.add("Host", "example.com");
  std::string head;
  serializeUpstreamRequestHead(big, basicInfo(), head);
  EXPECT_EQ(head, serializeUpstreamRequestHead(big, basicInfo()));
  const size_t capacity = head.capacity();
  const char* storage = head.data();
  Request small = makeRequest("GET", "/");
  small.headers.add("Host", "example.com");
  serializeUpstreamRequestHead(small, basicInfo(), head);
  EXPECT_EQ(head, serializeUpstreamRequestHead(small, basicInfo()));  // nothing of `big` left
  EXPECT_EQ(head.capacity(), capacity);
  EXPECT_EQ(head.data(), storage);

  Response response;
  response.status = 404;
  response.headers.add("X-Long", std::string(200, 'v'));
  ClientResponseOptions o;
  o.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  serializeClientResponseHead(response, o, head);
  EXPECT_EQ(head, serializeClientResponseHead(response, o));
  Response plain;
  plain.status = 204;
  const std::string before = head;
  serializeClientResponseHead(plain, o, head);
  EXPECT_EQ(head, serializeClientResponseHead(plain, o));
  EXPECT_NE(head, before);
  EXPECT_EQ(head.rfind("HTTP/1.1 204 ", 0), 0u);
}

TEST(HttpSerializer, ErrorResponseIsShortPlainText) {
  Response r = makeErrorResponse(404);
  EXPECT_EQ(r.status, 404);
  ASSERT_NE(r.headers.find("Content-Type"), nullptr);
  EXPECT_EQ(*r.headers.find("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.body.toString(), "404 Not Found\n");
  auto o = dated();
  o.keepAlive = false;
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: doorman\r\nContent-Length: 14\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpSerializer, ErrorResponseCarriesAnOptionalDetailLine) {
  EXPECT_EQ(makeErrorResponse(503, "upstream queue is full").body.toString(),
            "503 Service Unavailable\nupstream queue is full\n");
  EXPECT_EQ(makeErrorResponse(431).body.toString(), "431 Request Header Fields Too Large\n");
}

TEST(HttpSerializer, FormatsImfFixdate) {
  EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(formatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(formatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(formatHttpDate(1700000000), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(formatHttpDate(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpSerializer, ReasonPhrasesAreTheStandardOnes) {
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(413), "Content Too Large");
  EXPECT_EQ(reasonPhrase(414), "URI Too Long");
  EXPECT_EQ(reasonPhrase(417), "Expectation Failed");
  EXPECT_EQ(reasonPhrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reasonPhrase(799), "Unknown");
}

TEST(HttpSerializer, HopByHopIncludesNamesListedInConnection) {
  HeaderMap h;
  h.add("Connection", "close");
  h.add("connection", " X-A ,x-b");
  EXPECT_TRUE(isHopByHop("Keep-Alive", h));
  EXPECT_TRUE(isHopByHop("transfer-encoding", h));
  EXPECT_TRUE(isHopByHop("TE", h));
  EXPECT_TRUE(isHopByHop("Upgrade", h));
  EXPECT_TRUE(isHopByHop("Proxy-Connection", h));
  EXPECT_TRUE(isHopByHop("Trailer", h));
  EXPECT_TRUE(isHopByHop("x-a", h));
  EXPECT_TRUE(isHopByHop("X-B", h));
  EXPECT_FALSE(isHopByHop("X-C", h));
  EXPECT_FALSE(isHopByHop("Content-Type", h));
}

TEST(HttpSerializer, ManyConnectionFieldsAreAllHonoured) {
  Response r;
  for (int i = 0; i < 6; ++i) {
    r.headers.add("Connection", "X-" + std::to_string(i));
    r.headers.add("X-" + std::to_string(i), "v");
  }
  r.headers.add("X-Kept", "v");
  ClientResponseOptions o;
  o.server = "";
  EXPECT_EQ(serializeClientResponseHead(r, o),
            "HTTP/1.1 200 OK\r\nX-Kept: v\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpSerializer, SafeHeaderValuesHaveNoCrLfOrNul) {
  EXPECT_TRUE(isSafeHeaderValue("text/html; charset=utf-8"));
  EXPECT_TRUE(isSafeHeaderValue(""));
  EXPECT_FALSE(isSafeHeaderValue("a\rb"));
  EXPECT_FALSE(isSafeHeaderValue("a\nb"));
  EXPECT_FALSE(isSafeHeaderValue(std::string_view("a\0b", 3)));
}

TEST(HttpSerializer, SafeHeaderValuesAreCheckedAtEveryPositionAndLength) {
  // Eight bytes at a time, then the tail: each forbidden byte at each position of
  // values of every length up to 40, among bytes of every other kind (obs-text too).
  const std::string filler = "ab\x80\xff \t~\x7f\x01\x0b\x0c\x0e\x1f\xc3\xa9z";
  for (size_t len = 0; len <= 40; ++len) {
    std::string value;
    for (size_t i = 0; i < len; ++i) {
      value += filler[(i * 7 + len) % filler.size()];
    }
    EXPECT_TRUE(isSafeHeaderValue(value)) << len;
    for (size_t pos = 0; pos < len; ++pos) {
      for (char bad : {'\r', '\n', '\0'}) {
        std::string v = value;
        v[pos] = bad;
        EXPECT_FALSE(isSafeHeaderValue(v)) << "length " << len << ", position " << pos;
      }
    }
  }
}

}  // namespace
}  // namespace doorman::http
