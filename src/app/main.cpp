// doorman: a buffering reverse proxy for prefork sync app workers.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "doorman/app/Application.hpp"
#include "doorman/config/Loader.hpp"
#include "doorman/core/Log.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/doorman/doorman.yaml";

void printUsage(FILE* out) {
  std::fprintf(
      out,
      "Usage: doorman [-c FILE] [-t [--dump-config]]\n"
      "\n"
      "A buffering reverse proxy in front of prefork sync app workers.\n"
      "\n"
      "  -c, --config FILE  configuration file (default %s)\n"
      "  -t, --test         check the configuration and exit (0: valid, 1: errors,\n"
      "                     each printed as file:line:column: key.path: message)\n"
      "      --dump-config  with -t: print the effective configuration\n"
      "  -v, --version      print the version and exit\n"
      "  -h, --help         print this help and exit\n"
      "\n"
      "Signals: TERM/INT stop gracefully (a second one stops at once), QUIT stops at once,\n"
      "HUP reloads the configuration, USR1 reopens the log files.\n",
      kDefaultConfig);
}

struct Options {
  std::string configPath = kDefaultConfig;
  bool test = false;
  bool dump = false;
};

// Returns -1 to continue, otherwise the exit code.
int parseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "doorman: %s needs a file name\n", arg.c_str());
        return 2;
      }
      options.configPath = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      options.configPath = arg.substr(std::strlen("--config="));
    } else if (arg == "-t" || arg == "--test") {
      options.test = true;
    } else if (arg == "--dump-config") {
      options.dump = true;
    } else if (arg == "-v" || arg == "--version") {
      std::printf("doorman %s\n", DOORMAN_VERSION);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      printUsage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "doorman: unknown argument '%s'\n", arg.c_str());
      printUsage(stderr);
      return 2;
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace doorman;
  Options options;
  int rc = parseArgs(argc, argv, options);
  if (rc >= 0) {
    return rc;
  }
  config::LoadResult loaded = config::loadConfigFile(options.configPath);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::fprintf(stderr, "%s\n", error.toString().c_str());
    }
    std::fprintf(stderr, "doorman: configuration %s has %zu error%s\n", options.configPath.c_str(),
                 loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s");
    return 1;
  }
  if (options.test) {
    if (options.dump) {
      std::fputs(config::dumpConfig(loaded.config).c_str(), stdout);
    }
    std::fprintf(stderr, "doorman: configuration %s is valid\n", options.configPath.c_str());
    return 0;
  }
  // libuv's thread pool (4 threads unless told) runs static file lookups, small-file
  // reads and the page-cache warm-ups of cold large files; a burst of cold downloads
  // should not hold every static lookup behind it. An operator's own setting wins.
  ::setenv("UV_THREADPOOL_SIZE", "16", 0);
  core::LogLevel level = core::LogLevel::Info;
  core::parseLogLevel(loaded.config.log.level, level);
  core::Log::setLevel(level);
  if (!loaded.config.log.path.empty() && !core::Log::setPath(loaded.config.log.path.c_str())) {
    std::fprintf(stderr, "doorman: cannot open log file %s: %s\n", loaded.config.log.path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  app::Application application(std::move(loaded.config));
  return application.run();
}
