#pragma once

#include <cstdint>
#include <optional>

namespace doorman::it {

/// Segments that carried data which the socket `fd` has received so far (TCP_INFO's
/// tcpi_data_segs_in; pure ACKs are not counted). nullopt when the kernel does not say.
std::optional<uint32_t> dataSegmentsIn(int fd);

}  // namespace doorman::it
