// FileServer: one request's journey is a Job that hops between the loop and libuv's
// thread pool:
//
//   serve()  --queue-->  [pool] Lookup: realpath, open, fstat
//            <--after--  [loop] plan: 200/206/304/416/301/404... (FileResponse.cpp)
//     a file the small-file cache takes (static_cache.max_file):
//            --queue-->  [pool] Read: pread the whole file, close
//            <--after--  [loop] store it in the cache, cut the body, answer the sink
//     any other file: answer at once with a Body of pieces of the open descriptor
//            (core::Body::appendFile); the connection sends them with sendfile(2), and
//            the last owner of the descriptor closes it.
//
// Answers known without the disk (405, 400, 404 for a bad path) take an empty trip
// through the pool too, so the sink is never called from inside serve().
// The worker only touches the Job's input/output structs; everything else (ticket,
// budget, caches, sink) is loop-thread state, read in the after-work callback.

#include "doorman/static/FileServer.hpp"

#include <uv.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "FileJob.hpp"
#include "doorman/core/Body.hpp"
#include "doorman/core/FileHandle.hpp"
#include "doorman/core/Log.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/static/MimeTypes.hpp"
#include "doorman/static/RequestPath.hpp"
#include "doorman/static/Validators.hpp"

namespace doorman::statics {

using detail::Job;
using detail::Stage;

namespace {

void workCb(uv_work_t* req) {
  auto* job = static_cast<Job*>(req->data);
  switch (job->stage) {
    case Stage::Answer:
      break;
    case Stage::Lookup:
      detail::lookupFile(job->lookupIn, job->lookupOut);
      break;
    case Stage::Read:
      job->readError = detail::readAndClose(job->fd, job->parts, job->tail, job->data);
      job->fd = -1;  // closed by readAndClose
      break;
  }
}

void afterWorkCb(uv_work_t* req, int status);

/// One error-log line about a file request: "<message> while reading a static file,
/// client: ..., request: ...". Call through STATIC_LOG, which tests the level first.
__attribute__((format(printf, 3, 4))) void logFileEvent(core::LogLevel level, const Job& job,
                                                        const char* fmt, ...) {
  std::string line;
  va_list args;
  va_start(args, fmt);
  core::Log::vappend(line, fmt, args);
  va_end(args);
  line += " while ";
  line += core::doingText(core::Doing::ReadingFile);
  if (job.ticket && job.ticket->sink != nullptr) {
    job.ticket->sink->describe(line);
  }
  core::Log::write(level, "%s", line.c_str());
}

#define STATIC_LOG(lvl, job, ...)                                        \
  do {                                                                   \
    if (::doorman::core::Log::enabled(::doorman::core::LogLevel::lvl)) { \
      logFileEvent(::doorman::core::LogLevel::lvl, job, __VA_ARGS__);    \
    }                                                                    \
  } while (0)

void queue(std::unique_ptr<Job> job) {
  job->req.data = job.get();
  int rc = uv_queue_work(job->shared->loop->raw(), &job->req, workCb, afterWorkCb);
  if (rc != 0) {
    // libuv fails uv_queue_work only for a null work callback: unreachable.
    std::fprintf(stderr, "doorman: uv_queue_work: %s\n", uv_strerror(rc));
    std::abort();
  }
  job->ticket->inFlight = &job->req;
  (void)job.release();  // owned by the request until afterWorkCb
}

/// Hands the answer to the sink. Responses to HEAD lose their body but keep its length.
void deliver(Job& job) {
  StaticTicket& ticket = *job.ticket;
  ticket.answered = true;
  if (job.miss) {
    ticket.sink->onStaticMiss();
    return;
  }
  http::Response& response = job.response;
  if (job.conditions.head && response.status != 304 && !response.body.empty()) {
    if (response.headers.find("Content-Length") == nullptr) {
      response.headers.add("Content-Length", std::to_string(response.body.size()));
    }
    response.body.clear();
  }
  ticket.sink->onStaticResponse(std::move(response));
}

void answerError(Job& job, int status) {
  job.response = http::makeErrorResponse(status);
  deliver(job);
}

/// 404, or on try-files routes (an upstream as well) a miss: the app gets the request.
void answerNotFound(Job& job) {
  if (job.tryFiles) {
    job.miss = true;
    deliver(job);
    return;
  }
  answerError(job, 404);
}

/// Sets `bytes` as the response body (budgeted); false (and a 503 answer) when refused.
bool setBody(Job& job, std::string_view bytes) {
  if (bytes.empty()) {
    return true;
  }
  core::Body body(job.shared->budget);
  if (!body.append(bytes)) {
    STATIC_LOG(Warn, job, "memory budget refused %zu bytes for %s; answering 503", bytes.size(),
               job.rawPath.c_str());
    answerError(job, 503);
    return false;
  }
  job.response.body = std::move(body);
  return true;
}

/// Answers with the planned parts as pieces of the open file (no cache): nothing is read
/// into memory; the connection sends them with sendfile(2). The response owns the
/// descriptor from here on, so it serves the file that was opened and measured even if
/// the path is replaced meanwhile; a file that shrinks ends the send early and the
/// connection is closed (core::BodySender), never a short body under a full length.
void answerWithFile(std::unique_ptr<Job> job, detail::FilePlan plan) {
  if (!plan.hasBody()) {
    job->closeFile();
    deliver(*job);
    return;
  }
  auto file = std::make_shared<core::FileHandle>(job->fd);
  job->fd = -1;
  core::Body body(job->shared->budget);
  bool ok = true;
  for (const detail::BodyPart& part : plan.parts) {
    ok = ok && body.append(part.head);  // multipart part headers: a few dozen bytes each
    body.appendFile(file, part.offset, part.length);
  }
  ok = ok && body.append(plan.tail);
  if (!ok) {
    STATIC_LOG(Warn, *job, "memory budget refused the multipart headers for %s; answering 503",
               job->rawPath.c_str());
    answerError(*job, 503);
    return;
  }
  job->response.body = std::move(body);
  deliver(*job);
}

/// The cache path of a found file (small enough, cache on): answer from the cached copy
/// when it is still the same file, else read the whole file to refill the cache.
void readCacheable(std::unique_ptr<Job> job, detail::FilePlan plan) {
  detail::Shared& shared = *job->shared;
  std::shared_ptr<const CachedFile> cached = shared.cache.peek(job->cacheKey);
  if (cached && cached->identity == job->identity) {
    shared.cache.confirm(job->cacheKey, shared.loop->nowMs());
    core::Body body(shared.budget);
    if (body.append(detail::assembleBody(plan.parts, plan.tail, cached->body))) {
      job->closeFile();
      job->response.body = std::move(body);
      deliver(*job);
      return;
    }
    // The memory budget is short: the open file serves as well.
    answerWithFile(std::move(job), std::move(plan));
    return;
  }
  if (!job->reserve(job->identity.size)) {
    // Too tight for the whole file: serve just what was asked from the file, uncached.
    answerWithFile(std::move(job), std::move(plan));
    return;
  }
  job->planParts = std::move(plan.parts);
  job->planTail = std::move(plan.tail);
  job->parts.clear();
  if (job->identity.size > 0) {
    job->parts.push_back({std::string(), 0, job->identity.size});
  }
  job->tail.clear();
  job->stage = Stage::Read;
  queue(std::move(job));
}

void afterLookupFile(std::unique_ptr<Job> job) {
  const detail::LookupOutput& found = job->lookupOut;
  detail::FileFacts facts{found.size, found.mtime, mimeTypeFor(found.name), found.coding,
                          found.hasVariants};
  job->facts = facts;
  job->identity = {found.dev,   found.ino,     found.size,
                   found.mtime, found.mtimeNs, static_cast<uint8_t>(found.coding)};
  detail::FilePlan plan = detail::planFileResponse(facts, job->conditions, job->policy);
  job->response = std::move(plan.response);
  if (!job->cacheKey.empty() && job->shared->cache.fits(found.size)) {
    readCacheable(std::move(job), std::move(plan));
    return;
  }
  answerWithFile(std::move(job), std::move(plan));
}

void afterLookup(std::unique_ptr<Job> job) {
  const detail::LookupOutput& found = job->lookupOut;
  if (found.outcome != detail::LookupOutcome::File && !job->cacheKey.empty()) {
    job->shared->cache.erase(job->cacheKey);  // gone (or refused) since it was cached
  }
  switch (found.outcome) {
    case detail::LookupOutcome::File:
      afterLookupFile(std::move(job));
      return;
    case detail::LookupOutcome::Redirect:
      // RFC 9110 15.4.2; the query is kept so "/docs?x" lands on "/docs/?x".
      job->response = http::makeErrorResponse(301);
      job->response.headers.add("Location", job->rawPath + "/" + job->query);
      deliver(*job);
      return;
    case detail::LookupOutcome::NotFound:
      answerNotFound(*job);
      return;
    case detail::LookupOutcome::Forbidden:
      answerError(*job, 403);
      return;
    case detail::LookupOutcome::Failed:
      STATIC_LOG(Warn, *job, "%s: %s; answering 500", job->rawPath.c_str(),
                 std::strerror(found.error));
      answerError(*job, 500);
      return;
  }
}

void afterRead(Job& job) {
  job.releaseReservation();
  if (job.readError != 0) {
    STATIC_LOG(Warn, job, "read %s: %s; answering 500", job.rawPath.c_str(),
               std::strerror(job.readError));
    job.shared->cache.erase(job.cacheKey);
    answerError(job, 500);
    return;
  }
  // Only cache fills are read. The reservation was just returned, so on a
  // single thread these blocks fit again.
  std::shared_ptr<const CachedFile> cached =
      detail::buildCachedFile(job.facts, job.policy, std::move(job.data), job.identity);
  job.shared->cache.store(job.cacheKey, cached, job.shared->loop->nowMs());
  if (setBody(job, detail::assembleBody(job.planParts, job.planTail, cached->body))) {
    deliver(job);
  }
}

void advance(std::unique_ptr<Job> job) {
  switch (job->stage) {
    case Stage::Answer:
      deliver(*job);
      return;
    case Stage::Lookup:
      afterLookup(std::move(job));
      return;
    case Stage::Read:
      afterRead(*job);
      return;
  }
}

void afterWorkCb(uv_work_t* req, int status) {
  std::unique_ptr<Job> job(static_cast<Job*>(req->data));
  StaticTicketPtr ticket = job->ticket;
  std::shared_ptr<detail::Shared> shared = job->shared;
  ticket->inFlight = nullptr;
  job->adoptLookupResult();
  if (status != 0 || ticket->cancelled || shared->closed) {
    return;  // ~Job closes the file and returns the memory; nobody is told
  }
  try {
    advance(std::move(job));
  } catch (const std::exception& e) {
    LOG_ERROR("static: answering failed: %s", e.what());
  } catch (...) {
    LOG_ERROR("static: answering failed");
  }
  if (!ticket->answered && !ticket->cancelled && !shared->closed && ticket->inFlight == nullptr) {
    // An exception cut the journey short: the client still gets an answer.
    try {
      ticket->answered = true;
      ticket->sink->onStaticResponse(http::makeErrorResponse(500));
    } catch (...) {
      LOG_ERROR("static: cannot even answer 500");
    }
  }
}

}  // namespace

struct FileServer::Impl {
  std::shared_ptr<detail::Shared> shared;
};

FileServer::FileServer(uv::Loop& loop, core::MemoryBudget* budget, const config::StaticCache& cache)
    : impl_(new Impl) {
  impl_->shared = std::make_shared<detail::Shared>();
  impl_->shared->loop = &loop;
  impl_->shared->budget = budget;
  impl_->shared->cache.reset(cache, budget);
  if (budget != nullptr) {
    budget->setReclaimer(&impl_->shared->cache);
  }
  (void)MimeTypes::system();  // read /etc/mime.types now, not on the first request
}

FileServer::~FileServer() {
  detail::Shared& shared = *impl_->shared;
  // Jobs in flight keep `shared` alive but must not call anyone, nor touch a budget that
  // may die with us: hand back what they hold now.
  shared.closed = true;
  if (shared.budget != nullptr) {
    shared.budget->release(shared.reserved);
  }
  shared.reserved = 0;
  if (shared.budget != nullptr && shared.budget->reclaimer() == &shared.cache) {
    shared.budget->setReclaimer(nullptr);
  }
  config::StaticCache off;
  off.size = 0;
  shared.cache.reset(off, nullptr);  // its entries' reservations go back too
  shared.budget = nullptr;
}

StaticTicketPtr FileServer::serve(const config::Route& route, const http::Request& request,
                                  StaticSink& sink) {
  auto ticket = std::make_shared<StaticTicket>();
  ticket->sink = &sink;
  auto job = std::make_unique<Job>();
  job->shared = impl_->shared;
  job->ticket = ticket;
  job->tryFiles = route.upstream.has_value();
  job->conditions.head = request.isHead();
  detail::prepare(*job, route, request);
  queue(std::move(job));
  return ticket;
}

bool FileServer::serveCached(const config::Route& route, const http::Request& request,
                             CacheHit& hit) {
  detail::Shared& shared = *impl_->shared;
  if (!shared.cache.enabled() || !route.staticFiles ||
      (request.method != "GET" && request.method != "HEAD")) {
    return false;
  }
  // Only the headers a cached 200/304 can answer; anything else takes the full path.
  const std::string* ifNoneMatch = nullptr;
  const std::string* ifModifiedSince = nullptr;
  const std::string* acceptEncoding = nullptr;
  for (const auto& field : request.headers) {
    const std::string& name = field.name;
    if (name.size() < 5 || (name[0] != 'i' && name[0] != 'I' && name[0] != 'r' && name[0] != 'R' &&
                            name[0] != 'a' && name[0] != 'A')) {
      continue;  // cheap reject: none of the names below
    }
    if (http::equalsIgnoreCase(name, "Range") || http::equalsIgnoreCase(name, "If-Range") ||
        http::equalsIgnoreCase(name, "If-Match") ||
        http::equalsIgnoreCase(name, "If-Unmodified-Since")) {
      return false;
    }
    const std::string** slot = nullptr;
    if (http::equalsIgnoreCase(name, "If-None-Match")) {
      slot = &ifNoneMatch;
    } else if (http::equalsIgnoreCase(name, "If-Modified-Since")) {
      slot = &ifModifiedSince;
    } else if (http::equalsIgnoreCase(name, "Accept-Encoding")) {
      slot = &acceptEncoding;
    }
    if (slot != nullptr) {
      if (*slot != nullptr && slot != &ifModifiedSince) {
        return false;  // a list split over several fields: the full path joins them
      }
      if (*slot == nullptr) {
        *slot = &field.value;
      }
    }
  }
  std::optional<std::string_view> rest = pathAfterPrefix(request.target, route.prefix);
  if (!rest) {
    return false;
  }
  std::string& key = shared.scratchKey;
  key.clear();
  detail::appendCacheKeyPrefix(key, route);
  bool trailingSlash = false;
  if (decodeRelativePath(*rest, shared.scratchDecoded, key, trailingSlash) != PathVerdict::Ok) {
    return false;
  }
  CodingPreference codings;
  if (route.staticFiles->precompressed && acceptEncoding != nullptr) {
    codings = preferredCodings(*acceptEncoding);
  }
  detail::appendCacheKeySuffix(key, trailingSlash, codings);
  std::shared_ptr<const CachedFile> file = shared.cache.find(key, shared.loop->nowMs());
  if (!file) {
    return false;
  }
  bool notModified = false;
  if (ifNoneMatch != nullptr) {
    notModified = ifNoneMatchHits(*ifNoneMatch, file->etag);
  } else if (ifModifiedSince != nullptr) {
    std::optional<int64_t> date = parseHttpDate(*ifModifiedSince);
    notModified = date && file->mtime <= *date;
  }
  hit.file = std::move(file);
  hit.notModified = notModified;
  return true;
}

void FileServer::cancel(StaticTicket& ticket) {
  ticket.cancelled = true;
  if (ticket.inFlight != nullptr) {
    // Not started yet: the pool drops it and afterWorkCb sees UV_ECANCELED. Running or
    // done: afterWorkCb sees `cancelled`. Either way it only frees.
    uv_cancel(reinterpret_cast<uv_req_t*>(ticket.inFlight));
  }
}

}  // namespace doorman::statics
