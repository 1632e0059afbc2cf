// Spilling to disk: a body over its memory share continues in an unlinked temp file,
// written on libuv's thread pool, with every byte of memory and disk accounted for.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "doorman/core/Body.hpp"
#include "doorman/uv/Loop.hpp"

namespace doorman::core {
namespace {

std::string pattern(size_t n, size_t seed = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>('A' + (i * 7 + seed) % 53);
  }
  return s;
}

size_t entriesIn(const std::string& dir) {
  size_t n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      n += name != "." && name != "..";
    }
    closedir(d);
  }
  return n;
}

class Listener final : public BodyListener {
 public:
  void onBodyWritable() override { ++writable; }
  void onBodySettled() override { ++settled; }
  int writable = 0;
  int settled = 0;
};

class BodySpill : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/doorman-spill-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    policy_.memory = &memory_;
    policy_.disk = &disk_;
    policy_.loop = loop_.raw();
    policy_.tempDir = dir_;
    policy_.memoryPerMessage = 64 * 1024;
  }
  void TearDown() override { rmdir(dir_.c_str()); }

  /// Runs the loop until `done` or nothing is pending.
  template <typename Pred>
  void runUntil(Pred done) {
    for (int i = 0; i < 10000 && !done(); ++i) {
      uv_run(loop_.raw(), UV_RUN_ONCE);
    }
  }

  uv::Loop loop_;
  MemoryBudget memory_{1 << 20};
  MemoryBudget disk_{64 << 20};
  BufferPolicy policy_;
  std::string dir_;
};

TEST_F(BodySpill, StaysInMemoryUpToItsShare) {
  Body body(&policy_);
  ASSERT_TRUE(body.append(pattern(64 * 1024)));
  EXPECT_FALSE(body.spilled());
  body.finish();
  EXPECT_TRUE(body.settled());
  EXPECT_EQ(body.toString(), pattern(64 * 1024));
  EXPECT_EQ(policy_.spills, 0u);
}

TEST_F(BodySpill, ContinuesInAnUnlinkedFileAndEndsAsOneFilePiece) {
  std::string data = pattern(1 << 20, 3);
  Listener listener;
  {
    Body body(&policy_);
    body.setListener(&listener);
    for (size_t off = 0; off < data.size(); off += 10000) {
      std::string_view part = std::string_view(data).substr(off, 10000);
      size_t granted = body.prepare(part.size());
      while (granted < part.size()) {  // back-pressure: wait for the disk
        runUntil([&] { return body.prepare(part.size()) == part.size(); });
        granted = body.prepare(part.size());
      }
      ASSERT_TRUE(body.append(part));
    }
    EXPECT_TRUE(body.spilled());
    EXPECT_EQ(entriesIn(dir_), 0u) << "the temp file has no name";
    body.finish();
    runUntil([&] { return body.settled() || body.failed(); });
    ASSERT_TRUE(body.settled()) << body.error();
    EXPECT_EQ(listener.settled, 1);
    ASSERT_EQ(body.pieceCount(), 1u);
    EXPECT_TRUE(body.piece(0).isFile());
    EXPECT_EQ(body.size(), data.size());
    EXPECT_EQ(body.toString(), data);
    EXPECT_EQ(memory_.used(), 0u) << "every block went back once on disk";
    EXPECT_GE(disk_.used(), data.size());
    EXPECT_EQ(policy_.spills, 1u);
  }
  EXPECT_EQ(disk_.used(), 0u) << "the disk budget returns when the file closes";
}

TEST_F(BodySpill, UnflushedBytesAreBoundedByPrepare) {
  Body body(&policy_);
  ASSERT_TRUE(body.append(pattern(64 * 1024)));
  ASSERT_TRUE(body.append("x"));  // over the share: spills
  ASSERT_TRUE(body.spilled());
  size_t total = 0;
  for (;;) {
    size_t granted = body.prepare(64 * 1024);
    if (granted == 0) {
      break;
    }
    ASSERT_TRUE(body.append(pattern(granted)));
    total += granted;
  }
  EXPECT_EQ(body.size(), 64 * 1024 + 1 + total) << "every granted byte was taken";
  EXPECT_LE(body.unflushed(), Body::kMaxUnflushed);
  EXPECT_LE(memory_.used(), Body::kMaxUnflushed + Body::kBlockSize);
  EXPECT_TRUE(body.writing()) << "a write is in flight, so the receiver will be woken";
  runUntil([&] { return body.prepare(1) > 0; });
  EXPECT_GT(body.prepare(1), 0u);
  body.clear();
  runUntil([&] { return memory_.used() == 0; });
  EXPECT_EQ(memory_.used(), 0u);
}

TEST_F(BodySpill, MemoryBudgetShortSpillsEarly) {
  MemoryBudget small(4 * Body::kBlockSize);
  policy_.memory = &small;
  Body body(&policy_);
  std::string data = pattern(40 * 1024);
  size_t granted = body.prepare(data.size());
  // Only four blocks fit in memory: the body spills instead of failing.
  ASSERT_TRUE(body.spilled() || granted == data.size());
  size_t off = 0;
  while (off < data.size()) {
    granted = body.prepare(data.size() - off);
    if (granted == 0) {
      runUntil([&] { return body.prepare(1) > 0; });
      continue;
    }
    ASSERT_TRUE(body.append(std::string_view(data).substr(off, granted)));
    off += granted;
  }
  body.finish();
  runUntil([&] { return body.settled() || body.failed(); });
  ASSERT_TRUE(body.settled());
  EXPECT_EQ(body.toString(), data);
  body.clear();
  EXPECT_EQ(small.used(), 0u);
}

TEST_F(BodySpill, DiskBudgetShortFailsAResponseBody) {
  MemoryBudget tinyDisk(32 * 1024);
  policy_.disk = &tinyDisk;
  policy_.waitForDisk = false;
  Body body(&policy_);
  bool ok = true;
  std::string chunk = pattern(16 * 1024);
  for (int i = 0; i < 20 && ok; ++i) {
    ok = body.append(chunk);
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  body.finish();
  runUntil([&] { return body.failed() || body.settled(); });
  EXPECT_TRUE(body.failed());
  EXPECT_NE(body.error().find("disk_total"), std::string::npos) << body.error();
  body.clear();
  runUntil([&] { return memory_.used() == 0; });
  EXPECT_EQ(memory_.used(), 0u);
  EXPECT_EQ(tinyDisk.used(), 0u);
}

TEST_F(BodySpill, DiskBudgetShortHoldsARequestBodyBack) {
  MemoryBudget tinyDisk(32 * 1024);
  policy_.disk = &tinyDisk;
  policy_.waitForDisk = true;
  Body body(&policy_);
  ASSERT_TRUE(body.append(pattern(64 * 1024)));
  size_t appended = 64 * 1024;
  for (int i = 0; i < 100; ++i) {
    size_t granted = body.prepare(16 * 1024);
    if (granted == 0) {
      break;
    }
    ASSERT_TRUE(body.append(pattern(granted)));
    appended += granted;
    uv_run(loop_.raw(), UV_RUN_NOWAIT);
  }
  runUntil([&] { return !body.writing(); });
  EXPECT_EQ(body.size(), appended) << "every granted byte was taken";
  EXPECT_FALSE(body.failed()) << "held back, not failed";
  EXPECT_EQ(body.prepare(16 * 1024), 0u);
  EXPECT_FALSE(body.writing()) << "nothing in flight: the owner must poll";
  EXPECT_LE(tinyDisk.used(), tinyDisk.limit());
  body.clear();
  runUntil([&] { return memory_.used() == 0; });
  EXPECT_EQ(tinyDisk.used(), 0u);
}

TEST_F(BodySpill, UnusableTempDirFailsCleanly) {
  policy_.tempDir = dir_ + "/missing";
  Body body(&policy_);
  EXPECT_FALSE(body.append(pattern(100 * 1024)));
  EXPECT_TRUE(body.failed());
  EXPECT_NE(body.error().find("missing"), std::string::npos) << body.error();
  body.clear();
  EXPECT_EQ(memory_.used(), 0u);
}

TEST_F(BodySpill, DestroyedWhileWritingLeaksNothing) {
  {
    Body body(&policy_);
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(body.append(pattern(16 * 1024)));
    }
    ASSERT_TRUE(body.writing());
  }
  runUntil([&] { return memory_.used() == 0 && disk_.used() == 0; });
  EXPECT_EQ(memory_.used(), 0u);
  EXPECT_EQ(disk_.used(), 0u);
}

TEST_F(BodySpill, FilePiecesFromAnOpenFile) {
  std::string path = dir_ + "/f";
  int fd = open(path.c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "0123456789", 10), 10);
  unlink(path.c_str());
  auto file = std::make_shared<FileHandle>(fd);
  Body body;
  ASSERT_TRUE(body.append("<"));
  body.appendFile(file, 2, 5);
  ASSERT_TRUE(body.append(">"));
  EXPECT_EQ(body.size(), 7u);
  ASSERT_EQ(body.pieceCount(), 3u);
  EXPECT_TRUE(body.piece(1).isFile());
  EXPECT_EQ(body.toString(), "<23456>");
}

}  // namespace
}  // namespace doorman::core
