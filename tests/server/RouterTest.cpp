#include "doorman/server/Router.hpp"

#include <gtest/gtest.h>

namespace doorman::server {
namespace {

config::Route route(std::string prefix, std::optional<std::string> host = {}) {
  config::Route r;
  r.prefix = std::move(prefix);
  r.host = std::move(host);
  r.upstream = "app";
  return r;
}

TEST(ServerRouter, LongestPrefixWins) {
  std::vector<config::Route> routes{route("/"), route("/api/"), route("/api/v2/")};
  Router router(routes, {}, {});
  EXPECT_EQ(router.match("x", "/api/v2/items?a=1")->route->prefix, "/api/v2/");
  EXPECT_EQ(router.match("x", "/api/v1")->route->prefix, "/api/");
  EXPECT_EQ(router.match("x", "/other")->route->prefix, "/");
}

TEST(ServerRouter, QueryStringIsNotPartOfThePrefixMatch) {
  std::vector<config::Route> routes{route("/a")};
  Router router(routes, {}, {});
  EXPECT_EQ(router.match("", "/b?x=/a"), nullptr);
}

TEST(ServerRouter, HostSpecificRoutesArePreferredAndPortIsIgnored) {
  std::vector<config::Route> routes{route("/static/"), route("/", std::string("Admin.Example"))};
  Router router(routes, {}, {});
  EXPECT_EQ(router.match("admin.example:8080", "/static/x")->route->host, "Admin.Example");
  EXPECT_FALSE(router.match("www.example", "/static/x")->route->host.has_value());
  EXPECT_EQ(router.match("www.example", "/x"), nullptr);
}

TEST(ServerRouter, RouteQueueTimeoutOverridesTheUpstreams) {
  std::map<std::string, config::Upstream> upstreams;
  upstreams["app"].queueTimeout = core::Millis(5000);
  std::vector<config::Route> routes{route("/"), route("/slow/")};
  routes[1].queueTimeout = core::Millis(100);
  Router router(routes, {}, upstreams);
  EXPECT_EQ(router.match("", "/")->queueTimeoutMs, 5000u);
  EXPECT_EQ(router.match("", "/slow/x")->queueTimeoutMs, 100u);
}

}  // namespace
}  // namespace doorman::server
