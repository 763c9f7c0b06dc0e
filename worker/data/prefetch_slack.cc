#include "worker/data/prefetch_slack.h"

#include <algorithm>

namespace kubetrain {

void PrefetchSlack::consumed(Duration waited) {
  const double waited_us = static_cast<double>(std::max<Duration::rep>(waited.count(), 0));
  estimate_us_ = kHoldBackFactor * estimate_us_ + waited_us;
}

PrefetchSlack::Duration PrefetchSlack::delay() const {
  return Duration(static_cast<Duration::rep>(kHoldBackFactor * estimate_us_));
}

}  // namespace kubetrain
