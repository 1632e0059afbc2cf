// Faults on either side of doorman: a backend that dies mid-response, never answers,
// answers garbage or ambiguous framing, answers more than it was asked, or answers far
// over the limits; clients that reset mid-request and mid-response. After each, doorman
// keeps serving others, its file descriptors come back to the baseline, and no client
// ever gets a response meant for another request.

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "harness/Backends.hpp"
#include "harness/Checks.hpp"
#include "harness/Doorman.hpp"
#include "harness/FaultBackend.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

namespace doorman::it {
namespace {

/// Closes the client's socket with an RST instead of a FIN.
void resetConnection(HttpClient& client) {
  linger abort{1, 0};
  ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::shutdown(client.fd(), SHUT_RDWR);
}

class FaultsTest : public IntegrationTest {
 protected:
  FaultsTest() : gunicorn_(dir_, 2), fault_(std::make_unique<FaultBackend>(dir_)) {
    DoormanConfig config = DoormanConfig::forBackend(gunicorn_.address(), 2);
    config.upstreams[0].responseTimeout = "5s";  // gunicorn: a cold worker on a loaded machine
    UpstreamSpec fault;
    fault.name = "fault";
    fault.servers.push_back({fault_->address(), 2});
    fault.responseTimeout = "1s";
    fault.queueTimeout = "1s";
    config.upstreams.push_back(fault);
    config.routes = {{"/f/", "fault"}, {"/", "app"}};
    config.limits = "{ header_bytes: 16KiB, uri_bytes: 8KiB, body_bytes: 1MiB }";
    std::string yaml = config.toYaml(0, dir_.path());
    // Over 1 MiB an upstream response is refused with 502.
    const std::string buffering = "buffering: { ";
    yaml.replace(yaml.find(buffering), buffering.size(), buffering + "max_response_bytes: 1MiB, ");
    doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
    EXPECT_TRUE(servesHello(doorman_->address()));
    EXPECT_EQ(fetchBody("/f/ok?id=warm"), "id=warm\n");
    baselineFds_ = settledFdCount(*doorman_);
  }

  std::string fetchBody(const std::string& path) {
    auto response = fetch(doorman_->address(), httpGet(path));
    if (!response) {
      return "<no response>";
    }
    return response->status == 200 ? response->body : "<" + std::to_string(response->status) + ">";
  }

  int statusOf(const std::string& path) {
    auto response = fetch(doorman_->address(), httpGet(path), milliseconds(20000));
    return response ? response->status : 0;
  }

  /// doorman still serves both upstreams (each answer its own), fds at the baseline.
  void expectRecovered() {
    EXPECT_TRUE(servesHello(doorman_->address()));
    EXPECT_EQ(fetchBody("/f/ok?id=after"), "id=after\n");
    EXPECT_TRUE(fdCountReturnsTo(*doorman_, baselineFds_));
  }

  GunicornBackend gunicorn_;
  std::unique_ptr<FaultBackend> fault_;
  std::unique_ptr<DoormanProcess> doorman_;
  size_t baselineFds_ = 0;
};

/// The backend is SIGKILLed after part of its response: 502 for that request (doorman
/// had sent the client nothing yet), a request in flight on the other upstream is not
/// disturbed, and the dead backend's connections are all closed.
TEST_F(FaultsTest, BackendKilledMidResponseGets502AndOthersAreServed) {
  HttpClient slow(doorman_->address());
  ASSERT_TRUE(slow.send(httpGet("/sleep?ms=500")));
  EXPECT_EQ(statusOf("/f/kill"), 502);
  auto other = slow.readResponse();
  ASSERT_TRUE(other) << slow.error();
  EXPECT_EQ(other->status, 200);
  EXPECT_TRUE(servesHello(doorman_->address()));
  // Nobody listens on the fault port now: the request waits for the server to come back
  // up to the queue timeout (1s), then 503 (upstream passive health).
  EXPECT_EQ(statusOf("/f/ok?id=1"), 503);
  fault_.reset();  // reaps the killed process
  EXPECT_TRUE(fdCountReturnsTo(*doorman_, baselineFds_));
}

/// A backend that accepts and never answers: 504 after the response timeout (1s), and
/// meanwhile the other upstream and the fault upstream's second worker keep serving.
TEST_F(FaultsTest, BackendThatNeverAnswersGets504WhileOthersAreServed) {
  HttpClient hanging(doorman_->address());
  ASSERT_TRUE(hanging.send(httpGet("/f/hang")));
  EXPECT_TRUE(servesHello(doorman_->address()));
  EXPECT_EQ(fetchBody("/f/ok?id=2"), "id=2\n");
  auto response = hanging.readResponse(milliseconds(15000));
  ASSERT_TRUE(response) << hanging.error();
  EXPECT_EQ(response->status, 504);
  expectRecovered();
}

/// Garbage, ambiguous framing (Content-Length with Transfer-Encoding, two different
/// Content-Lengths, a chunked body ended by a bare LF) and a bare CR in a header value
/// are all 502: doorman never guesses where an upstream response ends.
TEST_F(FaultsTest, GarbageAndAmbiguousResponsesGet502) {
  for (const char* path : {"/f/garbage", "/f/cl-te", "/f/two-cl", "/f/lf-chunked", "/f/bare-cr"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(statusOf(path), 502);
    EXPECT_EQ(fetchBody("/f/ok?id=next"), "id=next\n");
  }
  expectRecovered();
}

/// A response far over buffering.max_response_bytes (50 MB against 1 MiB): 502.
TEST_F(FaultsTest, ResponseFarOverTheLimitGets502) {
  EXPECT_EQ(statusOf("/f/huge"), 502);
  expectRecovered();
}

/// The backend sends a second response nobody asked for right after the first. That
/// one must never reach the client of a later request: doorman drops the connection.
TEST_F(FaultsTest, ResponseToARequestNeverSentReachesNobody) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(fetchBody("/f/double"), "first");
    const std::string id = "n" + std::to_string(i);
    EXPECT_EQ(fetchBody("/f/ok?id=" + id), "id=" + id + "\n");
  }
  expectRecovered();
}

/// Many clients at once, their requests interleaved with faulty ones on the same
/// upstream: every client gets exactly its own response.
TEST_F(FaultsTest, NoClientEverGetsAnotherClientsResponse) {
  const auto errors = runInParallel(6, [&](size_t t) {
    HttpClient client(doorman_->address());
    for (int i = 0; i < 15; ++i) {
      const std::string id = std::to_string(t) + "-" + std::to_string(i);
      const char* faults[] = {"/f/double", "/f/garbage", "/f/two-cl"};
      if (i % 4 == 3) {
        fetch(doorman_->address(), httpGet(faults[(t + i) % 3]));
      }
      if (!client.send(httpGet("/f/ok?id=" + id))) {
        throw std::runtime_error("send failed: " + client.error());
      }
      auto response = client.readResponse(milliseconds(15000));
      if (!response) {
        throw std::runtime_error("no response for " + id + ": " + client.error());
      }
      if (response->status != 200 || response->body != "id=" + id + "\n") {
        throw std::runtime_error("request " + id + " got " + std::to_string(response->status) +
                                 " '" + response->body + "'");
      }
    }
  });
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  expectRecovered();
}

/// A client that resets half-way through its request body: nothing is forwarded.
TEST_F(FaultsTest, ClientResetMidRequestIsNeverForwarded) {
  const size_t before = fault_->recordedRequests().size();
  {
    HttpClient client(doorman_->address());
    ASSERT_TRUE(
        client.send("POST /f/ok?id=reset HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                    std::string(50000, 'b')));
    resetConnection(client);
  }
  expectRecovered();
  const auto recorded = fault_->recordedRequests();
  ASSERT_EQ(recorded.size(), before + 1);  // only expectRecovered's own request
  EXPECT_EQ(recorded.back().find("id=reset"), std::string::npos);
}

/// A client that resets while its (large) response is being written.
TEST_F(FaultsTest, ClientResetMidResponse) {
  for (int i = 0; i < 3; ++i) {
    HttpClient client(doorman_->address(), milliseconds(5000), SocketOptions{4096});
    ASSERT_TRUE(client.send(httpGet("/large?bytes=900000")));
    EXPECT_GT(client.pull(4096, milliseconds(10000)), 0u);
    resetConnection(client);
  }
  expectRecovered();
}

}  // namespace
}  // namespace doorman::it
