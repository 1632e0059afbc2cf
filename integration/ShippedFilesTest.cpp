// What the packages ship besides the binary stays true to it: every shipped configuration
// passes `doorman -t`, every option of `doorman --help` is in doorman(8) and every key of
// `doorman -t --dump-config` is in doorman.yaml(5) (docs/man/*.md, the man pages' source).

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness/IntegrationTest.hpp"
#include "harness/Process.hpp"

namespace doorman::it {
namespace {

using std::chrono::milliseconds;

std::string sourceFile(const std::string& relative) {
  return std::string(DOORMAN_SOURCE_DIR) + "/" + relative;
}

class ShippedFilesTest : public IntegrationTest {
 protected:
  /// doorman with `args`: its exit code (-1: did not exit) and stdout+stderr.
  int runDoorman(std::vector<std::string> args, std::string& output) {
    // DOORMAN_IT_BINARY: the same override as the harness's DoormanProcess.
    const char* override = std::getenv("DOORMAN_IT_BINARY");
    ProcessOptions options;
    options.name = "doorman";
    options.argv = {override != nullptr && *override != '\0' ? override : DOORMAN_BINARY};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.logPath = dir_.file("doorman-" + std::to_string(++runs_) + ".out");
    auto status = runToCompletion(options, milliseconds(30000), output);
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
  int runs_ = 0;

  void expectValid(const std::string& relative) {
    std::string output;
    EXPECT_EQ(runDoorman({"-t", "-c", sourceFile(relative)}, output), 0) << relative << "\n"
                                                                         << output;
  }
};

/// A key's value as written (quotes and a trailing "# comment" removed) and that comment.
struct KeyLine {
  std::string value;
  std::string comment;
};

/// Splits "  16KiB   # request line" into value "16KiB" and comment "request line".
KeyLine splitValue(const std::string& text, const std::string& lineComment) {
  KeyLine out;
  std::string value = text;
  const size_t hash = value.find(" #");
  if (hash != std::string::npos) value.resize(hash);
  const size_t first = value.find_first_not_of(' ');
  const size_t last = value.find_last_not_of(' ');
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  out.value = value;
  out.comment = lineComment;
  return out;
}

/// Key paths of block YAML (a `--dump-config` output, or the example configuration with
/// its commented-out keys uncommented), leaves only, with their values: "limits.header_bytes",
/// "upstreams.NAME.servers[].workers", "routes[].static.root". One-line flow maps
/// (`queue: {max: 1000, timeout: 30s}`) have their keys as leaves of the key they follow;
/// an upstream's own name becomes NAME, as in the man page. The first occurrence wins.
std::map<std::string, KeyLine> keyLines(const std::string& yaml) {
  static const std::regex keyLine(R"(^( *)(- )?([a-z_]+):(.*)$)");
  static const std::regex flowKey(R"((?:\{|, )([a-z_]+): ?([^,}]*))");
  std::map<std::string, KeyLine> paths;
  std::vector<std::pair<size_t, std::string>> stack;  // (indent of the key, path)
  std::istringstream lines(yaml);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t hash = line.find(" #");
    const std::string comment = hash == std::string::npos ? "" : line.substr(hash + 2);
    std::smatch m;
    const bool isItem = line.find_first_not_of(' ') != std::string::npos &&
                        line.compare(line.find_first_not_of(' '), 2, "- ") == 0;
    if (!std::regex_match(line, m, keyLine)) {
      // "  - value" (a list of scalars) or "  - {a: 1, b: 2}" (a list of flow maps).
      if (!isItem || stack.empty()) continue;
      const std::string rest = line.substr(line.find("- ") + 2);
      if (rest.starts_with("{")) {
        for (std::sregex_iterator it(rest.begin(), rest.end(), flowKey), end; it != end; ++it) {
          paths.emplace(stack.back().second + "[]." + (*it)[1].str(),
                        splitValue((*it)[2].str(), comment));
        }
      } else {
        paths.emplace(stack.back().second, splitValue(rest, comment));
      }
      continue;
    }
    const size_t indent = m[1].length() + (m[2].matched ? 2 : 0);
    if (m[2].matched) {
      // "- key: ..." starts a list item: the item (one column in from the dash) is the
      // parent of this key and of the keys below it, up to the next dash.
      const size_t dash = m[1].length();
      while (!stack.empty() && stack.back().first > dash) stack.pop_back();
      if (stack.empty()) continue;
      stack.emplace_back(dash + 1, stack.back().second + "[]");
    } else {
      while (!stack.empty() && stack.back().first >= indent) stack.pop_back();
    }
    const std::string parent = stack.empty() ? "" : stack.back().second;
    std::string key = m[3].str();
    if (parent == "upstreams") key = "NAME";
    const std::string path = parent.empty() ? key : parent + "." + key;
    const std::string value = m[4].str();
    const std::string bare = value.substr(0, value.find(" #"));
    if (bare.find_first_not_of(' ') == std::string::npos) {
      stack.emplace_back(indent, path);  // a block map or list follows
    } else if (bare.find('{') != std::string::npos) {
      for (std::sregex_iterator it(bare.begin(), bare.end(), flowKey), end; it != end; ++it) {
        paths.emplace(path + "." + (*it)[1].str(), splitValue((*it)[2].str(), comment));
      }
    } else {
      paths.emplace(path, splitValue(value, comment));
    }
  }
  return paths;
}

/// The dump without doorman's own message ("doorman: configuration ... is valid").
std::string dumpOnly(const std::string& output) {
  std::istringstream lines(output);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("doorman: ")) out += line + "\n";
  }
  return out;
}

std::set<std::string> dumpedKeyPaths(const std::string& dump) {
  std::set<std::string> keys;
  for (const auto& [key, line] : keyLines(dumpOnly(dump))) keys.insert(key);
  return keys;
}

/// "60s" and "1m" alike: a duration in milliseconds; anything else as it is.
std::string normalized(const std::string& value) {
  static const std::regex duration(R"(^(\d+)(ms|s|m|h|d)$)");
  std::smatch m;
  if (!std::regex_match(value, m, duration)) return value;
  const std::string unit = m[2].str();
  const uint64_t scale = unit == "ms"  ? 1
                         : unit == "s" ? 1000
                         : unit == "m" ? 60000
                         : unit == "h" ? 3600000
                                       : 86400000;
  return std::to_string(std::stoull(m[1].str()) * scale) + "ms";
}

/// The example configuration with its commented-out keys ("# key: value", "#   key:")
/// turned into YAML, marked "# commented-out"; prose comments stay comments.
std::string uncommentKeys(const std::string& text) {
  static const std::regex commentedKey(R"(^( *)# ?( *(- )?[a-z_]+:.*)$)");
  std::istringstream lines(text);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_match(line, commentedKey)) {
      out += std::regex_replace(line, commentedKey, "$1$2") + " # commented-out\n";
    } else {
      out += line + "\n";
    }
  }
  return out;
}

/// The configuration with every optional key set, so that --dump-config shows it.
const char* const kAllKeys = R"(listen: ["127.0.0.1:0"]
admin: { listen: "127.0.0.1:0" }
upstreams:
  app:
    servers: [{ address: "127.0.0.1:1", workers: 2 }]
    health_check: { path: /health }
routes:
  - { prefix: /, host: example.com, upstream: app, queue_timeout: 5s,
      static: { root: /srv, max_age: 1h } }
access_log: { path: /var/log/doorman/access.log }
log: { path: /var/log/doorman/error.log }
user: doorman
group: doorman
)";

TEST_F(ShippedFilesTest, ShippedConfigurationsAreValid) {
  expectValid("packaging/common/doorman.yaml");
  expectValid("config/doorman.yaml");
  expectValid("config/examples/gunicorn.yaml");
  expectValid("config/examples/uwsgi.yaml");
}

/// The installed default differs from the demo where an operator expects it to: port 80,
/// gunicorn's socket, the static route commented out.
TEST_F(ShippedFilesTest, PackagedDefaultListensOnPort80InFrontOfGunicornsSocket) {
  std::string output;
  ASSERT_EQ(runDoorman({"-t", "--dump-config", "-c", sourceFile("packaging/common/doorman.yaml")},
                       output),
            0)
      << output;
  EXPECT_NE(output.find("listen:\n  - \"*:80\"\n"), std::string::npos) << output;
  EXPECT_NE(output.find("address: \"unix:/run/gunicorn/gunicorn.sock\""), std::string::npos)
      << output;
  EXPECT_EQ(output.find("static:"), std::string::npos) << output;
  EXPECT_NE(output.find("temp_dir: \"/var/lib/doorman/tmp\""), std::string::npos) << output;
}

TEST_F(ShippedFilesTest, ManPageDocumentsEveryCommandLineOption) {
  std::string help;
  ASSERT_EQ(runDoorman({"--help"}, help), 0) << help;
  const std::string page = readFile(sourceFile("docs/man/doorman.8.md"));
  ASSERT_FALSE(page.empty());
  static const std::regex option(R"((^|[\s\[,])(--?[a-z][a-z-]*))");
  std::set<std::string> options;
  for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it) {
    options.insert((*it)[2].str());
  }
  // The help text names at least -c/--config, -t/--test, --dump-config, -v, -h.
  EXPECT_GE(options.size(), 8u) << help;
  for (const std::string& name : options) {
    EXPECT_NE(page.find("**" + name + "**"), std::string::npos)
        << "doorman --help lists " << name << ", docs/man/doorman.8.md does not";
  }
}

TEST_F(ShippedFilesTest, ManPageDocumentsEveryConfigurationKey) {
  // Every optional key set, so that the dump shows it.
  const std::string config = dir_.file("all-keys.yaml");
  std::ofstream(config) << kAllKeys;
  std::string dump;
  ASSERT_EQ(runDoorman({"-t", "--dump-config", "-c", config}, dump), 0) << dump;
  const std::set<std::string> keys = dumpedKeyPaths(dump);
  // A parser that found nothing would pass everything.
  EXPECT_GE(keys.size(), 40u) << dump;
  for (const char* expected :
       {"limits.header_bytes", "upstreams.NAME.servers[].workers", "upstreams.NAME.queue.timeout",
        "routes[].static.root", "admin.listen", "upstreams.NAME.health_check.interval"}) {
    EXPECT_TRUE(keys.contains(expected)) << expected << " not found in\n" << dump;
  }
  const std::string page = readFile(sourceFile("docs/man/doorman.yaml.5.md"));
  ASSERT_FALSE(page.empty());
  for (const std::string& key : keys) {
    EXPECT_NE(page.find("**" + key + "**"), std::string::npos)
        << "doorman -t --dump-config has " << key << ", docs/man/doorman.yaml.5.md does not";
  }
}

/// config/doorman.yaml is the commented example: every key doorman knows is in it (set, or
/// commented out), and each one shows its built-in default, as its value or, where the
/// demo needs another value, in its comment ("(default 1)"); a key unset by default is
/// commented out.
TEST_F(ShippedFilesTest, ExampleConfigurationShowsEveryKeyWithItsDefault) {
  const std::string allKeys = dir_.file("all-keys.yaml");
  std::ofstream(allKeys) << kAllKeys;
  std::string dump;
  ASSERT_EQ(runDoorman({"-t", "--dump-config", "-c", allKeys}, dump), 0) << dump;
  const std::string minimal = dir_.file("minimal.yaml");
  std::ofstream(minimal) << R"(listen: ["127.0.0.1:0"]
upstreams: { app: { servers: [{ address: "127.0.0.1:1" }] } }
routes: [{ prefix: /, upstream: app }]
)";
  std::string defaults;
  ASSERT_EQ(runDoorman({"-t", "--dump-config", "-c", minimal}, defaults), 0) << defaults;

  const auto example = keyLines(uncommentKeys(readFile(sourceFile("config/doorman.yaml"))));
  ASSERT_GE(example.size(), 40u);
  for (const std::string& key : dumpedKeyPaths(dump)) {
    EXPECT_TRUE(example.contains(key)) << "config/doorman.yaml does not show " << key;
  }
  // What the demo must set to something of its own (where clients connect, its gunicorn)
  // and access_log, a map in the example but "off" in a dump.
  const std::set<std::string> ownValues = {"listen", "upstreams.NAME.servers[].address",
                                           "routes[].prefix", "routes[].upstream", "access_log"};
  size_t compared = 0;
  for (const auto& [key, dumped] : keyLines(dumpOnly(defaults))) {
    if (ownValues.contains(key)) continue;
    auto it = example.find(key);
    if (it == example.end()) {
      ADD_FAILURE() << "config/doorman.yaml does not show " << key;
      continue;
    }
    ++compared;
    const KeyLine& shown = it->second;
    const bool inComment = shown.comment.find("default") != std::string::npos &&
                           shown.comment.find(dumped.value) != std::string::npos;
    // Unset by default (user, log.path): shown commented out.
    const bool optional =
        dumped.value.empty() && shown.comment.find("commented-out") != std::string::npos;
    EXPECT_TRUE(normalized(shown.value) == normalized(dumped.value) || inComment || optional)
        << key << ": config/doorman.yaml shows " << shown.value << " (# " << shown.comment
        << "), the default is " << dumped.value;
  }
  EXPECT_GE(compared, 30u) << defaults;
}

}  // namespace
}  // namespace doorman::it
