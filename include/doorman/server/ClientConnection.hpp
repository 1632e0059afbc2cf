#pragma once
// One client connection and the exchange in progress on it. States:
//
//   Idle ──first byte──▶ ReadingHead ──head──▶ ReadingBody ──complete──▶ Waiting
//    ▲                       │  (no body: straight to Waiting)             │
//    │                       └────────────── bad input ──▶ Writing(close)  │ response/failure
//    └──────── keep-alive ◀──────────────── Writing ◀──────────────────────┘
//                                               │ close after
//                                               ▼
//                                           Lingering ──▶ Closed
//
// Idle: waiting for a (next) request (timeouts.keepalive; timeouts.header for the first),
//       timed by the server's idle lists (ServerContext::idle), with no Exchange: an idle
//       connection is its socket handle plus the few fields of this class.
// Every other state has an Exchange (ex_): parser, request, response, sender, telemetry,
// pinned generation, the state's timer, pipelined bytes. It is made at the request's
// first byte and ended when the connection goes back to Idle or closes.
// ReadingHead/ReadingBody: timeouts.header / timeouts.body_idle, limits from config.
// Waiting: the complete request is queued at or in flight to an upstream, or a file is
//          being read; client bytes read now are pipelined requests kept in `pending`
//          (reading stops past limits.pipeline_bytes); EOF means the client gave up.
// Writing: the response goes out in batches (timeouts.send_idle between them).
// Lingering: after a response with Connection: close, the write side is shut down and
//            what the client still sends is read and dropped for a short while, so the
//            kernel does not answer it with a reset that would destroy our response.
//
// Stage implementations: ReadRequest.cpp, Dispatch.cpp, WriteResponse.cpp,
// WriteCached.cpp (a static file answered from the small-file cache's prebuilt bytes);
// the access log line and the request metrics: RequestLog.cpp; error-log lines about
// the connection (what it is doing, its ids): ErrorLog.cpp, written through CONN_LOG.
//
// Configuration: a request pins the newest Generation when its first byte arrives and
// keeps it until its response is written (a reload meanwhile changes nothing for it);
// an idle connection holds none, so a retired generation dies with its last request.

#include <uv.h>

#include <memory>
#include <string>
#include <string_view>

#include "doorman/core/BodySender.hpp"
#include "doorman/core/Log.hpp"
#include "doorman/http/Message.hpp"
#include "doorman/http/RequestParser.hpp"
#include "doorman/server/IdleTimeouts.hpp"
#include "doorman/server/ServerContext.hpp"
#include "doorman/static/FileServer.hpp"
#include "doorman/upstream/Job.hpp"
#include "doorman/uv/Handle.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::server {

class ClientConnection final : public uv::Deletable, public TimeoutLink {
 public:
  enum class State : uint8_t {
    Idle,
    ReadingHead,
    ReadingBody,
    Waiting,
    Writing,
    Lingering,
    Closed
  };

  /// Room for the peer's text (an IPv6 address is at most 45 characters).
  static constexpr size_t kPeerSize = 46;

  /// The client address in 17 bytes (an idle connection keeps no text of it): the
  /// address bytes, or which of "unix" / "unknown" it is.
  struct Peer {
    enum class Kind : uint8_t { Unknown, V4, V6, Unix };
    Kind kind = Kind::Unknown;
    uint8_t addr[16] = {};

    bool operator==(const Peer&) const = default;

    /// From Listener::accept's text (libuv's formatting of the address, so format()
    /// gives the same text back).
    static Peer parse(std::string_view text) noexcept;
    /// What X-Forwarded-For and the logs show: "127.0.0.1", "::1", "unix", "unknown".
    void format(char (&out)[kPeerSize]) const noexcept;
  };

  /// Takes an accepted stream (TCP or unix). `peer` is the client address for
  /// X-Forwarded-For and logs.
  ClientConnection(ServerContext& context, uv::HandlePtr<uv_tcp_t> tcp,
                   uv::HandlePtr<uv_pipe_t> pipe, std::string_view peer, uint64_t id);
  ~ClientConnection() override;

  /// Starts reading. Call once, right after construction.
  void start();

  /// Graceful stop: an idle connection closes now, a busy one after its response.
  void drain();

  /// Closes at once (second stop signal).
  void abort();

  /// The buffer budgets may have room again (see ConnectionRegistry::waitForBudget).
  void onBudgetPoll();

  /// Idle for longer than timeouts.header (no first request) or timeouts.keepalive
  /// (ServerContext::idle, which has already taken it off its list).
  void onIdleTimeout();

  /// The server's intrusive list of open connections (no allocation per connection).
  ClientConnection* prevOpen = nullptr;
  ClientConnection* nextOpen = nullptr;

  State state() const noexcept { return state_; }
  uint64_t id() const noexcept { return id_; }
  /// What the connection is doing now, from its state (and, while its request is at an
  /// upstream, from the upstream connection's): the "while ..." of its log lines.
  core::Doing doing() const noexcept;

 private:
  // --- lifecycle (ClientConnection.cpp)
  void transitionTo(State next);
  void onRead(ssize_t nread, const uv_buf_t* buf);
  void onTimer();
  void startReading();
  void stopReading();
  void close();
  /// The next close() resets the connection (SO_LINGER 0) instead of sending a FIN.
  void resetOnClose();
  uv_stream_t* stream() const noexcept { return stream_; }
  bool isTcp() const noexcept { return stream_ != nullptr && stream_->type == UV_TCP; }
  void closeStream() noexcept;
  /// Response bytes not yet taken by the client (libuv's queue + the kernel's).
  size_t unsentBytes();
  /// Sends what a cached answer left corked in the kernel (MSG_MORE, waiting for the next
  /// pipelined answer) when no answer follows it at once after all.
  void pushCorked() noexcept;

  // --- ErrorLog.cpp
  /// One error-log line: the message, then "while <doing()>" and describe(). Use
  /// CONN_LOG, which tests the level before any formatting.
  void logEvent(core::LogLevel level, const char* fmt, ...) const
      __attribute__((format(printf, 3, 4)));
  void describe(std::string& out) const;
  /// The request of the exchange in progress when its head is known, else nullptr.
  const http::Request* loggedRequest() const noexcept;

  // --- ReadRequest.cpp
  void consume(const char* data, size_t len);
  void startReadingHead();
  /// How much of `data` the body buffers take now (`feedLen`); false when consume must
  /// stop (the body is held for back-pressure, or could not be buffered: answered).
  bool bodyFeedLength(const char* data, size_t len, size_t& feedLen);
  /// The parser needs more bytes and all were fed: re-arm the body timers.
  void awaitMoreRequestBytes();
  void onBadRequest();
  void onHeadComplete();
  void onRequestComplete();
  void onClientEof(const char* why);
  void resumeAfterResponse();
  bool bodyTooSlow();
  void beginRequest();

  // --- RequestLog.cpp
  /// The configuration of the request in progress, else the newest one.
  const config::Config& config() const noexcept {
    return ex_ ? ex_->gen->config : ctx_.current->config;
  }
  /// One access log line and the request metrics, once per request.
  void logRequest(int status);
  /// Whether memory and disk are both too short for one more body block: true refuses
  /// a new request that would need one. Not const: when the disk is short it asks the
  /// small-file cache to give way first.
  bool reclaimOrExhausted();
  void holdBody(const char* data, size_t len);
  void resumeBody();
  void requestBodyReady();
  void continueSettling();
  void onBodyWritable();
  void onBodySettled();

  // --- Dispatch.cpp
  void dispatch();
  void forwardUpstream();
  void onUpstreamResponse(http::Response response);
  void onUpstreamFailure(int status, std::string_view reason, uint64_t retryAfterSeconds);
  void onStaticResponse(http::Response response);
  void onStaticMiss();
  void cancelPending();
  void recordUpstreamTelemetry();

  // --- WriteResponse.cpp
  void respond(http::Response response, bool closeAfter);
  /// Reserves, in buffering.memory_total, the working memory of the exchange besides its
  /// bodies: the exchange itself, the request head as read and the response head. With `mayRefuse`
  /// a short budget is refused (false, nothing reserved); otherwise the bytes exist already and are
  /// counted regardless.
  bool chargeWorkingMemory(bool mayRefuse);
  void refuseForMemory();
  void respondError(int status, std::string_view detail, bool closeAfter,
                    uint64_t retryAfterSeconds = 0);
  void onSendDone(int status);
  uint64_t deliveredBytes();
  void writeContinue();
  void finishResponse();
  void startLingering();

  // --- WriteCached.cpp
  void respondCached(statics::CacheHit hit);
  void onCachedWriteDone(int status);

  /// Everything that exists only while a request is in progress: allocated at the
  /// request's first byte, freed when the connection goes back to Idle (or closes). An
  /// idle keep-alive connection is only its socket handle and the fields above it.
  /// It is also what the connection's partners call (upstream pool, file server, body,
  /// sender, timer): those interfaces forward to the connection, whose idle part so
  /// carries no vtable pointer for them.
  struct Exchange final : uv::Deletable,
                          upstream::ResponseSink,
                          statics::StaticSink,
                          uv::TimerListener,
                          core::BodySenderListener,
                          core::BodyListener {
    Exchange(ClientConnection& connection, GenerationPtr generation);
    ~Exchange() override;
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    void onUpstreamResponse(http::Response r) override { owner->onUpstreamResponse(std::move(r)); }
    void onUpstreamFailure(int status, std::string_view reason, uint64_t retryAfter) override {
      owner->onUpstreamFailure(status, reason, retryAfter);
    }
    void onStaticResponse(http::Response r) override { owner->onStaticResponse(std::move(r)); }
    void onStaticMiss() override { owner->onStaticMiss(); }
    void describe(std::string& out) const override { owner->describe(out); }
    void onTimer() override { owner->onTimer(); }
    void onSendDone(int status) override { owner->onSendDone(status); }
    void onBodyWritable() override { owner->onBodyWritable(); }
    void onBodySettled() override { owner->onBodySettled(); }

    /// Back to the state of a fresh exchange, holding nothing (no generation, bodies,
    /// job, cache entry) so that it can wait in ServerContext::spareExchanges. Head
    /// strings up to kKeptHeadCapacity keep their storage.
    void recycle();
    static constexpr size_t kKeptHeadCapacity = 4096;

    ClientConnection* owner;  ///< changes when a spare exchange is taken again
    ServerContext& ctx;
    char peer[kPeerSize] = {};  ///< the client address as text (Peer::format)
    Peer peerOf;                ///< whose text `peer` is (a spare exchange keeps it)
    bool peerKnown = false;
    // The configuration the request started with (pinned until its response is written).
    GenerationPtr gen;
    uv::Timer timer;  ///< the state's timeout: header, body_idle, send_idle, linger
    http::RequestParser parser;
    http::Request request;
    const RouteEntry* route = nullptr;
    upstream::JobPtr job;
    /// The last bodiless request forwarded. The pool holds it while its job lives; once
    /// this is the only reference, the next request reuses it (forwardUpstream).
    std::shared_ptr<upstream::OutboundRequest> outbound;
    statics::StaticTicketPtr staticTicket;
    std::string requestId;
    http::Response response;
    std::string responseHead;
    core::BodySender sender;
    bool closeAfterResponse = false;
    bool bodyHeld = false;        ///< back-pressure: the body budget is short, reading stopped
    bool awaitingBody = false;    ///< complete request, its spilled body is still being written
    uint64_t cachedHanded = 0;    ///< bytes of the cached response handed to libuv
    uint64_t deliveredAtArm = 0;  ///< response bytes the client had taken at the last check
    uint64_t bodyStartMs = 0;     ///< loop time the current body_min_rate window began
    uint64_t bodyReceived = 0;    ///< body bytes (with chunk framing) received so far
    uint64_t windowBytes = 0;     ///< bodyReceived when that window began
    uint64_t heldSinceMs = 0;     ///< loop time the body was (last) held back (bodyHeld)
    uint64_t heldFirstMs = 0;     ///< loop time it was first held without progress since

    std::string pending;     ///< bytes read past the current request (pipelining)
    uint64_t headBytes = 0;  ///< request head bytes read so far (working memory)
    uint64_t charged = 0;    ///< working memory reserved in ctx.budget (chargeWorkingMemory)

    statics::CacheHit cachedHit;  ///< held while a cached response is being written
    char dateLine[48] = {};       ///< "Date: ...\r\n" of the cached response being written

    // Per-request telemetry for the access log (microseconds of a monotonic clock).
    struct Telemetry {
      int64_t startUnixUs = 0;  ///< wall clock at the first byte
      int64_t startUs = -1;     ///< first byte
      int64_t completeUs = -1;  ///< request complete
      int64_t submitUs = -1;    ///< handed to the upstream pool
      int64_t answeredUs = -1;  ///< upstream response or failure
      int64_t respondUs = -1;   ///< response writing began
      int64_t queueUs = -1;     ///< from the job: time waiting for a slot
      int64_t upstreamUs = -1;  ///< from the job: time on the worker
      uint64_t bytesIn = 0;
      uint64_t bytesOut = 0;
      uint32_t tries = 0;
      std::string server;  ///< upstream server that answered
      bool logged = false;
    };
    Telemetry tel;
  };

  /// Ends the exchange in progress (if any): leaves every queue; a clean one (its parser
  /// between messages) is recycled into ServerContext::spareExchanges, any other goes to
  /// deferred deletion (this may run inside one of its own callbacks).
  void endExchange();

  ServerContext& ctx_;
  /// The accepted uv_tcp_t or uv_pipe_t (its `type` says which), owned: closed and freed
  /// as a uv::HandlePtr of its type by closeStream(). One pointer instead of two.
  uv_stream_t* stream_ = nullptr;
  std::unique_ptr<Exchange> ex_;  ///< nullptr while Idle (and once closed)
  uint64_t id_;
  State state_ = State::Idle;
  bool reading_ = false;
  bool firstRequest_ = true;
  bool draining_ = false;
  /// The last cached answer went out with MSG_MORE (WriteCached.cpp) and nothing without
  /// it has been written since: the kernel may hold its last segment.
  bool corked_ = false;
  /// Cached answers started on this connection (tells whether consume() wrote one).
  uint32_t cachedWrites_ = 0;
  Peer peer_;
};

}  // namespace doorman::server

/// An error-log line about this client connection (inside ClientConnection's members).
#define CONN_LOG(lvl, ...)                                               \
  do {                                                                   \
    if (::doorman::core::Log::enabled(::doorman::core::LogLevel::lvl)) { \
      logEvent(::doorman::core::LogLevel::lvl, __VA_ARGS__);             \
    }                                                                    \
  } while (0)
