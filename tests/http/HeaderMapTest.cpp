#include "doorman/http/HeaderMap.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace doorman::http {
namespace {

TEST(HttpHeaderMap, ComparesNamesCaseInsensitivelyInAscii) {
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(equalsIgnoreCase("a", "\xc3"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
}

TEST(HttpHeaderMap, FoldsOnlyLettersNotOtherBytesThatDifferByTheCaseBit) {
  EXPECT_TRUE(equalsIgnoreCase("azAZ", "AZaz"));
  EXPECT_FALSE(equalsIgnoreCase("@", "`"));  // 0x40 / 0x60
  EXPECT_FALSE(equalsIgnoreCase("[", "{"));  // 0x5B / 0x7B
  EXPECT_FALSE(equalsIgnoreCase("^", "~"));  // 0x5E / 0x7E
  EXPECT_FALSE(equalsIgnoreCase("\x01", "!"));
  EXPECT_FALSE(equalsIgnoreCase("\xc1", "\xe1"));  // not ASCII letters
}

TEST(HttpHeaderMap, AllCheckedOnlyWhileEveryFieldCameFromAParser) {
  HeaderMap h;
  EXPECT_TRUE(h.allChecked()) << "empty";
  h.addChecked("Host", "a");
  h.addChecked("Accept", "b");
  EXPECT_TRUE(h.allChecked());
  EXPECT_EQ(h.size(), 2u);
  h.remove("Accept");
  EXPECT_TRUE(h.allChecked()) << "removing cannot make a field unsafe";
  h.add("X", "c");
  EXPECT_FALSE(h.allChecked());
  h.addChecked("Y", "d");
  EXPECT_FALSE(h.allChecked()) << "one unchecked field is enough";
  h.clear();
  EXPECT_TRUE(h.allChecked());
  h.addChecked("A", "1");
  h.set("A", "2");
  EXPECT_FALSE(h.allChecked());
  h.clear();
  h.addChecked("A", "1");
  (void)h.fields();  // mutable access
  EXPECT_FALSE(h.allChecked());
  HeaderMap copy;
  copy.addChecked("A", "1");
  HeaderMap moved = std::move(copy);
  EXPECT_TRUE(moved.allChecked());
}

TEST(HttpHeaderMap, KeepsFieldsInOrderPastTheFirstReservation) {
  HeaderMap h;
  for (int i = 0; i < 40; ++i) {
    h.add("X-" + std::to_string(i), std::to_string(i * i));
  }
  ASSERT_EQ(h.size(), 40u);
  int i = 0;
  for (const auto& field : h) {
    EXPECT_EQ(field.name, "X-" + std::to_string(i));
    EXPECT_EQ(field.value, std::to_string(i * i));
    ++i;
  }
}

TEST(HttpHeaderMap, FindsTheFirstFieldWithAName) {
  HeaderMap h;
  h.add("Accept", "a");
  h.add("accept", "b");
  ASSERT_NE(h.find("ACCEPT"), nullptr);
  EXPECT_EQ(*h.find("ACCEPT"), "a");
  EXPECT_EQ(h.find("Host"), nullptr);
  EXPECT_EQ(h.count("Accept"), 2u);
  EXPECT_EQ(h.count("Host"), 0u);
}

TEST(HttpHeaderMap, RemovesEveryFieldWithANameAndKeepsTheOrderOfTheRest) {
  HeaderMap h;
  h.add("A", "1");
  h.add("B", "2");
  h.add("a", "3");
  h.add("C", "4");
  EXPECT_EQ(h.remove("A"), 2u);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.fields()[0].name, "B");
  EXPECT_EQ(h.fields()[1].name, "C");
  EXPECT_EQ(h.remove("Z"), 0u);
}

TEST(HttpHeaderMap, SetReplacesAllFieldsOfANameInPlaceOfTheFirst) {
  HeaderMap h;
  h.add("A", "1");
  h.add("host", "old1");
  h.add("B", "2");
  h.add("HOST", "old2");
  h.add("C", "3");
  h.set("Host", "new");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.fields()[0].name, "A");
  EXPECT_EQ(h.fields()[1].name, "Host");
  EXPECT_EQ(h.fields()[1].value, "new");
  EXPECT_EQ(h.fields()[2].name, "B");
  EXPECT_EQ(h.fields()[3].name, "C");
}

TEST(HttpHeaderMap, SetAppendsWhenTheNameIsAbsent) {
  HeaderMap h;
  h.add("A", "1");
  h.set("B", "2");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.fields()[1].name, "B");
  EXPECT_EQ(h.fields()[1].value, "2");
}

TEST(HttpHeaderMap, FindsTokensInCommaSeparatedLists) {
  HeaderMap h;
  h.add("Connection", "keep-alive ,\tUpgrade");
  h.add("connection", "X-Foo");
  h.add("Other", "close");
  EXPECT_TRUE(h.hasToken("Connection", "upgrade"));
  EXPECT_TRUE(h.hasToken("Connection", "KEEP-ALIVE"));
  EXPECT_TRUE(h.hasToken("CONNECTION", "x-foo"));
  EXPECT_FALSE(h.hasToken("Connection", "close"));
  EXPECT_FALSE(h.hasToken("Connection", "keep"));
  EXPECT_FALSE(h.hasToken("Missing", "x"));
}

TEST(HttpHeaderMap, ClearEmptiesTheMap) {
  HeaderMap h;
  h.add("A", "1");
  EXPECT_FALSE(h.empty());
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.begin(), h.end());
}

}  // namespace
}  // namespace doorman::http
