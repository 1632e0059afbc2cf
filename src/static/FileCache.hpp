#pragma once
// The small-file cache: prebuilt responses (CachedFile) by request key, bounded in bytes,
// least recently used evicted first. Loop thread only.
//
// Key: the route (its address: routes live as long as the FileServer), the normalised
// relative path, a '/' for a directory request, and the client's pre-compressed coding
// preference (a different preference may select a different sibling).
//
// Freshness: an entry is trusted for `checkInterval` after it was last checked. The first
// request after that is sent down the normal path (lookup on the thread pool: realpath,
// open, fstat) and, until it comes back, the others keep getting the cached copy; the
// entry's check time is moved forward at that moment, so a cancelled check only delays
// the next one by an interval. If the lookup finds the same file (dev, inode, size,
// mtime), the entry is re-armed without reading; otherwise the file is read again and the
// entry replaced (or dropped when the file is gone). Nothing blocks the loop: no stat on
// it, even for the check.
//
// Memory: every entry is reserved in the process's memory budget (buffering.memory_total)
// as well as counted against static_cache.size. The cache takes only memory nobody else
// wants: it stores a file only while a quarter of the budget stays free (else it gives
// up its own least recently used entries, or does not keep the file), and as the
// budget's MemoryReclaimer it gives up entries whenever anyone else (a request head, a
// body, a lower limit after a reload) would otherwise be refused.

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "doorman/config/Config.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/static/CachedFile.hpp"

namespace doorman::statics::detail {

class FileCache final : public core::MemoryReclaimer {
 public:
  explicit FileCache(const config::StaticCache& limits = {}, core::MemoryBudget* budget = nullptr)
      : limits_(limits), budget_(budget) {}
  ~FileCache() { clear(); }
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  /// Drops every entry (their reservations go back) and takes new limits and budget.
  void reset(const config::StaticCache& limits, core::MemoryBudget* budget) {
    clear();
    limits_ = limits;
    budget_ = budget;
  }
  void clear();
  /// Gives up least recently used entries until `bytes` went back to the budget.
  void reclaim(uint64_t bytes) noexcept override;

  bool enabled() const noexcept { return limits_.size > 0 && limits_.maxFile > 0; }
  /// A file of this many bytes may be cached.
  bool fits(uint64_t bytes) const noexcept { return enabled() && bytes <= limits_.maxFile; }

  /// The hot path: the entry for `key` if it may be served now. An entry due for a check
  /// is returned null once (the caller takes the slow path, which checks), and served
  /// again meanwhile. Allocates nothing.
  std::shared_ptr<const CachedFile> find(std::string_view key, uint64_t nowMs);

  /// The entry for `key` whatever its age (the slow path compares identities).
  std::shared_ptr<const CachedFile> peek(std::string_view key) const;
  /// The slow path found the same file: trust it for another interval.
  void confirm(std::string_view key, uint64_t nowMs);
  /// Stores (or replaces) an entry, evicting the least recently used beyond the size.
  void store(std::string_view key, std::shared_ptr<const CachedFile> file, uint64_t nowMs);
  void erase(std::string_view key);

  uint64_t bytes() const noexcept { return bytes_; }
  size_t entries() const noexcept { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedFile> file;
    uint64_t checkedMs = 0;
  };
  using Lru = std::list<Entry>;  ///< most recently used first
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  void evictBeyond(uint64_t limit);
  void drop(Lru::iterator entry);
  bool leavesHeadroom(uint64_t footprint) const noexcept;

  config::StaticCache limits_;
  core::MemoryBudget* budget_ = nullptr;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator, Hash, std::equal_to<>> index_;
  uint64_t bytes_ = 0;
};

}  // namespace doorman::statics::detail
