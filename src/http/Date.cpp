// IMF-fixdate (RFC 9110 5.6.7) without the C locale: strftime's %a/%b would follow
// LC_TIME, and the day and month names of HTTP are fixed English abbreviations.

#include <ctime>

#include "doorman/http/Serializer.hpp"

namespace doorman::http {

namespace {

constexpr const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void appendTwoDigits(std::string& out, int value) {
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

}  // namespace

std::string formatHttpDate(int64_t unixSeconds) {
  const auto seconds = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
    return "Thu, 01 Jan 1970 00:00:00 GMT";  // outside what the format can say
  }
  std::string out;
  out.reserve(29);
  out.append(kDays[tm.tm_wday], 3);
  out += ", ";
  appendTwoDigits(out, tm.tm_mday);
  out += ' ';
  out.append(kMonths[tm.tm_mon], 3);
  out += ' ';
  const int year = tm.tm_year + 1900;
  appendTwoDigits(out, year / 100);
  appendTwoDigits(out, year % 100);
  out += ' ';
  appendTwoDigits(out, tm.tm_hour);
  out += ':';
  appendTwoDigits(out, tm.tm_min);
  out += ':';
  appendTwoDigits(out, tm.tm_sec);
  out += " GMT";
  return out;
}

}  // namespace doorman::http
