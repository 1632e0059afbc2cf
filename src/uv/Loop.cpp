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
  // The idle handle keeps the loop alive only while tasks are queued (they stand for
  // work in progress, e.g. a write completed at once whose callback is due); pending
  // deletions alone do not.
  uv_unref(asHandle(deferIdle_.get()));
}

Loop::~Loop() {
  while (tasksHead_ != nullptr) {
    unlink(*tasksHead_);  // never run: their owners are being torn down
  }
  drainDeferred();
  deferIdle_.reset();
  // Let pending close callbacks run so every handle's memory is freed.
  uv_run(&loop_, UV_RUN_NOWAIT);
  if (uv_loop_close(&loop_) == UV_EBUSY) {
    // Handles still open (their owners outlived the loop: a bug elsewhere, not worth a
    // crash), or requests still on the thread pool (a file lookup, a page-cache warm-up
    // of a connection that was aborted): close the handles, then run until the
    // requests are back. A pool thread that finishes one touches the loop's memory, so
    // the loop must outlive it; its callback finds its owner gone and frees it.
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (uv_is_closing(h) == 0) {
            uv_close(h, nullptr);
          }
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
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
  wake();
}

void Loop::wake() noexcept {
  if (deferIdle_ && uv_is_active(asHandle(deferIdle_.get())) == 0) {
    uv_idle_start(deferIdle_.get(), &Loop::onIdle);
  }
}

void Loop::post(Task& task) noexcept {
  if (task.loop_ != nullptr) {
    return;  // already queued
  }
  task.loop_ = this;
  task.prev_ = tasksTail_;
  task.next_ = nullptr;
  if (tasksTail_ != nullptr) {
    tasksTail_->next_ = &task;
  } else {
    tasksHead_ = &task;
  }
  tasksTail_ = &task;
  uv_ref(asHandle(deferIdle_.get()));
  wake();
}

void Loop::unlink(Task& task) noexcept {
  if (task.prev_ != nullptr) {
    task.prev_->next_ = task.next_;
  } else {
    tasksHead_ = task.next_;
  }
  if (task.next_ != nullptr) {
    task.next_->prev_ = task.prev_;
  } else {
    tasksTail_ = task.prev_;
  }
  task.loop_ = nullptr;
  task.prev_ = nullptr;
  task.next_ = nullptr;
}

void Task::cancel() noexcept {
  if (loop_ != nullptr) {
    loop_->unlink(*this);
  }
}

void Loop::runTasks() {
  // Tasks posted while running (a task may post another, or itself again) run in this
  // same turn: the list is drained until empty, one task at a time, without recursion.
  while (tasksHead_ != nullptr) {
    Task& task = *tasksHead_;
    unlink(task);
    task.fn_(task);
  }
  uv_unref(asHandle(deferIdle_.get()));
}

void Loop::onIdle(uv_idle_t* idle) {
  auto* self = ownerOf<Loop>(idle);
  if (self == nullptr) {
    return;
  }
  // A deletion may post a task (or a task defer a deletion): until both stay empty.
  do {
    self->runTasks();
    self->drainDeferred();
  } while (self->tasksHead_ != nullptr);
}

void Loop::drainDeferred() noexcept {
  // Destructors may defer more objects: loop until the list stays empty.
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    batch.clear();
  }
  if (deferIdle_ && tasksHead_ == nullptr) {
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
