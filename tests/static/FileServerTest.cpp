// serve() end to end on a real loop: bodies, headers, HEAD, conditionals, ranges,
// directories, try-files, cancellation and the memory budget.
// (Path safety lives in FileServerSecurityTest.cpp.)

#include "doorman/static/FileServer.hpp"

#include <gtest/gtest.h>

#include "StaticFixture.hpp"
#include "doorman/http/Serializer.hpp"

namespace doorman::statics::testing {
namespace {

constexpr const char* kHelloEtag = "\"6553f100-e\"";
const std::string kHelloDate = "Tue, 14 Nov 2023 22:13:20 GMT";

class StaticFileServer : public StaticFixture {};

TEST_F(StaticFileServer, ServesAFileWithItsBodyAndHeaders) {
  Answer a = get("/static/hello.txt");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, kHello);
  EXPECT_EQ(a.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(a.header("ETag"), kHelloEtag);
  EXPECT_EQ(a.header("Last-Modified"), http::formatHttpDate(kMtime));
  EXPECT_EQ(a.header("Last-Modified"), kHelloDate);
  EXPECT_EQ(a.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(a.header("Cache-Control"), "public, max-age=3600");
  EXPECT_EQ(a.headers.find("Content-Length"), nullptr) << "the serializer counts the body";
}

TEST_F(StaticFileServer, PicksContentTypesAndCachePolicyFromTheRoute) {
  route_.staticFiles->immutable = true;
  Answer html = get("/static/page.html");
  EXPECT_EQ(html.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(html.header("Cache-Control"), "public, max-age=3600, immutable");
  Answer bin = get("/static/data.bin");
  EXPECT_EQ(bin.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(bin.body, std::string("\x00\x01\x02", 3));
  route_.staticFiles->maxAge.reset();
  EXPECT_EQ(get("/static/hello.txt").header("Cache-Control"), "<none>");
}

TEST_F(StaticFileServer, ServesEmptyFilesAndDecodedNames) {
  Answer empty = get("/static/empty.txt");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
  Answer spaced = get("/static/a%20b.txt?v=3");
  EXPECT_EQ(spaced.status, 200);
  EXPECT_EQ(spaced.body, "spaced\n");
}

TEST_F(StaticFileServer, HeadSendsTheHeadersAndContentLengthWithoutABody) {
  Answer a = serve(request("/static/hello.txt", "HEAD"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "");
  EXPECT_EQ(a.header("Content-Length"), "14");
  EXPECT_EQ(a.header("ETag"), kHelloEtag);
  EXPECT_EQ(a.header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(StaticFileServer, HeadIgnoresRange) {
  Answer a = serve(request("/static/hello.txt", "HEAD", {{"Range", "bytes=0-1"}}));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.header("Content-Length"), "14");
}

TEST_F(StaticFileServer, OtherMethodsGet405WithAllow) {
  Answer a = serve(request("/static/hello.txt", "POST"));
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(a.header("Allow"), "GET, HEAD");
  EXPECT_EQ(serve(request("/static/hello.txt", "DELETE")).status, 405);
}

TEST_F(StaticFileServer, IfNoneMatchGives304WithValidatorsAndNoBody) {
  Answer a = get("/static/hello.txt", {{"If-None-Match", kHelloEtag}});
  EXPECT_EQ(a.status, 304);
  EXPECT_EQ(a.body, "");
  EXPECT_EQ(a.header("ETag"), kHelloEtag);
  EXPECT_EQ(a.header("Last-Modified"), kHelloDate);
  EXPECT_EQ(a.header("Cache-Control"), "public, max-age=3600");
  EXPECT_EQ(get("/static/hello.txt", {{"If-None-Match", "W/\"6553f100-e\""}}).status, 304);
  EXPECT_EQ(get("/static/hello.txt", {{"If-None-Match", "\"x\", \"6553f100-e\""}}).status, 304);
  EXPECT_EQ(get("/static/hello.txt", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(get("/static/hello.txt", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(serve(request("/static/hello.txt", "HEAD", {{"If-None-Match", kHelloEtag}})).status,
            304);
}

TEST_F(StaticFileServer, IfNoneMatchFieldsSplitOverLinesAreJoined) {
  Answer a = get("/static/hello.txt", {{"If-None-Match", "\"a\""}, {"if-none-match", kHelloEtag}});
  EXPECT_EQ(a.status, 304);
}

TEST_F(StaticFileServer, IfModifiedSinceGives304UnlessTheFileIsNewer) {
  EXPECT_EQ(get("/static/hello.txt", {{"If-Modified-Since", kHelloDate}}).status, 304);
  EXPECT_EQ(
      get("/static/hello.txt", {{"If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT"}}).status,
      304);
  Answer older = get("/static/hello.txt", {{"If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT"}});
  EXPECT_EQ(older.status, 200);
  EXPECT_EQ(older.body, kHello);
  EXPECT_EQ(get("/static/hello.txt", {{"If-Modified-Since", "yesterday"}}).status, 200);
}

TEST_F(StaticFileServer, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  Answer a =
      get("/static/hello.txt", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", kHelloDate}});
  EXPECT_EQ(a.status, 200);
}

TEST_F(StaticFileServer, SingleRangesGive206WithContentRange) {
  Answer first = get("/static/hello.txt", {{"Range", "bytes=0-4"}});
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.body, "Hello");
  EXPECT_EQ(first.header("Content-Range"), "bytes 0-4/14");
  EXPECT_EQ(first.header("ETag"), kHelloEtag);
  EXPECT_EQ(first.header("Content-Type"), "text/plain; charset=utf-8");

  Answer open = get("/static/hello.txt", {{"Range", "bytes=7-"}});
  EXPECT_EQ(open.status, 206);
  EXPECT_EQ(open.body, "world!\n");
  EXPECT_EQ(open.header("Content-Range"), "bytes 7-13/14");

  Answer suffix = get("/static/hello.txt", {{"Range", "bytes=-7"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, "world!\n");

  Answer clipped = get("/static/hello.txt", {{"Range", "bytes=12-1000"}});
  EXPECT_EQ(clipped.status, 206);
  EXPECT_EQ(clipped.body, "!\n");
  EXPECT_EQ(clipped.header("Content-Range"), "bytes 12-13/14");
}

TEST_F(StaticFileServer, UnsatisfiableRangesGive416) {
  Answer a = get("/static/hello.txt", {{"Range", "bytes=14-"}});
  EXPECT_EQ(a.status, 416);
  EXPECT_EQ(a.header("Content-Range"), "bytes */14");
  EXPECT_EQ(get("/static/empty.txt", {{"Range", "bytes=-5"}}).status, 416);
}

TEST_F(StaticFileServer, MalformedRangesAreIgnored) {
  Answer bad = get("/static/hello.txt", {{"Range", "bytes=0-1,x-5"}});
  EXPECT_EQ(bad.status, 200);
  EXPECT_EQ(bad.body, kHello);
  EXPECT_EQ(get("/static/hello.txt", {{"Range", "bytes=5-1"}}).status, 200);
  EXPECT_EQ(get("/static/hello.txt", {{"Range", "lines=1-2"}}).status, 200);
}

TEST_F(StaticFileServer, IfRangeSendsTheRangeOnlyWhileTheValidatorMatches) {
  EXPECT_EQ(get("/static/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", kHelloEtag}}).status,
            206);
  EXPECT_EQ(get("/static/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", "\"old\""}}).status,
            200);
  EXPECT_EQ(
      get("/static/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", "W/\"6553f100-e\""}}).status,
      200)
      << "If-Range needs a strong match";
  EXPECT_EQ(get("/static/hello.txt", {{"Range", "bytes=0-4"}, {"If-Range", kHelloDate}}).status,
            206);
  Answer stale = get("/static/hello.txt",
                     {{"Range", "bytes=0-4"}, {"If-Range", "Mon, 13 Nov 2023 00:00:00 GMT"}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, kHello);
}

TEST_F(StaticFileServer, DirectoryWithoutSlashRedirectsKeepingTheQuery) {
  Answer a = get("/static/sub?x=1");
  EXPECT_EQ(a.status, 301);
  EXPECT_EQ(a.header("Location"), "/static/sub/?x=1");
  EXPECT_EQ(get("/static/noidx").header("Location"), "/static/noidx/");
}

TEST_F(StaticFileServer, DirectoryWithSlashServesTheFirstIndexThatExists) {
  Answer a = get("/static/sub/");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "<h1>sub</h1>\n");
  EXPECT_EQ(a.header("Content-Type"), "text/html; charset=utf-8");

  route_.staticFiles->index = {"missing.html", "plain.txt"};
  Answer second = get("/static/noidx/");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "plain\n");
  EXPECT_EQ(second.header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(StaticFileServer, DirectoryWithoutIndexIs404NotAListing) {
  EXPECT_EQ(get("/static/noidx/").status, 404);
  route_.staticFiles->index = {};
  EXPECT_EQ(get("/static/sub/").status, 404);
}

TEST_F(StaticFileServer, IndexNamesThatWouldEscapeAreSkipped) {
  route_.staticFiles->index = {"..", ".secret", "index.html"};
  Answer a = get("/static/");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "<h1>root</h1>\n");
}

TEST_F(StaticFileServer, PrefixWithoutSlashOwnsItsSubtreeOnly) {
  route_.prefix = "/static";
  EXPECT_EQ(get("/static/hello.txt").body, kHello);
  EXPECT_EQ(get("/static").header("Location"), "/static/");
  EXPECT_EQ(get("/statichello.txt").status, 404);
  route_.prefix = "/";
  EXPECT_EQ(get("/").body, "<h1>root</h1>\n");
  EXPECT_EQ(get("/hello.txt").body, kHello);
}

TEST_F(StaticFileServer, TryFilesRoutesMissInsteadOf404) {
  route_.upstream = "app";
  EXPECT_TRUE(get("/static/nothing-here").missed);
  EXPECT_TRUE(get("/static/noidx/").missed);
  EXPECT_TRUE(get("/static/.secret").missed);
  EXPECT_TRUE(serve(request("/static/hello.txt", "POST")).missed) << "POSTs belong to the app";
  Answer found = get("/static/hello.txt");
  EXPECT_FALSE(found.missed);
  EXPECT_EQ(found.status, 200);
}

TEST_F(StaticFileServer, MissingFileIs404) {
  Answer a = get("/static/nothing-here.txt");
  EXPECT_EQ(a.status, 404);
  EXPECT_FALSE(a.missed);
  EXPECT_EQ(get("/static/hello.txt/").status, 404);
  EXPECT_EQ(get("/static/hello.txt/more").status, 404);
}

TEST_F(StaticFileServer, UnreadableFileIs403) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root reads everything";
  }
  fs::permissions(root_ / "hello.txt", fs::perms::none);
  EXPECT_EQ(get("/static/hello.txt").status, 403);
}

TEST_F(StaticFileServer, SpecialFilesAreNotServed) {
  EXPECT_EQ(get("/static/fifo").status, 404) << "and a FIFO must not block a pool thread";
}

TEST_F(StaticFileServer, CancelledRequestsNeverCallBack) {
  RecordingSink sink;
  http::Request req = request("/static/hello.txt");
  std::vector<StaticTicketPtr> tickets;
  for (int i = 0; i < 8; ++i) {
    tickets.push_back(files().serve(route_, req, sink));
  }
  http::Request bad = request("/static/hello.txt", "PUT");
  tickets.push_back(files().serve(route_, bad, sink));
  for (auto& t : tickets) {
    files().cancel(*t);
  }
  tickets.clear();
  runLoop();
  EXPECT_EQ(sink.calls, 0);
  EXPECT_EQ(loop_.liveHandleCount(), baselineHandles_);
}

TEST_F(StaticFileServer, DestroyingTheServerWithWorkPendingCallsNobody) {
  core::MemoryBudget budget(1 << 20);
  budget_ = &budget;
  RecordingSink sink;
  http::Request req = request("/static/big.bin");
  StaticTicketPtr ticket = files().serve(route_, req, sink);
  // Let the lookup finish so the read, holding a reservation, is in flight.
  for (int i = 0; i < 100 && budget.used() == 0; ++i) {
    uv_run(loop_.raw(), UV_RUN_ONCE);
  }
  ASSERT_GT(budget.used(), 0u);
  files_.reset();
  EXPECT_EQ(budget.used(), 0u) << "the server hands reservations back as it dies";
  runLoop();
  EXPECT_EQ(sink.calls, 0);
  EXPECT_EQ(budget.used(), 0u);
}

TEST_F(StaticFileServer, BodiesAreChargedToTheMemoryBudget) {
  core::MemoryBudget budget(1 << 20);
  budget_ = &budget;
  RecordingSink sink;
  http::Request req = request("/static/big.bin");
  StaticTicketPtr ticket = files().serve(route_, req, sink);
  runLoop();
  ASSERT_TRUE(sink.response);
  EXPECT_EQ(sink.response->status, 200);
  EXPECT_EQ(sink.response->body.size(), 100u * 1024);
  EXPECT_GE(budget.used(), 100u * 1024);
  sink.response.reset();
  // What is left is the small-file cache's copy (body and prebuilt heads): the cache is
  // charged to the same budget, and gives it back when it goes.
  EXPECT_GE(budget.used(), 100u * 1024);
  EXPECT_LT(budget.used(), 100u * 1024 + 4096);
  files_.reset();
  EXPECT_EQ(budget.used(), 0u);
}

TEST_F(StaticFileServer, ARefusedBudgetServesTheCacheableFileFromTheOpenFile) {
  core::MemoryBudget budget(32 * 1024);
  budget_ = &budget;
  RecordingSink sink;
  http::Request req = request("/static/big.bin");
  StaticTicketPtr ticket = files().serve(route_, req, sink);
  runLoop();
  ASSERT_TRUE(sink.response);
  EXPECT_EQ(sink.response->status, 200);
  EXPECT_EQ(budget.used(), 0u) << "no memory: the body is a piece of the file";
  ASSERT_EQ(sink.response->body.pieceCount(), 1u);
  EXPECT_TRUE(sink.response->body.piece(0).isFile());
  EXPECT_EQ(sink.response->body.toString(), std::string(100 * 1024, 'x'));
  EXPECT_EQ(get("/static/hello.txt").status, 200) << "small files still fit";
  EXPECT_EQ(get("/static/big.bin", {{"Range", "bytes=0-99"}}).body, std::string(100, 'x'));
}

TEST_F(StaticFileServer, FilesTheCacheDoesNotTakeAreFilePiecesNotMemory) {
  core::MemoryBudget budget(1 << 20);
  budget_ = &budget;
  config::StaticCache noCache;
  noCache.size = 0;
  files_ = std::make_unique<FileServer>(loop_, budget_, noCache);
  std::string content;
  for (int i = 0; i < 300000; ++i) {
    content.push_back(static_cast<char>('a' + i % 26));
  }
  write(root_ / "large.bin", content);

  RecordingSink sink;
  http::Request req = request("/static/large.bin");
  StaticTicketPtr ticket = files().serve(route_, req, sink);
  runLoop();
  ASSERT_TRUE(sink.response);
  const core::Body& body = sink.response->body;
  EXPECT_EQ(sink.response->status, 200);
  ASSERT_EQ(body.pieceCount(), 1u);
  EXPECT_TRUE(body.piece(0).isFile());
  EXPECT_EQ(body.size(), content.size());
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(body.toString() == content);

  Answer one = get("/static/large.bin", {{"Range", "bytes=1000-1999"}});
  EXPECT_EQ(one.status, 206);
  EXPECT_EQ(one.header("Content-Range"), "bytes 1000-1999/300000");
  EXPECT_TRUE(one.body == content.substr(1000, 1000));

  RecordingSink multiSink;
  http::Request multi = request("/static/large.bin", "GET", {{"Range", "bytes=0-9,200000-200009"}});
  StaticTicketPtr multiTicket = files().serve(route_, multi, multiSink);
  runLoop();
  ASSERT_TRUE(multiSink.response);
  EXPECT_EQ(multiSink.response->status, 206);
  const core::Body& parts = multiSink.response->body;
  // part head, file piece, part head, file piece, closing delimiter
  ASSERT_EQ(parts.pieceCount(), 5u);
  EXPECT_FALSE(parts.piece(0).isFile());
  EXPECT_TRUE(parts.piece(1).isFile());
  EXPECT_EQ(parts.piece(1).length, 10u);
  EXPECT_TRUE(parts.piece(3).isFile());
  EXPECT_EQ(parts.piece(3).offset, 200000u);
  std::string text = parts.toString();
  EXPECT_NE(text.find(content.substr(0, 10)), std::string::npos);
  EXPECT_NE(text.find("Content-Range: bytes 200000-200009/300000\r\n\r\n" +
                      content.substr(200000, 10) + "\r\n--"),
            std::string::npos);

  Answer head = serve(request("/static/large.bin", "HEAD"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "300000");
  EXPECT_EQ(head.body, "");
}

}  // namespace
}  // namespace doorman::statics::testing
