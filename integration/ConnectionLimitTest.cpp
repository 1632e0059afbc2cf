// limits.connections: at the limit doorman stops accepting (the kernel's backlog holds
// newcomers) instead of accepting and closing in a loop; a freed slot lets the next in.

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

namespace doorman::it {
namespace {

class ConnectionLimitTest : public IntegrationTest {};

/// limits.connections 2: two clients hold kept-alive connections; a third connects (the
/// kernel completes the handshake) but gets no answer while the two stay open; as soon
/// as one of them closes, the third is accepted and served. Nobody is refused or reset.
TEST_F(ConnectionLimitTest, ThirdClientWaitsUntilAConnectionCloses) {
  GunicornBackend gunicorn(dir_, 2);
  DoormanConfig config = DoormanConfig::forBackend(gunicorn.address(), 2);
  config.limits = "{ connections: 2 }";
  DoormanProcess doorman(dir_, config);
  // The readiness probe's connection may still be closing: wait until a client is served.
  auto first = std::make_unique<HttpClient>(doorman.address());
  ASSERT_TRUE(first->send(httpGet("/hello")));
  ASSERT_TRUE(first->readResponse());
  HttpClient second(doorman.address());
  ASSERT_TRUE(second.send(httpGet("/hello")));
  ASSERT_TRUE(second.readResponse());

  HttpClient third(doorman.address());
  ASSERT_TRUE(third.send(httpGet("/hello")));
  EXPECT_EQ(third.pull(4096, milliseconds(1000)), 0u) << "served past limits.connections";
  EXPECT_FALSE(third.eof()) << "the waiting client was closed instead of held";

  first.reset();  // frees a slot
  auto response = third.readResponse(milliseconds(10000));
  ASSERT_TRUE(response) << third.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(gunicorn.stats().requests, 3);
}

}  // namespace
}  // namespace doorman::it
