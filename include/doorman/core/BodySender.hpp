#pragma once
// Sends a head and a Body on a stream: memory pieces with uv_write (batched, one writev
// per batch), file pieces with sendfile(2) straight from the page cache on the
// non-blocking socket. When the socket is full, the sender waits for it to become
// writable through a uv_poll_t on a dup() of the socket's descriptor (libuv allows one
// watcher per descriptor number; the stream's own watcher only wants writability while
// its write queue is non-empty, and it is empty whenever sendfile runs).
//
// Memory is first written with uv_try_write: a response that fits the socket buffer (the
// usual case) costs one writev and no write request, and libuv's watcher is not touched
// (a completed uv_write makes libuv re-register the descriptor with epoll_ctl even when
// its events did not change). Only what the kernel did not take goes to uv_write.
// A send that completes inside start() is reported on the loop's next turn (uv::Task).
//
// sendfile reads the page cache; a page that is not there makes it read the disk and
// block the loop (every connection) meanwhile. So before sending a window of a file
// (kWarmWindow bytes), the sender asks the page cache whether its first and last pages
// are there (preadv2 with RWF_NOWAIT, one byte each); when they are not, the window is
// read on libuv's thread pool first (through a dup() of the descriptor, so a connection
// closed meanwhile cannot pull it away), and the send goes on from the loop once it is
// cached; a send cancelled while its warm-up is still queued takes it off the queue.
// This is the job of nginx's "aio threads", for the cold part of a file only.
//
// A file piece that turns out shorter than promised (a static file truncated while being
// sent) ends the send with UV_EIO: the caller closes the connection, so the client never
// takes a short body for a complete one.

#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "doorman/core/Body.hpp"
#include "doorman/uv/Loop.hpp"

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
  /// Most memory parts start() takes before the body.
  static constexpr size_t kMaxParts = 4;

  explicit BodySender(uv::Loop& loop) noexcept;
  ~BodySender();
  BodySender(const BodySender&) = delete;
  BodySender& operator=(const BodySender&) = delete;

  /// Sends `head` then `body`. Both must stay alive and unchanged until onSendDone or
  /// cancel(). The listener is not called from inside start(), except for an error that
  /// uv_write reports at once (as before the try-write path existed).
  void start(uv_stream_t* stream, std::string_view head, const Body& body,
             BodySenderListener& listener);

  /// Sends up to kMaxParts memory parts in order (no body); the same contract.
  /// `moreFollows`: another response is about to follow on this stream (pipelined
  /// requests already read), so the last bytes are sent with MSG_MORE and wait for it in
  /// the kernel instead of leaving in a small segment of their own. The caller must then
  /// push them (TCP_NODELAY) if nothing follows after all.
  void start(uv_stream_t* stream, std::span<const std::string_view> parts,
             BodySenderListener& listener, bool moreFollows = false);

  /// Stops; no callback follows. Safe to call when idle.
  void cancel() noexcept;

  bool active() const noexcept { return active_; }

  /// Bytes handed to libuv or to the kernel since start().
  uint64_t handed() const noexcept { return handed_; }

  /// Bytes of a file checked (or read) into the page cache before sendfile reaches them.
  static constexpr uint64_t kWarmWindow = 1u << 20;
  /// Counts, in `*counter`, the windows read on the thread pool because they were not
  /// in the page cache (null: not counted).
  void countWarmupsIn(uint64_t* counter) noexcept { warmups_ = counter; }
  /// A window is being read into the page cache: the send waits for the disk, not for
  /// the peer.
  bool waitingForDisk() const noexcept { return warmJob_ != nullptr; }

 private:
  struct Poller;
  struct WarmJob;
  enum class Wrote { All, Queued, Failed };
  struct DoneTask final : uv::Task {
    explicit DoneTask(BodySender& s) noexcept;
    BodySender& sender;
    int status = 0;
  };

  /// The sender a callback may still act for: null once the sender died, or when the
  /// callback belongs to an earlier start() (cancelled or restarted since).
  static BodySender* current(const std::shared_ptr<BodySender*>& token,
                             uint64_t generation) noexcept;
  void begin(uv_stream_t* stream, const Body* body, BodySenderListener& listener);
  size_t pieceCount() const noexcept { return body_ != nullptr ? body_->pieceCount() : 0; }
  void step();
  Wrote writeMemory();
  Wrote queueWrite(uv_buf_t* bufs, size_t count, size_t bytes);
  /// Like uv_try_write, for memory that more bytes follow soon (a file piece, or the
  /// next pipelined response): corked with MSG_MORE.
  int writeWithMore(const uv_buf_t* bufs, size_t count);
  /// true when the file pieces at piece_ are all sent (step on), false when waiting/done.
  bool sendFile();
  /// Whether sendfile may read the current file piece at `offset` without the disk; if
  /// not, a warm-up of the window has started and step() runs again when it is done.
  bool cachedAt(const Body::Piece& p, uint64_t offset);
  void waitWritable(int fd);
  /// Reports now, or on the next turn when inside start() or when libuv would have
  /// reported it from a write callback (`later`).
  void finish(int status, bool later = false);
  void onWritten(int status);

  uv::Loop& loop_;
  uv_stream_t* stream_ = nullptr;
  std::array<std::string_view, kMaxParts> parts_{};
  size_t partCount_ = 0;
  size_t partNext_ = 0;  ///< first part not yet handed over
  const Body* body_ = nullptr;
  BodySenderListener* listener_ = nullptr;
  size_t piece_ = 0;        ///< current piece
  uint64_t pieceDone_ = 0;  ///< bytes of a file piece already sent
  uint64_t cachedEnd_ = 0;  ///< file offset up to which the current piece was checked
  uint64_t* warmups_ = nullptr;
  /// This send's warm-up on the thread pool (libuv's callback frees it).
  WarmJob* warmJob_ = nullptr;
  bool starting_ = false;     ///< inside start()
  bool moreFollows_ = false;  ///< start()'s moreFollows: cork the last write too
  bool active_ = false;
  uint64_t handed_ = 0;
  /// Made on the first start() and kept: callbacks queued in libuv hold a copy, see null
  /// after the sender died, and compare `generation_` to know whether they are stale.
  std::shared_ptr<BodySender*> alive_;
  uint64_t generation_ = 0;  ///< bumped by cancel() (and so by every start())
  Poller* poller_ = nullptr;
  DoneTask done_;
};

}  // namespace doorman::core
