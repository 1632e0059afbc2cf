// No request may read outside the static root: traversal in every spelling, dotfiles,
// and symlinks that lead out (unless the route allows them).

#include <gtest/gtest.h>

#include "StaticFixture.hpp"

namespace doorman::statics::testing {
namespace {

class StaticFileServerSecurity : public StaticFixture {};

TEST_F(StaticFileServerSecurity, TraversalSegmentsAre404) {
  // outside/secret.txt really exists one level above the root.
  ASSERT_TRUE(fs::exists(root_ / ".." / "outside" / "secret.txt"));
  for (const char* target : {
           "/static/../outside/secret.txt",
           "/static/sub/../../outside/secret.txt",
           "/static/%2e%2e/outside/secret.txt",
           "/static/%2E%2E/outside/secret.txt",
           "/static/.%2e/outside/secret.txt",
           "/static/./hello.txt",
           "/static/sub/%2e/index.html",
       }) {
    Answer a = get(target);
    EXPECT_EQ(a.status, 404) << target;
    EXPECT_EQ(a.body.find("secret"), std::string::npos) << target;
  }
}

TEST_F(StaticFileServerSecurity, EncodedSlashBackslashAndNulAre404) {
  for (const char* target : {
           "/static/..%2foutside/secret.txt",
           "/static/sub%2Findex.html",
           "/static/..\\outside\\secret.txt",
           "/static/..%5coutside%5csecret.txt",
           "/static/sub\\..\\hello.txt",
           "/static/hello.txt%00.png",
           "/static/%00",
       }) {
    EXPECT_EQ(get(target).status, 404) << target;
  }
}

TEST_F(StaticFileServerSecurity, MalformedEscapesAndUtf8Are400) {
  for (const char* target : {
           "/static/%c0%ae%c0%ae/outside/secret.txt",  // overlong '.'
           "/static/%e0%80%ae",                        // 3-byte overlong '.'
           "/static/%zz",
           "/static/hello.txt%",
           "/static/hello.txt%4",
           "/static/%ed%a0%80",  // a surrogate
           "/static/%ff",
       }) {
    EXPECT_EQ(get(target).status, 400) << target;
  }
}

TEST_F(StaticFileServerSecurity, DoubleEncodingIsDecodedOnlyOnce) {
  // "%252e%252e" names a file literally called "%2e%2e": missing, never "..".
  EXPECT_EQ(get("/static/%252e%252e/outside/secret.txt").status, 404);
  write(root_ / "%2e%2e", "literal\n");
  EXPECT_EQ(get("/static/%252e%252e").body, "literal\n");
}

TEST_F(StaticFileServerSecurity, DotfilesAre404) {
  EXPECT_EQ(get("/static/.secret").status, 404);
  EXPECT_EQ(get("/static/%2esecret").status, 404);
  fs::create_directories(root_ / ".git");
  write(root_ / ".git" / "config", "[core]\n");
  EXPECT_EQ(get("/static/.git/config").status, 404);
}

TEST_F(StaticFileServerSecurity, SymlinkOutOfTheRootIsDenied) {
  Answer a = get("/static/link-out");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body.find("top secret"), std::string::npos);
  fs::create_directory_symlink("../outside", root_ / "dirlink");
  EXPECT_EQ(get("/static/dirlink/secret.txt").status, 404);
  EXPECT_EQ(get("/static/dirlink/").status, 404);
}

TEST_F(StaticFileServerSecurity, SymlinkOutOfTheRootIsServedWhenTheRouteAllowsIt) {
  route_.staticFiles->followSymlinks = true;
  Answer a = get("/static/link-out");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "top secret\n");
  EXPECT_EQ(get("/static/../outside/secret.txt").status, 404) << "'..' stays forbidden";
}

TEST_F(StaticFileServerSecurity, SymlinkInsideTheRootIsServed) {
  Answer a = get("/static/link-in");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, kHello);
}

TEST_F(StaticFileServerSecurity, ASymlinkedRootIsFine) {
  fs::create_directory_symlink(root_, base_ / "current");
  route_.staticFiles->root = (base_ / "current").string();
  EXPECT_EQ(get("/static/hello.txt").body, kHello);
  EXPECT_EQ(get("/static/link-out").status, 404);
  EXPECT_EQ(get("/static/hello.txt").status, 200) << "again, with the cached root";
}

TEST_F(StaticFileServerSecurity, AMissingRootIs404) {
  route_.staticFiles->root = (base_ / "nope").string();
  EXPECT_EQ(get("/static/hello.txt").status, 404);
}

}  // namespace
}  // namespace doorman::statics::testing
