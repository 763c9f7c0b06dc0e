#include "worker/data/prefetch_slack.h"

#include <algorithm>

namespace kubetrain {

void PrefetchSlack::consumed(Clock::time_point ready_at, Clock::time_point taken_at) {
  using std::chrono::duration_cast;
  const Duration waited = duration_cast<Duration>(taken_at - ready_at);
  estimate_us_ = kHoldBackFactor * estimate_us_ +
                 static_cast<double>(std::max<Duration::rep>(waited.count(), 0));
  if (last_take_) {
    interval_before_ = last_interval_;
    last_interval_ = duration_cast<Duration>(taken_at - *last_take_);
  }
  last_take_ = taken_at;
}

PrefetchSlack::Duration PrefetchSlack::delay() const {
  if (!last_interval_ || !interval_before_) return Duration(0);
  const Duration cap = std::min(*last_interval_, *interval_before_);
  return std::min(cap, Duration(static_cast<Duration::rep>(kHoldBackFactor * estimate_us_)));
}

void PrefetchSlack::reset() {
  estimate_us_ = 0;
  last_take_.reset();
  last_interval_.reset();
  interval_before_.reset();
}

}  // namespace kubetrain
