#include "doorman/core/Body.hpp"

#include <algorithm>
#include <cstring>

namespace doorman::core {

Body::~Body() { clear(); }

Body::Body(Body&& other) noexcept
    : budget_(other.budget_), blocks_(std::move(other.blocks_)), size_(other.size_) {
  other.blocks_.clear();
  other.size_ = 0;
}

Body& Body::operator=(Body&& other) noexcept {
  if (this != &other) {
    clear();
    budget_ = other.budget_;
    blocks_ = std::move(other.blocks_);
    size_ = other.size_;
    other.blocks_.clear();
    other.size_ = 0;
  }
  return *this;
}

bool Body::append(std::string_view bytes) {
  while (!bytes.empty()) {
    if (blocks_.empty() || blocks_.back().used == kBlockSize) {
      if (budget_ != nullptr && !budget_->tryReserve(kBlockSize)) {
        return false;
      }
      blocks_.push_back(Block{std::unique_ptr<char[]>(new char[kBlockSize]), 0});
    }
    Block& last = blocks_.back();
    size_t n = std::min(bytes.size(), kBlockSize - last.used);
    std::memcpy(last.data.get() + last.used, bytes.data(), n);
    last.used += n;
    size_ += n;
    bytes.remove_prefix(n);
  }
  return true;
}

std::string_view Body::segment(size_t i) const noexcept {
  return {blocks_[i].data.get(), blocks_[i].used};
}

std::string Body::toString() const {
  std::string out;
  out.reserve(size_);
  for (const auto& b : blocks_) {
    out.append(b.data.get(), b.used);
  }
  return out;
}

void Body::clear() noexcept {
  if (budget_ != nullptr) {
    budget_->release(blocks_.size() * kBlockSize);
  }
  blocks_.clear();
  size_ = 0;
}

}  // namespace doorman::core
