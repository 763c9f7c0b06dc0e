#pragma once

#include <chrono>
#include <mutex>

namespace kubetrain {

// A token bucket: `burst` tokens at most, refilled at `qps` per second. Thread-safe.
// qps <= 0 disables limiting (every call succeeds at once).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(double qps, int burst);

  // Blocks until a token is available, then takes it.
  void acquire();
  // Takes a token if one is available now; returns whether it did.
  bool try_acquire();
  // Reserves a token and returns how long the caller must wait before using it (zero if one was
  // available); the reservation is not cancellable. Used by the work queue for its delay.
  Clock::duration reserve();

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  void refill(Clock::time_point now);

  const double qps_;
  const int burst_;
  std::mutex mutex_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace kubetrain
