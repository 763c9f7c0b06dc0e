#include <gtest/gtest.h>

#include "worker/config/config.h"

namespace kubetrain {
namespace {

TEST(ConfigOverrides, SetsScalarsAtEveryDepth) {
  const WorkerConfig config = parse_config("model: resnet20\noptimizer: {momentum: 0.5}\n",
                                           {"model=resnet56", "optimizer.learningRate=0.05",
                                            "data.threads=8", "device=cpu", "seed=7"});
  EXPECT_EQ(config.model, "resnet56");
  EXPECT_DOUBLE_EQ(config.optimizer.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(config.optimizer.momentum, 0.5);  // the rest of the section stays
  EXPECT_EQ(config.data.threads, 8);
  EXPECT_EQ(config.device, DeviceChoice::kCpu);
  EXPECT_EQ(config.seed, 7u);
}

TEST(ConfigOverrides, CreatesMissingSections) {
  const WorkerConfig config = parse_config("", {"checkpoint.dir=/tmp/ckpt", "checkpoint.keep=2"});
  EXPECT_EQ(config.checkpoint.dir, "/tmp/ckpt");
  EXPECT_EQ(config.checkpoint.keep, 2);
}

TEST(ConfigOverrides, ParsesFlowCollections) {
  const WorkerConfig config = parse_config(
      "schedule: {decayEpochs: [1]}\n", {"schedule.decayEpochs=[30, 60, 80]", "eval={everyEpochs: 4}"});
  EXPECT_EQ(config.schedule.decay_epochs, (std::vector<double>{30, 60, 80}));
  EXPECT_EQ(config.eval.every_epochs, 4);
}

TEST(ConfigOverrides, ReplacesASectionWithAScalarOrTheReverse) {
  // A whole section replaced by a flow mapping drops the keys it had.
  const WorkerConfig config = parse_config("optimizer: {momentum: 0.5}\n", {"optimizer={nesterov: true}"});
  EXPECT_DOUBLE_EQ(config.optimizer.momentum, 0.9);
  EXPECT_TRUE(config.optimizer.nesterov);
}

TEST(ConfigOverrides, LaterOverridesWin) {
  EXPECT_EQ(parse_config("", {"globalBatchSize=64", "globalBatchSize=32"}).global_batch_size, 32);
}

TEST(ConfigOverrides, ValueMayContainEqualsAndAnEmptyValueIsAnEmptyString) {
  EXPECT_EQ(parse_config("", {"checkpoint.dir=/data/a=b"}).checkpoint.dir, "/data/a=b");
  EXPECT_EQ(parse_config("checkpoint: {dir: /x}\n", {"checkpoint.dir="}).checkpoint.dir, "");
}

TEST(ConfigOverrides, QuotedValuesStayStrings) {
  EXPECT_EQ(parse_config("", {"checkpoint.dir='/x: y'"}).checkpoint.dir, "/x: y");
}

TEST(ConfigOverrides, OverridesAreValidatedLikeTheFile) {
  EXPECT_THROW(parse_config("", {"globalBatchSize=-1"}), ConfigError);
  // Overrides can also resolve a conflict in the file.
  EXPECT_EQ(parse_config("precision: fp16\ndevice: cpu\n", {"device=cuda"}).device, DeviceChoice::kCuda);
}

}  // namespace
}  // namespace kubetrain
