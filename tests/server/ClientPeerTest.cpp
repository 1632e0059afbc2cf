// The compact client address of a ClientConnection gives back exactly the text the
// listener produced (X-Forwarded-For and the logs must not change).
#include <gtest/gtest.h>

#include <string>

#include "doorman/server/ClientConnection.hpp"

namespace doorman::server {
namespace {

std::string roundTrip(const std::string& text) {
  char out[ClientConnection::kPeerSize];
  ClientConnection::Peer::parse(text).format(out);
  return out;
}

TEST(ClientPeer, AddressesComeBackAsTheyWere) {
  for (const char* text :
       {"127.0.0.1", "10.1.2.3", "255.255.255.255", "::1", "2001:db8::1", "::ffff:10.0.0.1",
        "fe80::1:2:3:4", "unix", "unknown", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    EXPECT_EQ(roundTrip(text), text);
  }
}

TEST(ClientPeer, AnythingElseIsUnknown) {
  EXPECT_EQ(roundTrip(""), "unknown");
  EXPECT_EQ(roundTrip("not an address"), "unknown");
  EXPECT_EQ(roundTrip(std::string(100, '1')), "unknown");
}

TEST(ClientPeer, TakesSeventeenBytes) {
  // What an idle connection keeps of its client (instead of a std::string).
  EXPECT_EQ(sizeof(ClientConnection::Peer), 17u);
}

}  // namespace
}  // namespace doorman::server
