// Configuration loading: YAML text -> validated Config, and dumpConfig's round trip.
//
// Properties: loadConfigString never crashes or throws, whatever the text; every error
// names a position and a message; a file that loads dumps to YAML that loads again to
// the same configuration (`doorman -t --dump-config` output is itself a valid file).

#include <cstdint>
#include <string>

#include "FuzzSupport.hpp"
#include "doorman/config/Loader.hpp"

namespace fz = doorman::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) {
    return 0;  // a config file is small; long inputs only slow the search down
  }
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  const auto result = doorman::config::loadConfigString(yaml, "fuzz.yaml");
  if (!result.ok()) {
    for (const auto& error : result.errors) {
      fz::check(!error.message.empty(), "config error without a message");
      fz::check(error.line >= 0 && error.column >= 0, "config error at a negative position");
      (void)error.toString();
    }
    return 0;
  }
  // The dump names the file it came from: the same name for both loads.
  const std::string dumped = doorman::config::dumpConfig(result.config);
  const auto again = doorman::config::loadConfigString(dumped, "fuzz.yaml");
  if (!again.ok()) {
    fz::fail("the dumped configuration does not load",
             dumped + "\n--- first error: " + again.errors.front().toString());
  }
  fz::check(doorman::config::dumpConfig(again.config) == dumped,
            "the dumped configuration loads to a different one", dumped);
  return 0;
}
