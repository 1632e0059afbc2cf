// A file that shrinks or is replaced between the lookup (fstat) and the read never yields
// a response whose Content-Length disagrees with its body.

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../../src/static/FileLookup.hpp"
#include "StaticFixture.hpp"

namespace doorman::statics::testing {
namespace {

class StaticTruncation : public StaticFixture {};

TEST_F(StaticTruncation, AFileThatShrankAfterFstatIsAnErrorNotAShortBody) {
  int fd = ::open((root_ / "big.bin").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::truncate((root_ / "big.bin").c_str(), 1000), 0);
  std::string out;
  std::vector<detail::BodyPart> parts{{std::string(), 0, 100 * 1024}};
  EXPECT_EQ(detail::readAndClose(fd, parts, std::string(), out), EIO);
}

TEST_F(StaticTruncation, AFileReplacedByRenameServesTheOpenedOne) {
  int fd = ::open((root_ / "hello.txt").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  write(root_ / "new.txt", "something else entirely\n");
  fs::rename(root_ / "new.txt", root_ / "hello.txt");
  std::string out;
  std::vector<detail::BodyPart> parts{{std::string(), 0, 14}};
  EXPECT_EQ(detail::readAndClose(fd, parts, std::string(), out), 0);
  EXPECT_EQ(out, kHello) << "the bytes of the file that was opened and measured";
}

}  // namespace
}  // namespace doorman::statics::testing
