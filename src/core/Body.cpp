#include "doorman/core/Body.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>

namespace doorman::core {
namespace {

/// Blocks are filled in order; prepare() may have added empty ones after the one being
/// filled. The block to fill next is the first of the trailing run of non-full blocks
/// (never one before `from`, e.g. a block being written). Returns blocks.size() if none.
template <typename Blocks, typename Used>
size_t fillIndex(const Blocks& blocks, size_t from, Used used) {
  size_t i = blocks.size();
  while (i > from && used(blocks[i - 1]) < Body::kBlockSize) {
    --i;
  }
  return i;
}

template <typename Blocks, typename Used>
size_t freeSpace(const Blocks& blocks, size_t from, Used used) {
  size_t room = 0;
  for (size_t i = fillIndex(blocks, from, used); i < blocks.size(); ++i) {
    room += Body::kBlockSize - used(blocks[i]);
  }
  return room;
}

bool reserveMemory(MemoryBudget* budget) {
  return budget == nullptr || budget->tryReserve(Body::kBlockSize);
}

void releaseMemory(MemoryBudget* budget) {
  if (budget != nullptr) {
    budget->release(Body::kBlockSize);
  }
}

}  // namespace

/// The part of a spilling body that outlives the Body object while a write is in flight
/// (the write request holds a reference, the Body another).
struct SpillState {
  struct Block {
    BlockPtr data;
    size_t used = 0;
  };

  BufferPolicy* policy = nullptr;
  FilePtr file;
  std::deque<Block> queue;  ///< not yet on disk; the first `writing` blocks are in flight
  size_t writing = 0;
  uint64_t queuedBytes = 0;  ///< used bytes in `queue`
  uint64_t onDisk = 0;
  uint64_t diskCredit = 0;  ///< disk reserved in advance (expectSize), not yet written
  bool finishing = false;
  bool settled = false;
  bool failed = false;
  bool needWritable = false;
  bool abandoned = false;  ///< the Body is gone: free everything once the write returns
  std::string error;
  BodyListener* listener = nullptr;

  void releaseBlocks(size_t from) {
    while (queue.size() > from) {
      queuedBytes -= queue.back().used;
      queue.pop_back();
      releaseMemory(policy->memory);
    }
  }

  void fail(std::string why) {
    failed = true;
    error = std::move(why);
    releaseBlocks(writing);
  }
};

namespace {

constexpr size_t kBlocksPerWrite = 16;

struct FlushRequest {
  uv_fs_t fs{};
  std::shared_ptr<SpillState> state;
  uv_buf_t bufs[kBlocksPerWrite]{};
  size_t blocks = 0;
  uint64_t bytes = 0;
};

void kick(const std::shared_ptr<SpillState>& st);

void onFlushed(uv_fs_t* fs) {
  auto* request = reinterpret_cast<FlushRequest*>(fs);
  std::shared_ptr<SpillState> st = std::move(request->state);
  ssize_t result = fs->result;
  size_t blocks = request->blocks;
  uint64_t bytes = request->bytes;
  uv_fs_req_cleanup(fs);
  delete request;

  for (size_t i = 0; i < blocks && !st->queue.empty(); ++i) {
    st->queuedBytes -= st->queue.front().used;
    st->queue.pop_front();
    releaseMemory(st->policy->memory);
  }
  st->writing = 0;
  if (st->abandoned) {
    st->releaseBlocks(0);
    return;
  }
  if (result < 0) {
    st->fail(std::string("writing the spill file: ") + uv_strerror(static_cast<int>(result)));
  } else if (static_cast<uint64_t>(result) != bytes) {
    st->fail("writing the spill file: short write (disk full?)");
  } else {
    st->onDisk += bytes;
    kick(st);
  }
  BodyListener* listener = st->listener;
  if (listener == nullptr) {
    return;
  }
  if (st->failed || st->settled) {
    listener->onBodySettled();
    return;
  }
  // Room again: a receiver held back (by prepare(), or a reader that paused itself on
  // unflushed()) may go on. Listeners ignore it when they are not waiting.
  if (st->queuedBytes < Body::kMaxUnflushed) {
    st->needWritable = false;
    listener->onBodyWritable();
  }
}

/// Starts the next write if none is in flight: full blocks, or everything once finishing.
void kick(const std::shared_ptr<SpillState>& st) {
  if (st->writing != 0 || st->failed || st->settled) {
    return;
  }
  if (st->finishing) {
    while (!st->queue.empty() && st->queue.back().used == 0) {
      st->queue.pop_back();
      releaseMemory(st->policy->memory);
    }
    if (st->queue.empty()) {
      st->settled = true;
      return;
    }
  }
  auto request = std::make_unique<FlushRequest>();
  for (auto& block : st->queue) {
    bool ready = block.used == Body::kBlockSize || (st->finishing && block.used > 0);
    if (!ready || request->blocks == kBlocksPerWrite) {
      break;
    }
    request->bufs[request->blocks++] =
        uv_buf_init(block.data.get(), static_cast<unsigned>(block.used));
    request->bytes += block.used;
  }
  if (request->blocks == 0) {
    return;
  }
  MemoryBudget* disk = st->policy->disk;
  uint64_t fromCredit = std::min(st->diskCredit, request->bytes);
  uint64_t need = request->bytes - fromCredit;
  if (disk != nullptr && need > 0 && !disk->tryReserve(need)) {
    // Nothing is lost: the blocks wait in memory and the receiver is held back by
    // prepare(); a later kick (a poll, another body's file closing) tries again.
    if (!st->policy->waitForDisk) {
      st->fail("the disk budget (buffering.disk_total) is exhausted");
    }
    return;
  }
  st->diskCredit -= fromCredit;
  st->file->holdDisk(disk, need);
  request->state = st;
  FlushRequest* raw = request.get();
  int rc =
      uv_fs_write(st->policy->loop, &raw->fs, st->file->fd(), raw->bufs,
                  static_cast<unsigned>(raw->blocks), static_cast<int64_t>(st->onDisk), &onFlushed);
  if (rc != 0) {
    st->fail(std::string("writing the spill file: ") + uv_strerror(rc));
    return;
  }
  st->writing = raw->blocks;
  static_cast<void>(request.release());  // freed in onFlushed
}

size_t spillUsed(const SpillState::Block& b) { return b.used; }

}  // namespace

size_t Body::chunkUsed(const Chunk& c) {
  // A file piece is never filled: treat it as full.
  return c.block.data ? c.block.used : kBlockSize;
}

Body::~Body() { clear(); }

Body::Body(Body&& other) noexcept
    : budget_(other.budget_),
      policy_(other.policy_),
      chunks_(std::move(other.chunks_)),
      size_(other.size_),
      spill_(std::move(other.spill_)),
      listener_(other.listener_),
      expected_(other.expected_) {
  other.chunks_.clear();
  other.size_ = 0;
}

Body& Body::operator=(Body&& other) noexcept {
  if (this != &other) {
    clear();
    budget_ = other.budget_;
    policy_ = other.policy_;
    size_ = other.size_;
    spill_ = std::move(other.spill_);
    listener_ = other.listener_;
    expected_ = other.expected_;
    // chunks_ is empty after clear(): a swap hands the source this body's empty buffer
    // instead of freeing it here, so a source that lives on (a parser's body) appends
    // into it without allocating; a temporary source frees it as before.
    chunks_.swap(other.chunks_);
    other.size_ = 0;
  }
  return *this;
}

bool Body::reserveBlock() {
  if (budget_ != nullptr && !budget_->tryReserve(kBlockSize)) {
    return false;
  }
  Chunk chunk;
  chunk.block.data = newBlock();
  chunks_.push_back(std::move(chunk));
  return true;
}

bool Body::startSpill() {
  MemoryBudget* disk = policy_->disk;
  if (expected_ > 0 && disk != nullptr && !disk->tryReserve(expected_)) {
    return false;  // not failed: prepare() answers 0 until the disk budget has room
  }
  auto st = std::make_shared<SpillState>();
  st->policy = policy_;
  st->listener = listener_;
  spill_ = st;
  ++policy_->spills;
  std::string error;
  st->file = FileHandle::createTemp(policy_->tempDir, error);
  if (!st->file) {
    st->failed = true;
    st->error = std::move(error);
    if (expected_ > 0 && disk != nullptr) {
      disk->release(expected_);
    }
  } else if (expected_ > 0 && disk != nullptr) {
    st->file->holdDisk(disk, expected_);
    st->diskCredit = expected_;
  }
  // Everything so far goes to the file too, so the whole body ends in one place and
  // its memory can be given back.
  for (auto& chunk : chunks_) {
    st->queuedBytes += chunk.block.used;
    st->queue.push_back(SpillState::Block{std::move(chunk.block.data), chunk.block.used});
  }
  chunks_.clear();
  if (st->failed) {
    st->releaseBlocks(0);
    return false;
  }
  kick(st);
  return !st->failed;
}

size_t Body::prepare(size_t want) {
  if (spill_) {
    return prepareSpill(want);
  }
  bool canSpill = policy_ != nullptr && policy_->disk != nullptr;
  if (canSpill && size_ + want > policy_->memoryPerMessage) {
    return startSpill() ? prepareSpill(want) : 0;
  }
  size_t room = freeSpace(chunks_, 0, chunkUsed);
  while (room < want) {
    if (!reserveBlock()) {
      if (canSpill) {
        return startSpill() ? prepareSpill(want) : 0;
      }
      break;
    }
    room += kBlockSize;
  }
  return std::min(room, want);
}

size_t Body::prepareSpill(size_t want) {
  SpillState& st = *spill_;
  if (st.failed) {
    return 0;
  }
  kick(spill_);
  if (st.failed) {
    return 0;
  }
  size_t room = freeSpace(st.queue, st.writing, spillUsed);
  while (room < want && st.queue.size() * kBlockSize < kMaxUnflushed) {
    if (!reserveMemory(st.policy->memory)) {
      break;
    }
    st.queue.push_back(SpillState::Block{newBlock(), 0});
    room += kBlockSize;
  }
  size_t granted = std::min(room, want);
  if (granted == 0) {
    st.needWritable = true;
  }
  return granted;
}

bool Body::append(std::string_view bytes) {
  while (!bytes.empty()) {
    bool ok = spill_ ? appendSpill(bytes) : appendMemory(bytes);
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool Body::appendMemory(std::string_view& bytes) {
  bool canSpill = policy_ != nullptr && policy_->disk != nullptr;
  if (canSpill && size_ + bytes.size() > policy_->memoryPerMessage) {
    return startSpill();
  }
  size_t at = fillIndex(chunks_, 0, chunkUsed);
  if (at == chunks_.size()) {
    if (!reserveBlock()) {
      return canSpill && startSpill();
    }
  }
  Block& last = chunks_[at].block;
  size_t n = std::min(bytes.size(), kBlockSize - last.used);
  std::memcpy(last.data.get() + last.used, bytes.data(), n);
  last.used += n;
  size_ += n;
  bytes.remove_prefix(n);
  return true;
}

bool Body::appendSpill(std::string_view& bytes) {
  SpillState& st = *spill_;
  if (st.failed || st.finishing) {
    return false;
  }
  size_t at = fillIndex(st.queue, st.writing, spillUsed);
  if (at == st.queue.size()) {
    if (!reserveMemory(st.policy->memory)) {
      return false;
    }
    st.queue.push_back(SpillState::Block{newBlock(), 0});
  }
  SpillState::Block& last = st.queue[at];
  size_t n = std::min(bytes.size(), kBlockSize - last.used);
  std::memcpy(last.data.get() + last.used, bytes.data(), n);
  last.used += n;
  st.queuedBytes += n;
  size_ += n;
  bytes.remove_prefix(n);
  if (last.used == kBlockSize) {
    kick(spill_);
  }
  return !st.failed;
}

void Body::appendFile(FilePtr file, uint64_t offset, uint64_t length) {
  if (length == 0) {
    return;
  }
  Chunk chunk;
  chunk.file = std::move(file);
  chunk.offset = offset;
  chunk.length = length;
  chunks_.push_back(std::move(chunk));
  size_ += length;
}

size_t Body::pieceCount() const noexcept {
  if (spill_) {
    return spill_->settled && spill_->onDisk > 0 ? 1 : 0;
  }
  return chunks_.size();
}

Body::Piece Body::piece(size_t i) const noexcept {
  Piece p;
  if (spill_) {
    p.file = spill_->file.get();
    p.offset = 0;
    p.length = spill_->onDisk;
    return p;
  }
  const Chunk& c = chunks_[i];
  if (c.block.data) {
    p.memory = std::string_view(c.block.data.get(), c.block.used);
  } else {
    p.file = c.file.get();
    p.offset = c.offset;
    p.length = c.length;
  }
  return p;
}

std::string Body::toString() const {
  std::string out;
  out.reserve(size_);
  for (size_t i = 0; i < pieceCount(); ++i) {
    Piece p = piece(i);
    if (!p.isFile()) {
      out.append(p.memory);
      continue;
    }
    std::string part(p.length, '\0');
    uint64_t done = 0;
    while (done < p.length) {
      ssize_t n = ::pread(p.file->fd(), part.data() + done, p.length - done,
                          static_cast<off_t>(p.offset + done));
      if (n <= 0) {
        break;
      }
      done += static_cast<uint64_t>(n);
    }
    part.resize(done);
    out += part;
  }
  return out;
}

void Body::releaseAll() noexcept {
  for (const auto& chunk : chunks_) {
    if (chunk.block.data && budget_ != nullptr) {
      budget_->release(kBlockSize);
    }
  }
  chunks_.clear();
  if (spill_) {
    spill_->listener = nullptr;
    spill_->abandoned = true;
    spill_->releaseBlocks(spill_->writing);
    spill_.reset();
  }
}

bool Body::settled() const noexcept { return !spill_ || spill_->settled; }

bool Body::failed() const noexcept { return spill_ && spill_->failed; }

const std::string& Body::error() const noexcept {
  static const std::string kNone;
  return spill_ ? spill_->error : kNone;
}

uint64_t Body::unflushed() const noexcept { return spill_ ? spill_->queuedBytes : 0; }

bool Body::writing() const noexcept { return spill_ && spill_->writing > 0; }

void Body::finish() {
  if (!spill_) {
    // Blocks prepare() reserved but nothing filled go back now.
    while (!chunks_.empty() && chunks_.back().block.data && chunks_.back().block.used == 0) {
      chunks_.pop_back();
      if (budget_ != nullptr) {
        budget_->release(kBlockSize);
      }
    }
    return;
  }
  if (spill_->finishing) {
    return;
  }
  spill_->finishing = true;
  kick(spill_);
}

void Body::setListener(BodyListener* listener) noexcept {
  listener_ = listener;
  if (spill_) {
    spill_->listener = listener;
  }
}

}  // namespace doorman::core
