#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/ConfigTestSupport.hpp"

namespace doorman::config {
namespace {

using test::errorsOf;
using ::testing::HasSubstr;

std::string writeTempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigFile, MissingFileIsOneErrorAtLineZero) {
  const std::string path = ::testing::TempDir() + "doorman-no-such-file.yaml";
  const LoadResult r = loadConfigFile(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].toString(), path + ":0:0: cannot read file: No such file or directory");
}

TEST(ConfigFile, DirectoryIsOneError) {
  const LoadResult r = loadConfigFile(::testing::TempDir());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_THAT(r.errors[0].message, HasSubstr("cannot read file: Is a directory"));
}

TEST(ConfigFile, ValidFileLoadsAndRemembersItsPath) {
  const std::string path = writeTempFile("doorman-valid.yaml", test::yamlText(test::kMinimal));
  const LoadResult r = loadConfigFile(path);
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  EXPECT_EQ(r.config.sourcePath, path);
  std::remove(path.c_str());
}

TEST(ConfigFile, ErrorsNameTheFile) {
  const std::string path = writeTempFile("doorman-bad.yaml", "listen: \"*:0\"\nroutes: 5\n");
  const LoadResult r = loadConfigFile(path);
  ASSERT_EQ(r.errors.size(), 1u) << errorsOf(r);
  EXPECT_EQ(r.errors[0].toString(), path + ":2:9: routes: expected a list, got '5'");
  std::remove(path.c_str());
}

TEST(ConfigFile, RelativeStaticRootIsResolvedAgainstTheFilesDirectory) {
  const std::string dir = ::testing::TempDir() + "doorman-config-dir";
  std::filesystem::create_directories(dir + "/etc");
  const std::string path = dir + "/etc/doorman.yaml";
  std::ofstream(path) << "listen: \"*:0\"\n"
                         "routes:\n"
                         "  - {prefix: /s/, static: {root: ../www/static/}}\n"
                         "  - {prefix: /, static: {root: public}}\n";
  const LoadResult r = loadConfigFile(path);
  ASSERT_TRUE(r.ok()) << errorsOf(r);
  const std::string base = std::filesystem::absolute(dir).lexically_normal().string();
  EXPECT_EQ(r.config.routes[0].staticFiles->root, base + "/www/static");
  EXPECT_EQ(r.config.routes[1].staticFiles->root, base + "/etc/public");
  // The dump holds the resolved path, so it means the same wherever it is loaded from.
  const LoadResult again = loadConfigString(dumpConfig(r.config), path);
  ASSERT_TRUE(again.ok()) << errorsOf(again);
  EXPECT_EQ(again.config, r.config);
  std::filesystem::remove_all(dir);
}

TEST(ConfigFile, BinaryGarbageIsAnErrorNotACrash) {
  const std::string path =
      writeTempFile("doorman-garbage.yaml", std::string("\x00\xff\xfe{[:\"\t\x01", 10));
  const LoadResult r = loadConfigFile(path);
  EXPECT_FALSE(r.ok());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace doorman::config
