#pragma once
// Body blocks (Body::kBlockSize bytes) and a short per-thread list of spare ones: a
// response that fits one block takes a block freed by an earlier one instead of a
// malloc/free pair per message. Only a thread that enabled it keeps spares (the event
// loop's); on any other thread a block is plain new[]/delete[]. Under AddressSanitizer
// a spare block is poisoned, so a use after release is still reported.

#include <cstddef>
#include <memory>

namespace doorman::core {

inline constexpr size_t kBodyBlockSize = 16 * 1024;

struct BlockDeleter {
  void operator()(char* block) const noexcept;
};
using BlockPtr = std::unique_ptr<char[], BlockDeleter>;

/// A block of kBodyBlockSize bytes (uninitialised).
BlockPtr newBlock();

namespace blockpool {
/// Freed blocks on this thread wait (at most `limit` of them) for the next newBlock().
void enableOnThisThread(size_t limit = 64) noexcept;
/// Frees this thread's spare blocks and stops keeping them.
void disableOnThisThread() noexcept;
/// Blocks waiting on this thread (for tests).
size_t spares() noexcept;
}  // namespace blockpool

}  // namespace doorman::core
