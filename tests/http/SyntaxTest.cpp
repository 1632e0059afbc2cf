// The character-class table of src/http/Syntax.hpp against the rules it is built from,
// for every byte.
#include "../../src/http/Syntax.hpp"

#include <gtest/gtest.h>

namespace doorman::http::syntax {
namespace {

TEST(HttpSyntax, KeepOnlyReducesAStringToAViewIntoIt) {
  for (const std::string in : {" \t a b \t", "a b", "  a b", "a b\t\t", " \t ", ""}) {
    std::string s = in;
    syntax::keepOnly(s, syntax::trimOws(s));
    EXPECT_EQ(s, std::string(syntax::trimOws(in))) << "[" << in << "]";
  }
  std::string s = "xxabcyy";
  syntax::keepOnly(s, std::string_view(s).substr(2, 3));
  EXPECT_EQ(s, "abc");
}

TEST(HttpSyntax, TheCharacterTableMatchesTheRulesForEveryByte) {
  for (unsigned c = 0; c < 256; ++c) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_EQ(isTchar(b), isTcharByRule(b)) << c;
    const char ch = static_cast<char>(b);
    EXPECT_EQ(isFieldValue(std::string_view(&ch, 1)), isFieldValueByteByRule(b)) << c;
  }
  EXPECT_TRUE(isTchar('a') && isTchar('Z') && isTchar('0') && isTchar('~') && isTchar('!'));
  EXPECT_FALSE(isTchar(':') || isTchar(' ') || isTchar('(') || isTchar(0x80) || isTchar(0));
  EXPECT_TRUE(isFieldValue("a\tb c\x80\xff"));
  EXPECT_FALSE(isFieldValue("a\x7f"));
  EXPECT_FALSE(isFieldValue(std::string_view("\0", 1)));
  EXPECT_TRUE(isToken("X-Request-ID"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("X Y"));
}

}  // namespace
}  // namespace doorman::http::syntax
