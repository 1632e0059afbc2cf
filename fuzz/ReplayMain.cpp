// The main() of a fuzz target when it is not built with libFuzzer (every ordinary build):
// runs LLVMFuzzerTestOneInput once on each file named on the command line, or on each
// file under a named directory, so that the committed corpora and every crash found
// replay as ordinary ctest cases (label `fuzz`) under whatever sanitizers the build uses.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> inputsUnder(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
      if (entry.is_regular_file()) {
        out.push_back(entry.path());
      }
    }
    std::sort(out.begin(), out.end());
  } else if (std::filesystem::is_regular_file(path, ec)) {
    out.push_back(path);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind('-', 0) == 0) {
      continue;  // libFuzzer flags (-runs=0, -dict=...) mean nothing here
    }
    const auto inputs = inputsUnder(arg);
    if (inputs.empty()) {
      std::fprintf(stderr, "replay: no input files under %s\n", arg.c_str());
      return 1;
    }
    for (const auto& file : inputs) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
        return 1;
      }
      // Named before running, so a crash points at its input.
      std::fprintf(stderr, "replay: %s\n", file.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argc > 0 ? argv[0] : "replay");
    return 1;
  }
  std::fprintf(stderr, "replay: %zu inputs ok\n", replayed);
  return 0;
}
