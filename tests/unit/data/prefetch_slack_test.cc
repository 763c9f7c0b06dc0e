#include "worker/data/prefetch_slack.h"

#include <gtest/gtest.h>

namespace kubetrain {
namespace {

using std::chrono::microseconds;

// Steps of 50 ms: long enough that the cap never binds unless a test wants it to.
constexpr microseconds kStep(50000);

// A consumer on a clock of its own: each take comes `after` the previous one and finds the batch
// ready since `waited`.
class Consumer {
 public:
  void take(microseconds waited, microseconds after = kStep) {
    now_ += after;
    slack.consumed(now_ - waited, now_);
  }
  PrefetchSlack slack;

 private:
  PrefetchSlack::Clock::time_point now_;
};

// A consumer that has seen two steady steps, with nothing waiting.
Consumer steady() {
  Consumer consumer;
  for (int take = 0; take < 3; ++take) consumer.take(microseconds(0));
  return consumer;
}

TEST(PrefetchSlack, HoldsBackAFifthOfTheTimeBatchesWaited) {
  Consumer consumer = steady();
  EXPECT_EQ(consumer.slack.delay(), microseconds(0));
  consumer.take(microseconds(10000));
  EXPECT_EQ(consumer.slack.delay(), microseconds(2000));
}

TEST(PrefetchSlack, ForgetsOldWaitsGeometrically) {
  Consumer consumer = steady();
  consumer.take(microseconds(10000));
  consumer.take(microseconds(0));  // estimate 0.2 * 10 ms
  EXPECT_EQ(consumer.slack.delay(), microseconds(400));
  consumer.take(microseconds(0));
  EXPECT_EQ(consumer.slack.delay(), microseconds(80));
}

// A consumer that always comes 10 ms after a batch would be ready: once the loader holds each
// batch back by the delay, the batch waits that much less, and the estimate must neither grow nor
// shrink (tf.data adds the delay back for this reason).
TEST(PrefetchSlack, SettlesWhenItsOwnDelayShortensTheWait) {
  Consumer consumer = steady();
  const microseconds undelayed_wait(10000);
  for (int step = 0; step < 20; ++step) consumer.take(undelayed_wait - consumer.slack.delay());
  EXPECT_EQ(consumer.slack.delay(), microseconds(2000));
}

// After a 10 s pause the batches taken next have waited 10 s; holding the following ones back by
// a fifth of that would stall a 50 ms step for seconds. The steadier of the last two intervals
// bounds the delay.
TEST(PrefetchSlack, ALongPauseHoldsBackNoLongerThanASteadyStep) {
  Consumer consumer = steady();
  consumer.take(microseconds(10000000), microseconds(10000000));
  EXPECT_EQ(consumer.slack.delay(), kStep);
  consumer.take(microseconds(10000000));
  EXPECT_EQ(consumer.slack.delay(), kStep);
}

TEST(PrefetchSlack, NothingIsHeldBackBeforeTheStepTimeIsKnown) {
  Consumer consumer;
  consumer.take(microseconds(10000));  // the pass's first take: no interval yet
  consumer.take(microseconds(10000));
  EXPECT_EQ(consumer.slack.delay(), microseconds(0));  // one interval seen, not two
  consumer.take(microseconds(10000));
  EXPECT_GT(consumer.slack.delay(), microseconds(0));
}

TEST(PrefetchSlack, AConsumerThatWaitedCountsAsNoSlack) {
  Consumer consumer = steady();
  consumer.take(microseconds(-50));  // ready after next() began waiting: clocks read apart
  EXPECT_EQ(consumer.slack.delay(), microseconds(0));
}

TEST(PrefetchSlack, ResetStartsAfresh) {
  Consumer consumer = steady();
  consumer.take(microseconds(10000));
  consumer.slack.reset();
  EXPECT_EQ(consumer.slack.delay(), microseconds(0));
  consumer.take(microseconds(10000));  // a new pass: no step time yet
  EXPECT_EQ(consumer.slack.delay(), microseconds(0));
}

}  // namespace
}  // namespace kubetrain
