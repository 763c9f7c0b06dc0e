#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "operator/kube/token_bucket.h"

namespace kubetrain {

struct WorkQueueOptions {
  // Per-key exponential backoff of add_rate_limited: base * 2^requeues, capped at max.
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  // Overall token bucket applied on top (the larger delay wins), like client-go's default
  // controller rate limiter (10 qps, burst 100). qps <= 0 disables it.
  double qps = 10;
  int burst = 100;
  // Seconds a key waited between being added and being handed out by get().
  std::function<void(double)> on_queue_latency;
  // Seconds between get() and done() for a key.
  std::function<void(double)> on_work_duration;
};

// A work queue of string keys ("namespace/name") with client-go's semantics:
// - deduplicating: a key added while it waits is stored once;
// - per-key exclusivity: a key handed out by get() is not handed out again until done(key); if
//   it was added meanwhile it is queued again by done();
// - delayed adds (add_after) and per-key rate-limited adds (add_rate_limited, reset by forget);
// - shut_down() stops accepting keys and wakes every get(); keys already queued are still handed
//   out (as client-go drains), then get() returns nullopt.
// Thread-safe; any number of threads may call get() concurrently.
class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(WorkQueueOptions options = {});
  ~WorkQueue();  // shuts down
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  // Adds the key once `delay` has passed (at once when delay <= 0). A key already waiting with an
  // earlier time keeps it.
  void add_after(const std::string& key, Clock::duration delay);
  // add_after with the rate limiter's delay for this key; counts a requeue.
  void add_rate_limited(const std::string& key);
  // Resets the key's backoff (call after a successful reconcile).
  void forget(const std::string& key);
  // How many times add_rate_limited was called for the key since the last forget.
  int num_requeues(const std::string& key) const;

  // Blocks until a key is ready and not being processed; nullopt once shut down and drained.
  std::optional<std::string> get();
  // Marks the key processed (must follow every get() that returned it).
  void done(const std::string& key);

  void shut_down();
  bool shutting_down() const;

  std::size_t depth() const;       // keys ready to be handed out
  std::size_t waiting() const;     // keys scheduled by add_after/add_rate_limited, not yet ready
  std::size_t processing() const;  // keys between get() and done()
  std::uint64_t adds() const;      // total add() calls that queued a key (metrics)
  std::uint64_t retries() const;   // total add_rate_limited() calls (metrics)

 private:
  void add_locked(const std::string& key, Clock::time_point now);
  void delay_loop(std::stop_token stop);
  Clock::duration rate_limit_delay(const std::string& key);

  const WorkQueueOptions options_;
  TokenBucket bucket_;

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;
  std::condition_variable_any delay_cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued (or to be requeued after done)
  std::unordered_set<std::string> processing_;  // handed out, done() pending
  std::unordered_map<std::string, Clock::time_point> added_at_;
  std::unordered_map<std::string, Clock::time_point> started_at_;
  std::multimap<Clock::time_point, std::string> delayed_;
  std::unordered_map<std::string, Clock::time_point> delayed_at_;
  std::unordered_map<std::string, int> requeues_;
  std::uint64_t adds_ = 0;
  std::uint64_t retries_ = 0;
  bool shutting_down_ = false;
  std::jthread delay_thread_;
};

}  // namespace kubetrain
