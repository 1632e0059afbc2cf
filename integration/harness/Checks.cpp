#include "harness/Checks.hpp"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "harness/HttpClient.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {

::testing::AssertionResult servesHello(const std::string& address) {
  auto response = fetch(address, httpGet("/hello"));
  if (!response) return ::testing::AssertionFailure() << "GET /hello: no response";
  if (response->status != 200 || response->body != "hello\n") {
    return ::testing::AssertionFailure()
           << "GET /hello: " << response->status << " body '" << response->body << "'";
  }
  return ::testing::AssertionSuccess();
}

size_t settledFdCount(const DoormanProcess& doorman) {
  size_t last = doorman.countOpenFds();
  int equalReadings = 1;
  waitUntil(
      [&] {
        size_t now = doorman.countOpenFds();
        equalReadings = now == last ? equalReadings + 1 : 1;
        last = now;
        return equalReadings >= 3;
      },
      milliseconds(3000), milliseconds(50));
  return last;
}

::testing::AssertionResult fdCountReturnsTo(const DoormanProcess& doorman, size_t baseline) {
  size_t now = 0;
  if (waitUntil(
          [&] {
            now = doorman.countOpenFds();
            return now <= baseline;
          },
          milliseconds(5000), milliseconds(20))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "doorman has " << now << " open fds, baseline " << baseline << ":\n"
         << describeFds(doorman.pid());
}

std::string describeFds(pid_t pid) {
  std::string out;
  std::error_code error;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (auto it = std::filesystem::directory_iterator(dir, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    std::error_code linkError;
    auto target = std::filesystem::read_symlink(it->path(), linkError);
    out += "  " + it->path().filename().string() + " -> " + target.string() + "\n";
  }
  return out;
}

double metric(const std::string& admin, const std::string& series) {
  auto page = fetch(admin, httpGet("/metrics"));
  if (!page || page->status != 200) return -1;
  size_t at = page->body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(page->body.substr(at + series.size() + 2));
}

}  // namespace doorman::it
