#include "doorman/core/Log.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>

namespace doorman::core {
namespace {

LogLevel gLevel = LogLevel::Info;
FILE* gOut = nullptr;  // nullptr: stderr

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
    case LogLevel::Off:
      break;
  }
  return "off";
}

}  // namespace

const char* doingText(Doing doing) noexcept {
  switch (doing) {
    case Doing::Processing:
      return "processing request";
    case Doing::WaitingForRequest:
      return "waiting for request";
    case Doing::KeepAlive:
      return "waiting for the next request (keep-alive)";
    case Doing::ReadingRequestHead:
      return "reading client request headers";
    case Doing::ReadingRequestBody:
      return "reading client request body";
    case Doing::WaitingInQueue:
      return "waiting in queue for a worker";
    case Doing::ConnectingToUpstream:
      return "connecting to upstream";
    case Doing::SendingRequest:
      return "sending request to upstream";
    case Doing::ReadingResponseHead:
      return "reading response header from upstream";
    case Doing::ReadingResponseBody:
      return "reading response body from upstream";
    case Doing::ReadingFile:
      return "reading a static file";
    case Doing::SendingResponse:
      return "sending response to client";
    case Doing::Closing:
      return "closing the connection";
  }
  return "processing request";
}

void Log::vappend(std::string& out, const char* fmt, va_list args) {
  char buf[1024];
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(buf, sizeof buf, fmt, copy);
  va_end(copy);
  if (n < 0) {
    return;
  }
  if (static_cast<size_t>(n) < sizeof buf) {
    out.append(buf, static_cast<size_t>(n));
    return;
  }
  size_t at = out.size();
  out.resize(at + static_cast<size_t>(n) + 1);
  std::vsnprintf(out.data() + at, static_cast<size_t>(n) + 1, fmt, args);
  out.resize(at + static_cast<size_t>(n));
}

void Log::append(std::string& out, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vappend(out, fmt, args);
  va_end(args);
}

bool parseLogLevel(std::string_view text, LogLevel& out) {
  static constexpr std::pair<std::string_view, LogLevel> kNames[] = {{"debug", LogLevel::Debug},
                                                                     {"info", LogLevel::Info},
                                                                     {"warn", LogLevel::Warn},
                                                                     {"error", LogLevel::Error},
                                                                     {"off", LogLevel::Off}};
  for (const auto& [name, level] : kNames) {
    if (name == text) {
      out = level;
      return true;
    }
  }
  return false;
}

void Log::setLevel(LogLevel level) noexcept { gLevel = level; }
LogLevel Log::level() noexcept { return gLevel; }

bool Log::setPath(const char* path) {
  if (path == nullptr || *path == '\0') {
    if (gOut != nullptr) {
      std::fclose(gOut);
    }
    gOut = nullptr;
    return true;
  }
  FILE* f = std::fopen(path, "ae");
  if (f == nullptr) {
    return false;
  }
  setvbuf(f, nullptr, _IOLBF, 0);
  if (gOut != nullptr) {
    std::fclose(gOut);
  }
  gOut = f;
  return true;
}

void Log::write(LogLevel level, const char* fmt, ...) {
  // The error log is rare and line-buffered; a short blocking write is acceptable here
  // (the access log, which is per request, must not block: see its own writer).
  char line[2048];
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm parts{};
  gmtime_r(&tv.tv_sec, &parts);
  int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s ",
                        parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                        parts.tm_min, parts.tm_sec, static_cast<int>(tv.tv_usec / 1000),
                        levelName(level));
  va_list args;
  va_start(args, fmt);
  int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, args);
  va_end(args);
  size_t len = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m));
  if (len > sizeof line - 2) {
    len = sizeof line - 2;
  }
  line[len++] = '\n';
  FILE* out = gOut != nullptr ? gOut : stderr;
  std::fwrite(line, 1, len, out);
  std::fflush(out);
}

}  // namespace doorman::core
