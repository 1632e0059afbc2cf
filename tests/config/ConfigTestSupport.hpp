#pragma once
// Helpers shared by the config tests: YAML written inline, loaded under a fixed name.

#include <string>
#include <string_view>

#include "doorman/config/Loader.hpp"

namespace doorman::config::test {

inline constexpr const char* kFileName = "doorman.yaml";

/// Raw string literals start with a newline for readability; line 1 is the line after it.
inline std::string yamlText(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

inline LoadResult load(std::string_view text) {
  return loadConfigString(yamlText(text), kFileName);
}

/// Every error, one a line, for assertion messages.
inline std::string errorsOf(const LoadResult& result) {
  std::string out;
  for (const ConfigError& e : result.errors) out += e.toString() + "\n";
  return out;
}

/// The smallest valid file; tests append to it or replace parts of it.
inline constexpr std::string_view kMinimal = R"(
listen: "127.0.0.1:0"
upstreams:
  app:
    servers: [{address: "127.0.0.1:9000"}]
routes:
  - {prefix: /, upstream: app}
)";

}  // namespace doorman::config::test
