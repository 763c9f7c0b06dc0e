#include "worker/train/loss_scaler.h"

#include <gtest/gtest.h>

namespace kubetrain {
namespace {

TEST(LossScaler, WithoutFp16TheScaleIsOneAndEveryStepApplies) {
  LossScaler scaler(std::nullopt);
  EXPECT_EQ(scaler.scale(), 1.0f);
  EXPECT_FALSE(scaler.dynamic());
  EXPECT_TRUE(scaler.update(false));
}

TEST(LossScaler, StaticScaleNeverChanges) {
  LossScaler scaler(LossScaleConfig{.dynamic = false, .value = 128.0f, .growth_interval = 2});
  EXPECT_TRUE(scaler.update(true));
  EXPECT_TRUE(scaler.update(true));
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 128.0f);
}

TEST(LossScaler, DynamicSkipsAndHalvesOnOverflowThenGrowsAfterTheInterval) {
  LossScaler scaler(LossScaleConfig{.dynamic = true, .value = 1024.0f, .growth_interval = 3});
  EXPECT_FALSE(scaler.update(false));
  EXPECT_EQ(scaler.scale(), 512.0f);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 512.0f);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 1024.0f) << "doubles after 3 good steps in a row";
  EXPECT_TRUE(scaler.update(true));
  EXPECT_FALSE(scaler.update(false));
  EXPECT_EQ(scaler.good_steps(), 0) << "an overflow restarts the run of good steps";
}

TEST(LossScaler, NeverDropsBelowOne) {
  LossScaler scaler(LossScaleConfig{.dynamic = true, .value = 2.0f, .growth_interval = 100});
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(scaler.update(false));
  EXPECT_EQ(scaler.scale(), 1.0f);
}

}  // namespace
}  // namespace kubetrain
