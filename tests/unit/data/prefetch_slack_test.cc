#include "worker/data/prefetch_slack.h"

#include <gtest/gtest.h>

namespace kubetrain {
namespace {

using std::chrono::microseconds;

// Steps of 50 ms: long enough that the cap never binds unless a test wants it to.
constexpr microseconds kStep(50000);

// A slack estimator that has seen two steady steps, with nothing waiting.
PrefetchSlack steady() {
  PrefetchSlack slack;
  slack.consumed(microseconds(0), std::nullopt);
  slack.consumed(microseconds(0), kStep);
  slack.consumed(microseconds(0), kStep);
  return slack;
}

TEST(PrefetchSlack, HoldsBackAFifthOfTheTimeBatchesWaited) {
  PrefetchSlack slack = steady();
  EXPECT_EQ(slack.delay(), microseconds(0));
  slack.consumed(microseconds(10000), kStep);
  EXPECT_EQ(slack.delay(), microseconds(2000));
}

TEST(PrefetchSlack, ForgetsOldWaitsGeometrically) {
  PrefetchSlack slack = steady();
  slack.consumed(microseconds(10000), kStep);
  slack.consumed(microseconds(0), kStep);  // estimate 0.2 * 10 ms
  EXPECT_EQ(slack.delay(), microseconds(400));
  slack.consumed(microseconds(0), kStep);
  EXPECT_EQ(slack.delay(), microseconds(80));
}

// A consumer that always comes 10 ms after a batch would be ready: once the loader holds each
// batch back by the delay, the batch waits that much less, and the estimate must neither grow nor
// shrink (tf.data adds the delay back for this reason).
TEST(PrefetchSlack, SettlesWhenItsOwnDelayShortensTheWait) {
  PrefetchSlack slack = steady();
  const microseconds undelayed_wait(10000);
  for (int step = 0; step < 20; ++step) slack.consumed(undelayed_wait - slack.delay(), kStep);
  EXPECT_EQ(slack.delay(), microseconds(2000));
}

// After a 10 s pause the batches taken next have waited 10 s; holding the following ones back by
// a fifth of that would stall a 50 ms step for seconds. The steadier of the last two intervals
// bounds the delay.
TEST(PrefetchSlack, ALongPauseHoldsBackNoLongerThanASteadyStep) {
  PrefetchSlack slack = steady();
  slack.consumed(microseconds(10000000), microseconds(10000000));
  EXPECT_EQ(slack.delay(), kStep);
  slack.consumed(microseconds(10000000), kStep);
  EXPECT_EQ(slack.delay(), kStep);
}

TEST(PrefetchSlack, NothingIsHeldBackBeforeTheStepTimeIsKnown) {
  PrefetchSlack slack;
  slack.consumed(microseconds(10000), std::nullopt);
  slack.consumed(microseconds(10000), kStep);
  EXPECT_EQ(slack.delay(), microseconds(0));  // one interval seen, not two
  slack.consumed(microseconds(10000), kStep);
  EXPECT_GT(slack.delay(), microseconds(0));
}

TEST(PrefetchSlack, AConsumerThatWaitedCountsAsNoSlack) {
  PrefetchSlack slack = steady();
  slack.consumed(microseconds(-50), kStep);  // ready after next() began waiting: clocks read apart
  EXPECT_EQ(slack.delay(), microseconds(0));
}

TEST(PrefetchSlack, ResetStartsAfresh) {
  PrefetchSlack slack = steady();
  slack.consumed(microseconds(10000), kStep);
  slack.reset();
  EXPECT_EQ(slack.delay(), microseconds(0));
  slack.consumed(microseconds(10000), std::nullopt);  // a new pass: no step time yet
  EXPECT_EQ(slack.delay(), microseconds(0));
}

}  // namespace
}  // namespace kubetrain
