#include "worker/train/training_progress.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kubetrain {
namespace {

TEST(TrainingProgress, ProgressJsonCarriesTheFieldsTheOperatorReads) {
  TrainingProgress progress;
  progress.update({.state = "training", .epoch = 3, .step = 120, .total_steps = 400,
                   .loss = 0.5, .top1 = 0.91, .images_per_second = 1234.5, .loss_scale = 512});
  const auto body = nlohmann::json::parse(progress.to_json());
  EXPECT_EQ(body["state"], "training");
  EXPECT_EQ(body["epoch"], 3);
  EXPECT_EQ(body["step"], 120);
  EXPECT_EQ(body["totalSteps"], 400);
  EXPECT_DOUBLE_EQ(body["loss"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(body["top1"].get<double>(), 0.91);
  EXPECT_DOUBLE_EQ(body["imagesPerSecond"].get<double>(), 1234.5);
  EXPECT_DOUBLE_EQ(body["lossScale"].get<double>(), 512);
}

TEST(TrainingProgress, Top1IsNullBeforeTheFirstEvaluation) {
  TrainingProgress progress;
  EXPECT_TRUE(nlohmann::json::parse(progress.to_json())["top1"].is_null());
  EXPECT_EQ(progress.to_prometheus().find("kubetrain_worker_top1"), std::string::npos);
}

TEST(TrainingProgress, PrometheusTextHasHelpTypeAndValue) {
  TrainingProgress progress;
  progress.update({.step = 42, .loss_scale = 65536});
  const auto text = progress.to_prometheus();
  EXPECT_NE(text.find("# TYPE kubetrain_worker_step gauge\nkubetrain_worker_step 42\n"),
            std::string::npos);
  EXPECT_NE(text.find("kubetrain_worker_loss_scale 65536\n"), std::string::npos);
}

}  // namespace
}  // namespace kubetrain
