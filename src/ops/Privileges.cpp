#include "doorman/ops/Privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace doorman::ops {

std::string dropPrivileges(const std::string& user, const std::string& group) {
  if (user.empty() && group.empty()) {
    return {};
  }
  std::vector<char> buf(16384);
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (!user.empty()) {
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
      return "user '" + user + "' does not exist";
    }
    uid = pw.pw_uid;
    gid = pw.pw_gid;
  }
  if (!group.empty()) {
    ::group gr{};
    ::group* found = nullptr;
    if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
      return "group '" + group + "' does not exist";
    }
    gid = gr.gr_gid;
  }
  if (geteuid() != 0) {
    if (uid == geteuid() && gid == getegid()) {
      return {};  // already that user: nothing to drop
    }
    return "user/group are set but doorman does not run as root";
  }
  // Order matters: supplementary groups and the group while still root, the user last.
  if (setgroups(0, nullptr) != 0) {
    return std::string("setgroups: ") + std::strerror(errno);
  }
  if (setresgid(gid, gid, gid) != 0) {
    return std::string("setgid: ") + std::strerror(errno);
  }
  if (!user.empty() && setresuid(uid, uid, uid) != 0) {
    return std::string("setuid: ") + std::strerror(errno);
  }
  return {};
}

}  // namespace doorman::ops
