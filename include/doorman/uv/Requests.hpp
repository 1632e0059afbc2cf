#pragma once
// Helpers shared by every stream owner.
//
// Requests (uv_write_t, uv_connect_t, uv_shutdown_t) are heap-allocated per operation
// and freed in their callback, never embedded in an owner: libuv may call them with
// UV_ECANCELED after the owner has closed its handle and been deleted. The callback
// finds its owner through `req->handle->data`, which HandleCloser clears on close.

#include <uv.h>

#include <cstddef>

namespace doorman::uv {

/// alloc_cb for streams whose data is parsed synchronously in read_cb: hands out one
/// process-wide buffer (the loop is single-threaded and libuv calls read_cb right after
/// alloc_cb), so an idle connection holds no read buffer at all.
void allocSharedReadBuffer(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);

/// Size of that buffer.
constexpr size_t kSharedReadBufferSize = 64 * 1024;

}  // namespace doorman::uv
