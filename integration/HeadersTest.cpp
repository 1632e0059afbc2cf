// What doorman adds, keeps and removes on the way to the backend and back. The backend's
// view comes from testapp's /echo (every header gunicorn received).

#include <chrono>
#include <regex>
#include <set>
#include <sstream>

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"

namespace doorman::it {
namespace {

class HeadersTest : public IntegrationTest {
 protected:
  HeadersTest()
      : gunicorn_(dir_, 1), doorman_(dir_, DoormanConfig::forBackend(gunicorn_.address(), 1)) {}

  /// The headers the backend received for `rawRequest` (lower-case names).
  JsonValue backendHeaders(const std::string& rawRequest) {
    auto response = fetch(doorman_.address(), rawRequest);
    if (!response || response->status != 200) {
      ADD_FAILURE() << "no 200 from /echo: "
                    << (response ? std::to_string(response->status) : "no response");
      return {};
    }
    auto json = parseJson(response->body);
    if (!json) {
      ADD_FAILURE() << "not JSON: " << response->body;
      return {};
    }
    return (*json)["headers"];
  }

  static std::vector<std::string> commaList(const std::string& value) {
    std::vector<std::string> out;
    std::stringstream in(value);
    std::string item;
    while (std::getline(in, item, ',')) {
      auto begin = item.find_first_not_of(' ');
      auto end = item.find_last_not_of(' ');
      out.push_back(begin == std::string::npos ? "" : item.substr(begin, end - begin + 1));
    }
    return out;
  }

  GunicornBackend gunicorn_;
  DoormanProcess doorman_;
};

/// The client's Host reaches the backend unchanged.
TEST_F(HeadersTest, HostIsKept) {
  auto headers = backendHeaders(httpGet("/echo", {}, "shop.example.test:8443"));
  EXPECT_EQ(headers["host"].str(), "shop.example.test:8443");
}

/// A client-sent X-Forwarded-For gets the client's address (127.0.0.1) appended.
TEST_F(HeadersTest, ForwardedForIsAppendedToTheClientsValue) {
  auto headers = backendHeaders(httpGet("/echo", {{"X-Forwarded-For", "203.0.113.7"}}));
  EXPECT_EQ(commaList(headers["x-forwarded-for"].str()),
            (std::vector<std::string>{"203.0.113.7", "127.0.0.1"}))
      << headers["x-forwarded-for"].str();
}

/// Without one from the client, X-Forwarded-For is the client's address.
TEST_F(HeadersTest, ForwardedForIsTheClientAddressWhenNoneWasSent) {
  auto headers = backendHeaders(httpGet("/echo"));
  EXPECT_EQ(headers["x-forwarded-for"].str(), "127.0.0.1");
}

/// X-Forwarded-Proto is "http", also when the client claims "https".
TEST_F(HeadersTest, ForwardedProtoIsHttpEvenWhenTheClientClaimsOtherwise) {
  EXPECT_EQ(backendHeaders(httpGet("/echo"))["x-forwarded-proto"].str(), "http");
  EXPECT_EQ(
      backendHeaders(httpGet("/echo", {{"X-Forwarded-Proto", "https"}}))["x-forwarded-proto"].str(),
      "http");
}

/// A client's X-Request-ID is passed on unchanged.
TEST_F(HeadersTest, RequestIdIsKeptWhenSent) {
  auto headers = backendHeaders(httpGet("/echo", {{"X-Request-ID", "abc-123-def"}}));
  EXPECT_EQ(headers["x-request-id"].str(), "abc-123-def");
}

/// Without one from the client, each request gets a generated, distinct X-Request-ID.
TEST_F(HeadersTest, RequestIdIsGeneratedWhenAbsent) {
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    std::string id = backendHeaders(httpGet("/echo"))["x-request-id"].str();
    EXPECT_FALSE(id.empty());
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 5u);
}

/// X-Request-Start is "t=" and 16 digits: microseconds since the epoch, today's date.
TEST_F(HeadersTest, RequestStartIsMicrosecondsSinceTheEpoch) {
  std::string value = backendHeaders(httpGet("/echo"))["x-request-start"].str();
  ASSERT_TRUE(std::regex_match(value, std::regex("t=[0-9]{16}"))) << "'" << value << "'";
  const long long micros = std::stoll(value.substr(2));
  const long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  EXPECT_LT(std::llabs(now - micros), 3600LL * 1000 * 1000) << "not the current time";
}

/// Hop-by-hop headers (RFC 9110 section 7.6.1) stop at doorman: Keep-Alive, TE, Upgrade,
/// Proxy-Connection and whatever Connection names (X-Foo) never reach the backend.
TEST_F(HeadersTest, HopByHopHeadersNeverReachTheBackend) {
  auto headers = backendHeaders(httpGet("/echo", {{"Connection", "X-Foo"},
                                                  {"X-Foo", "1"},
                                                  {"Keep-Alive", "timeout=5"},
                                                  {"TE", "trailers"},
                                                  {"Upgrade", "h2c"},
                                                  {"Proxy-Connection", "keep-alive"},
                                                  {"X-Kept", "yes"}}));
  EXPECT_EQ(headers["x-kept"].str(), "yes");
  for (const char* name : {"x-foo", "keep-alive", "te", "upgrade", "proxy-connection"}) {
    EXPECT_FALSE(headers.has(name)) << name << ": " << headers[name].str();
  }
  EXPECT_EQ(headers["connection"].str().find("X-Foo"), std::string::npos);
  EXPECT_EQ(headers["connection"].str().find("x-foo"), std::string::npos);
}

/// The client's response carries Date, Server and Content-Length, no Transfer-Encoding.
TEST_F(HeadersTest, ResponseHasDateServerAndContentLength) {
  auto response = fetch(doorman_.address(), httpGet("/hello"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->has("Date"));
  EXPECT_TRUE(response->has("Server"));
  EXPECT_EQ(response->header("Content-Length").value_or(""), "6");
  EXPECT_FALSE(response->has("Transfer-Encoding"));
}

/// A response gunicorn sends chunked reaches the client with Content-Length instead.
TEST_F(HeadersTest, ChunkedBackendResponseReachesClientWithContentLength) {
  auto response = fetch(doorman_.address(), httpGet("/chunked?bytes=100000"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_FALSE(response->chunked);
  EXPECT_FALSE(response->has("Transfer-Encoding"));
  EXPECT_EQ(response->header("Content-Length").value_or(""), "100000");
  EXPECT_TRUE(response->body == patternBytes(0, 100000));
  EXPECT_EQ(response->headerCount("Date"), 1u);
}

}  // namespace
}  // namespace doorman::it
