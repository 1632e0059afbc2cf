#include "doorman/static/Encoding.hpp"

namespace doorman::statics {
namespace {

constexpr int kUnset = -1;

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool equalsLower(std::string_view text, std::string_view lower) noexcept {
  if (text.size() != lower.size()) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != lower[i]) {
      return false;
    }
  }
  return true;
}

/// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 when
/// malformed.
int parseQvalue(std::string_view q) noexcept {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) {
    return kUnset;
  }
  int value = (q[0] - '0') * 1000;
  std::string_view fraction = q.substr(1);  // "" or "." 0*3DIGIT
  if (fraction.empty()) {
    return value;
  }
  if (fraction[0] != '.' || fraction.size() > 4) {
    return kUnset;
  }
  int scale = 100;
  for (size_t i = 1; i < fraction.size(); ++i, scale /= 10) {
    if (fraction[i] < '0' || fraction[i] > '9') {
      return kUnset;
    }
    value += (fraction[i] - '0') * scale;
  }
  return value > 1000 ? kUnset : value;
}

/// The weight of one list element ("gzip;q=0.5"): 1000 without parameters, -1 when the
/// weight is malformed (the element is then skipped).
int weightOf(std::string_view params) noexcept {
  int weight = 1000;
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = trimOws(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    if (equalsLower(trimOws(param.substr(0, eq)), "q")) {
      weight = parseQvalue(trimOws(param.substr(eq + 1)));
    }
  }
  return weight;
}

}  // namespace

std::string_view codingName(Coding coding) noexcept {
  switch (coding) {
    case Coding::Br:
      return "br";
    case Coding::Gzip:
      return "gzip";
    case Coding::Identity:
      break;
  }
  return {};
}

std::string_view codingSuffix(Coding coding) noexcept {
  switch (coding) {
    case Coding::Br:
      return ".br";
    case Coding::Gzip:
      return ".gz";
    case Coding::Identity:
      break;
  }
  return {};
}

CodingPreference preferredCodings(std::string_view acceptEncoding) noexcept {
  int br = kUnset;
  int gzip = kUnset;
  int identity = kUnset;
  int star = kUnset;
  while (!acceptEncoding.empty()) {
    size_t comma = acceptEncoding.find(',');
    std::string_view element = acceptEncoding.substr(0, comma);
    acceptEncoding =
        comma == std::string_view::npos ? std::string_view() : acceptEncoding.substr(comma + 1);
    size_t semi = element.find(';');
    std::string_view name = trimOws(element.substr(0, semi));
    int weight = semi == std::string_view::npos ? 1000 : weightOf(element.substr(semi + 1));
    if (name.empty() || weight < 0) {
      continue;
    }
    if (equalsLower(name, "br")) {
      br = weight;
    } else if (equalsLower(name, "gzip") || equalsLower(name, "x-gzip")) {
      gzip = weight;
    } else if (equalsLower(name, "identity")) {
      identity = weight;
    } else if (name == "*") {
      star = weight;
    }
  }
  if (br == kUnset) {
    br = star == kUnset ? 0 : star;
  }
  if (gzip == kUnset) {
    gzip = star == kUnset ? 0 : star;
  }
  CodingPreference out;
  auto acceptable = [&](int weight) {
    return weight > 0 && (identity == kUnset || weight >= identity);
  };
  if (acceptable(br) && (!acceptable(gzip) || br >= gzip)) {
    out.order[out.count++] = Coding::Br;
    if (acceptable(gzip)) {
      out.order[out.count++] = Coding::Gzip;
    }
  } else if (acceptable(gzip)) {
    out.order[out.count++] = Coding::Gzip;
    if (acceptable(br)) {
      out.order[out.count++] = Coding::Br;
    }
  }
  return out;
}

}  // namespace doorman::statics
