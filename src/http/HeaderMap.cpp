#include "doorman/http/HeaderMap.hpp"

#include <algorithm>

#include "Syntax.hpp"

namespace doorman::http {

const std::string* HeaderMap::find(std::string_view name) const noexcept {
  for (const auto& field : fields_) {
    if (equalsIgnoreCase(field.name, name)) {
      return &field.value;
    }
  }
  return nullptr;
}

size_t HeaderMap::count(std::string_view name) const noexcept {
  size_t n = 0;
  for (const auto& field : fields_) {
    if (equalsIgnoreCase(field.name, name)) {
      ++n;
    }
  }
  return n;
}

size_t HeaderMap::remove(std::string_view name) {
  const auto before = fields_.size();
  std::erase_if(fields_, [name](const Header& h) { return equalsIgnoreCase(h.name, name); });
  return before - fields_.size();
}

void HeaderMap::set(std::string name, std::string value) {
  // The replacement takes the place of the first existing field so the order of the
  // others is kept. Compacts in place: the first match is overwritten (it never moves,
  // since nothing before it is removed), later matches are dropped.
  size_t out = 0;
  size_t placed = fields_.size();
  for (size_t i = 0; i < fields_.size(); ++i) {
    const std::string& key = placed < fields_.size() ? fields_[placed].name : name;
    if (equalsIgnoreCase(fields_[i].name, key)) {
      if (placed < fields_.size()) {
        continue;
      }
      placed = i;
      fields_[i].name = std::move(name);
      fields_[i].value = std::move(value);
    }
    if (out != i) {
      fields_[out] = std::move(fields_[i]);
    }
    ++out;
  }
  const bool found = placed < fields_.size();
  fields_.resize(out);
  if (!found) {
    fields_.push_back({std::move(name), std::move(value)});
  }
}

bool HeaderMap::hasToken(std::string_view name, std::string_view token) const {
  for (const auto& field : fields_) {
    if (!equalsIgnoreCase(field.name, name)) {
      continue;
    }
    std::string_view rest = field.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto element = syntax::trimOws(rest.substr(0, comma));
      if (equalsIgnoreCase(element, token)) {
        return true;
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace doorman::http
