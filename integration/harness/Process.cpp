#include "harness/Process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "harness/Wait.hpp"

extern char** environ;

namespace doorman::it {
namespace {

std::vector<std::string> mergedEnvironment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto eq = text.find('=');
    if (eq != std::string::npos) merged[text.substr(0, eq)] = text.substr(eq + 1);
  }
  for (const auto& [key, value] : additions) merged[key] = value;
  std::vector<std::string> out;
  for (const auto& [key, value] : merged) out.push_back(key + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Only async-signal-safe calls between fork and exec: the test may run threads.
[[noreturn]] void execChild(int logFd, int nullFd, pid_t parent, const char* workDir, char** argv,
                            char** envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(126);  // the test died before we got here
  ::dup2(nullFd, STDIN_FILENO);
  ::dup2(logFd, STDOUT_FILENO);
  ::dup2(logFd, STDERR_FILENO);
  ::close_range(3, ~0U, 0);  // no test sockets leak into the child's fd table
  if (workDir[0] != '\0' && ::chdir(workDir) != 0) ::_exit(126);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvpe(argv[0], argv, envp);
  const char* reason = ::strerror(errno);
  (void)!::write(STDERR_FILENO, "exec failed: ", 13);
  (void)!::write(STDERR_FILENO, reason, ::strlen(reason));
  (void)!::write(STDERR_FILENO, "\n", 1);
  ::_exit(127);
}

}  // namespace

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

Process::Process(ProcessOptions options) : options_(std::move(options)) {
  if (options_.argv.empty()) throw std::runtime_error("Process: empty argv");
  std::vector<std::string> argvStrings = options_.argv;
  std::vector<std::string> envStrings = mergedEnvironment(options_.env);
  std::vector<char*> argv = pointers(argvStrings);
  std::vector<char*> envp = pointers(envStrings);
  const std::string logPath = options_.logPath.empty() ? "/dev/null" : options_.logPath;
  int logFd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int nullFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (logFd < 0 || nullFd < 0) throw std::runtime_error("Process: cannot open " + logPath);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0)
    execChild(logFd, nullFd, parent, options_.workDir.c_str(), argv.data(), envp.data());
  ::close(logFd);
  ::close(nullFd);
  if (pid_ < 0) throw std::runtime_error("Process: fork failed: " + std::string(::strerror(errno)));
}

Process::~Process() {
  if (pid_ > 0 && !status_) stop();
}

std::string Process::log() const { return readFile(options_.logPath); }

bool Process::reap(bool block) {
  if (status_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = status;
    return true;
  }
  return false;
}

bool Process::running() { return !reap(false); }

std::optional<int> Process::waitForExit(std::chrono::milliseconds timeout) {
  waitUntil([&] { return reap(false); }, timeout);
  return status_;
}

int Process::stop() {
  if (status_) return *status_;
  ::kill(pid_, SIGTERM);
  if (!waitUntil([&] { return reap(false); }, options_.stopGrace)) {
    std::cerr << "[harness] " << options_.name << " (pid " << pid_
              << ") ignored SIGTERM; sending SIGKILL\n";
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  return *status_;
}

void Process::dumpLogTail(size_t lines) const {
  std::string text = log();
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  std::cerr << "----- last lines of " << options_.name << " log (" << options_.logPath
            << ") -----\n"
            << text.substr(pos) << "\n----- end of " << options_.name << " log -----\n";
}

std::optional<int> runToCompletion(ProcessOptions options, std::chrono::milliseconds timeout,
                                   std::string& output) {
  Process process(std::move(options));
  auto status = process.waitForExit(timeout);
  if (!status) process.stop();
  output = process.log();
  return status;
}

}  // namespace doorman::it
