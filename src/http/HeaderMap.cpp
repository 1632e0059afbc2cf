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
  // others is kept; later fields of the same name are dropped. (Written so that `name`
  // is only moved from at the end: clang-tidy's use-after-move check can follow it.)
  const auto sameName = [&name](const Header& field) { return equalsIgnoreCase(field.name, name); };
  allChecked_ = false;
  const auto first = std::find_if(fields_.begin(), fields_.end(), sameName);
  if (first == fields_.end()) {
    fields_.push_back({std::move(name), std::move(value)});
    return;
  }
  // Erasing after `first` leaves it valid.
  fields_.erase(std::remove_if(first + 1, fields_.end(), sameName), fields_.end());
  first->name = std::move(name);
  first->value = std::move(value);
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
