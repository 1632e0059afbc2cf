#include "FileCache.hpp"

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
  if (!file || !enabled() || file->footprint() > limits_.size) {
    erase(key);
    return;
  }
  const uint64_t footprint = file->footprint() + key.size();
  auto found = index_.find(key);
  if (found != index_.end()) {
    Lru::iterator entry = found->second;
    bytes_ -= entry->file->footprint() + entry->key.size();
    entry->file = std::move(file);
    entry->checkedMs = nowMs;
    lru_.splice(lru_.begin(), lru_, entry);
  } else {
    lru_.push_front(Entry{std::string(key), std::move(file), nowMs});
    index_.emplace(lru_.front().key, lru_.begin());
  }
  bytes_ += footprint;
  evictBeyond(limits_.size);
}

void FileCache::erase(std::string_view key) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    return;
  }
  Lru::iterator entry = found->second;
  bytes_ -= entry->file->footprint() + entry->key.size();
  index_.erase(found);
  lru_.erase(entry);
}

void FileCache::evictBeyond(uint64_t limit) {
  while (bytes_ > limit && !lru_.empty()) {
    Entry& victim = lru_.back();
    bytes_ -= victim.file->footprint() + victim.key.size();
    index_.erase(victim.key);
    lru_.pop_back();
  }
}

}  // namespace doorman::statics::detail
