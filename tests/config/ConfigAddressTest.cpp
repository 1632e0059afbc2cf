#include <gtest/gtest.h>

#include "doorman/config/Loader.hpp"

namespace doorman::config {
namespace {

Address parsed(const std::string& text) {
  Address address;
  const std::string reason = parseAddress(text, address);
  EXPECT_EQ(reason, "") << text;
  return address;
}

std::string rejection(const std::string& text) {
  Address address;
  address.text = "untouched";
  std::string reason = parseAddress(text, address);
  EXPECT_EQ(address.text, "untouched") << "a rejected address must leave the output alone";
  return reason;
}

TEST(ConfigAddress, HostAndPort) {
  const Address a = parsed("127.0.0.1:8080");
  EXPECT_EQ(a.kind, Address::Kind::Tcp);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.text, "127.0.0.1:8080");
}

TEST(ConfigAddress, HostNameAndPort) {
  const Address a = parsed("backend-1.internal:9000");
  EXPECT_EQ(a.host, "backend-1.internal");
  EXPECT_EQ(a.port, 9000);
}

TEST(ConfigAddress, StarMeansAllIpv4InterfacesAndKeepsTheOriginalText) {
  const Address a = parsed("*:80");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.text, "*:80");
}

TEST(ConfigAddress, BracketedIpv6LosesItsBrackets) {
  const Address a = parsed("[::1]:8443");
  EXPECT_EQ(a.kind, Address::Kind::Tcp);
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 8443);
  EXPECT_EQ(parsed("[::]:80").host, "::");
  EXPECT_EQ(parsed("[fe80::1%eth0]:80").host, "fe80::1%eth0");
}

TEST(ConfigAddress, UnixSocketPath) {
  const Address a = parsed("unix:/run/app/gunicorn.sock");
  EXPECT_EQ(a.kind, Address::Kind::Unix);
  EXPECT_EQ(a.path, "/run/app/gunicorn.sock");
  EXPECT_EQ(a.text, "unix:/run/app/gunicorn.sock");
}

TEST(ConfigAddress, PortZeroAndTheHighestPortAreAllowed) {
  EXPECT_EQ(parsed("127.0.0.1:0").port, 0);
  EXPECT_EQ(parsed("127.0.0.1:65535").port, 65535);
}

TEST(ConfigAddress, RejectsBadPorts) {
  EXPECT_NE(rejection("127.0.0.1:65536"), "");
  EXPECT_NE(rejection("127.0.0.1:-1"), "");
  EXPECT_NE(rejection("127.0.0.1:http"), "");
  EXPECT_NE(rejection("127.0.0.1:"), "");
  EXPECT_NE(rejection("127.0.0.1:0000080"), "");
  EXPECT_NE(rejection("127.0.0.1"), "");
}

TEST(ConfigAddress, RejectsBadHosts) {
  EXPECT_NE(rejection(""), "");
  EXPECT_NE(rejection(":8080"), "");
  EXPECT_NE(rejection("256.0.0.1:80"), "");
  EXPECT_NE(rejection("1.2.3:80"), "");
  EXPECT_NE(rejection("bad host:80"), "");
  EXPECT_NE(rejection("::1:80"), "");
  EXPECT_NE(rejection("[::1:80"), "");
  EXPECT_NE(rejection("[::1]80"), "");
  EXPECT_NE(rejection("[not-v6]:80"), "");
  EXPECT_NE(rejection("[127.0.0.1]:80"), "");
}

TEST(ConfigAddress, RejectsRelativeOrTooLongUnixPaths) {
  EXPECT_NE(rejection("unix:"), "");
  EXPECT_NE(rejection("unix:run/app.sock"), "");
  EXPECT_NE(rejection("unix:/" + std::string(107, 'a')), "");
  EXPECT_EQ(parsed("unix:/" + std::string(106, 'a')).path.size(), 107u);
}

TEST(ConfigAddress, ReasonsSayWhatIsWrong) {
  EXPECT_EQ(rejection("127.0.0.1"), "missing ':port'");
  EXPECT_EQ(rejection("::1:80"), "an IPv6 address needs brackets, as in [::1]:80");
  EXPECT_EQ(rejection("unix:run.sock"), "a unix socket path must be absolute");
  EXPECT_EQ(rejection("h:99999"), "port must be a number from 0 to 65535");
}

}  // namespace
}  // namespace doorman::config
