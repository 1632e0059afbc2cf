#pragma once
// Sends a head and a Body on a stream: memory pieces with uv_write (batched, one writev
// per batch), file pieces with sendfile(2) straight from the page cache on the
// non-blocking socket. When the socket is full, the sender waits for it to become
// writable through a uv_poll_t on a dup() of the socket's descriptor (libuv allows one
// watcher per descriptor number; the stream's own watcher only wants writability while
// its write queue is non-empty, and it is empty whenever sendfile runs).
//
// A file piece that turns out shorter than promised (a static file truncated while being
// sent) ends the send with UV_EIO: the caller closes the connection, so the client never
// takes a short body for a complete one.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "doorman/core/Body.hpp"

namespace doorman::core {

class BodySenderListener {
 public:
  /// 0 when everything was handed to the kernel, else a libuv error code.
  virtual void onSendDone(int status) = 0;

 protected:
  ~BodySenderListener() = default;
};

class BodySender {
 public:
  explicit BodySender(uv_loop_t* loop) noexcept : loop_(loop) {}
  ~BodySender();
  BodySender(const BodySender&) = delete;
  BodySender& operator=(const BodySender&) = delete;

  /// Sends `head` then `body`. Both must stay alive and unchanged until onSendDone or
  /// cancel(). The listener is never called from inside start().
  void start(uv_stream_t* stream, std::string_view head, const Body& body,
             BodySenderListener& listener);

  /// Stops; no callback follows. Safe to call when idle.
  void cancel() noexcept;

  bool active() const noexcept { return active_; }

  /// Bytes handed to libuv or to the kernel since start().
  uint64_t handed() const noexcept { return handed_; }

 private:
  struct Poller;

  /// The sender a callback may still act for: null once the sender died, or when the
  /// callback belongs to an earlier start() (cancelled or restarted since).
  static BodySender* current(const std::shared_ptr<BodySender*>& token,
                             uint64_t generation) noexcept;
  void step();
  bool writeMemory();
  void sendFile();
  void waitWritable(int fd);
  void finish(int status);
  void onWritten(int status);

  uv_loop_t* loop_;
  uv_stream_t* stream_ = nullptr;
  std::string_view head_;
  const Body* body_ = nullptr;
  BodySenderListener* listener_ = nullptr;
  size_t piece_ = 0;        ///< current piece
  uint64_t pieceDone_ = 0;  ///< bytes of a file piece already sent
  bool headDone_ = false;
  bool active_ = false;
  uint64_t handed_ = 0;
  /// Made on the first start() and kept: callbacks queued in libuv hold a copy, see null
  /// after the sender died, and compare `generation_` to know whether they are stale.
  std::shared_ptr<BodySender*> alive_;
  uint64_t generation_ = 0;  ///< bumped by cancel() (and so by every start())
  Poller* poller_ = nullptr;
};

}  // namespace doorman::core
