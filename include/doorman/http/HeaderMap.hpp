#pragma once
// An ordered list of header fields as received (names keep their case; lookups are
// case-insensitive, RFC 9110 5.1).

#include <string>
#include <string_view>
#include <vector>

namespace doorman::http {

struct Header {
  std::string name;
  std::string value;
};

/// ASCII case-insensitive equality (header names and tokens are ASCII, RFC 9110 5.1).
/// Inline: the serializers and parsers call it for every field of every message.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    // Equal, or equal but for bit 0x20 and a letter.
    if (x != y && ((x ^ y) != 0x20 || static_cast<unsigned char>((x | 0x20) - 'a') > 'z' - 'a')) {
      return false;
    }
  }
  return true;
}

class HeaderMap {
 public:
  void add(std::string name, std::string value) {
    allChecked_ = false;
    append(std::move(name), std::move(value));
  }
  /// For the parsers: a field whose name is a token and whose value has no control
  /// character but HTAB (they checked). While every field came this way, the
  /// serializers need not check them again (allChecked()).
  void addChecked(std::string name, std::string value) {
    append(std::move(name), std::move(value));
  }
  /// addChecked for the parsers' accumulators: takes the bytes of `name` and `value`
  /// (swapped into the new field, so both are left empty) without the chain of moves
  /// that passing them by value costs.
  void takeChecked(std::string& name, std::string& value) {
    if (fields_.capacity() == 0) {
      fields_.reserve(kInitialCapacity);
    }
    Header& field = fields_.emplace_back();
    field.name.swap(name);
    field.value.swap(value);
  }
  /// Every field was added with addChecked (or the map is empty).
  bool allChecked() const noexcept { return allChecked_; }
  /// First field with this name, or nullptr.
  const std::string* find(std::string_view name) const noexcept;
  size_t count(std::string_view name) const noexcept;
  /// Removes every field with this name; returns how many.
  size_t remove(std::string_view name);
  /// Replaces all fields of this name by one.
  void set(std::string name, std::string value);
  /// True when any field with this name has `token` in its comma-separated list
  /// (case-insensitive, optional whitespace around list elements).
  bool hasToken(std::string_view name, std::string_view token) const;

  size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  void clear() noexcept {
    fields_.clear();
    allChecked_ = true;
  }
  const std::vector<Header>& fields() const noexcept { return fields_; }
  /// Mutable access: the fields are no longer known to be checked.
  std::vector<Header>& fields() noexcept {
    allChecked_ = false;
    return fields_;
  }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }

 private:
  static constexpr size_t kInitialCapacity = 8;
  void append(std::string name, std::string value) {
    if (fields_.capacity() == 0) {
      // One allocation for a typical message instead of growing 1, 2, 4, 8.
      fields_.reserve(kInitialCapacity);
    }
    fields_.push_back({std::move(name), std::move(value)});
  }
  std::vector<Header> fields_;
  bool allChecked_ = true;
};

}  // namespace doorman::http
