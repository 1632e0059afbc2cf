#pragma once
// The blocking half of static files: resolve, open, stat and read. Runs on libuv's
// thread pool only, so it touches nothing but its own input and output structs (no
// loop, no budget, no logging).

#include <cstdint>
#include <string>
#include <vector>

#include "doorman/static/Encoding.hpp"

namespace doorman::statics::detail {

struct LookupInput {
  std::string root;      ///< the route's root as configured
  std::string rootReal;  ///< cached realpath(root); empty: compute it (when needed)
  std::string relative;  ///< normalised (RequestPath::relative): no "..", no dotfiles
  bool trailingSlash = false;
  bool followSymlinks = false;
  std::vector<std::string> index;  ///< index file names, tried in order
  bool precompressed = false;      ///< look for file.br / file.gz siblings
  CodingPreference codings;        ///< the siblings the client accepts, best first
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
  int64_t mtime = 0;    ///< seconds
  int64_t mtimeNs = 0;  ///< nanoseconds part, with dev/ino: the cache's change check
  uint64_t dev = 0;
  uint64_t ino = 0;
  Coding coding = Coding::Identity;  ///< `fd` is this sibling of the named file
  bool hasVariants = false;          ///< some sibling exists: Vary: Accept-Encoding
  std::string name;                  ///< the name as requested (or the index name): picks the type
  std::string rootReal;              ///< computed this time (the loop caches it), else empty
  int error = 0;                     ///< errno of the failure, for the log
};

/// Finds the file for `in`. With !followSymlinks the resolved path (realpath) must lie
/// under realpath(root), so no symlink leads out of the root. Never throws.
void lookupFile(const LookupInput& in, LookupOutput& out) noexcept;

/// One piece of a response body: `head` (literal bytes: a multipart part's header), then
/// `length` bytes of the file at `offset`.
struct BodyPart {
  std::string head;
  uint64_t offset = 0;
  uint64_t length = 0;
};

/// Reads the parts (and `tail` after them) into `out`, then closes `fd` whatever happens.
/// Returns 0 or an errno (EIO when the file shrank under us). Never throws.
int readAndClose(int fd, const std::vector<BodyPart>& parts, const std::string& tail,
                 std::string& out) noexcept;

}  // namespace doorman::statics::detail
