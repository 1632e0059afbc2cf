#pragma once
// Serves files under a static route's root from the event loop, without a worker.
// File opens, stats and reads that may block run on libuv's thread pool.
//
// serve() answers through StaticSink exactly once, never from inside serve() itself:
//   onStaticResponse - a complete response (200, 206, 304, 301, 403, 404, 405, 412, 416...)
//   onStaticMiss     - only for try-files routes (route has an upstream too) when no
//                      file matches: the caller passes the request to the upstream.
// cancel() (the client went away) guarantees no callback follows.
//
// Decisions (details in src/static/):
//   - GET and HEAD only; other methods get 405 (Allow: GET, HEAD), or a miss on
//     try-files routes, where a POST to "/users" belongs to the app.
//   - On try-files routes every 404 (missing file, directory without index, dotfile,
//     traversal attempt) is a miss; 400, 403, 5xx stay answers.
//   - Files the small-file cache takes (static_cache.max_file) are read whole into it
//     (memory reserved from the budget first) and answered from it (serveCached).
//     Every other body is pieces of the open file (core::Body::appendFile), sent with
//     sendfile(2): nothing is copied into memory, and the response serves the file that
//     was opened even if it is replaced meanwhile. A file that shrinks while being sent
//     ends the connection early (never a body shorter than its Content-Length).
//     When the budget cannot hold a cacheable file, it is served from the file too.
//   - Responses to HEAD carry the GET headers, an explicit Content-Length, no body.
//   - Destroying the FileServer with requests in flight is safe: they finish on the
//     pool, call nobody, and return their budget reservations at once.

#include <cstdint>
#include <memory>
#include <string>

#include "doorman/config/Config.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/Message.hpp"
#include "doorman/static/CachedFile.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::statics {

class StaticSink {
 public:
  virtual void onStaticResponse(http::Response response) = 0;
  virtual void onStaticMiss() = 0;
  /// Appends who asked, for an error-log line about this file (see upstream::ResponseSink).
  virtual void describe(std::string& out) const { (void)out; }

 protected:
  ~StaticSink() = default;
};

/// Opaque per-request state; keep it until the sink is called or cancel() it.
class StaticTicket;
using StaticTicketPtr = std::shared_ptr<StaticTicket>;

class FileServer {
 public:
  FileServer(uv::Loop& loop, core::MemoryBudget* budget, const config::StaticCache& cache = {});
  ~FileServer();
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;

  /// `route.staticFiles` must be set. The request's path has the route prefix stripped
  /// before lookup (nginx's alias): prefix /static/ + root /srv/s: /static/a.css ->
  /// /srv/s/a.css.
  StaticTicketPtr serve(const config::Route& route, const http::Request& request, StaticSink& sink);
  void cancel(StaticTicket& ticket);

  /// The hot path, tried before serve(): a GET or HEAD whose file is in the small-file
  /// cache and known fresh, asking nothing but If-None-Match / If-Modified-Since /
  /// Accept-Encoding, is answered at once (200 or 304) from prebuilt bytes; true then, and
  /// `hit` holds them. Allocates nothing on a warm cache. False: call serve().
  bool serveCached(const config::Route& route, const http::Request& request, CacheHit& hit);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace doorman::statics
