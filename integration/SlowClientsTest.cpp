// Slow clients do not hold sync workers. doorman reads a request completely before it
// takes a worker, and reads the whole response at local speed before trickling it out:
// with a single worker behind it, other clients are served while a slow one dawdles.

#include <atomic>
#include <thread>

#include "harness/Backends.hpp"
#include "harness/Bytes.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"

namespace doorman::it {
namespace {

class SlowClientsTest : public IntegrationTest {
 protected:
  SlowClientsTest()
      : gunicorn_(dir_, 1), doorman_(dir_, DoormanConfig::forBackend(gunicorn_.address(), 1)) {}

  GunicornBackend gunicorn_;
  DoormanProcess doorman_;
};

/// A client sends a POST (a 600-byte head, then a 1000-byte body) one 10-byte piece every
/// 50 ms. While its head is incomplete, 10 other clients' requests all complete through
/// the single worker; again 10 while its body is incomplete. Then the trickled request
/// completes intact, and the backend never had more than 1 request in flight.
TEST_F(SlowClientsTest, TricklingClientDoesNotHoldTheOnlyWorker) {
  const std::string body = patternBytes(0, 1000);
  const std::string request =
      httpRequest("POST", "/echo/trickle", body, {{"X-Padding", std::string(500, 'p')}});
  const size_t headSize = request.size() - body.size();
  const size_t piece = 10;
  constexpr int kOthers = 10;

  HttpClient trickler(doorman_.address());
  size_t sent = 0;
  // Sends the next piece, never the last one; false when only the last one is left.
  auto trickleOne = [&] {
    if (sent + piece >= request.size()) return false;
    if (sent > 0) std::this_thread::sleep_for(milliseconds(50));  // the trickle itself
    if (!trickler.send(request.substr(sent, piece))) return false;
    sent += piece;
    return true;
  };
  // kOthers clients, one after another, while the trickle goes on; how many got 200
  // before the trickle ran out of pieces.
  auto othersWhileTrickling = [&] {
    std::atomic<int> done{0};
    std::atomic<int> ok{0};
    // Stopped and joined on every path out; stopping bounds the test's length when
    // doorman misbehaves.
    std::jthread others([&](std::stop_token stop) {
      for (int i = 0; i < kOthers && !stop.stop_requested(); ++i) {
        auto response = fetch(doorman_.address(), httpGet("/hello"), milliseconds(5000));
        if (response && response->status == 200) ++ok;
        ++done;
      }
    });
    while (done.load() < kOthers && trickleOne()) {
    }
    return ok.load();
  };

  ASSERT_TRUE(trickleOne());
  EXPECT_EQ(othersWhileTrickling(), kOthers) << "while the request head was trickling";
  EXPECT_LT(sent, headSize) << "the head was complete before the other clients were served";
  while (sent <= headSize && trickleOne()) {
  }
  EXPECT_EQ(othersWhileTrickling(), kOthers) << "while the request body was trickling";
  ASSERT_TRUE(trickler.send(request.substr(sent))) << trickler.error();

  auto response = trickler.readResponse();
  ASSERT_TRUE(response) << trickler.error();
  ASSERT_EQ(response->status, 200);
  auto json = parseJson(response->body);
  ASSERT_TRUE(json);
  EXPECT_EQ((*json)["body_sha256"].str(), sha256Hex(body));
  auto stats = gunicorn_.stats();
  EXPECT_EQ(stats.requests, 2 * kOthers + 1);
  EXPECT_EQ(stats.peak, 1);
}

/// A client with a 4 KiB receive buffer reads a 16 MiB response 16 KiB at a time. While
/// it is still reading, 10 other clients are served by the single worker; then the slow
/// client receives every byte of its response intact.
TEST_F(SlowClientsTest, SlowReaderOfLargeResponseDoesNotHoldTheOnlyWorker) {
  constexpr size_t kSize = 16u << 20;
  constexpr int kOthers = 10;
  HttpClient reader(doorman_.address(), milliseconds(5000), {.receiveBuffer = 4096});
  ASSERT_TRUE(reader.send(httpGet("/large?bytes=" + std::to_string(kSize))));
  ASSERT_GT(reader.pull(16384, milliseconds(10000)), 0u) << reader.error();

  std::atomic<int> othersDone{0};
  std::atomic<int> othersOk{0};
  // Stopped and joined on every path out (ASSERTs included); stopping bounds the test's
  // length when doorman misbehaves.
  std::jthread others([&](std::stop_token stop) {
    for (int i = 0; i < kOthers && !stop.stop_requested(); ++i) {
      auto response = fetch(doorman_.address(), httpGet("/hello"), milliseconds(5000));
      if (response && response->status == 200) ++othersOk;
      ++othersDone;
    }
  });
  // Read slowly until the others are done, or (doorman misbehaving) half the response is in.
  while (othersDone.load() < kOthers && reader.buffered() < kSize / 2) {
    reader.pull(16384, milliseconds(1000));
    std::this_thread::sleep_for(milliseconds(20));  // the slow reader's pace
  }
  const size_t receivedWhileOthersRan = reader.buffered();
  const int okWhileReading = othersOk.load();
  others.request_stop();
  others.join();
  EXPECT_EQ(okWhileReading, kOthers);
  EXPECT_LT(receivedWhileOthersRan, kSize / 2)
      << "the other clients were served only after the slow reader had most of its response";

  auto response = reader.readResponse(milliseconds(30000));
  ASSERT_TRUE(response) << reader.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), kSize);
  EXPECT_TRUE(response->body == patternBytes(0, kSize)) << "16 MiB body differs from the pattern";
  auto stats = gunicorn_.stats();
  EXPECT_EQ(stats.requests, kOthers + 1);
  EXPECT_EQ(stats.peak, 1);
}

}  // namespace
}  // namespace doorman::it
