#pragma once
// YAML -> Config. Strict: unknown keys (with "did you mean"), wrong types, sizes and
// durations that do not parse, out-of-range values and dangling references (a route
// naming a missing upstream) are all errors. Every error is collected, not just the
// first, each pointing at its YAML node.

#include <string>
#include <vector>

#include "doorman/config/Config.hpp"

namespace doorman::config {

struct ConfigError {
  std::string file;
  int line = 0;         ///< 1-based
  int column = 0;       ///< 1-based
  std::string keyPath;  ///< "upstreams.app.servers[0].workers"
  std::string message;

  /// "file:line:column: key.path: message"
  std::string toString() const;
};

struct LoadResult {
  Config config;                    ///< valid only when errors is empty
  std::vector<ConfigError> errors;  ///< empty on success
  bool ok() const noexcept { return errors.empty(); }
};

/// Reads and validates a file. A missing or unreadable file is one error at line 0.
LoadResult loadConfigFile(const std::string& path);
/// Same from text (tests); `name` is used as the file name in errors.
LoadResult loadConfigString(const std::string& yaml, const std::string& name = "<string>");

/// Parses an address ("host:port", "[::1]:port", "unix:/path"); empty string on success,
/// else the reason.
std::string parseAddress(const std::string& text, Address& out);

/// The effective config as YAML (for `doorman -t --dump-config`).
std::string dumpConfig(const Config& config);

}  // namespace doorman::config
