#pragma once
// systemd integration without libsystemd: the notify protocol (sd_notify(3): one
// datagram "KEY=VALUE\n..." to the unix socket named by $NOTIFY_SOCKET, '@' meaning the
// abstract namespace) and socket activation (sd_listen_fds(3): $LISTEN_PID/$LISTEN_FDS,
// descriptors from 3). Both are stable, documented interfaces; implementing them keeps
// doorman free of a runtime dependency and identical when systemd is absent (every call
// is then a no-op).

#include <string>
#include <string_view>
#include <vector>

namespace doorman::ops {

class SystemdNotifier {
 public:
  /// Reads $NOTIFY_SOCKET once.
  SystemdNotifier();
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const noexcept { return fd_ >= 0; }
  /// Sends one state message ("READY=1\nSTATUS=..."); false when disabled or it failed.
  bool notify(std::string_view state);

 private:
  int fd_ = -1;
  std::string address_;  ///< sun_path bytes ('\0' first for the abstract namespace)
};

/// Listening sockets passed by systemd (when $LISTEN_PID is this process), marked
/// close-on-exec; the variables are removed so children do not see them.
std::vector<int> takeInheritedListenFds();

}  // namespace doorman::ops
