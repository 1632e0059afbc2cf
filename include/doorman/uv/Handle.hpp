#pragma once
// RAII ownership of libuv handles.
//
// libuv's rules: an initialised handle must be uv_close()d, and its memory may be
// reclaimed only in the close callback. HandlePtr<T> encodes that once: reset() or
// destruction means "please close"; the close callback frees the memory. Before
// closing, the handle's `data` is cleared so callbacks still queued (a write cancelled
// with UV_ECANCELED, a connect that fails) can see that their owner is gone.

#include <uv.h>

#include <memory>

namespace doorman::uv {

template <typename T>
struct HandleCloser {
  void operator()(T* handle) const noexcept {
    auto* h = reinterpret_cast<uv_handle_t*>(handle);
    h->data = nullptr;
    if (uv_is_closing(h) != 0) {
      return;  // someone else already asked; their close callback frees it
    }
    uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }
};

/// Owns an *initialised* libuv handle. Never holds a handle whose init failed.
template <typename T>
using HandlePtr = std::unique_ptr<T, HandleCloser<T>>;

/// The owner object registered in a handle's `data`, or nullptr once it let go.
template <typename Owner, typename T>
Owner* ownerOf(T* handle) noexcept {
  return static_cast<Owner*>(reinterpret_cast<uv_handle_t*>(handle)->data);
}

/// Initialises a handle of type T with `init(loop, handle, args...)` and returns it owned,
/// or an empty pointer with `rc` set to the libuv error code.
template <typename T, typename Init, typename... Args>
HandlePtr<T> makeHandle(uv_loop_t* loop, int& rc, Init init, Args&&... args) {
  auto* raw = new T{};
  rc = init(loop, raw, std::forward<Args>(args)...);
  if (rc != 0) {
    delete raw;  // never initialised: libuv does not know it, free directly
    return HandlePtr<T>{};
  }
  return HandlePtr<T>{raw};
}

template <typename T>
uv_handle_t* asHandle(T* h) noexcept {
  return reinterpret_cast<uv_handle_t*>(h);
}
template <typename T>
uv_stream_t* asStream(T* h) noexcept {
  return reinterpret_cast<uv_stream_t*>(h);
}

}  // namespace doorman::uv
