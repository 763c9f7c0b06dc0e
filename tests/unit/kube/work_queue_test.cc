#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "operator/kube/work_queue.h"

namespace kubetrain {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(WorkQueueTest, DeduplicatesWaitingKeys) {
  WorkQueue queue;
  queue.add("a");
  queue.add("b");
  queue.add("a");
  EXPECT_EQ(queue.depth(), 2u);
  EXPECT_EQ(queue.get(), "a");
  EXPECT_EQ(queue.get(), "b");
  queue.done("a");
  queue.done("b");
  EXPECT_EQ(queue.depth(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedOnDone) {
  WorkQueue queue;
  queue.add("a");
  ASSERT_EQ(queue.get(), "a");
  queue.add("a");
  queue.add("a");
  EXPECT_EQ(queue.depth(), 0u) << "not handed out while processing";
  EXPECT_EQ(queue.processing(), 1u);
  queue.done("a");
  EXPECT_EQ(queue.depth(), 1u) << "requeued once";
  EXPECT_EQ(queue.get(), "a");
  queue.done("a");
  EXPECT_EQ(queue.depth(), 0u);
}

TEST(WorkQueueTest, NeverHandsOneKeyToTwoThreads) {
  WorkQueue queue;
  constexpr int kKeys = 20;
  std::mutex mutex;
  std::set<std::string> active;
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t) {
    workers.emplace_back([&] {
      while (auto key = queue.get()) {
        {
          std::lock_guard lock(mutex);
          if (!active.insert(*key).second) ++overlaps;
        }
        std::this_thread::sleep_for(50us);
        {
          std::lock_guard lock(mutex);
          active.erase(*key);
        }
        ++processed;
        queue.done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < 2000; ++i) queue.add("key" + std::to_string((i * 7 + p) % kKeys));
    });
  }
  for (auto& producer : producers) producer.join();
  // Every key added is eventually processed after its last add.
  while (queue.depth() > 0 || queue.processing() > 0) std::this_thread::sleep_for(1ms);
  queue.shut_down();
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(processed.load(), kKeys);
  EXPECT_LT(processed.load(), 8000) << "duplicates were merged";
}

TEST(WorkQueueTest, AddAfterDelaysAndKeepsTheEarliestTime) {
  WorkQueue queue;
  auto start = Clock::now();
  queue.add_after("late", 300ms);
  queue.add_after("soon", 100ms);
  queue.add_after("late", 150ms);  // earlier: replaces 300 ms
  queue.add_after("soon", 500ms);  // later: ignored
  EXPECT_EQ(queue.waiting(), 2u);
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.get(), "soon");
  auto first = Clock::now() - start;
  EXPECT_GE(first, 100ms);
  EXPECT_LT(first, 250ms);
  EXPECT_EQ(queue.get(), "late");
  auto second = Clock::now() - start;
  EXPECT_GE(second, 150ms);
  EXPECT_LT(second, 290ms) << "the earlier time replaced 300 ms";
}

TEST(WorkQueueTest, RateLimitedBackoffDoublesPerKeyUntilForgotten) {
  WorkQueueOptions options;
  options.base_delay = 10ms;
  options.max_delay = 80ms;
  options.qps = 0;
  WorkQueue queue(options);
  std::vector<Clock::duration> waits;
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    queue.add_rate_limited("k");
    ASSERT_EQ(queue.get(), "k");
    waits.push_back(Clock::now() - start);
    queue.done("k");
  }
  EXPECT_EQ(queue.num_requeues("k"), 5);
  // 10, 20, 40, 80, 80 (capped) milliseconds.
  const std::vector<std::chrono::milliseconds> expected = {10ms, 20ms, 40ms, 80ms, 80ms};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_GE(waits[i], expected[i]) << "attempt " << i;
    EXPECT_LT(waits[i], expected[i] + 100ms) << "attempt " << i;
  }
  queue.forget("k");
  EXPECT_EQ(queue.num_requeues("k"), 0);
  auto start = Clock::now();
  queue.add_rate_limited("k");
  ASSERT_EQ(queue.get(), "k");
  EXPECT_LT(Clock::now() - start, 60ms) << "forget resets the backoff";
  EXPECT_EQ(queue.retries(), 6u);
}

TEST(WorkQueueTest, OverallTokenBucketLimitsManyKeys) {
  WorkQueueOptions options;
  options.base_delay = 1ms;
  options.qps = 100;
  options.burst = 10;
  WorkQueue queue(options);
  auto start = Clock::now();
  for (int i = 0; i < 30; ++i) queue.add_rate_limited("k" + std::to_string(i));
  for (int i = 0; i < 30; ++i) {
    auto key = queue.get();
    ASSERT_TRUE(key);
    queue.done(*key);
  }
  // 10 at once, then 20 more at 100/s: about 200 ms.
  EXPECT_GE(Clock::now() - start, 180ms);
}

TEST(WorkQueueTest, ShutDownWakesWaitingGetters) {
  WorkQueue queue;
  std::atomic<int> woke{0};
  std::vector<std::thread> getters;
  for (int i = 0; i < 3; ++i) {
    getters.emplace_back([&] {
      if (!queue.get()) ++woke;
    });
  }
  std::this_thread::sleep_for(20ms);
  queue.shut_down();
  for (auto& getter : getters) getter.join();
  EXPECT_EQ(woke.load(), 3);
  EXPECT_TRUE(queue.shutting_down());
  queue.add("ignored");
  EXPECT_EQ(queue.depth(), 0u);
}

TEST(WorkQueueTest, ReportsQueueLatency) {
  std::vector<double> latencies;
  std::mutex mutex;
  WorkQueueOptions options;
  options.on_queue_latency = [&](double seconds) {
    std::lock_guard lock(mutex);
    latencies.push_back(seconds);
  };
  WorkQueue queue(options);
  queue.add("a");
  std::this_thread::sleep_for(30ms);
  ASSERT_EQ(queue.get(), "a");
  queue.done("a");
  ASSERT_EQ(latencies.size(), 1u);
  EXPECT_GE(latencies[0], 0.03);
  EXPECT_EQ(queue.adds(), 1u);
}

}  // namespace
}  // namespace kubetrain
