// The small-file cache: bounded LRU, freshness checks at most once per interval, changes
// noticed, and a warm hit that allocates nothing.

#include "../../src/static/FileCache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "StaticFixture.hpp"

// Counting allocations in this test binary: every operator new goes through here; only
// the window between AllocationCounter's start and stop is counted.
namespace {
std::atomic<bool> gCounting{false};
std::atomic<size_t> gAllocations{0};
}  // namespace

namespace {
void* countedAlloc(std::size_t size) noexcept {
  if (gCounting.load(std::memory_order_relaxed)) {
    gAllocations.fetch_add(1, std::memory_order_relaxed);
  }
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

// Every replaceable form that allocates or frees single objects goes through malloc and
// free, so no pair can mix this allocator with the runtime's (AddressSanitizer reports
// alloc-dealloc-mismatch otherwise, e.g. for std::stable_sort's nothrow buffer).
void* operator new(std::size_t size) {
  if (void* p = countedAlloc(size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return countedAlloc(size); }
void* operator new[](std::size_t size) {
  if (void* p = countedAlloc(size)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return countedAlloc(size);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace doorman::statics::testing {
namespace {

std::shared_ptr<const CachedFile> fileOf(size_t bytes, uint64_t ino = 1) {
  auto f = std::make_shared<CachedFile>();
  f->body.assign(bytes, 'x');
  f->identity.ino = ino;
  return f;
}

config::StaticCache limits(uint64_t size, uint64_t maxFile = 1 << 20, int64_t intervalMs = 1000) {
  config::StaticCache c;
  c.size = size;
  c.maxFile = maxFile;
  c.checkInterval = core::Millis(intervalMs);
  return c;
}

TEST(StaticFileCache, EvictsTheLeastRecentlyUsedBeyondItsSize) {
  detail::FileCache cache(limits(1000));
  cache.store("a", fileOf(300), 0);
  cache.store("b", fileOf(300), 0);
  cache.store("c", fileOf(300), 0);
  EXPECT_EQ(cache.entries(), 3u);
  ASSERT_TRUE(cache.find("a", 1));  // a is now the most recently used
  cache.store("d", fileOf(300), 1);
  EXPECT_TRUE(cache.peek("a"));
  EXPECT_FALSE(cache.peek("b")) << "b was the least recently used";
  EXPECT_TRUE(cache.peek("c"));
  EXPECT_TRUE(cache.peek("d"));
  EXPECT_LE(cache.bytes(), 1000u);
  cache.store("huge", fileOf(2000), 1);
  EXPECT_FALSE(cache.peek("huge")) << "larger than the whole cache";
  cache.erase("a");
  cache.erase("c");
  cache.erase("d");
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(StaticFileCache, ReplacingAnEntryKeepsTheCountRight) {
  detail::FileCache cache(limits(1000));
  cache.store("a", fileOf(100), 0);
  cache.store("a", fileOf(200, 2), 0);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(cache.bytes(), 201u);  // body + key
  EXPECT_EQ(cache.peek("a")->identity.ino, 2u);
}

TEST(StaticFileCache, EntriesAreReservedInTheMemoryBudgetAndGiveWayToIt) {
  core::MemoryBudget budget(1000);
  {
    detail::FileCache cache(limits(1000), &budget);
    budget.setReclaimer(&cache);
    cache.store("a", fileOf(300), 0);
    cache.store("b", fileOf(300), 0);
    EXPECT_EQ(budget.used(), 602u) << "bodies + keys";
    cache.store("a", fileOf(100, 2), 0);
    EXPECT_EQ(budget.used(), 402u) << "a replaced entry gives its bytes back";

    ASSERT_TRUE(budget.tryReserve(200));  // a message body
    cache.store("c", fileOf(300), 0);
    EXPECT_FALSE(cache.peek("b")) << "a quarter of the budget stays free: b made room";
    EXPECT_TRUE(cache.peek("a"));
    EXPECT_TRUE(cache.peek("c"));
    EXPECT_EQ(budget.used(), 200u + 101u + 301u);

    // Anyone else who would be refused gets the cache's least recently used entries.
    ASSERT_TRUE(budget.tryReserve(450)) << "602 + 450 > 1000: the cache gives up a";
    EXPECT_FALSE(cache.peek("a"));
    EXPECT_TRUE(cache.peek("c"));
    EXPECT_EQ(budget.used(), 200u + 450u + 301u);
    EXPECT_FALSE(budget.tryReserve(400)) << "even with the whole cache given up";
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(budget.used(), 650u);

    cache.store("d", fileOf(200), 0);
    EXPECT_FALSE(cache.peek("d")) << "650 + 201 would leave less than a quarter free";
    EXPECT_EQ(budget.used(), 650u);
    budget.release(450);
    cache.store("d", fileOf(200), 0);
    EXPECT_EQ(budget.used(), 401u);

    // A lower limit (a reload) takes what the cache holds first.
    budget.setLimit(250);
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(budget.used(), 200u);
    EXPECT_EQ(budget.limit(), 250u);
    budget.setReclaimer(nullptr);
    budget.setLimit(1000);
    cache.store("e", fileOf(100), 0);
    EXPECT_EQ(budget.used(), 301u);
  }
  EXPECT_EQ(budget.used(), 200u) << "a cache that goes away hands its entries back";
}

TEST(StaticFileCache, AnEntryIsCheckedAtMostOncePerInterval) {
  detail::FileCache cache(limits(1000, 1000, 100));
  cache.store("a", fileOf(10), 1000);
  EXPECT_TRUE(cache.find("a", 1050));
  EXPECT_FALSE(cache.find("a", 1100)) << "due: this request goes to check";
  EXPECT_TRUE(cache.find("a", 1101)) << "the others keep the copy meanwhile";
  EXPECT_TRUE(cache.find("a", 1199));
  EXPECT_FALSE(cache.find("a", 1200)) << "a lost check is retried an interval later";
  cache.confirm("a", 1250);
  EXPECT_TRUE(cache.find("a", 1349));
}

TEST(StaticFileCache, SizeOrMaxFileZeroTurnsItOff) {
  EXPECT_FALSE(detail::FileCache(limits(0)).enabled());
  EXPECT_FALSE(detail::FileCache(limits(1000, 0)).enabled());
  detail::FileCache cache(limits(1000, 100));
  EXPECT_TRUE(cache.fits(100));
  EXPECT_FALSE(cache.fits(101));
}

class StaticCachedServing : public StaticFixture {
 protected:
  void useCache(int64_t intervalMs) {
    files_ = std::make_unique<FileServer>(loop_, budget_, limits(1 << 20, 64 << 10, intervalMs));
  }

  bool cached(const http::Request& req, CacheHit& hit) {
    uv_update_time(loop_.raw());
    return files().serveCached(route_, req, hit);
  }
};

TEST_F(StaticCachedServing, AServedFileIsThenAnsweredFromPrebuiltBytes) {
  useCache(60000);
  CacheHit hit;
  http::Request req = request("/static/hello.txt");
  EXPECT_FALSE(cached(req, hit)) << "cold";
  Answer first = serve(req);
  EXPECT_EQ(first.status, 200);
  ASSERT_TRUE(cached(req, hit));
  EXPECT_FALSE(hit.notModified);
  EXPECT_EQ(hit.file->body, kHello);
  EXPECT_EQ(hit.head(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nAccept-Ranges: "
            "bytes\r\nETag: \"6553f100-e\"\r\nLast-Modified: Tue, 14 Nov 2023 22:13:20 "
            "GMT\r\nCache-Control: public, max-age=3600\r\nServer: doorman\r\nContent-Length: "
            "14\r\n");
  EXPECT_EQ(hit.file->head304,
            "HTTP/1.1 304 Not Modified\r\nETag: \"6553f100-e\"\r\nLast-Modified: Tue, 14 Nov 2023 "
            "22:13:20 GMT\r\nCache-Control: public, max-age=3600\r\nServer: doorman\r\n");

  CacheHit revalidated;
  ASSERT_TRUE(cached(request("/static/hello.txt", "HEAD", {{"If-None-Match", "\"6553f100-e\""}}),
                     revalidated));
  EXPECT_TRUE(revalidated.notModified);
  CacheHit since;
  ASSERT_TRUE(cached(
      request("/static/hello.txt", "GET", {{"If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT"}}),
      since));
  EXPECT_TRUE(since.notModified);

  // What the cache does not answer: the full path does (from the cached bytes).
  CacheHit none;
  EXPECT_FALSE(cached(request("/static/hello.txt", "GET", {{"Range", "bytes=0-1"}}), none));
  EXPECT_FALSE(cached(request("/static/hello.txt", "GET", {{"If-Match", "*"}}), none));
  EXPECT_FALSE(cached(request("/static/hello.txt", "POST"), none));
  EXPECT_FALSE(cached(request("/static/hello.txt", "GET", {{"Accept-Encoding", "gzip"}}), none))
      << "another coding preference is another entry";
  EXPECT_FALSE(cached(request("/static/../hello.txt"), none));
  Answer range = get("/static/hello.txt", {{"Range", "bytes=0-4"}});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, "Hello");
}

TEST_F(StaticCachedServing, AWarmHitAllocatesNothing) {
  useCache(60000);
  http::Request req = request("/static/sub/index.html?v=3", "GET",
                              {{"Host", "example.com"},
                               {"Accept-Encoding", "gzip, deflate, br"},
                               {"If-None-Match", "\"nope\""},
                               {"User-Agent", "test"}});
  serve(req);
  CacheHit hit;
  ASSERT_TRUE(cached(req, hit));  // warms the scratch buffers
  hit = CacheHit{};
  gAllocations = 0;
  gCounting = true;
  bool ok = files().serveCached(route_, req, hit);
  gCounting = false;
  ASSERT_TRUE(ok);
  EXPECT_EQ(gAllocations.load(), 0u);
  EXPECT_EQ(hit.file->body, "<h1>sub</h1>\n");
}

// With a zero interval every request checks the disk (the interval logic itself is
// tested with explicit clocks above), so no assertion here depends on timing.
TEST_F(StaticCachedServing, ChangesAreNoticedWhenChecked) {
  useCache(0);
  http::Request req = request("/static/hello.txt");
  EXPECT_EQ(serve(req).body, kHello);
  EXPECT_EQ(serve(req).body, kHello) << "unchanged: answered from the cached copy";
  CacheHit due;
  EXPECT_FALSE(cached(req, due)) << "due for a check at once";

  write(root_ / "hello.txt", "changed, longer\n");
  Answer fresh = serve(req);
  EXPECT_EQ(fresh.body, "changed, longer\n");
  EXPECT_NE(fresh.header("ETag"), "\"6553f100-e\"");

  // Same size and mtime but another inode (a deploy that renames a new file in place).
  write(root_ / "hello2.txt", "changed, LONGER\n");
  timespec times[2];
  struct stat st {};
  ASSERT_EQ(::stat((root_ / "hello.txt").c_str(), &st), 0);
  times[0] = st.st_mtim;
  times[1] = st.st_mtim;
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / "hello2.txt").c_str(), times, 0), 0);
  fs::rename(root_ / "hello2.txt", root_ / "hello.txt");
  EXPECT_EQ(serve(req).body, "changed, LONGER\n");

  // Gone: 404, and the entry goes too.
  fs::remove(root_ / "hello.txt");
  EXPECT_EQ(serve(req).status, 404);
  write(root_ / "hello.txt", kHello);
  EXPECT_EQ(serve(req).body, kHello);
}

TEST_F(StaticCachedServing, AHitKeepsItsBytesWhenTheEntryIsReplaced) {
  useCache(60000);
  http::Request req = request("/static/hello.txt");
  serve(req);
  CacheHit hit;
  ASSERT_TRUE(cached(req, hit));
  write(root_ / "hello.txt", "replaced\n");
  // A Range request takes the full path, which finds the changed file and replaces the
  // entry while `hit` is still held.
  http::Request ranged = request("/static/hello.txt", "GET", {{"Range", "bytes=0-3"}});
  EXPECT_EQ(serve(ranged).body, "repl");
  CacheHit after;
  ASSERT_TRUE(cached(req, after));
  EXPECT_EQ(after.file->body, "replaced\n");
  EXPECT_EQ(hit.file->body, kHello) << "a connection still writing the old copy keeps it";
}

TEST_F(StaticCachedServing, LargeFilesAreNotCached) {
  config::StaticCache small = limits(1 << 20, 1024, 60000);
  files_ = std::make_unique<FileServer>(loop_, budget_, small);
  http::Request req = request("/static/big.bin");
  EXPECT_EQ(serve(req).body.size(), 100u * 1024);
  CacheHit hit;
  EXPECT_FALSE(cached(req, hit));
}

}  // namespace
}  // namespace doorman::statics::testing
