#include "doorman/upstream/UpstreamPool.hpp"

#include <algorithm>
#include <cstdarg>
#include <string_view>

#include "PoolServer.hpp"
#include "doorman/core/Clock.hpp"
#include "doorman/core/Log.hpp"

namespace doorman::upstream {

const char* upstreamErrorName(UpstreamError kind) noexcept {
  switch (kind) {
    case UpstreamError::Connect:
      return "connect";
    case UpstreamError::Reset:
      return "reset";
    case UpstreamError::Timeout:
      return "timeout";
    case UpstreamError::BadResponse:
      return "bad_response";
    case UpstreamError::TooLarge:
      return "too_large";
    case UpstreamError::QueueFull:
      return "queue_full";
    case UpstreamError::QueueTimeout:
      return "queue_timeout";
    case UpstreamError::Overloaded:
      return "overloaded";
    case UpstreamError::Unavailable:
      return "unavailable";
  }
  return "other";
}

namespace {

UpstreamError errorOf(ExchangeFailure::Kind kind) {
  switch (kind) {
    case ExchangeFailure::Kind::Connect:
      return UpstreamError::Connect;
    case ExchangeFailure::Kind::ClosedEarly:
      return UpstreamError::Reset;
    case ExchangeFailure::Kind::BadResponse:
      return UpstreamError::BadResponse;
    case ExchangeFailure::Kind::ResponseTooLarge:
      return UpstreamError::TooLarge;
    case ExchangeFailure::Kind::Timeout:
      return UpstreamError::Timeout;
  }
  return UpstreamError::BadResponse;
}

/// Logs through UpstreamPool::logExchange once the level is known to be wanted.
#define POOL_LOG(lvl, ...)                                               \
  do {                                                                   \
    if (::doorman::core::Log::enabled(::doorman::core::LogLevel::lvl)) { \
      logExchange(::doorman::core::LogLevel::lvl, __VA_ARGS__);          \
    }                                                                    \
  } while (0)

struct DeferredConnection final : uv::Deletable {
  explicit DeferredConnection(std::unique_ptr<UpstreamConnection> c) : connection(std::move(c)) {}
  std::unique_ptr<UpstreamConnection> connection;
};

}  // namespace

std::unique_ptr<UpstreamPool> UpstreamPool::create(uv::Loop& loop, const config::Upstream& config,
                                                   core::BufferPolicy* buffers,
                                                   uint64_t maxResponseBytes, std::string& error) {
  std::vector<Endpoint> endpoints;
  for (const auto& server : config.servers) {
    endpoints.emplace_back();
    error = Endpoint::resolve(server.address, endpoints.back());
    if (!error.empty()) {
      std::string context = "upstream '";
      context += config.name;
      context += "': ";
      error.insert(0, context);
      return nullptr;
    }
  }
  return create(loop, config, std::move(endpoints), buffers, maxResponseBytes);
}

std::unique_ptr<UpstreamPool> UpstreamPool::create(uv::Loop& loop, const config::Upstream& config,
                                                   std::vector<Endpoint> endpoints,
                                                   core::BufferPolicy* buffers,
                                                   uint64_t maxResponseBytes) {
  std::unique_ptr<UpstreamPool> pool(new UpstreamPool(loop, config, buffers, maxResponseBytes));
  for (size_t i = 0; i < config.servers.size() && i < endpoints.size(); ++i) {
    pool->servers_.push_back(
        std::make_unique<Server>(*pool, std::move(endpoints[i]), config.servers[i].workers));
  }
  pool->startHealthChecks();
  return pool;
}

bool UpstreamPool::servesEndpoints(const std::vector<Endpoint>& endpoints) const noexcept {
  if (endpoints.size() != servers_.size()) {
    return false;
  }
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (!servers_[i]->endpoint.sameAddress(endpoints[i])) {
      return false;
    }
  }
  return true;
}

UpstreamPool::UpstreamPool(uv::Loop& loop, const config::Upstream& config,
                           core::BufferPolicy* buffers, uint64_t maxResponseBytes)
    : loop_(loop), config_(config), buffers_(buffers), queueTimer_(loop, *this) {
  settings_.connectTimeoutMs = static_cast<uint64_t>(config.connectTimeout.count());
  settings_.responseTimeoutMs = static_cast<uint64_t>(config.responseTimeout.count());
  settings_.keepaliveIdleMs = static_cast<uint64_t>(config.keepaliveIdle.count());
  settings_.responseLimits.bodyBytes = maxResponseBytes;
}

UpstreamPool::~UpstreamPool() {
  // Connections reference servers_ (listener) and settings_: close them first.
  for (auto& server : servers_) {
    for (auto& c : server->connections) {
      c->close();
    }
  }
}

uint32_t UpstreamPool::busyWorkers() const noexcept {
  uint32_t n = 0;
  for (const auto& s : servers_) {
    n += s->busy;
  }
  return n;
}

std::vector<UpstreamPool::ServerView> UpstreamPool::serverViews() const {
  std::vector<ServerView> views;
  views.reserve(servers_.size());
  for (const auto& s : servers_) {
    views.push_back({s->endpoint.text, s->workers, s->busy, static_cast<uint32_t>(s->idle.size()),
                     s->usable(), s->failures, s->checkFailed});
  }
  return views;
}

uint32_t UpstreamPool::totalWorkers() const noexcept {
  uint32_t n = 0;
  for (const auto& s : servers_) {
    n += s->workers;
  }
  return n;
}

JobPtr UpstreamPool::submit(std::shared_ptr<const OutboundRequest> request, ResponseSink& sink,
                            uint64_t queueTimeoutMs, Rejection& rejection) {
  Server* server = queue_.empty() ? pickServer() : nullptr;
  if (server == nullptr && !admit(queueTimeoutMs, rejection)) {
    return nullptr;
  }
  auto job = std::make_shared<Job>();
  job->id = nextJobId_++;
  job->request = std::move(request);
  job->sink = &sink;
  job->enqueuedMs = loop_.nowMs();
  job->deadlineMs = job->enqueuedMs + queueTimeoutMs;
  job->timing.queuedUs = core::monotonicMicros();
  ++stats_.requests;
  if (server != nullptr) {
    startOn(*server, job);
    return job;
  }
  queue_.pushBack(job);
  armQueueTimer();
  return job;
}

bool UpstreamPool::admit(uint64_t queueTimeoutMs, Rejection& rejection) {
  rejection.status = 503;
  uint64_t now = loop_.nowMs();
  if (allDownSinceMs_ && now - *allDownSinceMs_ >= queueTimeoutMs) {
    // Waiting would end the same way: answer now, not after a timeout per request.
    countError(UpstreamError::Unavailable);
    rejection.reason = "every server of upstream '" + config_.name + "' is down";
    rejection.retryAfterSeconds = secondsToNextProbe();
    return false;
  }
  uint32_t workers = upWorkers();
  if (queue_.size() >= config_.queueMax) {
    ++stats_.rejectedQueueFull;
    countError(UpstreamError::QueueFull);
    rejection.reason = "upstream '" + config_.name + "' queue is full";
    rejection.retryAfterSeconds =
        estimate_.ready() && workers > 0
            ? std::max<uint64_t>(1,
                                 (estimate_.predictedWaitMs(queue_.size(), workers) + 999) / 1000)
            : 1;
    return false;
  }
  if (estimate_.ready() && workers > 0) {
    uint64_t predictedMs = estimate_.predictedWaitMs(queue_.size() + 1, workers);
    if (predictedMs > queueTimeoutMs) {
      countError(UpstreamError::Overloaded);
      rejection.reason = "upstream '" + config_.name + "' is overloaded: predicted wait " +
                         std::to_string(predictedMs) + " ms is over the queue timeout of " +
                         std::to_string(queueTimeoutMs) + " ms";
      rejection.retryAfterSeconds = std::max<uint64_t>(1, (predictedMs + 999) / 1000);
      return false;
    }
  }
  return true;
}

void UpstreamPool::cancel(Job& job) {
  job.sink = nullptr;
  if (job.state == Job::State::Queued) {
    queue_.cancel(job);
    job.request.reset();  // free the body now; nobody will send it
    armQueueTimer();
  }
  // In flight: the connection finishes the exchange and the response is dropped.
}

UpstreamPool::Server* UpstreamPool::pickServer(const void* avoid) {
  // Least busy relative to its workers wins; ties go in rotation so equal servers share
  // the load. A server that just failed this request always looks free (its slot came
  // back at once), so a retry never goes back to it while another server is up: it
  // waits for one instead.
  Server* best = nullptr;
  Server* avoided = nullptr;
  size_t n = servers_.size();
  size_t bestIndex = 0;
  bool anotherUp = false;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (rotation_ + k) % n;
    Server* s = servers_[i].get();
    if (!s->usable()) {
      continue;
    }
    if (s == avoid) {
      avoided = s;
      continue;
    }
    anotherUp = true;
    if (s->freeSlots() == 0) {
      continue;
    }
    // busy/workers < best.busy/best.workers, without division.
    if (best == nullptr || uint64_t{s->busy} * best->workers < uint64_t{best->busy} * s->workers) {
      best = s;
      bestIndex = i;
    }
  }
  if (best == nullptr && !anotherUp && avoided != nullptr && avoided->freeSlots() > 0) {
    best = avoided;
    bestIndex =
        static_cast<size_t>(std::find_if(servers_.begin(), servers_.end(),
                                         [&](const auto& p) { return p.get() == avoided; }) -
                            servers_.begin());
  }
  if (best != nullptr) {
    rotation_ = bestIndex + 1;
  }
  return best;
}

void UpstreamPool::startOn(Server& server, JobPtr job) {
  ++server.busy;
  job->state = Job::State::InFlight;
  job->dispatchedMs = loop_.nowMs();
  JobTiming& timing = job->timing;
  if (timing.tries > 0) {
    ++stats_.retries;
  }
  timing.dispatchedUs = core::monotonicMicros();
  timing.firstByteUs = 0;
  timing.server = server.endpoint.text;
  ++timing.tries;
  UpstreamConnection* connection = nullptr;
  while (connection == nullptr && !server.idle.empty()) {
    connection = server.idle.back();
    server.idle.pop_back();
    if (!connection->stillUsable()) {
      // The backend closed it (or spoke out of turn) and the loop has not seen it yet:
      // never write a request into a connection known to be dead.
      LOG_DEBUG("upstream %s: server %s: pooled connection already closed, not reused",
                config_.name.c_str(), server.endpoint.text.c_str());
      connection->close();
      discard(server, *connection);
      connection = nullptr;
    }
  }
  timing.reusedConnection = connection != nullptr;
  if (connection == nullptr) {
    server.connections.push_back(
        std::make_unique<UpstreamConnection>(loop_, server.endpoint, settings_, server, buffers_));
    connection = server.connections.back().get();
    ++stats_.connectionsOpened;
  }
  connection->start(std::move(job));
}

void UpstreamPool::dispatch() {
  while (!queue_.empty()) {
    Server* server = pickServer(queue_.front()->failedServer);
    if (server == nullptr) {
      break;
    }
    startOn(*server, queue_.popFront());
  }
  armQueueTimer();
}

void UpstreamPool::armQueueTimer() {
  auto deadline = queue_.earliestDeadline();
  if (!deadline) {
    queueTimer_.stop();
    return;
  }
  uint64_t now = loop_.nowMs();
  queueTimer_.start(*deadline > now ? *deadline - now : 0);
}

void UpstreamPool::onTimer() {
  for (auto& job : queue_.expire(loop_.nowMs())) {
    ++stats_.queueTimeouts;
    const auto waited = static_cast<unsigned long long>(loop_.nowMs() - job->enqueuedMs);
    if (!anyServerUp()) {
      countError(UpstreamError::Unavailable);
      POOL_LOG(Warn, *job, nullptr, core::Doing::WaitingInQueue,
               "no live upstream: every server is down (waited %llu ms); answering 503", waited);
      deliverFailure(job, 503, "every server of the upstream is down", secondsToNextProbe());
      continue;
    }
    countError(UpstreamError::QueueTimeout);
    POOL_LOG(Warn, *job, nullptr, core::Doing::WaitingInQueue,
             "no worker became free within the queue timeout (waited %llu ms); answering 503",
             waited);
    deliverFailure(job, 503, "no worker became free within the queue timeout", 1);
  }
  armQueueTimer();
}

void UpstreamPool::release(Server& server, UpstreamConnection& connection, bool reusable) {
  --server.busy;
  if (reusable) {
    server.idle.push_back(&connection);
  } else {
    discard(server, connection);
  }
}

void UpstreamPool::discard(Server& server, UpstreamConnection& connection) {
  auto& list = server.connections;
  auto it =
      std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.get() == &connection; });
  if (it == list.end()) {
    return;
  }
  // We are inside one of its callbacks: delete after it returns.
  loop_.deferDelete(std::make_unique<DeferredConnection>(std::move(*it)));
  list.erase(it);
}

void UpstreamPool::onDone(Server& server, UpstreamConnection& connection, const JobPtr& job,
                          http::Response response, bool reusable) {
  // Release first: the next queued request gets the worker before a single byte of this
  // response reaches its (maybe slow) client.
  release(server, connection, reusable);
  server.failures = 0;
  markUp(server);
  dispatch();
  job->state = Job::State::Done;
  job->timing.completedUs = core::monotonicMicros();
  estimate_.add(job->timing.completedUs - job->timing.dispatchedUs);
  ResponseSink* sink = job->sink;
  job->sink = nullptr;
  job->request.reset();
  if (sink != nullptr) {
    sink->onUpstreamResponse(std::move(response));
  }
}

void UpstreamPool::onFailed(Server& server, UpstreamConnection& connection, JobPtr job,
                            const ExchangeFailure& failure) {
  bool reused = connection.completedExchanges() > 0;
  release(server, connection, false);
  using Kind = ExchangeFailure::Kind;
  countError(errorOf(failure.kind));
  bool wanted = job->sink != nullptr && job->request != nullptr;
  if (failure.kind == Kind::Connect) {
    // Never reached the app: it waits for a server that accepts (this one after a probe,
    // or another), up to its queue deadline. Not bounded by `retries`.
    ++stats_.connectFailures;
    const char* down = markDown(server) ? "; server marked down, probing it" : "";
    if (wanted) {
      job->failedServer = &server;
      POOL_LOG(Warn, *job, &server, failure.doing, "%s%s; the request waits for a server",
               failure.detail.c_str(), down);
      queue_.pushFront(std::move(job));
    } else if (*down != '\0') {
      POOL_LOG(Warn, *job, &server, failure.doing, "%s%s", failure.detail.c_str(), down);
    }
    dispatch();
    return;
  }
  markUp(server);  // it accepted the connection
  // Replay only what is safe to repeat. A connection reset before any response byte
  // proves the backend closed it with this request unread: a reused connection closed
  // between requests (recycled worker, idle timeout), or a new one still in the accept
  // backlog of a server that is stopping. Any method may go again. A plain EOF on a
  // reused connection is the same race seen from the other side, or a worker that read
  // the request and died: only idempotent requests (or with Idempotency-Key).
  bool staleReuse = failure.kind == Kind::ClosedEarly && job->request &&
                    (failure.peerReset || (reused && job->request->idempotent));
  if (wanted && staleReuse && job->replays < config_.retries) {
    ++job->replays;
    job->failedServer = &server;
    POOL_LOG(Warn, *job, &server, failure.doing,
             "%s before any response byte%s; replaying request (try %u)", failure.detail.c_str(),
             failure.peerReset ? " (reset: never read)" : "", job->timing.tries + 1);
    queue_.pushFront(std::move(job));
    dispatch();
    return;
  }
  dispatch();
  ++stats_.failures;
  int status = failure.kind == Kind::Timeout ? 504 : 502;
  if (wanted) {
    POOL_LOG(Error, *job, &server, failure.doing, "%s; answering %d", failure.detail.c_str(),
             status);
  } else {
    POOL_LOG(Info, *job, &server, failure.doing, "%s (the client had gone)",
             failure.detail.c_str());
  }
  deliverFailure(job, status, failure.detail, 0);
}

void UpstreamPool::onIdleClosed(Server& server, UpstreamConnection& connection) {
  auto& idle = server.idle;
  idle.erase(std::remove(idle.begin(), idle.end(), &connection), idle.end());
  discard(server, connection);
}

void UpstreamPool::deliverFailure(const JobPtr& job, int status, const std::string& reason,
                                  uint64_t retryAfter) {
  job->state = Job::State::Done;
  job->timing.completedUs = core::monotonicMicros();
  ResponseSink* sink = job->sink;
  job->sink = nullptr;
  job->request.reset();
  if (sink != nullptr) {
    sink->onUpstreamFailure(status, reason, retryAfter);
  }
}

void UpstreamPool::logExchange(core::LogLevel level, const Job& job, const Server* server,
                               core::Doing doing, const char* fmt, ...) const {
  std::string line;
  line.reserve(256);
  va_list args;
  va_start(args, fmt);
  core::Log::vappend(line, fmt, args);
  va_end(args);
  line += " while ";
  line += core::doingText(doing);
  if (job.sink != nullptr) {
    job.sink->describe(line);
  } else if (job.request) {
    std::string_view head = job.request->head;
    std::string_view first = head.substr(0, head.find('\r'));
    core::Log::append(line, ", client gone, request: \"%.*s\"", static_cast<int>(first.size()),
                      first.data());
  } else {
    line += ", client gone";
  }
  core::Log::append(line, ", upstream: \"%s\"", config_.name.c_str());
  if (server != nullptr) {
    line += ' ';
    line += server->endpoint.text;
  } else if (!job.timing.server.empty()) {
    line += ' ';
    line += job.timing.server;
  }
  core::Log::write(level, "%s", line.c_str());
}

}  // namespace doorman::upstream
