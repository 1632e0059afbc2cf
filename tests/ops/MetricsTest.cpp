#include <gtest/gtest.h>

#include "doorman/ops/Metrics.hpp"

namespace doorman::ops {
namespace {

TEST(Histogram, BucketsAreCumulative) {
  Histogram h;
  h.observeMicros(500);       // 0.0005 s: first bucket
  h.observeMicros(1000);      // exactly 0.001: first bucket (le is inclusive)
  h.observeMicros(200000);    // 0.2 s
  h.observeMicros(90000000);  // 90 s: only +Inf
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.cumulative(0), 2u);
  EXPECT_EQ(h.cumulative(6), 2u);  // le=0.1
  EXPECT_EQ(h.cumulative(7), 3u);  // le=0.25
  EXPECT_EQ(h.cumulative(Histogram::kBounds.size() - 1), 3u);
  EXPECT_DOUBLE_EQ(h.sumSeconds(), 90.2015);
}

TEST(PrometheusText, FamiliesSamplesAndEscaping) {
  PrometheusText t;
  t.family("x_total", "counter", "Things.\nMore.");
  t.sample("x_total", Labels{{"route", "/a\"b\\c\n"}}, uint64_t{3});
  Histogram h;
  h.observeMicros(2000);
  t.family("d_seconds", "histogram", "D.");
  t.histogram("d_seconds", Labels{{"upstream", "app"}}, h);
  const std::string& text = t.text();
  EXPECT_NE(text.find("# HELP x_total Things. More.\n# TYPE x_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("x_total{route=\"/a\\\"b\\\\c\\n\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{upstream=\"app\",le=\"0.001\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{upstream=\"app\",le=\"0.0025\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("d_seconds_bucket{upstream=\"app\",le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_sum{upstream=\"app\"} 0.002\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_count{upstream=\"app\"} 1\n"), std::string::npos);
}

TEST(Metrics, RequestsByRouteAndClass) {
  Metrics m;
  m.recordRequest("/", 200, 10);
  m.recordRequest("/", 204, 10);
  m.recordRequest("/", 503, 10);
  m.recordRequest("/static/", 404, -1);
  EXPECT_EQ((m.requests[{"/", "2xx"}]), 2u);
  EXPECT_EQ((m.requests[{"/", "5xx"}]), 1u);
  EXPECT_EQ((m.requests[{"/static/", "4xx"}]), 1u);
  EXPECT_EQ(m.requestDuration.count(), 3u);
  EXPECT_EQ(statusClass(99), "other");
}

}  // namespace
}  // namespace doorman::ops
