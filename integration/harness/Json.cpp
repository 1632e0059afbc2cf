#include "harness/Json.hpp"

#include <cmath>
#include <cstdlib>

namespace doorman::it {

const JsonValue& JsonValue::operator[](const std::string& key) const {
  static const JsonValue null;
  auto it = object_.find(key);
  return it == object_.end() ? null : it->second;
}

bool JsonValue::has(const std::string& key) const { return object_.count(key) > 0; }

std::string JsonValue::str() const {
  switch (type_) {
    case Type::String:
      return string_;
    case Type::Number:
      return std::to_string(integer());
    case Type::Bool:
      return bool_ ? "true" : "false";
    default:
      return "";
  }
}

int64_t JsonValue::integer() const {
  if (type_ == Type::Number) return static_cast<int64_t>(std::llround(number_));
  if (type_ == Type::String) return std::strtoll(string_.c_str(), nullptr, 10);
  return 0;
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  std::optional<JsonValue> parseDocument() {
    JsonValue value;
    if (!parseValue(value)) return std::nullopt;
    skipSpace();
    if (pos_ != text_.size()) return std::nullopt;
    return value;
  }

 private:
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool parseValue(JsonValue& out) {
    skipSpace();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '{') return parseObject(out);
    if (c == '[') return parseArray(out);
    if (c == '"') {
      out.type_ = JsonValue::Type::String;
      return parseString(out.string_);
    }
    if (consume("true") || consume("false")) {
      out.type_ = JsonValue::Type::Bool;
      out.bool_ = c == 't';
      return true;
    }
    if (consume("null")) return true;
    return parseNumber(out);
  }

  bool parseNumber(JsonValue& out) {
    const std::string rest(text_.substr(pos_, 64));
    char* end = nullptr;
    out.number_ = std::strtod(rest.c_str(), &end);
    if (end == rest.c_str()) return false;
    pos_ += static_cast<size_t>(end - rest.c_str());
    out.type_ = JsonValue::Type::Number;
    return true;
  }

  static void appendUtf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool parseString(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return false;
          appendUtf8(out, static_cast<unsigned>(std::strtoul(
                              std::string(text_.substr(pos_, 4)).c_str(), nullptr, 16)));
          pos_ += 4;
          break;
        }
        default:
          out += e;
      }
    }
    return false;
  }

  bool parseArray(JsonValue& out) {
    out.type_ = JsonValue::Type::Array;
    ++pos_;
    skipSpace();
    if (consume("]")) return true;
    while (true) {
      JsonValue element;
      if (!parseValue(element)) return false;
      out.array_.push_back(std::move(element));
      skipSpace();
      if (consume("]")) return true;
      if (!consume(",")) return false;
    }
  }

  bool parseObject(JsonValue& out) {
    out.type_ = JsonValue::Type::Object;
    ++pos_;
    skipSpace();
    if (consume("}")) return true;
    while (true) {
      skipSpace();
      std::string key;
      if (pos_ >= text_.size() || text_[pos_] != '"' || !parseString(key)) return false;
      skipSpace();
      if (!consume(":")) return false;
      JsonValue value;
      if (!parseValue(value)) return false;
      out.object_[key] = std::move(value);
      skipSpace();
      if (consume("}")) return true;
      if (!consume(",")) return false;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::optional<JsonValue> parseJson(std::string_view text) {
  return JsonParser(text).parseDocument();
}

}  // namespace doorman::it
