#pragma once
// Real backends, started by the tests. Each serves integration/backends/testapp.py and
// counts requests in a stats file (see testapp.py) so that tests can count what the
// backend saw: requests, peak in flight, upstream connections.
//
//   GunicornBackend  gunicorn sync workers on a unix socket (closes after every response)
//   UwsgiBackend     uWSGI prefork with --http11-socket on TCP (keeps connections alive)
//   PreforkBackend   prefork_server.py: one kept-alive connection holds one process
//   PasteBackend     paste.httpserver with protocol_version HTTP/1.1 on TCP
//
// Python is always Debian's (/usr/bin/python3, /usr/bin/gunicorn, /usr/bin/uwsgi): a
// `python3` earlier on PATH may be another interpreter that cannot see Debian's packages.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/Process.hpp"
#include "harness/TempDir.hpp"

namespace doorman::it {

struct BackendStats {
  int64_t requests = 0;      ///< requests that reached the application
  int64_t inflight = 0;      ///< requests in the application right now
  int64_t peak = 0;          ///< most requests ever in the application at once
  int64_t connections = 0;   ///< connections accepted (PreforkBackend only)
  size_t distinctPorts = 0;  ///< distinct peer ports seen (TCP backends: upstream connections)
};

/// The stats file's current counters (all zero while the file does not exist yet).
BackendStats readBackendStats(const std::string& path);

/// Absolute path of integration/backends/<file>.
std::string backendScript(const std::string& file);

class Backend {
 public:
  virtual ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  /// The address as doorman's config writes it: "unix:/path" or "127.0.0.1:PORT".
  const std::string& address() const { return address_; }
  BackendStats stats() const { return readBackendStats(statsPath_); }
  Process& process() { return *process_; }
  /// Stops the backend now (SIGTERM by PID, then waits); later requests find it gone.
  void stop() { process_->stop(); }

 protected:
  Backend(const TempDir& dir, const std::string& kind);
  /// Starts the process and waits until it is ready; throws with its log when it is not.
  void start(ProcessOptions options, bool probeByConnecting, const std::string& readyLine = "");

  std::string name_;  ///< unique within the test: "gunicorn-1"
  std::string address_;
  std::string statsPath_;
  std::string logPath_;
  std::unique_ptr<Process> process_;
};

class GunicornBackend : public Backend {
 public:
  /// `workers` sync workers; on a unix socket unless `tcp`.
  GunicornBackend(const TempDir& dir, int workers, bool tcp = false);
  /// With more command-line options (e.g. --max-requests) and, when `address` is not
  /// empty, on that address (a restart of a stopped backend on the same socket).
  GunicornBackend(const TempDir& dir, int workers, const std::vector<std::string>& extraArgs,
                  const std::string& address = "");
};

/// The demo WSGI app (demo/app.py: the page, POST /submit) under gunicorn sync workers.
class DemoAppBackend : public Backend {
 public:
  DemoAppBackend(const TempDir& dir, int workers);
};

/// demo/ in the source tree (app.py, static/).
std::string demoDir();

class UwsgiBackend : public Backend {
 public:
  /// uWSGI master + `processes` workers, HTTP/1.1 keep-alive on a loopback TCP port (so
  /// that testapp can tell connections apart by peer port).
  UwsgiBackend(const TempDir& dir, int processes);
  /// With more command-line options (e.g. --max-requests).
  UwsgiBackend(const TempDir& dir, int processes, const std::vector<std::string>& extraArgs);
};

struct PreforkOptions {
  int processes = 4;
  int sleepMs = 0;           ///< per request
  int closeAfter = 0;        ///< silently close a connection after this many responses (0: never)
  int closeDelayMs = 0;      ///< with closeAfter: wait this long before closing, reading nothing
  std::string recordPath{};  ///< append "METHOD TARGET X-Request-ID" per request read
  bool tcp = false;          ///< loopback TCP instead of a unix socket
};

class PreforkBackend : public Backend {
 public:
  PreforkBackend(const TempDir& dir, PreforkOptions options);
};

class PasteBackend : public Backend {
 public:
  explicit PasteBackend(const TempDir& dir);
};

}  // namespace doorman::it
