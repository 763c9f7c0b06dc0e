#include "worker/data/prefetch_slack.h"

#include <algorithm>

namespace kubetrain {

void PrefetchSlack::consumed(Duration waited, std::optional<Duration> since_last_take) {
  const double waited_us = static_cast<double>(std::max<Duration::rep>(waited.count(), 0));
  estimate_us_ = kHoldBackFactor * estimate_us_ + waited_us;
  if (since_last_take) {
    interval_before_ = last_interval_;
    last_interval_ = since_last_take;
  }
}

PrefetchSlack::Duration PrefetchSlack::delay() const {
  if (!last_interval_ || !interval_before_) return Duration(0);
  const Duration cap = std::min(*last_interval_, *interval_before_);
  return std::min(cap, Duration(static_cast<Duration::rep>(kHoldBackFactor * estimate_us_)));
}

void PrefetchSlack::reset() {
  estimate_us_ = 0;
  last_interval_.reset();
  interval_before_.reset();
}

}  // namespace kubetrain
