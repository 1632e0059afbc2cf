// HTTP/1.1 pipelining (RFC 9112 section 9.3.2): requests sent back to back on one
// connection are answered in the order they were sent.

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"

namespace doorman::it {
namespace {

class PipeliningTest : public IntegrationTest {
 protected:
  PipeliningTest()
      : gunicorn_(dir_, 3), doorman_(dir_, DoormanConfig::forBackend(gunicorn_.address(), 3)) {}

  GunicornBackend gunicorn_;
  DoormanProcess doorman_;
};

/// Three GETs in one write get three responses, in request order (told apart by path).
TEST_F(PipeliningTest, ThreeRequestsInOneWriteAreAnsweredInOrder) {
  HttpClient client(doorman_.address());
  ASSERT_TRUE(client.send(httpGet("/echo/1") + httpGet("/echo/2") + httpGet("/echo/3")));
  auto responses = client.readResponses(3);
  ASSERT_EQ(responses.size(), 3u) << client.error();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(responses[i].status, 200);
    auto json = parseJson(responses[i].body);
    ASSERT_TRUE(json) << responses[i].body;
    EXPECT_EQ((*json)["path"].str(), "/echo/" + std::to_string(i + 1));
  }
}

/// Pipelined requests whose answers take different times (the first is the slowest)
/// are still answered in request order.
TEST_F(PipeliningTest, SlowFirstRequestDoesNotLetLaterAnswersOvertake) {
  HttpClient client(doorman_.address());
  ASSERT_TRUE(client.send(httpGet("/sleep?ms=300") + httpGet("/echo/2") + httpGet("/hello")));
  auto responses = client.readResponses(3);
  ASSERT_EQ(responses.size(), 3u) << client.error();
  EXPECT_EQ(responses[0].body, "slept\n");
  auto json = parseJson(responses[1].body);
  ASSERT_TRUE(json) << responses[1].body;
  EXPECT_EQ((*json)["path"].str(), "/echo/2");
  EXPECT_EQ(responses[2].body, "hello\n");
}

/// Pipelined POSTs each keep their own body: the bodies are not mixed up or shifted.
TEST_F(PipeliningTest, PipelinedRequestsWithBodiesKeepTheirOwnBodies) {
  const std::string a = patternBytes(0, 5000), b = "", c = patternBytes(11, 70000);
  HttpClient client(doorman_.address());
  ASSERT_TRUE(client.send(httpRequest("POST", "/echo/a", a) + httpRequest("POST", "/echo/b", b) +
                          httpChunkedPost("/echo/c", c, 4096)));
  auto responses = client.readResponses(3);
  ASSERT_EQ(responses.size(), 3u) << client.error();
  const std::string* bodies[] = {&a, &b, &c};
  const char* paths[] = {"/echo/a", "/echo/b", "/echo/c"};
  for (size_t i = 0; i < 3; ++i) {
    auto json = parseJson(responses[i].body);
    ASSERT_TRUE(json) << responses[i].body;
    EXPECT_EQ((*json)["path"].str(), paths[i]);
    EXPECT_EQ((*json)["body_sha256"].str(), sha256Hex(*bodies[i])) << paths[i];
  }
}

}  // namespace
}  // namespace doorman::it
