#pragma once
// An open file shared by the bodies that refer to it (a spilled body, a static file, a
// range of one), closed when the last owner lets go. A temp file is created already
// unlinked, so nothing is left behind even if the process is killed; the disk budget it
// was charged is given back when it closes.

#include <cstdint>
#include <memory>
#include <string>

#include "doorman/core/MemoryBudget.hpp"

namespace doorman::core {

class FileHandle {
 public:
  /// Takes ownership of `fd`.
  explicit FileHandle(int fd) noexcept : fd_(fd) {}
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  int fd() const noexcept { return fd_; }

  /// Counts `bytes` against `disk` (already reserved by the caller) until this closes.
  void holdDisk(MemoryBudget* disk, uint64_t bytes) noexcept;
  uint64_t diskHeld() const noexcept { return diskHeld_; }

  /// An unlinked read-write file in `dir` (O_TMPFILE; mkstemp + unlink where the file
  /// system lacks it). Null with `error` set when it cannot be created.
  static std::shared_ptr<FileHandle> createTemp(const std::string& dir, std::string& error);

 private:
  int fd_;
  MemoryBudget* disk_ = nullptr;
  uint64_t diskHeld_ = 0;
};

using FilePtr = std::shared_ptr<FileHandle>;

}  // namespace doorman::core
