#include "operator/kube/token_bucket.h"

#include <algorithm>
#include <thread>

namespace kubetrain {

TokenBucket::TokenBucket(double qps, int burst)
    : qps_(qps), burst_(std::max(burst, 1)), tokens_(std::max(burst, 1)), last_(Clock::now()) {}

void TokenBucket::refill(Clock::time_point now) {
  std::chrono::duration<double> elapsed = now - last_;
  last_ = now;
  tokens_ = std::min<double>(burst_, tokens_ + elapsed.count() * qps_);
}

TokenBucket::Clock::duration TokenBucket::reserve() {
  if (qps_ <= 0) return Clock::duration::zero();
  std::lock_guard lock(mutex_);
  refill(Clock::now());
  tokens_ -= 1;  // may go negative: later callers wait for the debt too
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

void TokenBucket::acquire() {
  auto wait = reserve();
  if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
}

bool TokenBucket::try_acquire() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mutex_);
  refill(Clock::now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace kubetrain
