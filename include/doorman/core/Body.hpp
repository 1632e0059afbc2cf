#pragma once
// A message body: a sequence of pieces, each either a memory block (reserved from a
// MemoryBudget before it is allocated) or a region of an open file (a static file, or
// the temp file a large body spilled to).
//
// Spilling (with a BufferPolicy): a body received from the network stays in memory up
// to policy.memoryPerMessage, or until the memory budget refuses a block. Then it
// spills: an unlinked temp file is created in policy.tempDir, every block written so
// far and every block that follows is written to it on libuv's thread pool, and each
// block's memory is given back once its write completed. At most kMaxUnflushed bytes
// wait for the disk; prepare() tells the receiver how much it may append now, so it can
// stop reading from its peer (back-pressure) instead of failing. After finish() and the
// last write, the body is settled: one file piece holding everything.
//
//   Memory ──(over memoryPerMessage | budget refused)──▶ Spilling ──finish()+flushed──▶ Settled
//                                                            │ write error / no temp file
//                                                            ▼
//                                                          Failed
//
// Bodies are single-threaded (the loop's); only the write itself runs on the pool.

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "doorman/core/BlockPool.hpp"
#include "doorman/core/FileHandle.hpp"
#include "doorman/core/MemoryBudget.hpp"

namespace doorman::core {

/// How bodies received from the network are buffered (from config `buffering`).
struct BufferPolicy {
  MemoryBudget* memory = nullptr;          ///< buffering.memory_total
  MemoryBudget* disk = nullptr;            ///< buffering.disk_total; null: never spill
  uv_loop_t* loop = nullptr;               ///< whose thread pool writes temp files
  std::string tempDir;                     ///< buffering.temp_dir
  uint64_t memoryPerMessage = UINT64_MAX;  ///< buffering.memory_per_message
  /// Disk budget short: wait (requests: the client is held back) or fail (responses:
  /// a worker must not wait for disk space).
  bool waitForDisk = true;
  uint64_t spills = 0;  ///< bodies that spilled so far (metrics)
};

/// Told when a spilling body can take more bytes or has settled (or failed).
class BodyListener {
 public:
  virtual void onBodyWritable() = 0;
  virtual void onBodySettled() = 0;

 protected:
  ~BodyListener() = default;
};

struct SpillState;

class Body {
 public:
  static constexpr size_t kBlockSize = kBodyBlockSize;
  /// Bytes of a spilling body that may wait in memory for the disk.
  static constexpr size_t kMaxUnflushed = 256 * 1024;

  /// One contiguous piece: memory (`file` null) or `length` bytes of `file` at `offset`.
  struct Piece {
    std::string_view memory;
    const FileHandle* file = nullptr;
    uint64_t offset = 0;
    uint64_t length = 0;

    bool isFile() const noexcept { return file != nullptr; }
    uint64_t size() const noexcept { return isFile() ? length : memory.size(); }
  };

  Body() = default;
  explicit Body(MemoryBudget* budget) : budget_(budget) {}
  explicit Body(BufferPolicy* policy)
      : budget_(policy != nullptr ? policy->memory : nullptr), policy_(policy) {}
  ~Body();
  Body(Body&& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;

  /// Appends bytes (in memory, or to the spill file). False when the memory or disk
  /// budget refused them, or spilling failed: bytes that fitted stay, the caller decides
  /// whether to fail or wait. Never fails for bytes that prepare() granted.
  [[nodiscard]] bool append(std::string_view bytes);

  /// Appends `length` bytes of an open file (a static file, a range of one).
  void appendFile(FilePtr file, uint64_t offset, uint64_t length);

  /// The whole size is known in advance (Content-Length): a spill then reserves disk for
  /// all of it at once, or does not start (prepare() answers 0 until it can). Bodies
  /// that each hold part of the disk budget could otherwise wait for each other forever.
  void expectSize(uint64_t bytes) noexcept { expected_ = bytes; }

  /// Reserves room so that the next `n <= want` appended bytes cannot be refused, and
  /// returns n. 0 means wait: onBodyWritable() follows when a disk write frees memory;
  /// when nothing is being written the budget itself is short (poll again later), or
  /// failed() is true.
  size_t prepare(size_t want);

  uint64_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Pieces in order; their total is size(). A spilled body has pieces only once settled.
  size_t pieceCount() const noexcept;
  Piece piece(size_t i) const noexcept;

  /// Everything in one string, file pieces read with pread (tests, small bodies).
  std::string toString() const;

  /// Frees every block and returns the memory to the budget; drops file pieces. Inline:
  /// most bodies cleared (every move-assignment clears its target) are empty.
  void clear() noexcept {
    if (!chunks_.empty() || spill_) {
      releaseAll();
    }
    size_ = 0;
  }

  // --- spilling
  bool spilled() const noexcept { return spill_ != nullptr; }
  /// All bytes are where they will stay (always true for a body that never spilled).
  bool settled() const noexcept;
  bool failed() const noexcept;
  const std::string& error() const noexcept;
  /// Bytes of a spilling body still in memory, waiting for the disk.
  uint64_t unflushed() const noexcept;
  /// A disk write is in flight (onBodyWritable/onBodySettled will follow).
  bool writing() const noexcept;
  /// No more bytes will be appended: write what is left. settled() or failed() follow
  /// (onBodySettled() once, if it was not already settled).
  void finish();
  /// Receives onBodyWritable/onBodySettled; null to stop. Kept across moves.
  void setListener(BodyListener* listener) noexcept;

 private:
  struct Block {
    BlockPtr data;
    size_t used = 0;
  };
  struct Chunk {
    Block block;   ///< memory piece when block.data is set
    FilePtr file;  ///< else a file region
    uint64_t offset = 0;
    uint64_t length = 0;
  };

  static size_t chunkUsed(const Chunk& c);
  void releaseAll() noexcept;
  bool reserveBlock();
  bool startSpill();
  size_t prepareSpill(size_t want);
  bool appendMemory(std::string_view& bytes);
  bool appendSpill(std::string_view& bytes);

  MemoryBudget* budget_ = nullptr;
  BufferPolicy* policy_ = nullptr;
  std::vector<Chunk> chunks_;
  uint64_t size_ = 0;
  std::shared_ptr<SpillState> spill_;
  BodyListener* listener_ = nullptr;
  uint64_t expected_ = 0;
};

}  // namespace doorman::core
