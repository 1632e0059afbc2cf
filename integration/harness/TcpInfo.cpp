// Kept apart from Net.cpp: <linux/tcp.h> has the newer tcp_info fields that glibc's
// <netinet/tcp.h> lacks, and the two headers cannot be included together.
#include "harness/TcpInfo.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace doorman::it {

std::optional<uint32_t> dataSegmentsIn(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(tcp_info, tcpi_data_segs_in) + sizeof info.tcpi_data_segs_in) {
    return std::nullopt;
  }
  return info.tcpi_data_segs_in;
}

}  // namespace doorman::it
