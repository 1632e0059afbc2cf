#pragma once
// One connection to one upstream server = one worker slot in use (a prefork worker
// serves one connection at a time). Explicit states:
//
//   Connecting --connected--> Busy --response complete, reusable--> Idle --start()--> Busy
//        |                     |                                     |
//        +--------failure------+----------failure / not reusable-----+---> Closed
//
// Busy means the request is being written and the response read (both at once: a
// backend may answer early). The keep-alive decision is made in one place,
// finishExchange(). Idle connections keep reading so a backend's close is noticed at
// once, and are closed after keepalive_idle, before the backend's own timeout.

#include <cstdint>
#include <memory>
#include <string>

#include "doorman/core/Body.hpp"
#include "doorman/core/BodySender.hpp"
#include "doorman/core/Log.hpp"
#include "doorman/core/MemoryBudget.hpp"
#include "doorman/http/ResponseParser.hpp"
#include "doorman/upstream/Endpoint.hpp"
#include "doorman/upstream/Job.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::upstream {

class UpstreamConnection;

struct ConnectionSettings {
  uint64_t connectTimeoutMs = 1000;
  uint64_t responseTimeoutMs = 60000;  ///< max gap while waiting for/reading the response
  uint64_t keepaliveIdleMs = 1000;
  http::ResponseLimits responseLimits;
};

/// Why an exchange failed, with what the replay decision needs to know.
struct ExchangeFailure {
  enum class Kind {
    Connect,           ///< could not connect (refused, unreachable, timeout): never sent
    ClosedEarly,       ///< EOF/reset before any response byte
    BadResponse,       ///< unparsable or ambiguous response
    ResponseTooLarge,  ///< over buffering.max_response_bytes or the memory budget
    Timeout,           ///< timeouts.response passed
  };
  Kind kind;
  std::string detail;
  core::Doing doing = core::Doing::Processing;  ///< what the connection was doing then
  bool requestWritten = false;  ///< every byte of the request was handed to the kernel
  /// ClosedEarly by a reset (ECONNRESET/EPIPE, seen on read, write or as the socket's
  /// pending error after EOF): the backend closed the connection with bytes of this
  /// request unread, i.e. it closed between requests (recycling, idle timeout) and never
  /// read this one.
  bool peerReset = false;
};

class UpstreamConnectionListener {
 public:
  /// The response is complete; `reusable` says whether the connection is now Idle.
  virtual void onExchangeDone(UpstreamConnection& connection, JobPtr job, http::Response response,
                              bool reusable) = 0;
  /// The exchange failed; the connection is Closed.
  virtual void onExchangeFailed(UpstreamConnection& connection, JobPtr job,
                                const ExchangeFailure& failure) = 0;
  /// An Idle connection was closed (backend closed it, or keepalive_idle passed).
  virtual void onIdleClosed(UpstreamConnection& connection) = 0;

 protected:
  ~UpstreamConnectionListener() = default;
};

class UpstreamConnection final : private core::BodySenderListener, private core::BodyListener {
 public:
  enum class State { New, Connecting, Idle, Busy, Closed };

  UpstreamConnection(uv::Loop& loop, const Endpoint& endpoint, const ConnectionSettings& settings,
                     UpstreamConnectionListener& listener, core::BufferPolicy* buffers);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  /// Sends the job's request (connecting first when New). Precondition: New or Idle.
  void start(JobPtr job);

  /// Closes now (any exchange is abandoned without a callback).
  void close() noexcept;

  /// For an Idle connection about to be reused: false when the backend already closed it
  /// or sent something (a non-blocking MSG_PEEK), in case the loop has not read it yet.
  bool stillUsable() noexcept;

  State state() const noexcept { return state_; }
  /// What the exchange in progress is doing, from the state and how far the request
  /// was written and the response read (for error-log lines).
  core::Doing doing() const noexcept;
  /// Exchanges completed on this connection so far.
  uint64_t completedExchanges() const noexcept { return completed_; }
  const Endpoint& endpoint() const noexcept { return endpoint_; }

 private:
  class TimerHook final : public uv::TimerListener {
   public:
    explicit TimerHook(UpstreamConnection& owner) : owner_(owner) {}
    void onTimer() override { owner_.onTimer(); }

   private:
    UpstreamConnection& owner_;
  };

  void transitionTo(State next);
  void connect();
  void onConnected(int status);
  void sendRequest();
  void onWriteDone(int status);
  void onSendDone(int status) override;
  void onBodyWritable() override;
  void onBodySettled() override;
  void startReading();
  void onRead(ssize_t nread, const char* data);
  void onTimer();
  void finishExchange();
  void fail(ExchangeFailure::Kind kind, std::string detail, bool peerReset = false);
  /// Takes the job out of the connection (it no longer carries it).
  JobPtr releaseJob() noexcept;
  /// The socket's pending error is a reset (checked after an EOF).
  bool socketWasReset() noexcept;
  void setQuickAck() noexcept;
  uv_stream_t* stream() noexcept;

  uv::Loop& loop_;
  const Endpoint& endpoint_;
  const ConnectionSettings& settings_;
  UpstreamConnectionListener& listener_;
  State state_ = State::New;
  uv::HandlePtr<uv_tcp_t> tcp_;
  uv::HandlePtr<uv_pipe_t> pipe_;
  TimerHook timerHook_{*this};
  uv::Timer timer_;
  http::ResponseParser parser_;
  core::BodySender sender_;
  bool sendingInStart_ = false;  ///< a failure reported by start() is deferred
  bool readPaused_ = false;      ///< a spilling response waits for the disk
  bool awaitingSettle_ = false;  ///< complete, the last spilled bytes are being written
  JobPtr job_;
  bool writeDone_ = false;
  bool desynced_ = false;
  std::string connectError_;
  std::string writeError_;  ///< a synchronous write failure, reported from the timer
  uint64_t completed_ = 0;
};

}  // namespace doorman::upstream
