#include "FileCache.hpp"

#include <iterator>

namespace doorman::statics::detail {

std::shared_ptr<const CachedFile> FileCache::find(std::string_view key, uint64_t nowMs) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    return nullptr;
  }
  Lru::iterator entry = found->second;
  lru_.splice(lru_.begin(), lru_, entry);  // no allocation: relinks the node
  if (nowMs - entry->checkedMs >= static_cast<uint64_t>(limits_.checkInterval.count())) {
    entry->checkedMs = nowMs;  // this request checks; the others keep the copy meanwhile
    return nullptr;
  }
  return entry->file;
}

std::shared_ptr<const CachedFile> FileCache::peek(std::string_view key) const {
  auto found = index_.find(key);
  return found == index_.end() ? nullptr : found->second->file;
}

void FileCache::confirm(std::string_view key, uint64_t nowMs) {
  auto found = index_.find(key);
  if (found != index_.end()) {
    found->second->checkedMs = nowMs;
  }
}

void FileCache::store(std::string_view key, std::shared_ptr<const CachedFile> file,
                      uint64_t nowMs) {
  erase(key);  // a replaced entry gives its bytes back first
  if (!file || !enabled() || file->footprint() + key.size() > limits_.size) {
    return;
  }
  const uint64_t footprint = file->footprint() + key.size();
  evictBeyond(limits_.size - footprint);
  // The process budget too, leaving a quarter of it free: give up older entries for
  // room, else do not keep this one.
  while (budget_ != nullptr && !leavesHeadroom(footprint)) {
    if (lru_.empty()) {
      return;
    }
    drop(std::prev(lru_.end()));
  }
  if (budget_ != nullptr && !budget_->tryReserve(footprint, /*reclaim=*/false)) {
    return;
  }
  lru_.push_front(Entry{std::string(key), std::move(file), nowMs});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += footprint;
}

void FileCache::erase(std::string_view key) {
  auto found = index_.find(key);
  if (found != index_.end()) {
    drop(found->second);
  }
}

void FileCache::drop(Lru::iterator entry) {
  const uint64_t footprint = entry->file->footprint() + entry->key.size();
  bytes_ -= footprint;
  if (budget_ != nullptr) {
    budget_->release(footprint);
  }
  index_.erase(entry->key);
  lru_.erase(entry);
}

void FileCache::evictBeyond(uint64_t limit) {
  while (bytes_ > limit && !lru_.empty()) {
    drop(std::prev(lru_.end()));
  }
}

bool FileCache::leavesHeadroom(uint64_t footprint) const noexcept {
  const uint64_t ceiling = budget_->limit() - budget_->limit() / 4;
  return budget_->used() <= ceiling && footprint <= ceiling - budget_->used();
}

void FileCache::reclaim(uint64_t bytes) noexcept {
  uint64_t freed = 0;
  while (freed < bytes && !lru_.empty()) {
    Lru::iterator victim = std::prev(lru_.end());
    freed += victim->file->footprint() + victim->key.size();
    drop(victim);
  }
}

void FileCache::clear() {
  while (!lru_.empty()) {
    drop(lru_.begin());
  }
}

}  // namespace doorman::statics::detail
