// Timeout lists of idle client connections, and the one timer that serves them.
#include "doorman/server/IdleTimeouts.hpp"

#include <algorithm>

namespace doorman::server {

void TimeoutLink::unlink() noexcept {
  if (nextLink == nullptr) {
    return;
  }
  prevLink->nextLink = nextLink;
  nextLink->prevLink = prevLink;
  prevLink = nextLink = nullptr;
}

TimeoutList::~TimeoutList() {
  while (!empty()) {
    head_.nextLink->unlink();
  }
  head_.prevLink = head_.nextLink = nullptr;  // the sentinel's own destructor has nothing to do
}

void TimeoutList::append(TimeoutLink& link, uint64_t nowMs) noexcept {
  link.unlink();
  link.idleSinceMs = nowMs;
  link.prevLink = head_.prevLink;
  link.nextLink = &head_;
  head_.prevLink->nextLink = &link;
  head_.prevLink = &link;
}

TimeoutLink* TimeoutList::popExpired(uint64_t nowMs, uint64_t timeoutMs) noexcept {
  if (empty() || nextExpiry(timeoutMs) > nowMs) {
    return nullptr;
  }
  TimeoutLink* link = head_.nextLink;
  link->unlink();
  return link;
}

IdleTimeouts::IdleTimeouts(uv::Loop& loop, const GenerationPtr& current,
                           IdleTimeoutListener& listener)
    : loop_(loop), current_(current), listener_(listener), timer_(loop, *this) {}

uint64_t IdleTimeouts::timeoutOf(Kind kind) const noexcept {
  const config::Timeouts& t = current_->config.timeouts;
  return static_cast<uint64_t>(kind == Kind::FirstRequest ? t.header.count() : t.keepalive.count());
}

void IdleTimeouts::watch(TimeoutLink& link, Kind kind) {
  uint64_t now = loop_.nowMs();
  listOf(kind).append(link, now);
  uint64_t due = now + timeoutOf(kind);
  if (!timer_.active() || due < dueMs_) {
    dueMs_ = due;
    timer_.start(due - now);
  }
}

void IdleTimeouts::rearm() {
  uint64_t now = loop_.nowMs();
  bool any = false;
  uint64_t due = 0;
  for (Kind kind : {Kind::FirstRequest, Kind::KeepAlive}) {
    TimeoutList& list = listOf(kind);
    if (!list.empty()) {
      uint64_t expiry = list.nextExpiry(timeoutOf(kind));
      due = any ? std::min(due, expiry) : expiry;
      any = true;
    }
  }
  if (!any) {
    timer_.stop();
    return;
  }
  dueMs_ = due;
  timer_.start(due > now ? due - now : 0);
}

void IdleTimeouts::onTimer() {
  uint64_t now = loop_.nowMs();
  for (Kind kind : {Kind::FirstRequest, Kind::KeepAlive}) {
    // The timeout is read again for each entry: a callback never reloads, but stays safe.
    while (TimeoutLink* link = listOf(kind).popExpired(now, timeoutOf(kind))) {
      listener_.onIdleExpired(*link);
    }
  }
  rearm();
}

}  // namespace doorman::server
