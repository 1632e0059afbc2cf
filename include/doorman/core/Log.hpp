#pragma once
// The error log: one line per event, `time level message`, to stderr by default (or
// log.path, reopened on SIGUSR1). A line about a client connection or an upstream
// exchange ends like nginx's: "<what happened> while <doing>, client: ADDR, conn: N,
// request: ID "METHOD TARGET HTTP/1.x", upstream: "NAME" SERVER". The macros below test
// the level first, so a filtered line costs one comparison and no formatting.

#include <cstdarg>
#include <cstdint>
#include <string>
#include <string_view>

namespace doorman::core {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

/// What a connection or an upstream exchange was doing when something happened: the
/// "while ..." of an error-log line. Derived from the state machines of
/// server::ClientConnection and upstream::UpstreamConnection, never stored beside them.
enum class Doing : uint8_t {
  Processing,            ///< between states (routing, answering at once)
  WaitingForRequest,     ///< a new connection, no byte yet
  KeepAlive,             ///< between two requests of a connection
  ReadingRequestHead,    ///< the client's request line and headers
  ReadingRequestBody,    ///< the client's body (also while it settles on disk)
  WaitingInQueue,        ///< the upstream's queue, for a worker slot
  ConnectingToUpstream,  ///< connect() to a server
  SendingRequest,        ///< writing the request to the worker
  ReadingResponseHead,   ///< waiting for / reading the response's status line and headers
  ReadingResponseBody,   ///< the response body from the worker
  ReadingFile,           ///< a static file (thread pool)
  SendingResponse,       ///< writing the response to the client
  Closing,               ///< after a Connection: close response (lingering)
};

/// "reading response header from upstream", ...
const char* doingText(Doing doing) noexcept;

/// Parses "debug|info|warn|error|off".
bool parseLogLevel(std::string_view text, LogLevel& out);

class Log {
 public:
  static void setLevel(LogLevel level) noexcept;
  static LogLevel level() noexcept;
  static bool enabled(LogLevel level) noexcept { return level >= Log::level(); }
  /// Redirects output to `path` (append); empty means stderr. False if it cannot open.
  static bool setPath(const char* path);
  static void write(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  /// Appends printf-style text to `out` (for lines built in pieces).
  static void append(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  static void vappend(std::string& out, const char* fmt, va_list args);
};

}  // namespace doorman::core

#define DM_LOG(lvl, ...)                                                        \
  do {                                                                          \
    if (::doorman::core::Log::enabled(::doorman::core::LogLevel::lvl)) {        \
      ::doorman::core::Log::write(::doorman::core::LogLevel::lvl, __VA_ARGS__); \
    }                                                                           \
  } while (0)
#define LOG_DEBUG(...) DM_LOG(Debug, __VA_ARGS__)
#define LOG_INFO(...) DM_LOG(Info, __VA_ARGS__)
#define LOG_WARN(...) DM_LOG(Warn, __VA_ARGS__)
#define LOG_ERROR(...) DM_LOG(Error, __VA_ARGS__)
