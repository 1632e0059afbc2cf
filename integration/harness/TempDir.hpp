#pragma once
// A per-test scratch directory (sockets, configs, logs, stats files), removed with its
// contents at the end unless DOORMAN_IT_KEEP is set in the environment (for post-mortems).

#include <string>

namespace doorman::it {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// `path()/name`; short enough for a unix socket path (sun_path is 108 bytes).
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace doorman::it
