// The error log: levels filter before any argument is evaluated, lines go to log.path,
// and every "while ..." phase has its own text.
#include "doorman/core/Log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace doorman::core {
namespace {

class LogTest : public ::testing::Test {
 protected:
  LogTest() {
    char tmpl[] = "/tmp/doorman-logtest-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd >= 0) {
      ::close(fd);
    }
    path_ = tmpl;
  }
  ~LogTest() override {
    Log::setPath(nullptr);
    Log::setLevel(LogLevel::Info);
    std::remove(path_.c_str());
  }
  std::string contents() const {
    std::ifstream in(path_);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
  std::string path_;
};

TEST_F(LogTest, FilteredLinesEvaluateNothing) {
  ASSERT_TRUE(Log::setPath(path_.c_str()));
  Log::setLevel(LogLevel::Warn);
  int evaluated = 0;
  auto expensive = [&] {
    ++evaluated;
    return "formatted";
  };
  LOG_DEBUG("%s", expensive());
  LOG_INFO("%s", expensive());
  EXPECT_EQ(evaluated, 0);
  LOG_WARN("%s", expensive());
  LOG_ERROR("%s", expensive());
  EXPECT_EQ(evaluated, 2);
  const std::string text = contents();
  EXPECT_EQ(text.find(" info "), std::string::npos) << text;
  EXPECT_NE(text.find(" warn formatted\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" error formatted\n"), std::string::npos) << text;
}

TEST_F(LogTest, OffWritesNothing) {
  ASSERT_TRUE(Log::setPath(path_.c_str()));
  Log::setLevel(LogLevel::Off);
  LOG_ERROR("%s", "nothing");
  EXPECT_EQ(contents(), "");
}

TEST_F(LogTest, AppendFormatsPastItsStackBuffer) {
  std::string out = "x";
  const std::string big(5000, 'a');
  Log::append(out, "<%s>%d", big.c_str(), 7);
  EXPECT_EQ(out, "x<" + big + ">7");
}

TEST_F(LogTest, EveryPhaseHasItsOwnText) {
  std::set<std::string> texts;
  for (int i = 0; i <= static_cast<int>(Doing::Closing); ++i) {
    texts.insert(doingText(static_cast<Doing>(i)));
  }
  EXPECT_EQ(texts.size(), static_cast<size_t>(Doing::Closing) + 1);
  EXPECT_STREQ(doingText(Doing::ReadingResponseHead), "reading response header from upstream");
}

}  // namespace
}  // namespace doorman::core
