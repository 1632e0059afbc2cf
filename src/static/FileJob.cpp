#include "FileJob.hpp"

#include <unistd.h>

#include <cstdint>
#include <new>

#include "doorman/core/Body.hpp"
#include "doorman/http/Serializer.hpp"
#include "doorman/static/RequestPath.hpp"

namespace doorman::statics::detail {
namespace {

/// How long a root's realpath is trusted. Deploys often swap a symlinked root
/// ("current -> releases/42"); a short life lets the new target show up within a
/// second without a realpath(root) per request.
constexpr uint64_t kRootRealLifetimeMs = 1000;

void answerNow(Job& job, int status) {
  job.stage = Stage::Answer;
  job.response = http::makeErrorResponse(status);
}

void missOrNotFound(Job& job) {
  job.stage = Stage::Answer;
  if (job.tryFiles) {
    job.miss = true;
  } else {
    job.response = http::makeErrorResponse(404);
  }
}

}  // namespace

Job::~Job() {
  releaseReservation();
  closeFile();
  if (lookupOut.fd >= 0) {
    ::close(lookupOut.fd);  // only reachable if adoptLookupResult never ran
  }
}

void Job::adoptLookupResult() {
  if (stage != Stage::Lookup) {
    return;
  }
  fd = lookupOut.fd;
  lookupOut.fd = -1;
  if (!lookupOut.rootReal.empty() && !shared->closed) {
    shared->roots[lookupIn.root] = {lookupOut.rootReal, shared->loop->nowMs()};
  }
}

bool Job::reserve(uint64_t bytes) {
  if (shared->budget == nullptr) {
    return true;
  }
  const uint64_t blocks = (bytes + core::Body::kBlockSize - 1) / core::Body::kBlockSize;
  const uint64_t rounded = blocks * core::Body::kBlockSize;
  if (!shared->budget->tryReserve(rounded)) {
    return false;
  }
  reserved += rounded;
  shared->reserved += rounded;
  return true;
}

void Job::releaseReservation() noexcept {
  if (reserved == 0) {
    return;
  }
  if (shared->budget != nullptr) {
    shared->budget->release(reserved);
    shared->reserved -= reserved;
  }
  reserved = 0;
}

void Job::closeFile() noexcept {
  if (fd < 0) {
    return;
  }
  int toClose = fd;
  fd = -1;
  // cppcheck-suppress legacyUninitvar ; false positive: the lambda in the condition below
  auto* closeReq = new (std::nothrow) uv_fs_t{};
  if (closeReq != nullptr && uv_fs_close(shared->loop->raw(), closeReq, toClose, [](uv_fs_t* done) {
                               uv_fs_req_cleanup(done);
                               delete done;
                             }) == 0) {
    return;
  }
  delete closeReq;
  ::close(toClose);
}

void appendCacheKeyPrefix(std::string& out, const config::Route& route) {
  // The route's address identifies it for the life of its generation.
  const auto address = reinterpret_cast<std::uintptr_t>(&route);
  out.append(reinterpret_cast<const char*>(&address), sizeof address);
}

void appendCacheKeySuffix(std::string& out, bool trailingSlash, const CodingPreference& codings) {
  if (trailingSlash) {
    out.push_back('/');
  }
  out.push_back('\0');
  for (size_t i = 0; i < codings.count; ++i) {
    out.push_back(static_cast<char>('0' + static_cast<int>(codings.order[i])));
  }
}

void prepare(Job& job, const config::Route& route, const http::Request& request) {
  if (!route.staticFiles) {
    missOrNotFound(job);  // a caller bug; answer rather than crash
    return;
  }
  const config::StaticRoute& files = *route.staticFiles;
  if (request.method != "GET" && request.method != "HEAD") {
    if (job.tryFiles) {
      // try-files: files only answer GET/HEAD; a POST to "/users" belongs to the app.
      missOrNotFound(job);
      return;
    }
    answerNow(job, 405);
    job.response.headers.add("Allow", "GET, HEAD");
    return;
  }
  PathResult resolved = normalizeRequestPath(request.target, route.prefix);
  if (resolved.verdict == PathVerdict::BadRequest) {
    answerNow(job, 400);
    return;
  }
  if (resolved.verdict == PathVerdict::NotFound) {
    missOrNotFound(job);
    return;
  }
  RequestPath& path = resolved.path;
  job.stage = Stage::Lookup;
  job.rawPath = std::move(path.rawPath);
  job.query = std::move(path.query);
  job.conditions = Conditions::from(request);
  job.policy = {files.maxAge, files.immutable};

  LookupInput& in = job.lookupIn;
  in.root = files.root;
  in.relative = std::move(path.relative);
  in.trailingSlash = path.trailingSlash;
  in.followSymlinks = files.followSymlinks;
  in.index = files.index;
  in.precompressed = files.precompressed;
  in.codings = job.conditions.codings;
  if (job.shared->cache.enabled()) {
    appendCacheKeyPrefix(job.cacheKey, route);
    job.cacheKey.append(in.relative);
    appendCacheKeySuffix(job.cacheKey, in.trailingSlash,
                         in.precompressed ? in.codings : CodingPreference{});
  }
  if (!files.followSymlinks) {
    auto cached = job.shared->roots.find(files.root);
    if (cached != job.shared->roots.end() &&
        job.shared->loop->nowMs() - cached->second.computedMs < kRootRealLifetimeMs) {
      in.rootReal = cached->second.real;
    }
  }
}

}  // namespace doorman::statics::detail
