#include "operator/kube/work_queue.h"

#include <algorithm>
#include <cmath>

namespace kubetrain {

WorkQueue::WorkQueue(WorkQueueOptions options)
    : options_(std::move(options)), bucket_(options_.qps, options_.burst) {
  delay_thread_ = std::jthread([this](std::stop_token stop) { delay_loop(stop); });
}

WorkQueue::~WorkQueue() {
  shut_down();
  delay_thread_.request_stop();
  delay_cv_.notify_all();
}

void WorkQueue::add_locked(const std::string& key, Clock::time_point now) {
  if (shutting_down_ || dirty_.contains(key)) return;
  dirty_.insert(key);
  added_at_.emplace(key, now);
  ++adds_;
  // A key being processed is queued again by done().
  if (processing_.contains(key)) return;
  queue_.push_back(key);
  ready_cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  add_locked(key, Clock::now());
}

void WorkQueue::add_after(const std::string& key, Clock::duration delay) {
  auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (delay <= Clock::duration::zero()) {
    add_locked(key, now);
    return;
  }
  auto ready_at = now + delay;
  auto existing = delayed_at_.find(key);
  if (existing != delayed_at_.end()) {
    if (existing->second <= ready_at) return;
    auto range = delayed_.equal_range(existing->second);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == key) {
        delayed_.erase(it);
        break;
      }
    }
  }
  delayed_at_[key] = ready_at;
  delayed_.emplace(ready_at, key);
  delay_cv_.notify_all();
}

WorkQueue::Clock::duration WorkQueue::rate_limit_delay(const std::string& key) {
  int requeues;
  {
    std::lock_guard lock(mutex_);
    requeues = requeues_[key]++;
    ++retries_;
  }
  // base * 2^requeues, computed in double so large counts saturate at max_delay.
  double per_key_ms = static_cast<double>(options_.base_delay.count()) *
                      std::pow(2.0, std::min(requeues, 62));
  auto per_key = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(
      std::min(per_key_ms, static_cast<double>(options_.max_delay.count()))));
  return std::max(per_key, bucket_.reserve());
}

void WorkQueue::add_rate_limited(const std::string& key) { add_after(key, rate_limit_delay(key)); }

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  requeues_.erase(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = requeues_.find(key);
  return it == requeues_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  ready_cv_.wait(lock, [this] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  auto now = Clock::now();
  processing_.insert(key);
  dirty_.erase(key);
  auto added = added_at_.find(key);
  double waited = 0;
  if (added != added_at_.end()) {
    waited = std::chrono::duration<double>(now - added->second).count();
    added_at_.erase(added);
  }
  started_at_[key] = now;
  lock.unlock();
  if (options_.on_queue_latency) options_.on_queue_latency(waited);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::unique_lock lock(mutex_);
  processing_.erase(key);
  double worked = 0;
  if (auto it = started_at_.find(key); it != started_at_.end()) {
    worked = std::chrono::duration<double>(Clock::now() - it->second).count();
    started_at_.erase(it);
  }
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    ready_cv_.notify_one();
  }
  lock.unlock();
  if (options_.on_work_duration) options_.on_work_duration(worked);
}

void WorkQueue::shut_down() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  ready_cv_.notify_all();
  delay_cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

std::size_t WorkQueue::depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return delayed_.size();
}

std::size_t WorkQueue::processing() const {
  std::lock_guard lock(mutex_);
  return processing_.size();
}

std::uint64_t WorkQueue::adds() const {
  std::lock_guard lock(mutex_);
  return adds_;
}

std::uint64_t WorkQueue::retries() const {
  std::lock_guard lock(mutex_);
  return retries_;
}

void WorkQueue::delay_loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested() && !shutting_down_) {
    auto now = Clock::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      auto key = delayed_.begin()->second;
      delayed_.erase(delayed_.begin());
      delayed_at_.erase(key);
      add_locked(key, now);
    }
    if (delayed_.empty()) {
      delay_cv_.wait(lock, stop, [this] { return !delayed_.empty() || shutting_down_; });
    } else {
      auto next = delayed_.begin()->first;
      delay_cv_.wait_until(lock, stop, next, [this, next] {
        return shutting_down_ || (!delayed_.empty() && delayed_.begin()->first < next);
      });
    }
  }
}

}  // namespace kubetrain
