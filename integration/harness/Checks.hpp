#pragma once
// Assertions shared by the end-to-end tests: "doorman still serves" and "doorman's file
// descriptors came back to the baseline" (a leaked socket or spill file is a bug).

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "harness/Doorman.hpp"

namespace doorman::it {

/// GET /hello on a fresh connection answers 200 "hello\n".
::testing::AssertionResult servesHello(const std::string& address);

/// doorman's fd count once it has stopped changing (three equal readings in a row):
/// measure after a warm-up request, with no client connected.
size_t settledFdCount(const DoormanProcess& doorman);

/// doorman's fd count comes back to `baseline` (or below) within a few seconds; the
/// failure message lists what /proc/PID/fd points at.
::testing::AssertionResult fdCountReturnsTo(const DoormanProcess& doorman, size_t baseline);

/// "3 -> socket:[1234]" lines for every fd of `pid`.
std::string describeFds(pid_t pid);

/// The value of one series on the /metrics page of doorman's admin listener `admin`
/// ("127.0.0.1:PORT"), e.g. `doorman_upstream_errors_total{upstream="app",kind="connect"}`;
/// -1 when the page or the series is missing.
double metric(const std::string& admin, const std::string& series);

}  // namespace doorman::it
