#pragma once
// A small static file kept in memory with its responses prebuilt, so serving it from the
// cache allocates nothing: the connection writes
//
//   head200 | "Date: " <date> | "\r\n" [Connection: ...] "\r\n" | body      (or head304)
//
// The heads end with the last header line ("Content-Length: N\r\n" / "Server: ...\r\n")
// and leave out Date and Connection, which the connection adds per response.
// Immutable once built; shared (shared_ptr) between the cache and the connections still
// writing it, so eviction or replacement never frees bytes that are being sent.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace doorman::statics {

/// What a file was when it was read: when any of it changes, the cached copy is stale.
struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime = 0;  ///< seconds
  int64_t mtimeNs = 0;
  uint8_t coding = 0;  ///< statics::Coding of the bytes (a sibling counts as another file)

  bool operator==(const FileIdentity&) const = default;
};

struct CachedFile {
  std::string head200;  ///< status line .. "Content-Length: N\r\n"
  std::string head304;  ///< status line .. last header line, no Content-Length
  std::string body;     ///< the whole file
  std::string etag;
  int64_t mtime = 0;
  FileIdentity identity;

  uint64_t footprint() const noexcept { return head200.size() + head304.size() + body.size(); }
};

/// A request answered from the cache: 200 (body unless HEAD) or 304.
struct CacheHit {
  std::shared_ptr<const CachedFile> file;
  bool notModified = false;

  std::string_view head() const noexcept {
    return notModified ? std::string_view(file->head304) : std::string_view(file->head200);
  }
};

}  // namespace doorman::statics
