#pragma once
// One request handed to an upstream pool, and the interface that receives its outcome.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "doorman/core/Body.hpp"
#include "doorman/http/Message.hpp"

namespace doorman::upstream {

class UpstreamConnection;

/// The bytes to send upstream, prepared completely before submission and immutable
/// after: a replay sends exactly the same bytes again.
struct OutboundRequest {
  std::string head;          ///< serialized request head, ends with CRLFCRLF
  core::Body body;           ///< the buffered body (Content-Length already in head)
  bool headRequest = false;  ///< the response has no body
  bool idempotent = false;   ///< safe to send again after an ambiguous failure
  std::string_view method;   ///< for logs (points into head)
};

/// Implemented by whoever waits for the response (the client connection). Called at
/// most once per submission, never from inside UpstreamPool::submit().
class ResponseSink {
 public:
  virtual void onUpstreamResponse(http::Response response) = 0;
  /// status is 502, 503 or 504; reason is a short text for logs and the body.
  virtual void onUpstreamFailure(int status, std::string_view reason,
                                 uint64_t retryAfterSeconds) = 0;
  /// Appends who asked, for an error-log line about this exchange (the pool writes it):
  /// ", client: ADDR, conn: N, request: ID \"METHOD TARGET HTTP/1.x\"".
  virtual void describe(std::string& out) const { (void)out; }

 protected:
  ~ResponseSink() = default;
};

/// Per-request telemetry, filled by the pool and the connection, readable by the sink's
/// owner when onUpstreamResponse/onUpstreamFailure is called (the Job is still alive then)
/// and after. Times are core::monotonicMicros(); 0 means "did not happen". Phases:
///   queue wait    = dispatchedUs - queuedUs   (waiting for a slot, plus failed tries)
///   upstream time = completedUs - dispatchedUs (the last try: write, app time, read)
///   time to first byte = firstByteUs - dispatchedUs
/// A job answered from the queue (503 on queue timeout, all servers down) has
/// dispatchedUs == 0 and completedUs set.
struct JobTiming {
  uint64_t queuedUs = 0;          ///< submitted to the pool
  uint64_t dispatchedUs = 0;      ///< the last try got a worker slot (connect or reuse began)
  uint64_t firstByteUs = 0;       ///< first response byte of the last try
  uint64_t completedUs = 0;       ///< response complete or failure decided
  std::string server;             ///< address of the server of the last try, as configured
  uint32_t tries = 0;             ///< sends started (1 + retries)
  bool reusedConnection = false;  ///< the last try went out on a kept-alive connection
};

/// A submission's ticket. The pool and the client both hold it; the client calls
/// UpstreamPool::cancel() when it goes away, which detaches the sink: a queued job
/// leaves the queue, an in-flight one finishes reading its response (so the worker
/// connection stays in sync) and drops it.
struct Job {
  enum class State { Queued, InFlight, Done, Cancelled };

  std::shared_ptr<const OutboundRequest> request;
  ResponseSink* sink = nullptr;
  State state = State::Queued;
  uint64_t id = 0;
  uint64_t enqueuedMs = 0;  ///< loop time when it entered the queue
  uint64_t deadlineMs = 0;  ///< loop time after which it may no longer wait
  uint64_t dispatchedMs = 0;
  uint32_t replays = 0;                ///< sends repeated after reaching a backend (<= retries)
  const void* failedServer = nullptr;  ///< where the last attempt failed (a retry avoids it)
  /// The connection carrying it while InFlight (what it is doing: UpstreamConnection::doing).
  const UpstreamConnection* connection = nullptr;
  JobTiming timing;
};

using JobPtr = std::shared_ptr<Job>;

}  // namespace doorman::upstream
