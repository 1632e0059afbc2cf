#include "doorman/uv/Loop.hpp"

#include <cstdio>
#include <cstdlib>

namespace doorman::uv {

Loop::Loop() {
  if (uv_loop_init(&loop_) != 0) {
    std::fprintf(stderr, "doorman: cannot initialise the event loop\n");
    std::abort();
  }
  int rc = 0;
  deferIdle_ = makeHandle<uv_idle_t>(&loop_, rc, uv_idle_init);
  if (!deferIdle_) {
    std::abort();
  }
  deferIdle_->data = this;
  // The idle handle only keeps the loop alive while deletions are pending.
  uv_unref(asHandle(deferIdle_.get()));
}

Loop::~Loop() {
  drainDeferred();
  deferIdle_.reset();
  // Let pending close callbacks run so every handle's memory is freed.
  uv_run(&loop_, UV_RUN_NOWAIT);
  if (uv_loop_close(&loop_) == UV_EBUSY) {
    // Handles still open: their owners outlived the loop. Close them so memory is
    // reclaimed, then run once more; this is a bug elsewhere but not worth a crash.
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (uv_is_closing(h) == 0) {
            uv_close(h, nullptr);
          }
        },
        nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
  }
}

int Loop::run() {
  int rc = uv_run(&loop_, UV_RUN_DEFAULT);
  drainDeferred();
  return rc;
}

void Loop::deferDelete(std::unique_ptr<Deletable> object) {
  if (!object) {
    return;
  }
  deferred_.push_back(std::move(object));
  if (uv_is_active(asHandle(deferIdle_.get())) == 0) {
    uv_idle_start(deferIdle_.get(), &Loop::onIdle);
  }
}

void Loop::onIdle(uv_idle_t* idle) {
  auto* self = ownerOf<Loop>(idle);
  if (self != nullptr) {
    self->drainDeferred();
  }
}

void Loop::drainDeferred() noexcept {
  // Destructors may defer more objects: loop until the list stays empty.
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    batch.clear();
  }
  if (deferIdle_) {
    uv_idle_stop(deferIdle_.get());
  }
}

size_t Loop::liveHandleCount() {
  size_t count = 0;
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void* arg) {
        if (uv_is_closing(h) == 0) {
          ++*static_cast<size_t*>(arg);
        }
      },
      &count);
  return count;
}

}  // namespace doorman::uv
