#pragma once
// integration/backends/fault_server.py: a backend that misbehaves on request (kills
// itself mid-response, hangs, answers garbage, ambiguous framing, unsolicited
// responses) and records every request it receives byte for byte.

#include <string>
#include <vector>

#include "harness/Backends.hpp"

namespace doorman::it {

class FaultBackend : public Backend {
 public:
  explicit FaultBackend(const TempDir& dir);

  /// Every request received so far, raw, in arrival order.
  std::vector<std::string> recordedRequests() const;

 private:
  std::string recordDir_;
};

}  // namespace doorman::it
