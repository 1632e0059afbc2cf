#include "doorman/core/FileHandle.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace doorman::core {

FileHandle::~FileHandle() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  if (disk_ != nullptr) {
    disk_->release(diskHeld_);
  }
}

void FileHandle::holdDisk(MemoryBudget* disk, uint64_t bytes) noexcept {
  if (disk == nullptr || bytes == 0) {
    return;
  }
  disk_ = disk;  // one budget per process; a file never mixes two
  diskHeld_ += bytes;
}

std::shared_ptr<FileHandle> FileHandle::createTemp(const std::string& dir, std::string& error) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE here: create a named file and unlink it before anyone could see it.
    std::string pattern = dir + "/doorman-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) {
      ::unlink(name.data());
    }
  }
  if (fd < 0) {
    error = "cannot create a temp file in " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::make_shared<FileHandle>(fd);
}

}  // namespace doorman::core
