#pragma once
// Just enough JSON to read testapp's /echo answers and stats files.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace doorman::it {

class JsonValue {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::Null; }
  /// Member of an object; a null value when missing or when this is not an object.
  const JsonValue& operator[](const std::string& key) const;
  bool has(const std::string& key) const;
  const std::map<std::string, JsonValue>& members() const { return object_; }
  const std::vector<JsonValue>& elements() const { return array_; }
  /// The string (numbers and bools are written back as text; null is "").
  std::string str() const;
  int64_t integer() const;

 private:
  friend class JsonParser;
  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::map<std::string, JsonValue> object_;
};

/// nullopt when `text` is not one valid JSON value.
std::optional<JsonValue> parseJson(std::string_view text);

}  // namespace doorman::it
