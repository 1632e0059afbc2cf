// paste.httpserver (HTTP/1.1, keep-alive, threaded) behind doorman: every request
// succeeds. How long they take is measured in bench/, not asserted here.

#include <atomic>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"

namespace doorman::it {
namespace {

class PasteBackendTest : public IntegrationTest {};

/// 200 keep-alive requests (4 client connections x 50) through doorman to paste all get
/// 200, and paste counts exactly 200.
TEST_F(PasteBackendTest, TwoHundredKeepAliveRequestsAllSucceed) {
  PasteBackend paste(dir_);
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(paste.address(), 4));
  std::atomic<int> ok{0};
  auto errors = runInParallel(4, [&](size_t) {
    HttpClient client(doorman.address());
    for (int i = 0; i < 50; ++i) {
      if (!client.send(httpGet("/hello"))) throw std::runtime_error(client.error());
      auto response = client.readResponse(milliseconds(20000));
      if (!response)
        throw std::runtime_error("request " + std::to_string(i) + ": " + client.error());
      if (response->status == 200 && response->body == "hello\n") ++ok;
    }
  });
  EXPECT_TRUE(errors.empty()) << joinLines(errors);
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(paste.stats().requests, 200);
}

}  // namespace
}  // namespace doorman::it
