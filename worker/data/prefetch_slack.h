#pragma once

// tf.data's slack for the last prefetch (`experimental_slack`, the `--tf_data_experimental_slack`
// benchmarks): when batches sit ready long before the training step asks for them, the loader has
// time to spare, so it starts each new batch a little later. Its threads then stop competing for
// the CPU with the training thread at the start of a step, when that thread launches the step's
// work and copies the batch towards the device.

#include <chrono>
#include <optional>

namespace kubetrain {

class PrefetchSlack {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::microseconds;

  // tf.data's factor: hold back a fifth of the slack, so that an estimate that is too large
  // costs little.
  static constexpr double kHoldBackFactor = 0.2;

  // A batch ready at `ready_at` was taken at `taken_at`. It was started delay() late, so the
  // slack without holding back is the time it waited plus that delay; like tf.data, the estimate
  // is kHoldBackFactor * estimate + waited, which is exactly that when the delay is unchanged.
  void consumed(Clock::time_point ready_at, Clock::time_point taken_at);
  // How long to hold back the next batch: a fifth of the estimate, but never longer than the
  // shorter of the last two intervals between takes. One long pause (a slow first step, a lagging
  // peer) leaves batches waiting for a long time and would otherwise hold the next ones back for
  // seconds; a steady step time bounds it, and nothing is held back before one is known.
  Duration delay() const;
  // A new pass starts: nothing is known of it yet, and its first batch is wanted at once.
  void reset();

 private:
  double estimate_us_ = 0;
  std::optional<Clock::time_point> last_take_;  // of this pass
  std::optional<Duration> last_interval_;
  std::optional<Duration> interval_before_;
};

}  // namespace kubetrain
