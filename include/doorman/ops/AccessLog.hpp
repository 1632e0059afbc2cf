#pragma once
// The access log: one line per request, formatted on the loop and written by a thread of
// its own, so a slow or stuck disk never blocks the event loop. Lines wait in a bounded
// buffer; when the disk cannot keep up and the buffer is full, new lines are dropped and
// counted (doorman_access_log_dropped_total) rather than stalling requests.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace doorman::ops {

/// Everything one access log line says about a request. Phases are microseconds, -1
/// when the phase did not happen (a static file has no queue wait or upstream time).
struct RequestRecord {
  int64_t startUnixMicros = 0;  ///< wall clock at the request's first byte
  std::string_view client;      ///< peer address ("unix" for unix sockets)
  std::string_view method;      ///< empty when the request line was never understood
  std::string_view target;
  int versionMinor = 1;
  int status = 0;
  uint64_t bytesIn = 0;   ///< request bytes read (head + body, as sent)
  uint64_t bytesOut = 0;  ///< response bytes written (head + body)
  uint64_t bodyOut = 0;   ///< response body bytes written (%b of the combined format)
  std::string_view requestId;
  std::string_view referer;
  std::string_view userAgent;
  std::string_view route;     ///< the matched route's prefix
  std::string_view upstream;  ///< upstream name, empty for static/none
  std::string_view server;    ///< upstream server that answered, empty when none did
  uint32_t tries = 0;         ///< upstream sends
  int64_t receiveUs = -1;     ///< first byte -> request complete
  int64_t queueUs = -1;       ///< waiting for a worker slot
  int64_t upstreamUs = -1;    ///< sent upstream -> response complete
  int64_t sendUs = -1;        ///< first response byte written -> last byte taken
  int64_t totalUs = -1;       ///< first byte -> last response byte
};

enum class AccessLogFormat { Combined, Json };

/// Parses "combined" | "json".
bool parseAccessLogFormat(std::string_view text, AccessLogFormat& out);

/// One line without its newline. Combined: Apache's combined format followed by
/// key=value fields (rid, in, out, route, upstream, server, tries, receive_us,
/// queue_us, upstream_us, send_us, total_us; "-" when absent).
std::string formatCombined(const RequestRecord& r);
/// One JSON object; strings escaped so the line is always valid JSON.
std::string formatJson(const RequestRecord& r);

class AccessLogWriter {
 public:
  explicit AccessLogWriter(size_t maxPendingBytes = 8u << 20);
  ~AccessLogWriter();  ///< writes what is pending, then stops the thread
  AccessLogWriter(const AccessLogWriter&) = delete;
  AccessLogWriter& operator=(const AccessLogWriter&) = delete;

  /// Opens `path` (append, created 0640) on the calling thread so the caller sees the
  /// error, and starts the writer thread. Empty string on success.
  std::string open(const std::string& path);
  /// Reopens the file on the writer thread (SIGUSR1 after logrotate, or a new path).
  void reopen(const std::string& path);
  /// Queues one line (a newline is added). Never blocks on the disk.
  void append(std::string_view line);

  uint64_t dropped() const;
  uint64_t written() const;  ///< lines handed to write(2)
  uint64_t writeErrors() const;
  /// Blocks until every line queued so far was written (tests).
  void flush();

 private:
  void run();
  static int openFile(const std::string& path, std::string& error);

  const size_t maxPending_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::string pending_;
  bool stop_ = false;
  bool reopenWanted_ = false;
  bool writing_ = false;
  std::string path_;
  int fd_ = -1;
  uint64_t dropped_ = 0;
  uint64_t written_ = 0;
  uint64_t pendingLines_ = 0;
  uint64_t writeErrors_ = 0;
  std::thread thread_;
};

}  // namespace doorman::ops
