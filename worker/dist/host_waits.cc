#include "worker/dist/host_waits.h"

namespace kubetrain {

HostWaits::Scope::Scope(HostWaits& waits, const char* what)
    : waits_(waits.since_.load(std::memory_order_relaxed) == kIdle ? &waits : nullptr) {
  if (waits_ == nullptr) return;
  // `what` first: the watchdog reads it only after it sees a start time.
  waits_->what_.store(what, std::memory_order_relaxed);
  waits_->since_.store(WatchdogClock::now().time_since_epoch().count(), std::memory_order_release);
}

HostWaits::Scope::~Scope() {
  if (waits_ != nullptr) waits_->since_.store(kIdle, std::memory_order_release);
}

std::optional<HostWaits::Wait> HostWaits::current(WatchdogClock::time_point now) const {
  const int64_t since = since_.load(std::memory_order_acquire);
  if (since == kIdle) return std::nullopt;
  const WatchdogClock::time_point start{WatchdogClock::duration(since)};
  return Wait{what_.load(std::memory_order_relaxed), now - start};
}

}  // namespace kubetrain
