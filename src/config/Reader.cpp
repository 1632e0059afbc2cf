#include "Reader.hpp"

#include <algorithm>
#include <limits>

#include "doorman/core/Units.hpp"

namespace doorman::config::detail {
namespace {

std::string joinPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path = parent;
  path += '.';
  path += key;
  return path;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// "must be at least 1", "must be between 1 and 100000"
std::string rangeText(uint64_t min, uint64_t max) {
  if (max == std::numeric_limits<uint64_t>::max()) {
    return min == 1 ? "must be greater than 0" : "must be at least " + std::to_string(min);
  }
  return "must be between " + std::to_string(min) + " and " + std::to_string(max);
}

/// The scalar text of `v`, or an error naming what was expected instead.
const std::string* scalarOf(Context& ctx, const Value& v, std::string_view expected) {
  if (v.node.IsScalar()) return &v.node.Scalar();
  ctx.error(v, "expected " + std::string(expected) + ", got " + describe(v.node));
  return nullptr;
}

}  // namespace

void Context::error(const YAML::Mark& mark, const std::string& path, std::string message) {
  ConfigError e;
  e.file = file_;
  // yaml-cpp counts from 0 and uses -1 for "no position"; errors count from 1, 0 = unknown.
  e.line = mark.line >= 0 ? mark.line + 1 : 0;
  e.column = mark.line >= 0 ? mark.column + 1 : 0;
  e.keyPath = path;
  e.message = std::move(message);
  errors_.push_back(std::move(e));
  failedPaths_.push_back(path);
}

YAML::Mark Context::markOf(const std::string& path) const {
  std::string p = path;
  for (;;) {
    if (auto it = marks_.find(p); it != marks_.end()) return it->second;
    if (p.empty()) return YAML::Mark::null_mark();
    const size_t cut = p.find_last_of(".[");
    p.resize(cut == std::string::npos ? 0 : cut);
  }
}

bool Context::failed(const std::string& path) const {
  return std::any_of(failedPaths_.begin(), failedPaths_.end(), [&](const std::string& f) {
    if (path.empty() || f == path) return true;
    return f.size() > path.size() && f.compare(0, path.size(), path) == 0 &&
           (f[path.size()] == '.' || f[path.size()] == '[');
  });
}

bool Context::failedAt(const std::string& path) const {
  return std::find(failedPaths_.begin(), failedPaths_.end(), path) != failedPaths_.end();
}

Value child(const Value& parent, const YAML::Node& node, const YAML::Mark& keyMark,
            std::string_view key) {
  // yaml-cpp puts an empty value's mark on the token after it (often the next line):
  // point at the key instead.
  return Value{node, node.IsNull() ? keyMark : node.Mark(), joinPath(parent.path, key)};
}

bool readMap(Context& ctx, const Value& map, std::initializer_list<Field> fields) {
  ctx.remember(map);
  if (map.node.IsNull()) return true;
  if (!map.node.IsMap()) {
    ctx.error(map, "expected a map of settings, got " + describe(map.node));
    return false;
  }
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` yields a temporary
    if (!key.IsScalar()) {
      ctx.error(key.Mark(), map.path, "expected a key name, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string path = joinPath(map.path, name);
    if (auto [first, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      ctx.error(key.Mark(), path,
                "duplicate key '" + name + "' (first at line " +
                    std::to_string(first->second.line + 1) + ")");
      continue;
    }
    const Field* field = nullptr;
    for (const Field& f : fields) {
      if (f.name == name) field = &f;
    }
    if (field == nullptr) {
      std::vector<std::string> known;
      for (const Field& f : fields) known.emplace_back(f.name);
      const std::string guess = closestMatch(name, known);
      if (!guess.empty()) ctx.markFailed(joinPath(map.path, guess));
      ctx.error(key.Mark(), path,
                "unknown key '" + name + "'" +
                    (guess.empty() ? "; expected " + joinNames(known, "or")
                                   : "; did you mean '" + guess + "'?"));
      continue;
    }
    const Value value = child(map, it->second, key.Mark(), name);
    ctx.remember(value);
    field->read(value);
  }
  return true;
}

bool readNamedMap(Context& ctx, const Value& map, const NamedReader& read) {
  ctx.remember(map);
  if (map.node.IsNull()) return true;
  if (!map.node.IsMap()) {
    ctx.error(map, "expected a map of names, got " + describe(map.node));
    return false;
  }
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` yields a temporary
    if (!key.IsScalar()) {
      ctx.error(key.Mark(), map.path, "expected a name, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (auto [first, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      ctx.error(key.Mark(), joinPath(map.path, name),
                "duplicate name '" + name + "' (first at line " +
                    std::to_string(first->second.line + 1) + ")");
      continue;
    }
    const Value value = child(map, it->second, key.Mark(), name);
    ctx.remember(value);
    read(name, key.Mark(), value);
  }
  return true;
}

bool readList(Context& ctx, const Value& list, const std::function<void(const Value&)>& read) {
  ctx.remember(list);
  if (!list.node.IsSequence()) {
    ctx.error(list, "expected a list, got " + describe(list.node));
    return false;
  }
  for (size_t i = 0; i < list.node.size(); ++i) {
    const YAML::Node item = list.node[i];
    const Value value{item, item.IsNull() ? list.mark : item.Mark(),
                      list.path + "[" + std::to_string(i) + "]"};
    ctx.remember(value);
    read(value);
  }
  return true;
}

bool readString(Context& ctx, const Value& v, std::string& out) {
  const std::string* text = scalarOf(ctx, v, "a string");
  if (text == nullptr) return false;
  out = *text;
  return true;
}

bool readBool(Context& ctx, const Value& v, bool& out) {
  const std::string* text = scalarOf(ctx, v, "true or false");
  if (text == nullptr) return false;
  // YAML 1.1's spellings, as yaml-cpp itself accepts them.
  const std::string word = toLower(*text);
  if (word == "true" || word == "yes" || word == "on") {
    out = true;
    return true;
  }
  if (word == "false" || word == "no" || word == "off") {
    out = false;
    return true;
  }
  ctx.error(v, "expected true or false, got '" + *text + "'");
  return false;
}

bool readUint(Context& ctx, const Value& v, uint64_t min, uint64_t max, uint64_t& out) {
  const std::string* text = scalarOf(ctx, v, "a whole number");
  if (text == nullptr) return false;
  // Digits only (no unit, sign or exponent); parseSize does the overflow-checked conversion.
  const std::optional<uint64_t> number = allDigits(*text) ? core::parseSize(*text) : std::nullopt;
  if (!number) {
    const bool negative = text->size() > 1 && text->front() == '-' && allDigits(text->substr(1));
    if (negative) {
      ctx.error(v, rangeText(min, max) + ", got " + *text);
    } else if (allDigits(*text)) {
      ctx.error(v, "must be at most " + std::to_string(max) + ", got " + *text);
    } else {
      ctx.error(v, "expected a whole number, got '" + *text + "'");
    }
    return false;
  }
  if (*number < min || *number > max) {
    ctx.error(v, rangeText(min, max) + ", got " + *text);
    return false;
  }
  out = *number;
  return true;
}

bool readUint32(Context& ctx, const Value& v, uint32_t min, uint32_t max, uint32_t& out) {
  uint64_t wide = 0;
  if (!readUint(ctx, v, min, max, wide)) return false;
  out = static_cast<uint32_t>(wide);
  return true;
}

bool readSize(Context& ctx, const Value& v, uint64_t min, uint64_t& out) {
  const std::string* text = scalarOf(ctx, v, "a size like 64KiB or 10MB");
  if (text == nullptr) return false;
  const std::optional<uint64_t> bytes = core::parseSize(*text);
  if (!bytes) {
    ctx.error(v, "expected a size like 64KiB, 10MB or a number of bytes, got '" + *text + "'");
    return false;
  }
  if (*bytes < min) {
    ctx.error(v, rangeText(min, std::numeric_limits<uint64_t>::max()) + ", got " + *text);
    return false;
  }
  out = *bytes;
  return true;
}

bool readDuration(Context& ctx, const Value& v, Millis min, Millis& out) {
  const std::string* text = scalarOf(ctx, v, "a duration like 500ms or 30s");
  if (text == nullptr) return false;
  const std::optional<Millis> duration = core::parseDuration(*text);
  if (!duration) {
    if (allDigits(*text)) {
      ctx.error(v, "a duration needs a unit (us, ms, s, m, h, d), e.g. " + *text + "s, got '" +
                       *text + "'");
    } else {
      ctx.error(v, "expected a duration like 500ms or 30s, got '" + *text + "'");
    }
    return false;
  }
  if (*duration < min) {
    ctx.error(v, min == Millis{1}
                     ? "must be longer than 0, got " + *text
                     : "must be at least " + core::formatDuration(min) + ", got " + *text);
    return false;
  }
  out = *duration;
  return true;
}

bool readAddress(Context& ctx, const Value& v, Address& out) {
  const std::string* text =
      scalarOf(ctx, v, "an address like 127.0.0.1:8080, [::1]:8080 or unix:/path");
  if (text == nullptr) return false;
  Address parsed;
  const std::string reason = parseAddress(*text, parsed);
  if (!reason.empty()) {
    ctx.error(v, "expected an address like 127.0.0.1:8080, [::1]:8080 or unix:/path (" + reason +
                     "), got '" + *text + "'");
    return false;
  }
  out = std::move(parsed);
  return true;
}

bool readAbsolutePath(Context& ctx, const Value& v, std::string& out) {
  const std::string* text = scalarOf(ctx, v, "an absolute path");
  if (text == nullptr) return false;
  if (!text->starts_with('/')) {
    ctx.error(v, "expected an absolute path, got '" + *text + "'");
    return false;
  }
  out = *text;
  return true;
}

bool readChoice(Context& ctx, const Value& v, const std::vector<std::string>& choices,
                std::string& out) {
  const std::string* text = scalarOf(ctx, v, "one of " + joinNames(choices, "or"));
  if (text == nullptr) return false;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) {
    out = *text;
    return true;
  }
  const std::string guess = closestMatch(*text, choices);
  ctx.error(v, "expected " + joinNames(choices, "or") + ", got '" + *text + "'" +
                   (guess.empty() ? "" : "; did you mean '" + guess + "'?"));
  return false;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string lowered = toLower(word);
  std::string best;
  size_t bestDistance = 3;  // only suggest within an edit distance of 2
  for (const std::string& candidate : candidates) {
    const std::string other = toLower(candidate);
    if (other == lowered) return candidate;
    const size_t distance = editDistance(lowered, other);
    // A 2-letter key is 2 edits away from every other 2-letter key: not a useful guess.
    if (distance < bestDistance && distance < std::max(word.size(), candidate.size())) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

std::string joinNames(const std::vector<std::string>& names, std::string_view lastJoin) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " " + std::string(lastJoin) + " " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace doorman::config::detail
