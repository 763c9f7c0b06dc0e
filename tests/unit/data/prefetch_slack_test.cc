#include "worker/data/prefetch_slack.h"

#include <gtest/gtest.h>

namespace kubetrain {
namespace {

using std::chrono::microseconds;

TEST(PrefetchSlack, HoldsBackAFifthOfTheTimeBatchesWaited) {
  PrefetchSlack slack;
  EXPECT_EQ(slack.delay(), microseconds(0));
  slack.consumed(microseconds(10000));
  EXPECT_EQ(slack.delay(), microseconds(2000));
}

TEST(PrefetchSlack, ForgetsOldWaitsGeometrically) {
  PrefetchSlack slack;
  slack.consumed(microseconds(10000));
  slack.consumed(microseconds(0));  // estimate 0.2 * 10 ms
  EXPECT_EQ(slack.delay(), microseconds(400));
  slack.consumed(microseconds(0));
  EXPECT_EQ(slack.delay(), microseconds(80));
}

// A consumer that always comes 10 ms after a batch would be ready: once the loader holds each
// batch back by the delay, the batch waits that much less, and the estimate must neither grow nor
// shrink (tf.data adds the delay back for this reason).
TEST(PrefetchSlack, SettlesWhenItsOwnDelayShortensTheWait) {
  PrefetchSlack slack;
  const microseconds undelayed_wait(10000);
  for (int step = 0; step < 20; ++step) slack.consumed(undelayed_wait - slack.delay());
  EXPECT_EQ(slack.delay(), microseconds(2000));
}

TEST(PrefetchSlack, AConsumerThatWaitedCountsAsNoSlack) {
  PrefetchSlack slack;
  slack.consumed(microseconds(-50));  // ready after next() began waiting: clocks read apart
  EXPECT_EQ(slack.delay(), microseconds(0));
}

TEST(PrefetchSlack, ResetStartsAfresh) {
  PrefetchSlack slack;
  slack.consumed(microseconds(10000));
  slack.reset();
  EXPECT_EQ(slack.delay(), microseconds(0));
}

}  // namespace
}  // namespace kubetrain
