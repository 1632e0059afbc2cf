#pragma once
// One static request in flight, and the state it shares with the FileServer.
// Loop-thread state except where marked "worker".

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "FileCache.hpp"
#include "FileLookup.hpp"
#include "FileResponse.hpp"
#include "doorman/static/FileServer.hpp"

namespace doorman::statics {

/// What the caller holds. Invariant: the sink is called at most once, never after
/// `cancelled`, and `inFlight` is set exactly while a pool request is queued.
class StaticTicket {
 public:
  StaticSink* sink = nullptr;
  bool cancelled = false;
  bool answered = false;
  uv_work_t* inFlight = nullptr;  ///< for uv_cancel
};

namespace detail {

/// Outlives the FileServer while jobs are in flight (each Job holds a shared_ptr).
struct Shared {
  struct RootEntry {
    std::string real;         ///< realpath(root)
    uint64_t computedMs = 0;  ///< loop clock
  };
  uv::Loop* loop = nullptr;
  core::MemoryBudget* budget = nullptr;              ///< null: unlimited, or the FileServer is gone
  bool closed = false;                               ///< the FileServer is gone: answer nobody
  uint64_t reserved = 0;                             ///< budget bytes held by reads in flight
  std::unordered_map<std::string, RootEntry> roots;  ///< realpath of each root
  FileCache cache;
  std::string scratchDecoded;  ///< serveCached's reused buffers: a warm hit allocates nothing
  std::string scratchKey;
};

/// Appends the cache key of a request (see FileCache.hpp) to `out`.
void appendCacheKeyPrefix(std::string& out, const config::Route& route);
void appendCacheKeySuffix(std::string& out, bool trailingSlash, const CodingPreference& codings);

enum class Stage {
  Answer,  ///< the answer is known already; the pool trip only defers it
  Lookup,  ///< worker: find and open the file
  Read,    ///< worker: read the whole file for the small-file cache and close it
};

struct Job {
  uv_work_t req{};
  std::shared_ptr<Shared> shared;
  StaticTicketPtr ticket;
  Stage stage = Stage::Answer;

  // What the request asked (copied: the request may be gone when the answer comes).
  bool tryFiles = false;  ///< the route has an upstream: a miss goes there instead of 404
  std::string rawPath;    ///< undecoded path, for Location and logs
  std::string query;
  Conditions conditions;
  CachePolicy policy;

  LookupInput lookupIn;    ///< worker reads
  LookupOutput lookupOut;  ///< worker writes

  int fd = -1;  ///< the open file between Lookup and Read (worker closes it in Read)
  std::vector<BodyPart> parts;  ///< worker reads: what Read reads (the whole file)
  std::string tail;

  std::string cacheKey;  ///< empty: the cache is off
  FileFacts facts;
  FileIdentity identity;
  std::vector<BodyPart> planParts;  ///< Read: the response body to cut from the whole file
  std::string planTail;
  std::string data;       ///< worker writes: the bytes read
  int readError = 0;      ///< worker writes
  uint64_t reserved = 0;  ///< budget bytes held for `data`

  http::Response response;
  bool miss = false;

  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job();

  /// Takes the fd and the root's realpath out of a finished Lookup.
  void adoptLookupResult();
  /// Reserves the budget blocks a body of `bytes` will need; false when refused.
  bool reserve(uint64_t bytes);
  void releaseReservation() noexcept;
  /// Closes `fd` on the pool (close may block on some file systems).
  void closeFile() noexcept;
};

/// Fills a fresh job from the route and request: an immediate answer (405, 400, 404,
/// miss) or a Lookup.
void prepare(Job& job, const config::Route& route, const http::Request& request);

}  // namespace detail
}  // namespace doorman::statics
