#include "harness/IntegrationTest.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "harness/Process.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

// Set before any test runs: orphans of our children are re-parented to us.
[[maybe_unused]] const bool subreaper = ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;

struct ChildInfo {
  pid_t pid;
  char state;
  std::string cmdline;
};

std::vector<ChildInfo> ourChildren() {
  std::vector<ChildInfo> out;
  const pid_t self = ::getpid();
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = readFile(it->path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) continue;
    char state = stat[close + 2];
    pid_t parent = static_cast<pid_t>(std::atoi(stat.c_str() + close + 4));
    if (parent != self) continue;
    std::string cmdline = readFile(it->path() / "cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    out.push_back({static_cast<pid_t>(std::stoi(name)), state, cmdline});
  }
  return out;
}

void reapExited() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

std::vector<std::string> reapLeftoverChildren() {
  // An orphan whose master just died may still be on its way out (PR_SET_PDEATHSIG).
  waitUntil(
      [] {
        reapExited();
        return ourChildren().empty();
      },
      milliseconds(3000), milliseconds(20));
  std::vector<std::string> leftovers;
  for (const auto& child : ourChildren()) {
    if (child.state != 'Z') {
      leftovers.push_back("pid " + std::to_string(child.pid) + ": " + child.cmdline);
    }
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
  }
  return leftovers;
}

IntegrationTest::~IntegrationTest() {
  for (const auto& leftover : reapLeftoverChildren()) {
    ADD_FAILURE() << "process left behind by the test (killed now): " << leftover;
  }
}

std::vector<std::string> runInParallel(size_t count, const std::function<void(size_t)>& body) {
  std::mutex mutex;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      try {
        body(i);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        errors.push_back("thread " + std::to_string(i) + ": " + e.what());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return errors;
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace doorman::it
