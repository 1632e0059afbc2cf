#include "doorman/static/Validators.hpp"

#include <array>
#include <cstdio>

namespace doorman::statics {
namespace {

std::string_view skipOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

/// Parses one entity-tag at the start of `s` (RFC 9110 8.8.3); advances `s` past it.
bool takeEntityTag(std::string_view& s, std::string_view& tag) noexcept {
  std::string_view start = s;
  if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
    s.remove_prefix(2);
  }
  if (s.empty() || s.front() != '"') {
    return false;
  }
  size_t close = s.find('"', 1);
  if (close == std::string_view::npos) {
    return false;
  }
  for (size_t i = 1; i < close; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c == 0x7F) {
      return false;  // etagc = %x21 / %x23-7E / obs-text
    }
  }
  s.remove_prefix(close + 1);
  tag = start.substr(0, start.size() - s.size());
  return true;
}

std::string_view opaque(std::string_view tag) noexcept {
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') {
    tag.remove_prefix(2);
  }
  return tag;
}

// --- HTTP-date -------------------------------------------------------------------

constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};

struct Civil {
  int year = 0;
  int month = 0;  ///< 1..12
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

/// Reads exactly `n` digits.
bool takeNumber(std::string_view& s, size_t n, int& out) noexcept {
  if (s.size() < n) {
    return false;
  }
  int value = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    value = value * 10 + (s[i] - '0');
  }
  out = value;
  s.remove_prefix(n);
  return true;
}

bool takeLiteral(std::string_view& s, std::string_view literal) noexcept {
  if (s.substr(0, literal.size()) != literal) {
    return false;
  }
  s.remove_prefix(literal.size());
  return true;
}

template <size_t N>
bool takeName(std::string_view& s, const std::array<std::string_view, N>& names, int* index) {
  for (size_t i = 0; i < N; ++i) {
    if (takeLiteral(s, names[i])) {
      if (index != nullptr) {
        *index = static_cast<int>(i);
      }
      return true;
    }
  }
  return false;
}

bool takeTime(std::string_view& s, Civil& c) noexcept {
  return takeNumber(s, 2, c.hour) && takeLiteral(s, ":") && takeNumber(s, 2, c.minute) &&
         takeLiteral(s, ":") && takeNumber(s, 2, c.second);
}

bool takeMonth(std::string_view& s, Civil& c) noexcept {
  int month = 0;
  if (!takeName(s, kMonths, &month)) {
    return false;
  }
  c.month = month + 1;
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool parseImfFixdate(std::string_view s, Civil& c) noexcept {
  return takeName(s, kDays, nullptr) && takeLiteral(s, ", ") && takeNumber(s, 2, c.day) &&
         takeLiteral(s, " ") && takeMonth(s, c) && takeLiteral(s, " ") &&
         takeNumber(s, 4, c.year) && takeLiteral(s, " ") && takeTime(s, c) &&
         takeLiteral(s, " GMT") && s.empty();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
bool parseRfc850(std::string_view s, Civil& c) noexcept {
  int yy = 0;
  if (!(takeName(s, kLongDays, nullptr) && takeLiteral(s, ", ") && takeNumber(s, 2, c.day) &&
        takeLiteral(s, "-") && takeMonth(s, c) && takeLiteral(s, "-") && takeNumber(s, 2, yy) &&
        takeLiteral(s, " ") && takeTime(s, c) && takeLiteral(s, " GMT") && s.empty())) {
    return false;
  }
  // RFC 9110 5.6.7 asks for "not more than 50 years in the future"; a fixed pivot is
  // close enough for a form no current client sends.
  c.year = yy < 70 ? 2000 + yy : 1900 + yy;
  return true;
}

// "Sun Nov  6 08:49:37 1994"
bool parseAsctime(std::string_view s, Civil& c) noexcept {
  if (!(takeName(s, kDays, nullptr) && takeLiteral(s, " ") && takeMonth(s, c) &&
        takeLiteral(s, " "))) {
    return false;
  }
  if (takeLiteral(s, " ")) {
    if (!takeNumber(s, 1, c.day)) {
      return false;
    }
  } else if (!takeNumber(s, 2, c.day)) {
    return false;
  }
  return takeLiteral(s, " ") && takeTime(s, c) && takeLiteral(s, " ") && takeNumber(s, 4, c.year) &&
         s.empty();
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool isLeap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool valid(const Civil& c) noexcept {
  static constexpr std::array<int, 12> kMonthDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > kMonthDays[c.month - 1]) {
    return false;
  }
  if (c.month == 2 && c.day == 29 && !isLeap(c.year)) {
    return false;
  }
  return c.hour < 24 && c.minute < 60 && c.second <= 60;  // 60: a leap second
}

}  // namespace

std::string makeEtag(int64_t mtimeSeconds, uint64_t size, std::string_view coding) {
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "\"%llx-%llx%s%.*s\"",
                        static_cast<unsigned long long>(mtimeSeconds),
                        static_cast<unsigned long long>(size), coding.empty() ? "" : "-",
                        static_cast<int>(coding.size() > 16 ? 16 : coding.size()), coding.data());
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

namespace {

/// Walks an entity-tag list ("*" handled by the callers); true when `matches` accepts a tag.
template <typename Match>
bool listHas(std::string_view s, Match matches) noexcept {
  while (true) {
    s = skipOws(s);
    while (!s.empty() && s.front() == ',') {
      s = skipOws(s.substr(1));  // empty list elements (RFC 9110 5.6.1)
    }
    if (s.empty()) {
      return false;
    }
    std::string_view tag;
    if (!takeEntityTag(s, tag)) {
      return false;
    }
    if (matches(tag)) {
      return true;
    }
    s = skipOws(s);
    if (!s.empty() && s.front() != ',') {
      return false;
    }
  }
}

bool isStar(std::string_view s) noexcept {
  s = skipOws(s);
  return s.substr(0, 1) == "*" && skipOws(s.substr(1)).empty();
}

}  // namespace

bool ifNoneMatchHits(std::string_view fieldValue, std::string_view etag) noexcept {
  if (isStar(fieldValue)) {
    return true;
  }
  std::string_view wanted = opaque(etag);
  return listHas(fieldValue, [&](std::string_view tag) { return opaque(tag) == wanted; });
}

bool ifMatchHits(std::string_view fieldValue, std::string_view etag) noexcept {
  if (isStar(fieldValue)) {
    return true;
  }
  return listHas(fieldValue, [&](std::string_view tag) { return strongEtagMatch(tag, etag); });
}

bool strongEtagMatch(std::string_view a, std::string_view b) noexcept {
  if (a.substr(0, 2) == "W/" || b.substr(0, 2) == "W/") {
    return false;
  }
  return a.size() >= 2 && a.front() == '"' && a.back() == '"' && a == b;
}

bool looksLikeEtag(std::string_view value) noexcept {
  value = skipOws(value);
  return value.substr(0, 1) == "\"" || value.substr(0, 2) == "W/";
}

std::optional<int64_t> parseHttpDate(std::string_view text) noexcept {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  text = skipOws(text);
  Civil c;
  if (!parseImfFixdate(text, c)) {
    c = Civil{};
    if (!parseRfc850(text, c)) {
      c = Civil{};
      if (!parseAsctime(text, c)) {
        return std::nullopt;
      }
    }
  }
  if (!valid(c)) {
    return std::nullopt;
  }
  int64_t days = daysFromCivil(c.year, c.month, c.day);
  return days * 86400 + int64_t{c.hour} * 3600 + int64_t{c.minute} * 60 + c.second;
}

}  // namespace doorman::statics
