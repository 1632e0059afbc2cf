#include "doorman/core/BodySender.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

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

}  // namespace

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
  stream_ = stream;
  head_ = head;
  body_ = &body;
  listener_ = &listener;
  piece_ = 0;
  pieceDone_ = 0;
  headDone_ = head.empty();
  handed_ = 0;
  active_ = true;
  if (!alive_) {
    alive_ = std::make_shared<BodySender*>(this);  // once per sender, not per send
  }
  step();
}

void BodySender::cancel() noexcept {
  ++generation_;  // whatever is still queued belongs to an older send now
  if (poller_ != nullptr) {
    Poller::close(poller_);
    poller_ = nullptr;
  }
  active_ = false;
}

void BodySender::step() {
  while (active_) {
    if (piece_ >= body_->pieceCount()) {
      if (!headDone_) {
        writeMemory();
        return;
      }
      finish(0);
      return;
    }
    Body::Piece p = body_->piece(piece_);
    if (!headDone_ || !p.isFile()) {
      writeMemory();
      return;
    }
    sendFile();
    return;
  }
}

bool BodySender::writeMemory() {
  std::vector<uv_buf_t> bufs;
  size_t bytes = 0;
  if (!headDone_) {
    bufs.push_back(
        uv_buf_init(const_cast<char*>(head_.data()), static_cast<unsigned>(head_.size())));
    bytes += head_.size();
    headDone_ = true;
  }
  while (piece_ < body_->pieceCount() && bufs.size() < kMaxBufsPerWrite &&
         bytes < kMaxBytesPerWrite) {
    Body::Piece p = body_->piece(piece_);
    if (p.isFile()) {
      break;
    }
    bufs.push_back(
        uv_buf_init(const_cast<char*>(p.memory.data()), static_cast<unsigned>(p.memory.size())));
    bytes += p.memory.size();
    ++piece_;
  }
  auto* req = new WriteRequest{};
  req->sender = alive_;
  req->generation = generation_;
  int rc = uv_write(&req->write, stream_, bufs.data(), static_cast<unsigned>(bufs.size()),
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
    // Reported from the loop, never from inside start().
    finish(rc);
    return false;
  }
  handed_ += bytes;
  return true;
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

void BodySender::sendFile() {
  uv_os_fd_t sock = -1;
  int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(stream_), &sock);
  if (rc != 0) {
    finish(rc);
    return;
  }
  uint64_t turn = 0;
  while (piece_ < body_->pieceCount()) {
    Body::Piece p = body_->piece(piece_);
    if (!p.isFile()) {
      step();
      return;
    }
    if (pieceDone_ == p.length) {
      ++piece_;
      pieceDone_ = 0;
      continue;
    }
    if (turn >= kMaxFileBytesPerTurn) {
      waitWritable(sock);  // fair to other connections: continue on the next turn
      return;
    }
    off_t offset = static_cast<off_t>(p.offset + pieceDone_);
    size_t want = static_cast<size_t>(std::min<uint64_t>(p.length - pieceDone_, 1u << 20));
    ssize_t n = ::sendfile(sock, p.file->fd(), &offset, want);
    if (n > 0) {
      pieceDone_ += static_cast<uint64_t>(n);
      handed_ += static_cast<uint64_t>(n);
      turn += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      finish(UV_EIO);  // the file is shorter than the length promised to the client
      return;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      waitWritable(sock);
      return;
    }
    finish(uv_translate_sys_error(errno));
    return;
  }
  step();
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
    int rc = uv_poll_init(loop_, &p->poll, dupFd);
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
    self->sendFile();
  });
  if (rc != 0) {
    finish(rc);
  }
}

void BodySender::finish(int status) {
  if (!active_) {
    return;
  }
  BodySenderListener* listener = listener_;
  cancel();
  listener->onSendDone(status);
}

}  // namespace doorman::core
