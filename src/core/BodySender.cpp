#include "doorman/core/BodySender.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace doorman::core {
namespace {

constexpr size_t kMaxBufsPerWrite = 64;
constexpr size_t kMaxBytesPerWrite = 1 << 20;
/// sendfile bytes per loop turn before letting other connections run.
constexpr uint64_t kMaxFileBytesPerTurn = 4u << 20;

struct WriteRequest {
  uv_write_t write{};
  std::shared_ptr<BodySender*> sender;
  uint64_t generation = 0;  ///< the start() this write belongs to
};

/// libuv reports an error condition on a polled descriptor (EPOLLERR) as UV_EBADF; the
/// socket's pending error says what it was (a client's reset: ECONNRESET or EPIPE).
int pollError(int fd, int status) {
  int error = 0;
  socklen_t len = sizeof error;
  if (status == UV_EBADF && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
      error != 0) {
    return uv_translate_sys_error(error);
  }
  return status;
}

/// Whether the page holding `offset` is in the page cache (a one-byte read that may not
/// wait for the disk). Anything but "not cached" counts as cached: sendfile then reports
/// a read error itself, and a file system without RWF_NOWAIT (NFS, FUSE, some
/// overlayfs) is sent from the loop as before.
bool pageCached(int fd, uint64_t offset) {
  char byte = 0;
  iovec iov{&byte, 1};
  ssize_t n;
  do {
    n = ::preadv2(fd, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT);
  } while (n < 0 && errno == EINTR);
  return n >= 0 || errno != EAGAIN;
}

}  // namespace

/// Reads a window of a file into the page cache on libuv's thread pool. It owns a dup()
/// of the descriptor, closed on the pool once read, or in `after` when a cancel took the
/// job off the pool's queue before a thread picked it up.
struct BodySender::WarmJob {
  uv_work_t work{};
  int fd = -1;
  uint64_t offset = 0;
  uint64_t end = 0;
  std::shared_ptr<BodySender*> sender;
  uint64_t generation = 0;

  static void run(uv_work_t* w) {
    auto* job = static_cast<WarmJob*>(w->data);
    constexpr size_t kChunk = 64 * 1024;
    std::unique_ptr<char[]> buf(new (std::nothrow) char[kChunk]);
    uint64_t at = job->offset;
    while (buf && at < job->end) {
      ssize_t n = ::pread(job->fd, buf.get(), std::min<uint64_t>(kChunk, job->end - at),
                          static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;  // an error or a file cut short: sendfile will find out and say so
      }
      at += static_cast<uint64_t>(n);
    }
    ::close(job->fd);
    job->fd = -1;
  }
  static void after(uv_work_t* w, int) {
    std::unique_ptr<WarmJob> job(static_cast<WarmJob*>(w->data));
    if (job->fd >= 0) {
      ::close(job->fd);  // cancelled while queued: run() never ran
    }
    BodySender* self = current(job->sender, job->generation);
    if (self == nullptr) {
      return;  // cancelled or gone meanwhile
    }
    self->warmJob_ = nullptr;
    self->cachedEnd_ = job->end;
    if (self->warmups_ != nullptr) {
      ++*self->warmups_;
    }
    self->step();
  }
};

/// A poll handle on a dup() of the socket; the duplicate is closed only after libuv has
/// closed the handle (closing it earlier could let a new descriptor with the same number
/// be removed from epoll by the handle's close).
struct BodySender::Poller {
  uv_poll_t poll{};
  int fd = -1;
  std::shared_ptr<BodySender*> sender;
  uint64_t generation = 0;  ///< the start() that armed it

  static void close(Poller* p) {
    p->sender.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&p->poll), [](uv_handle_t* h) {
      auto* self = reinterpret_cast<Poller*>(h);
      ::close(self->fd);
      delete self;
    });
  }
};

BodySender::DoneTask::DoneTask(BodySender& s) noexcept
    : uv::Task([](uv::Task& t) {
        auto& self = static_cast<DoneTask&>(t);
        self.sender.finish(self.status);
      }),
      sender(s) {}

BodySender::BodySender(uv::Loop& loop) noexcept : loop_(loop), done_(*this) {}

BodySender::~BodySender() {
  cancel();
  if (alive_) {
    *alive_ = nullptr;  // callbacks still queued in libuv find nobody
  }
}

BodySender* BodySender::current(const std::shared_ptr<BodySender*>& token,
                                uint64_t generation) noexcept {
  BodySender* self = token ? *token : nullptr;
  if (self == nullptr || self->generation_ != generation || !self->active_) {
    return nullptr;  // gone, or a callback of a send that was cancelled or restarted
  }
  return self;
}

void BodySender::start(uv_stream_t* stream, std::string_view head, const Body& body,
                       BodySenderListener& listener) {
  cancel();
  parts_[0] = head;
  partCount_ = 1;
  moreFollows_ = false;
  begin(stream, &body, listener);
}

void BodySender::start(uv_stream_t* stream, std::span<const std::string_view> parts,
                       BodySenderListener& listener, bool moreFollows) {
  cancel();
  moreFollows_ = moreFollows;
  partCount_ = std::min(parts.size(), kMaxParts);
  for (size_t i = 0; i < partCount_; ++i) {
    parts_[i] = parts[i];
  }
  begin(stream, nullptr, listener);
}

void BodySender::begin(uv_stream_t* stream, const Body* body, BodySenderListener& listener) {
  stream_ = stream;
  partNext_ = 0;
  body_ = body;
  listener_ = &listener;
  piece_ = 0;
  pieceDone_ = 0;
  cachedEnd_ = 0;
  handed_ = 0;
  active_ = true;
  if (!alive_) {
    alive_ = std::make_shared<BodySender*>(this);  // once per sender, not per send
  }
  starting_ = true;
  step();
  starting_ = false;
}

void BodySender::cancel() noexcept {
  ++generation_;  // whatever is still queued belongs to an older send now
  done_.cancel();
  if (warmJob_ != nullptr) {
    // Still queued: taken off the pool's queue, so an aborted download reads nothing
    // (UV_EBUSY once a thread has it). Either way its callback frees it, stale now.
    uv_cancel(reinterpret_cast<uv_req_t*>(&warmJob_->work));
    warmJob_ = nullptr;
  }
  if (poller_ != nullptr) {
    Poller::close(poller_);
    poller_ = nullptr;
  }
  active_ = false;
}

void BodySender::step() {
  while (active_) {
    bool partsLeft = partNext_ < partCount_;
    if (!partsLeft && piece_ >= pieceCount()) {
      finish(0);
      return;
    }
    if (partsLeft || !body_->piece(piece_).isFile()) {
      if (writeMemory() != Wrote::All) {
        return;
      }
      continue;
    }
    if (!sendFile()) {
      return;
    }
  }
}

BodySender::Wrote BodySender::writeMemory() {
  std::array<uv_buf_t, kMaxParts + kMaxBufsPerWrite> bufs;
  size_t count = 0;
  size_t bytes = 0;
  for (; partNext_ < partCount_; ++partNext_) {
    std::string_view part = parts_[partNext_];
    if (!part.empty()) {
      bufs[count++] =
          uv_buf_init(const_cast<char*>(part.data()), static_cast<unsigned>(part.size()));
      bytes += part.size();
    }
  }
  while (piece_ < pieceCount() && count < bufs.size() && bytes < kMaxBytesPerWrite) {
    Body::Piece p = body_->piece(piece_);
    if (p.isFile()) {
      break;
    }
    bufs[count++] =
        uv_buf_init(const_cast<char*>(p.memory.data()), static_cast<unsigned>(p.memory.size()));
    bytes += p.memory.size();
    ++piece_;
  }
  if (count == 0) {
    return Wrote::All;
  }
  size_t first = 0;
  // uv_try_write refuses (UV_EAGAIN) while libuv still queues earlier writes, so order
  // holds; a stream that is not writable goes to uv_write, which says why at once.
  if (uv_is_writable(stream_) != 0) {
    bool fileFollows = piece_ < pieceCount() && body_->piece(piece_).isFile();
    bool lastWrite = partNext_ >= partCount_ && piece_ >= pieceCount();
    int n = fileFollows || (moreFollows_ && lastWrite)
                ? writeWithMore(bufs.data(), count)
                : uv_try_write(stream_, bufs.data(), static_cast<unsigned>(count));
    if (n < 0 && n != UV_EAGAIN) {
      // uv_write would have accepted the bytes and reported this from its callback.
      handed_ += bytes;
      finish(n, true);
      return Wrote::Failed;
    }
    size_t written = n > 0 ? static_cast<size_t>(n) : 0;
    handed_ += written;
    bytes -= written;
    if (bytes == 0) {
      return Wrote::All;
    }
    while (written >= bufs[first].len) {
      written -= bufs[first].len;
      ++first;
    }
    bufs[first].base += written;
    bufs[first].len -= static_cast<unsigned>(written);
  }
  return queueWrite(bufs.data() + first, count - first, bytes);
}

int BodySender::writeWithMore(const uv_buf_t* bufs, size_t count) {
  uv_os_fd_t sock = -1;
  if (uv_stream_get_write_queue_size(stream_) != 0 ||
      uv_fileno(reinterpret_cast<uv_handle_t*>(stream_), &sock) != 0) {
    return uv_try_write(stream_, bufs, static_cast<unsigned>(count));
  }
  // MSG_MORE: the head waits for the file's first bytes and leaves in the same segment
  // (sendfile itself sends all but its last page as "more"), as TCP_CORK would, without
  // two setsockopt calls; a pipelined response waits for the next one the same way.
  // uv_buf_t has iovec's layout on Unix (libuv relies on it too).
  msghdr msg{};
  msg.msg_iov = reinterpret_cast<iovec*>(const_cast<uv_buf_t*>(bufs));
  msg.msg_iovlen = count;
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    return static_cast<int>(n);
  }
  return errno == EAGAIN || errno == EWOULDBLOCK ? UV_EAGAIN : uv_translate_sys_error(errno);
}

BodySender::Wrote BodySender::queueWrite(uv_buf_t* bufs, size_t count, size_t bytes) {
  auto* req = new WriteRequest{};
  req->sender = alive_;
  req->generation = generation_;
  int rc = uv_write(&req->write, stream_, bufs, static_cast<unsigned>(count),
                    [](uv_write_t* w, int status) {
                      auto* request = reinterpret_cast<WriteRequest*>(w);
                      BodySender* self = current(request->sender, request->generation);
                      delete request;
                      if (self != nullptr) {
                        self->onWritten(status);
                      }
                    });
  if (rc != 0) {
    delete req;
    BodySenderListener* listener = listener_;
    cancel();
    listener->onSendDone(rc);  // at once, as it always was (UpstreamConnection expects it)
    return Wrote::Failed;
  }
  handed_ += bytes;
  return Wrote::Queued;
}

void BodySender::onWritten(int status) {
  if (!active_) {
    return;
  }
  if (status != 0) {
    finish(status);
    return;
  }
  step();
}

bool BodySender::sendFile() {
  uv_os_fd_t sock = -1;
  int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(stream_), &sock);
  if (rc != 0) {
    finish(rc);
    return false;
  }
  uint64_t turn = 0;
  while (piece_ < pieceCount()) {
    Body::Piece p = body_->piece(piece_);
    if (!p.isFile()) {
      return true;
    }
    if (pieceDone_ == p.length) {
      ++piece_;
      pieceDone_ = 0;
      cachedEnd_ = 0;
      continue;
    }
    if (turn >= kMaxFileBytesPerTurn) {
      waitWritable(sock);  // fair to other connections: continue on the next turn
      return false;
    }
    if (!cachedAt(p, p.offset + pieceDone_)) {
      return false;  // a warm-up runs on the thread pool; step() follows it
    }
    off_t offset = static_cast<off_t>(p.offset + pieceDone_);
    // At most one window (kWarmWindow) per call: what was checked.
    size_t want = static_cast<size_t>(cachedEnd_ - static_cast<uint64_t>(offset));
    ssize_t n = ::sendfile(sock, p.file->fd(), &offset, want);
    if (n > 0) {
      pieceDone_ += static_cast<uint64_t>(n);
      handed_ += static_cast<uint64_t>(n);
      turn += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      finish(UV_EIO);  // the file is shorter than the length promised to the client
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      waitWritable(sock);
      return false;
    }
    finish(uv_translate_sys_error(errno));
    return false;
  }
  return true;
}

bool BodySender::cachedAt(const Body::Piece& p, uint64_t offset) {
  if (offset < cachedEnd_) {
    return true;
  }
  uint64_t end = std::min(p.offset + p.length, offset + kWarmWindow);
  int fd = p.file->fd();
  if (pageCached(fd, offset) && pageCached(fd, end - 1)) {
    cachedEnd_ = end;
    return true;
  }
  int dupFd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dupFd < 0) {
    cachedEnd_ = end;  // no descriptor to spare: send from the loop as before
    return true;
  }
  auto* job = new WarmJob{};
  job->work.data = job;
  job->fd = dupFd;
  job->offset = offset;
  job->end = end;
  job->sender = alive_;
  job->generation = generation_;
  if (uv_queue_work(loop_.raw(), &job->work, WarmJob::run, WarmJob::after) != 0) {
    ::close(dupFd);  // libuv refuses only a null work callback: not reached
    delete job;
    cachedEnd_ = end;
    return true;
  }
  warmJob_ = job;
  return false;
}

void BodySender::waitWritable(int fd) {
  if (poller_ == nullptr) {
    int dupFd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupFd < 0) {
      finish(uv_translate_sys_error(errno));
      return;
    }
    auto* p = new Poller{};
    p->fd = dupFd;
    int rc = uv_poll_init(loop_.raw(), &p->poll, dupFd);
    if (rc != 0) {
      ::close(dupFd);
      delete p;
      finish(rc);
      return;
    }
    p->poll.data = p;
    poller_ = p;
  }
  poller_->sender = alive_;
  poller_->generation = generation_;
  int rc = uv_poll_start(&poller_->poll, UV_WRITABLE, [](uv_poll_t* h, int status, int) {
    auto* p = static_cast<Poller*>(h->data);
    uv_poll_stop(h);
    BodySender* self = current(p->sender, p->generation);
    if (self == nullptr) {
      return;
    }
    if (status < 0) {
      self->finish(pollError(p->fd, status));
      return;
    }
    self->step();
  });
  if (rc != 0) {
    finish(rc);
  }
}

void BodySender::finish(int status, bool later) {
  if (!active_) {
    return;
  }
  if (later || starting_) {
    done_.status = status;
    loop_.post(done_);
    return;
  }
  BodySenderListener* listener = listener_;
  cancel();
  listener->onSendDone(status);
}

}  // namespace doorman::core
