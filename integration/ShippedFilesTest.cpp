// What the packages ship besides the binary stays true to it: every shipped configuration
// passes `doorman -t`, every option of `doorman --help` is in doorman(8) and every key of
// `doorman -t --dump-config` is in doorman.yaml(5) (docs/man/*.md, the man pages' source).

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
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
    options.logPath = dir_.file("doorman.out");
    auto status = runToCompletion(options, milliseconds(30000), output);
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  void expectValid(const std::string& relative) {
    std::string output;
    EXPECT_EQ(runDoorman({"-t", "-c", sourceFile(relative)}, output), 0) << relative << "\n"
                                                                         << output;
  }
};

/// Key paths of a `--dump-config` output, leaves only: "limits.header_bytes",
/// "upstreams.NAME.servers[].workers", "routes[].static.root". The dump is block YAML
/// except for one-line flow maps (`queue: {max: 1000, timeout: 30s}`), whose keys are
/// leaves of the key they follow; an upstream's own name becomes NAME, as in the man page.
std::set<std::string> dumpedKeyPaths(const std::string& dump) {
  static const std::regex keyLine(R"(^( *)(- )?([a-z_]+):(.*)$)");
  static const std::regex flowKey(R"((?:\{|, )([a-z_]+):)");
  std::set<std::string> paths;
  std::vector<std::pair<size_t, std::string>> stack;  // (indent of the key, path)
  std::istringstream lines(dump);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    const bool isItem = line.find_first_not_of(' ') != std::string::npos &&
                        line.compare(line.find_first_not_of(' '), 2, "- ") == 0;
    if (!std::regex_match(line, m, keyLine)) {
      // "  - value" (a list of scalars) or "  - {a: 1, b: 2}" (a list of flow maps).
      if (!isItem || stack.empty()) continue;
      const std::string rest = line.substr(line.find("- ") + 2);
      if (rest.starts_with("{")) {
        for (std::sregex_iterator it(rest.begin(), rest.end(), flowKey), end; it != end; ++it) {
          paths.insert(stack.back().second + "[]." + (*it)[1].str());
        }
      } else {
        paths.insert(stack.back().second);
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
    if (value.find_first_not_of(' ') == std::string::npos) {
      stack.emplace_back(indent, path);  // a block map or list follows
    } else if (value.find('{') != std::string::npos) {
      for (std::sregex_iterator it(value.begin(), value.end(), flowKey), end; it != end; ++it) {
        paths.insert(path + "." + (*it)[1].str());
      }
    } else {
      paths.insert(path);
    }
  }
  return paths;
}

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
  {
    std::ofstream out(config);
    out << R"(listen: ["127.0.0.1:0"]
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
  }
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

}  // namespace
}  // namespace doorman::it
