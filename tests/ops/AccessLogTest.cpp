#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "doorman/ops/AccessLog.hpp"

namespace doorman::ops {
namespace {

RequestRecord sample() {
  RequestRecord r;
  r.startUnixMicros = 1700000000123456;  // 2023-11-14T22:13:20.123456Z
  r.client = "10.0.0.1";
  r.method = "GET";
  r.target = "/a?b=1";
  r.status = 200;
  r.bytesIn = 80;
  r.bytesOut = 300;
  r.bodyOut = 120;
  r.requestId = "abc";
  r.route = "/";
  r.upstream = "app";
  r.server = "unix:/run/app.sock";
  r.tries = 1;
  r.receiveUs = 10;
  r.queueUs = 0;
  r.upstreamUs = 2000;
  r.sendUs = 30;
  r.totalUs = 2100;
  return r;
}

TEST(AccessLogFormat, Combined) {
  EXPECT_EQ(formatCombined(sample()),
            "10.0.0.1 - - [14/Nov/2023:22:13:20 +0000] \"GET /a?b=1 HTTP/1.1\" 200 120 \"-\" \"-\" "
            "rid=abc in=80 out=300 route=/ upstream=app server=unix:/run/app.sock tries=1 "
            "receive_us=10 queue_us=0 upstream_us=2000 send_us=30 total_us=2100");
}

TEST(AccessLogFormat, CombinedEscapesQuotesAndControlBytes) {
  RequestRecord r = sample();
  r.userAgent = "a\"b\\c\nd";
  r.method = {};
  r.upstream = {};
  r.queueUs = -1;
  std::string line = formatCombined(r);
  EXPECT_NE(line.find("\"a\\x22b\\x5Cc\\x0Ad\""), std::string::npos) << line;
  EXPECT_NE(line.find("] \"-\" 200"), std::string::npos) << line;
  EXPECT_NE(line.find("upstream=- "), std::string::npos) << line;
  EXPECT_NE(line.find("queue_us=- "), std::string::npos) << line;
}

TEST(AccessLogFormat, JsonEscapesAndKeepsUtf8) {
  RequestRecord r = sample();
  r.userAgent = "caf\xc3\xa9 \"x\" \\ \x01 \xff\xc3";
  r.queueUs = -1;
  std::string line = formatJson(r);
  EXPECT_NE(line.find(R"("user_agent":"café \"x\" \\ \u0001 \u00ff\u00c3")"), std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("time":"2023-11-14T22:13:20.123456Z")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("queue_us":null)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("status":200)"), std::string::npos) << line;
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line.back(), '}');
}

class WriterTest : public ::testing::Test {
 protected:
  WriterTest() {
    char tmpl[] = "/tmp/doorman-accesslog-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~WriterTest() override { std::filesystem::remove_all(dir_); }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_;
};

TEST_F(WriterTest, WritesLinesInOrder) {
  AccessLogWriter writer;
  ASSERT_EQ(writer.open(dir_ + "/a.log"), "");
  for (int i = 0; i < 1000; ++i) {
    writer.append("line " + std::to_string(i));
  }
  writer.flush();
  std::string text = slurp(dir_ + "/a.log");
  EXPECT_EQ(writer.written(), 1000u);
  EXPECT_EQ(writer.dropped(), 0u);
  EXPECT_EQ(text.substr(0, 14), "line 0\nline 1\n");
  EXPECT_EQ(text.substr(text.size() - 9), "line 999\n");
}

TEST_F(WriterTest, DropsAndCountsWhenTheBufferIsFull) {
  AccessLogWriter writer(16);  // room for two 7-byte lines
  // Not opened: no thread drains the buffer, so the third line must be dropped.
  writer.append("123456");
  writer.append("123456");
  writer.append("123456");
  EXPECT_EQ(writer.dropped(), 1u);
}

TEST_F(WriterTest, ReopenSwitchesToANewFile) {
  AccessLogWriter writer;
  ASSERT_EQ(writer.open(dir_ + "/a.log"), "");
  writer.append("first");
  writer.flush();
  std::filesystem::rename(dir_ + "/a.log", dir_ + "/a.log.1");
  writer.reopen(dir_ + "/a.log");
  writer.append("second");
  writer.flush();
  EXPECT_EQ(slurp(dir_ + "/a.log.1"), "first\n");
  EXPECT_EQ(slurp(dir_ + "/a.log"), "second\n");
}

TEST_F(WriterTest, OpenReportsTheError) {
  AccessLogWriter writer;
  EXPECT_NE(writer.open(dir_ + "/missing/dir/a.log").find("cannot open access log"),
            std::string::npos);
}

}  // namespace
}  // namespace doorman::ops
