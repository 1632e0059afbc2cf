#pragma once
// The blocking half of static files: resolve, open, stat and read. Runs on libuv's
// thread pool only, so it touches nothing but its own input and output structs (no
// loop, no budget, no logging).

#include <cstdint>
#include <string>
#include <vector>

namespace doorman::statics::detail {

struct LookupInput {
  std::string root;      ///< the route's root as configured
  std::string rootReal;  ///< cached realpath(root); empty: compute it (when needed)
  std::string relative;  ///< normalised (RequestPath::relative): no "..", no dotfiles
  bool trailingSlash = false;
  bool followSymlinks = false;
  std::vector<std::string> index;  ///< index file names, tried in order
};

enum class LookupOutcome {
  File,       ///< `fd` is an open regular file (the caller must close it)
  Redirect,   ///< a directory named without its trailing slash
  NotFound,   ///< missing, outside the root, not a regular file, or a directory without index
  Forbidden,  ///< the file system refused access
  Failed,     ///< anything else (EMFILE, EIO...): `error` says what
};

struct LookupOutput {
  LookupOutcome outcome = LookupOutcome::Failed;
  int fd = -1;
  uint64_t size = 0;
  int64_t mtime = 0;     ///< seconds
  std::string name;      ///< the name as requested (or the index name): picks the type
  std::string rootReal;  ///< computed this time (the loop caches it), else empty
  int error = 0;         ///< errno of the failure, for the log
};

/// Finds the file for `in`. With !followSymlinks the resolved path (realpath) must lie
/// under realpath(root), so no symlink leads out of the root. Never throws.
void lookupFile(const LookupInput& in, LookupOutput& out) noexcept;

/// Reads `length` bytes at `offset` into `out`, then closes `fd` whatever happens.
/// Returns 0 or an errno (EIO when the file shrank under us). Never throws.
int readAndClose(int fd, uint64_t offset, uint64_t length, std::string& out) noexcept;

}  // namespace doorman::statics::detail
