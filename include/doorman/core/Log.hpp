#pragma once
// The error log: one line per event, `time level [id] message`, to stderr by default.

#include <cstdarg>
#include <string_view>

namespace doorman::core {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

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
