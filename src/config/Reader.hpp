#pragma once
// Private to the config module: the small vocabulary every section reader is written in.
// A reader never throws and never stops at the first problem: it reports to the Context
// (which remembers file, line, column and key path) and leaves its output at the default.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "doorman/config/Config.hpp"
#include "doorman/config/Loader.hpp"

namespace doorman::config::detail {

/// One value of the document and how to name it in errors.
struct Value {
  YAML::Node node;
  YAML::Mark mark;   ///< where to point: the value, or its key when the value is empty
  std::string path;  ///< "upstreams.app.servers[0].workers"; "" for the document root
};

/// Collects errors and remembers where each key was written, so that checks which
/// run after reading (a route naming a missing upstream) can still point at a node.
class Context {
 public:
  /// `baseDir`: the directory of the config file, absolute; empty when loaded from text.
  Context(std::string file, std::string baseDir)
      : file_(std::move(file)), baseDir_(std::move(baseDir)) {}

  void error(const YAML::Mark& mark, const std::string& path, std::string message);
  void error(const Value& where, std::string message) {
    error(where.mark, where.path, std::move(message));
  }

  /// Counts `path` as failed without a message of its own: a misspelt key stands for the
  /// key it resembles, so that key is not reported missing as well.
  void markFailed(const std::string& path) { failedPaths_.push_back(path); }

  void remember(const Value& value) { marks_[value.path] = value.mark; }
  /// Where `path` was written; the nearest remembered ancestor when it was not.
  YAML::Mark markOf(const std::string& path) const;
  /// True when an error was reported at `path` or inside it.
  bool failed(const std::string& path) const;
  /// True when an error was reported at exactly `path`.
  bool failedAt(const std::string& path) const;

  const std::string& file() const { return file_; }
  const std::string& baseDir() const { return baseDir_; }
  std::vector<ConfigError> takeErrors() { return std::move(errors_); }

 private:
  std::string file_;
  std::string baseDir_;
  std::vector<ConfigError> errors_;
  std::map<std::string, YAML::Mark> marks_;
  std::vector<std::string> failedPaths_;
};

/// A known key of a map and what to do with its value.
struct Field {
  std::string_view name;
  std::function<void(const Value&)> read;
};

/// Reads a map key by key (an empty value counts as an empty map). Unknown keys (with a
/// "did you mean"), duplicate keys and non-string keys are errors. False if not a map.
bool readMap(Context& ctx, const Value& map, std::initializer_list<Field> fields);

/// A map whose keys are names chosen by the user (upstreams). `read` gets the name, the
/// key's mark and the value; duplicate names are errors.
using NamedReader =
    std::function<void(const std::string& name, const YAML::Mark& keyMark, const Value& value)>;
bool readNamedMap(Context& ctx, const Value& map, const NamedReader& read);

/// A list: `read` gets each item with its path "path[i]". False if not a list.
bool readList(Context& ctx, const Value& list, const std::function<void(const Value&)>& read);

// Scalars. Each reports its own error and leaves `out` untouched when the value is bad.
bool readString(Context& ctx, const Value& v, std::string& out);
bool readBool(Context& ctx, const Value& v, bool& out);
bool readUint(Context& ctx, const Value& v, uint64_t min, uint64_t max, uint64_t& out);
bool readUint32(Context& ctx, const Value& v, uint32_t min, uint32_t max, uint32_t& out);
/// A size ("64KiB", "10MB", or plain bytes) of at least `min` bytes.
bool readSize(Context& ctx, const Value& v, uint64_t min, uint64_t& out);
/// A duration with a unit ("500ms", "1m30s") of at least `min`.
bool readDuration(Context& ctx, const Value& v, Millis min, Millis& out);
bool readAddress(Context& ctx, const Value& v, Address& out);
/// A string that starts with '/'.
bool readAbsolutePath(Context& ctx, const Value& v, std::string& out);
/// One of a fixed set of words ("combined" or "json"), exactly as listed.
bool readChoice(Context& ctx, const Value& v, const std::vector<std::string>& choices,
                std::string& out);

/// The entry `key` of `parent`, for a reader that handles a child by hand.
Value child(const Value& parent, const YAML::Node& node, const YAML::Mark& keyMark,
            std::string_view key);

/// "a map", "a list", "nothing", "'abc'": what was found instead of what was expected.
std::string describe(const YAML::Node& node);

/// The closest candidate (edit distance <= 2, or equal ignoring case), or "" if none.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b and c" (or "a, b or c")
std::string joinNames(const std::vector<std::string>& names, std::string_view lastJoin = "and");

}  // namespace doorman::config::detail
