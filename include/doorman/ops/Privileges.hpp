#pragma once
// Dropping root after the listeners are bound (config keys `user` and `group`).

#include <string>

namespace doorman::ops {

/// Switches to `user` (its primary group unless `group` is given) and clears the
/// supplementary groups. Both empty: nothing to do. Empty string on success, else why.
std::string dropPrivileges(const std::string& user, const std::string& group);

}  // namespace doorman::ops
