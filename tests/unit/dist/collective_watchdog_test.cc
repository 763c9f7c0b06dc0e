#include "worker/dist/collective_watchdog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace kubetrain {
namespace {

using namespace std::chrono_literals;

TEST(HostWaits, ReportsTheWaitInProgressAndNothingOutsideIt) {
  HostWaits waits;
  EXPECT_FALSE(waits.current(WatchdogClock::now()).has_value());
  {
    const auto outer = waits.enter("the allreduce");
    const auto later = WatchdogClock::now() + 5s;
    {
      const auto inner = waits.enter("a download");  // nested: the outer wait goes on
      const auto wait = waits.current(later);
      ASSERT_TRUE(wait.has_value());
      EXPECT_STREQ(wait->what, "the allreduce");
      EXPECT_GE(wait->elapsed, 5s);
      EXPECT_LT(wait->elapsed, 6s);
    }
    EXPECT_TRUE(waits.current(later).has_value());
  }
  EXPECT_FALSE(waits.current(WatchdogClock::now() + 1h).has_value());
}

// A watchdog whose thread polls once an hour: only check() is exercised.
CollectiveWatchdog idle_watchdog(const HostWaits& waits, std::chrono::milliseconds timeout,
                                 CollectiveWatchdog::HealthCheck health = {}) {
  return CollectiveWatchdog(waits, {timeout, 1h}, std::move(health),
                            [](const std::string& reason) { FAIL() << "ended: " << reason; });
}

TEST(CollectiveWatchdog, AWaitLongerThanTheTimeoutIsStuck) {
  HostWaits waits;
  const auto watchdog = idle_watchdog(waits, 10s);
  const auto waiting = waits.enter("the GPU stream to finish the loss-scale check");
  const auto start = WatchdogClock::now();
  EXPECT_FALSE(watchdog.check(start + 9s).has_value());
  const auto reason = watchdog.check(start + 12s);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("waited 12.0 s for the GPU stream to finish the loss-scale check"),
            std::string::npos)
      << *reason;
  EXPECT_NE(reason->find("collectiveTimeoutSeconds is 10.0 s"), std::string::npos) << *reason;
}

TEST(CollectiveWatchdog, TimeNotSpentWaitingNeverCounts) {
  HostWaits waits;
  const auto watchdog = idle_watchdog(waits, 10s);
  { const auto waiting = waits.enter("a download"); }
  EXPECT_FALSE(watchdog.check(WatchdogClock::now() + 1h).has_value());
}

TEST(CollectiveWatchdog, ZeroTimeoutWaitsForever) {
  HostWaits waits;
  const auto watchdog = idle_watchdog(waits, 0ms);
  const auto waiting = waits.enter("the MPI gradient allreduce");
  EXPECT_FALSE(watchdog.check(WatchdogClock::now() + 24h).has_value());
}

TEST(CollectiveWatchdog, ACommunicatorErrorIsFatalEvenWhileNobodyWaits) {
  HostWaits waits;
  std::string error;
  const auto watchdog = idle_watchdog(waits, 0ms, [&error] { return error; });
  EXPECT_FALSE(watchdog.check(WatchdogClock::now()).has_value());
  error = "NCCL reports remote process exited or there was a network error";
  const auto reason = watchdog.check(WatchdogClock::now());
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("the communicator failed: NCCL reports remote process exited"),
            std::string::npos)
      << *reason;
}

TEST(CollectiveWatchdog, AfterHealthChecksStopOnlyWaitsAreTimed) {
  HostWaits waits;
  auto watchdog = idle_watchdog(waits, 10s, [] { return std::string("NCCL reports an error"); });
  EXPECT_TRUE(watchdog.check(WatchdogClock::now()).has_value());
  watchdog.stop_health_checks();  // the reducer the check reads is about to be destroyed
  EXPECT_FALSE(watchdog.check(WatchdogClock::now()).has_value());
  const auto waiting = waits.enter("the device and the gradient reducer to stop");
  EXPECT_TRUE(watchdog.check(WatchdogClock::now() + 11s).has_value());
}

TEST(CollectiveWatchdog, ItsThreadEndsAStuckRankOnce) {
  HostWaits waits;
  std::promise<std::string> ended;
  int calls = 0;
  const auto waiting = waits.enter("the MPI gradient allreduce");
  {
    CollectiveWatchdog watchdog(waits, {50ms, 5ms}, {}, [&](const std::string& reason) {
      ++calls;
      ended.set_value(reason);
    });
    auto reason = ended.get_future();
    ASSERT_EQ(reason.wait_for(10s), std::future_status::ready);
    EXPECT_NE(reason.get().find("for the MPI gradient allreduce"), std::string::npos);
    std::this_thread::sleep_for(50ms);  // it stops polling after the first report
  }
  EXPECT_EQ(calls, 1);
}

TEST(CollectiveWatchdog, ShortWaitsNeverEndTheRank) {
  HostWaits waits;
  CollectiveWatchdog watchdog(waits, {2s, 1ms}, {}, [](const std::string& reason) {
    ADD_FAILURE() << "ended: " << reason;
  });
  for (int step = 0; step < 50; ++step) {
    const auto waiting = waits.enter("a download");
    std::this_thread::sleep_for(2ms);
  }
}

TEST(CollectiveWatchdog, StopsAtOnceWhenDestroyed) {
  HostWaits waits;
  const auto start = WatchdogClock::now();
  { const auto watchdog = idle_watchdog(waits, 1s); }
  EXPECT_LT(WatchdogClock::now() - start, 30s);
}

TEST(CollectiveWatchdog, WatchesOnlyWhereThereIsSomethingToWatch) {
  HostWaits waits;
  EXPECT_EQ(make_collective_watchdog(1, waits, 10s), nullptr);  // no collective on one rank
  EXPECT_EQ(make_collective_watchdog(4, waits, 0ms), nullptr);
  EXPECT_NE(make_collective_watchdog(4, waits, 10s), nullptr);
  EXPECT_NE(make_collective_watchdog(4, waits, 0ms, [] { return std::string(); }), nullptr);
}

}  // namespace
}  // namespace kubetrain
