#include "doorman/core/BlockPool.hpp"

#include "doorman/core/Sanitizer.hpp"

namespace doorman::core {
namespace {

constexpr size_t kMaxLimit = 256;

// Trivially destructible: nothing runs at thread exit. The event loop's thread empties
// it before it ends (disableOnThisThread); spares still listed are reachable from here.
struct Spares {
  char* blocks[kMaxLimit];
  size_t count;
  size_t limit;  // 0: not enabled on this thread
};
thread_local Spares tlsSpares{};

}  // namespace

BlockPtr newBlock() {
  Spares& s = tlsSpares;
  if (s.count > 0) {
    char* block = s.blocks[--s.count];
    DOORMAN_UNPOISON(block, kBodyBlockSize);
    return BlockPtr(block);
  }
  return BlockPtr(new char[kBodyBlockSize]);
}

void BlockDeleter::operator()(char* block) const noexcept {
  Spares& s = tlsSpares;
  if (s.count < s.limit) {
    DOORMAN_POISON(block, kBodyBlockSize);
    s.blocks[s.count++] = block;
    return;
  }
  delete[] block;
}

namespace blockpool {

void enableOnThisThread(size_t limit) noexcept {
  tlsSpares.limit = limit < kMaxLimit ? limit : kMaxLimit;
}

void disableOnThisThread() noexcept {
  Spares& s = tlsSpares;
  s.limit = 0;
  while (s.count > 0) {
    char* block = s.blocks[--s.count];
    DOORMAN_UNPOISON(block, kBodyBlockSize);
    delete[] block;
  }
}

size_t spares() noexcept { return tlsSpares.count; }

}  // namespace blockpool
}  // namespace doorman::core
