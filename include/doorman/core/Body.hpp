#pragma once
// A message body: a chain of fixed-size memory blocks, each reserved from a
// MemoryBudget before it is allocated.
//
// Spilling: once a body passes its per-message memory threshold (or the budget
// refuses a block) it is meant to continue in an unlinked temp file. That is the
// spill issue's work; the interface already separates "append" from "read back as
// segments" so writers never assume everything is in memory.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "doorman/core/MemoryBudget.hpp"

namespace doorman::core {

class Body {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;

  Body() = default;
  explicit Body(MemoryBudget* budget) : budget_(budget) {}
  ~Body();
  Body(Body&& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;

  /// Appends bytes; false when the budget refused the memory (nothing partial is lost:
  /// bytes that fitted stay, the caller decides whether to fail or wait).
  [[nodiscard]] bool append(std::string_view bytes);

  uint64_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Contiguous pieces in order; their total is size().
  size_t segmentCount() const noexcept { return blocks_.size(); }
  std::string_view segment(size_t i) const noexcept;

  /// Copies everything into one string (tests, small bodies).
  std::string toString() const;

  /// Frees every block and returns the memory to the budget.
  void clear() noexcept;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t used = 0;
  };
  MemoryBudget* budget_ = nullptr;
  std::vector<Block> blocks_;
  uint64_t size_ = 0;
};

}  // namespace doorman::core
