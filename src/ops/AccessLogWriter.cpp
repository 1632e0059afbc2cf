// The access log's writer thread: the loop appends lines under a short lock; the thread
// takes the whole buffer and writes it with plain write(2).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "doorman/ops/AccessLog.hpp"

namespace doorman::ops {

AccessLogWriter::AccessLogWriter(size_t maxPendingBytes) : maxPending_(maxPendingBytes) {}

AccessLogWriter::~AccessLogWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int AccessLogWriter::openFile(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "cannot open access log " + path + ": " + std::strerror(errno);
  }
  return fd;
}

std::string AccessLogWriter::open(const std::string& path) {
  std::string error;
  int fd = openFile(path, error);
  if (fd < 0) {
    return error;
  }
  if (thread_.joinable()) {
    // The thread owns the descriptor now: it switches files itself.
    ::close(fd);
    reopen(path);
    return {};
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
    path_ = path;
  }
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
  }
  return {};
}

void AccessLogWriter::reopen(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    path_ = path;
    reopenWanted_ = true;
  }
  wake_.notify_one();
}

void AccessLogWriter::append(std::string_view line) {
  bool wasEmpty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.size() + line.size() + 1 > maxPending_) {
      ++dropped_;
      return;
    }
    wasEmpty = pending_.empty();
    pending_.append(line);
    pending_ += '\n';
    ++pendingLines_;
  }
  if (wasEmpty) {
    wake_.notify_one();  // the thread sleeps only when the buffer is empty
  }
}

uint64_t AccessLogWriter::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

uint64_t AccessLogWriter::written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return written_;
}

uint64_t AccessLogWriter::writeErrors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return writeErrors_;
}

void AccessLogWriter::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  flushed_.wait(lock, [this] { return (pending_.empty() && !writing_) || !thread_.joinable(); });
}

void AccessLogWriter::run() {
  std::string batch;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || reopenWanted_ || !pending_.empty(); });
    if (reopenWanted_) {
      reopenWanted_ = false;
      std::string path = path_;
      lock.unlock();
      std::string error;
      int fd = openFile(path, error);  // may block (NFS): not under the lock
      lock.lock();
      if (fd >= 0) {
        if (fd_ >= 0) {
          ::close(fd_);
        }
        fd_ = fd;
      } else {
        ++writeErrors_;  // keep writing to the old file rather than losing lines
      }
    }
    if (pending_.empty()) {
      if (stop_) {
        break;
      }
      continue;
    }
    batch.clear();
    batch.swap(pending_);
    uint64_t lines = pendingLines_;
    pendingLines_ = 0;
    writing_ = true;
    int fd = fd_;
    lock.unlock();
    size_t done = 0;
    bool failed = false;
    while (done < batch.size() && fd >= 0) {
      ssize_t n = ::write(fd, batch.data() + done, batch.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        failed = true;
        break;
      }
      done += static_cast<size_t>(n);
    }
    lock.lock();
    writing_ = false;
    if (failed || fd < 0) {
      ++writeErrors_;
      dropped_ += lines;
    } else {
      written_ += lines;
    }
    flushed_.notify_all();
  }
  flushed_.notify_all();
}

}  // namespace doorman::ops
