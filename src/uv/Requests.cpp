#include "doorman/uv/Requests.hpp"

namespace doorman::uv {
namespace {
char gSharedReadBuffer[kSharedReadBufferSize];
}

void allocSharedReadBuffer(uv_handle_t* /*handle*/, size_t /*suggested*/, uv_buf_t* buf) {
  *buf = uv_buf_init(gSharedReadBuffer, sizeof gSharedReadBuffer);
}

}  // namespace doorman::uv
