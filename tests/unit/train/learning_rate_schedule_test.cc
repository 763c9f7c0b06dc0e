#include "worker/train/learning_rate_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace kubetrain {
namespace {

TEST(LearningRateSchedule, ScalesLinearlyWithTheGlobalBatch) {
  OptimizerConfig optimizer;
  optimizer.learning_rate = 0.1;
  optimizer.base_batch_size = 256;
  const LearningRateSchedule schedule(optimizer, ScheduleConfig{}, 1024, 100, 1000);
  EXPECT_DOUBLE_EQ(schedule.peak(), 0.4);
  EXPECT_DOUBLE_EQ(schedule.at(0), 0.4);
  EXPECT_DOUBLE_EQ(schedule.at(999), 0.4);
}

TEST(LearningRateSchedule, WarmsUpLinearlyPerStepThenDecaysAtTheBoundaries) {
  OptimizerConfig optimizer;
  optimizer.learning_rate = 0.1;
  optimizer.base_batch_size = 256;
  ScheduleConfig config;
  config.warmup_epochs = 2;
  config.decay_epochs = {30, 60, 80};
  config.decay_factor = 0.1;
  const LearningRateSchedule schedule(optimizer, config, 256, 10, 900);  // 10 steps per epoch
  EXPECT_NEAR(schedule.at(0), 0.1 * 1 / 20, 1e-12);
  EXPECT_NEAR(schedule.at(9), 0.1 * 10 / 20, 1e-12);
  EXPECT_NEAR(schedule.at(19), 0.1, 1e-12);
  EXPECT_NEAR(schedule.at(299), 0.1, 1e-12);
  EXPECT_NEAR(schedule.at(300), 0.01, 1e-12);
  EXPECT_NEAR(schedule.at(600), 0.001, 1e-12);
  EXPECT_NEAR(schedule.at(850), 0.0001, 1e-12);
}

TEST(LearningRateSchedule, CosineReachesZeroAtTheLastStep) {
  OptimizerConfig optimizer;
  optimizer.learning_rate = 0.2;
  optimizer.base_batch_size = 128;
  ScheduleConfig config;
  config.decay = DecayKind::kCosine;
  config.warmup_epochs = 1;
  const LearningRateSchedule schedule(optimizer, config, 128, 10, 110);
  EXPECT_NEAR(schedule.at(10), 0.2, 1e-12);
  EXPECT_NEAR(schedule.at(60), 0.2 * 0.5 * (1 + std::cos(std::numbers::pi * 0.5)), 1e-12);
  EXPECT_NEAR(schedule.at(110), 0.0, 1e-12);
}

}  // namespace
}  // namespace kubetrain
