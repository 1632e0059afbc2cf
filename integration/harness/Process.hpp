#pragma once
// A child process started by a test: fork/exec with extra environment, stdout and stderr
// appended to a log file. The destructor stops it BY PID (SIGTERM, wait up to the grace
// period, then SIGKILL) and reaps it, so a test never leaves a process behind. Masters
// that own workers (gunicorn, uWSGI, prefork_server.py) reap those on SIGTERM themselves.
//
// Start processes from the test's main thread: the child gets PR_SET_PDEATHSIG(SIGTERM),
// which fires when the *thread* that forked it exits.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace doorman::it {

struct ProcessOptions {
  std::string name;                                               ///< for messages
  std::vector<std::string> argv;                                  ///< argv[0] is looked up in PATH
  std::vector<std::pair<std::string, std::string>> env;           ///< added to (or replacing) ours
  std::string logPath;                                            ///< stdout + stderr go here
  std::string workDir;                                            ///< empty: inherit
  std::chrono::milliseconds stopGrace{std::chrono::seconds(10)};  ///< SIGTERM -> SIGKILL
};

class Process {
 public:
  /// Forks and execs; throws std::runtime_error when fork fails. An exec failure shows as
  /// exit status 127 with the reason in the log.
  explicit Process(ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return options_.name; }
  const std::string& logPath() const { return options_.logPath; }
  std::string log() const;

  /// True while the process has not exited (reaps it if it has).
  bool running();
  /// Waits for the process to exit by itself; the raw waitpid status, or nullopt on timeout.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout);
  /// SIGTERM, wait up to stopGrace, then SIGKILL; returns the raw waitpid status.
  int stop();
  /// The raw waitpid status once reaped.
  std::optional<int> status() const { return status_; }

  /// Prints the last lines of the log to stderr (used when a test failed).
  void dumpLogTail(size_t lines = 60) const;

 private:
  bool reap(bool block);

  ProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Runs a command to completion (tools such as curl, ab, httperf); kills it after
/// `timeout`. Returns the raw waitpid status (nullopt on timeout) and fills `output`.
std::optional<int> runToCompletion(ProcessOptions options, std::chrono::milliseconds timeout,
                                   std::string& output);

/// Readable text for a waitpid status ("exit 0", "signal 9").
std::string describeStatus(int status);

/// Reads a whole file ("" when it does not exist).
std::string readFile(const std::string& path);

}  // namespace doorman::it
