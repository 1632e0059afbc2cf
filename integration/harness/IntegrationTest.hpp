#pragma once
// The base fixture of every integration test: a scratch directory, and a check at the
// very end that the test left no process behind.
//
// The test process is a child subreaper (PR_SET_CHILD_SUBREAPER): a worker orphaned by
// its master is re-parented to us instead of init, so the check sees it. Any child still
// alive when the fixture is destroyed (every Process member and local is gone by then)
// fails the test and is killed.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "harness/TempDir.hpp"

namespace doorman::it {

class IntegrationTest : public ::testing::Test {
 protected:
  ~IntegrationTest() override;

  TempDir dir_;
};

/// Descriptions ("pid 123: cmdline") of children of this process that are still alive
/// after a short grace period; each is SIGKILLed and reaped. Exited orphans are reaped.
std::vector<std::string> reapLeftoverChildren();

/// Runs body(0) ... body(count-1) on `count` threads at once and joins them. An exception
/// in a thread is caught and returned as a message (none: empty vector).
std::vector<std::string> runInParallel(size_t count, const std::function<void(size_t)>& body);

/// The messages, one a line (for failure messages).
std::string joinLines(const std::vector<std::string>& lines);

}  // namespace doorman::it
