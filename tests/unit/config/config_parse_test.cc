#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "worker/config/config.h"

namespace kubetrain {
namespace {

TEST(ConfigParse, EmptyTextGivesTheDefaults) {
  const WorkerConfig config = parse_config("");
  EXPECT_EQ(config.model, "resnet20");
  EXPECT_EQ(config.data.dataset, "synthetic");
  EXPECT_EQ(config.data.path, "");
  EXPECT_EQ(config.data.image_size, 32);
  EXPECT_TRUE(config.data.augment);
  EXPECT_EQ(config.data.threads, 2);
  EXPECT_EQ(config.data.prefetch, 2);
  EXPECT_FALSE(config.data.slack);
  EXPECT_EQ(config.data.train_examples, 0);
  EXPECT_EQ(config.data.validation_examples, 0);
  EXPECT_EQ(config.data.synthetic_examples, 1281167);
  EXPECT_EQ(config.data.classes, 0);
  EXPECT_EQ(config.global_batch_size, 256);
  EXPECT_EQ(config.epochs, 1);
  EXPECT_EQ(config.steps, 0);
  EXPECT_DOUBLE_EQ(config.optimizer.learning_rate, 0.1);
  EXPECT_EQ(config.optimizer.base_batch_size, 256);
  EXPECT_DOUBLE_EQ(config.optimizer.momentum, 0.9);
  EXPECT_DOUBLE_EQ(config.optimizer.weight_decay, 1e-4);
  EXPECT_FALSE(config.optimizer.nesterov);
  EXPECT_DOUBLE_EQ(config.schedule.warmup_epochs, 0);
  EXPECT_EQ(config.schedule.decay, DecayKind::kPiecewise);
  EXPECT_TRUE(config.schedule.decay_epochs.empty());
  EXPECT_DOUBLE_EQ(config.schedule.decay_factor, 0.1);
  EXPECT_DOUBLE_EQ(config.label_smoothing, 0);
  EXPECT_EQ(config.precision, DataType::kFloat32);
  EXPECT_FALSE(config.loss_scale.has_value());
  EXPECT_EQ(config.data_format, MemoryFormat::kChannelsLast);
  EXPECT_EQ(config.device, DeviceChoice::kAuto);
  EXPECT_TRUE(config.allow_tf32);
  EXPECT_TRUE(config.cuda_graphs);
  EXPECT_EQ(config.collective_timeout_seconds, 600);
  EXPECT_EQ(config.eval.every_epochs, 1);
  EXPECT_FALSE(config.eval.skip);
  EXPECT_EQ(config.checkpoint.dir, "");
  EXPECT_EQ(config.checkpoint.every_epochs, 1);
  EXPECT_EQ(config.checkpoint.keep, 3);
  EXPECT_EQ(config.benchmark.warmup_steps, 10);
  EXPECT_EQ(config.benchmark.steps, 50);
  EXPECT_EQ(config.seed, 1u);
  EXPECT_EQ(config.status_port, 9400);
  EXPECT_EQ(config.log_every_steps, 50);
}

// Every key, each set to a value other than its default.
constexpr const char* kEveryKey = R"(
model: resnet50
data:
  dataset: imagefolder
  path: /data/imagenet
  imageSize: 224
  augment: false
  threads: 6
  prefetch: 4
  slack: true
  trainExamples: 100000
  validationExamples: 5000
globalBatchSize: 1024
epochs: 90
optimizer: {learningRate: 0.4, baseBatchSize: 512, momentum: 0.875, weightDecay: 5.0e-5, nesterov: true}
schedule: {warmupEpochs: 2.5, decay: piecewise, decayEpochs: [30, 60, 80.5], decayFactor: 0.2}
labelSmoothing: 0.1
precision: fp16
lossScale: 1024
dataFormat: channels_first
device: cuda
allowTf32: false
cudaGraphs: false
collectiveTimeoutSeconds: 0
eval: {everyEpochs: 5, skip: false}
checkpoint: {dir: /checkpoints, everyEpochs: 3, keep: 7}
benchmark: {warmupSteps: 4, steps: 20}
seed: 12345678901
statusPort: 0
logEverySteps: 10
)";

TEST(ConfigParse, ReadsEveryKey) {
  const WorkerConfig config = parse_config(kEveryKey);
  EXPECT_EQ(config.model, "resnet50");
  EXPECT_EQ(config.data.dataset, "imagefolder");
  EXPECT_EQ(config.data.path, "/data/imagenet");
  EXPECT_EQ(config.data.image_size, 224);
  EXPECT_FALSE(config.data.augment);
  EXPECT_EQ(config.data.threads, 6);
  EXPECT_EQ(config.data.prefetch, 4);
  EXPECT_TRUE(config.data.slack);
  EXPECT_EQ(config.data.train_examples, 100000);
  EXPECT_EQ(config.data.validation_examples, 5000);
  EXPECT_EQ(config.global_batch_size, 1024);
  EXPECT_EQ(config.epochs, 90);
  EXPECT_DOUBLE_EQ(config.optimizer.learning_rate, 0.4);
  EXPECT_EQ(config.optimizer.base_batch_size, 512);
  EXPECT_DOUBLE_EQ(config.optimizer.momentum, 0.875);
  EXPECT_DOUBLE_EQ(config.optimizer.weight_decay, 5e-5);
  EXPECT_TRUE(config.optimizer.nesterov);
  EXPECT_DOUBLE_EQ(config.schedule.warmup_epochs, 2.5);
  EXPECT_EQ(config.schedule.decay, DecayKind::kPiecewise);
  EXPECT_EQ(config.schedule.decay_epochs, (std::vector<double>{30, 60, 80.5}));
  EXPECT_DOUBLE_EQ(config.schedule.decay_factor, 0.2);
  EXPECT_DOUBLE_EQ(config.label_smoothing, 0.1);
  EXPECT_EQ(config.precision, DataType::kFloat16);
  ASSERT_TRUE(config.loss_scale.has_value());
  EXPECT_FALSE(config.loss_scale->dynamic);
  EXPECT_EQ(config.loss_scale->value, 1024.0f);
  EXPECT_EQ(config.data_format, MemoryFormat::kChannelsFirst);
  EXPECT_EQ(config.device, DeviceChoice::kCuda);
  EXPECT_FALSE(config.allow_tf32);
  EXPECT_FALSE(config.cuda_graphs);
  EXPECT_EQ(config.collective_timeout_seconds, 0);
  EXPECT_EQ(config.eval.every_epochs, 5);
  EXPECT_EQ(config.checkpoint.dir, "/checkpoints");
  EXPECT_EQ(config.checkpoint.every_epochs, 3);
  EXPECT_EQ(config.checkpoint.keep, 7);
  EXPECT_EQ(config.benchmark.warmup_steps, 4);
  EXPECT_EQ(config.benchmark.steps, 20);
  EXPECT_EQ(config.seed, 12345678901u);
  EXPECT_EQ(config.status_port, 0);
  EXPECT_EQ(config.log_every_steps, 10);
}

TEST(ConfigParse, ReadsTheKeysTheFirstConfigCannotHold) {
  const WorkerConfig config = parse_config(R"(
data: {dataset: synthetic, syntheticExamples: 5000, classes: 100}
steps: 300
schedule: {decay: cosine}
precision: bf16
eval: {skip: true}
)");
  EXPECT_EQ(config.data.synthetic_examples, 5000);
  EXPECT_EQ(config.data.classes, 100);
  EXPECT_EQ(config.steps, 300);
  EXPECT_EQ(config.schedule.decay, DecayKind::kCosine);
  EXPECT_EQ(config.precision, DataType::kBFloat16);
  EXPECT_FALSE(config.loss_scale.has_value());
  EXPECT_TRUE(config.eval.skip);
}

// TrainingJob.spec.training reaches the worker as JSON, which is YAML too.
TEST(ConfigParse, ReadsTheJsonFormOfASpec) {
  const WorkerConfig config = parse_config(
      R"({"model":"resnet18","data":{"dataset":"cifar10","path":"/data/cifar","imageSize":64},)"
      R"("globalBatchSize":512,"optimizer":{"weightDecay":5e-05,"nesterov":true},"precision":"fp16",)"
      R"("lossScale":"dynamic","checkpoint":{"dir":"/ckpt","keep":2}})");
  EXPECT_EQ(config.model, "resnet18");
  EXPECT_EQ(config.data.dataset, "cifar10");
  EXPECT_EQ(config.data.image_size, 64);
  EXPECT_EQ(config.global_batch_size, 512);
  EXPECT_DOUBLE_EQ(config.optimizer.weight_decay, 5e-5);
  EXPECT_TRUE(config.optimizer.nesterov);
  ASSERT_TRUE(config.loss_scale.has_value());
  EXPECT_TRUE(config.loss_scale->dynamic);
  EXPECT_EQ(config.checkpoint.keep, 2);
}

TEST(ConfigParse, Fp16DefaultsToDynamicLossScale) {
  const WorkerConfig config = parse_config("precision: fp16\nlossScaleGrowthInterval: 500\n");
  ASSERT_TRUE(config.loss_scale.has_value());
  EXPECT_TRUE(config.loss_scale->dynamic);
  EXPECT_EQ(config.loss_scale->value, 65536.0f);
  EXPECT_EQ(config.loss_scale->growth_interval, 500);
  EXPECT_TRUE(parse_config("precision: fp16\nlossScale: dynamic\n").loss_scale->dynamic);
}

TEST(ConfigParse, AcceptsYamlSpellingsOfNumbersAndBooleans) {
  const WorkerConfig config = parse_config(
      "optimizer: {learningRate: 1e-2, weightDecay: +0.5e-4, nesterov: True}\ndata: {augment: FALSE}\n"
      "labelSmoothing: .1\n");
  EXPECT_DOUBLE_EQ(config.optimizer.learning_rate, 0.01);
  EXPECT_DOUBLE_EQ(config.optimizer.weight_decay, 0.5e-4);
  EXPECT_TRUE(config.optimizer.nesterov);
  EXPECT_FALSE(config.data.augment);
  EXPECT_DOUBLE_EQ(config.label_smoothing, 0.1);
}

TEST(ConfigParse, ToYamlParsesBackToTheSameConfig) {
  for (const char* text : {"", kEveryKey,
                           "data: {dataset: synthetic, classes: 7}\nsteps: 9\nschedule: {decay: cosine}\n"
                           "precision: fp16\nlossScaleGrowthInterval: 10\neval: {skip: true}\n"}) {
    const WorkerConfig config = parse_config(text);
    const std::string yaml = to_yaml(config);
    const WorkerConfig again = parse_config(yaml);
    EXPECT_EQ(to_yaml(again), yaml);
    EXPECT_EQ(again.model, config.model);
    EXPECT_EQ(again.data.classes, config.data.classes);
    EXPECT_EQ(again.steps, config.steps);
    EXPECT_EQ(again.epochs, config.epochs);
    EXPECT_EQ(again.optimizer.learning_rate, config.optimizer.learning_rate);
    EXPECT_EQ(again.optimizer.weight_decay, config.optimizer.weight_decay);
    EXPECT_EQ(again.schedule.decay_epochs, config.schedule.decay_epochs);
    EXPECT_EQ(again.loss_scale.has_value(), config.loss_scale.has_value());
    if (config.loss_scale) {
      EXPECT_EQ(again.loss_scale->dynamic, config.loss_scale->dynamic);
      EXPECT_EQ(again.loss_scale->value, config.loss_scale->value);
      EXPECT_EQ(again.loss_scale->growth_interval, config.loss_scale->growth_interval);
    }
    EXPECT_EQ(again.seed, config.seed);
    EXPECT_EQ(again.collective_timeout_seconds, config.collective_timeout_seconds);
    EXPECT_EQ(again.checkpoint.dir, config.checkpoint.dir);
  }
}

TEST(ConfigParse, ToYamlPrintsShortNumbers) {
  const std::string yaml = to_yaml(parse_config("optimizer: {learningRate: 0.1}"));
  EXPECT_NE(yaml.find("learningRate: 0.1\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("weightDecay: 1e-04\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("epochs: 1\n"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("steps: 0"), std::string::npos) << yaml;
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("kubetrain_config_" + std::to_string(::getpid()) + ".yaml"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(ConfigFileTest, LoadsAFileWithOverrides) {
  std::ofstream(path_) << "model: resnet32\nglobalBatchSize: 128\n";
  const WorkerConfig config = load_config(path_, {"globalBatchSize=64"});
  EXPECT_EQ(config.model, "resnet32");
  EXPECT_EQ(config.global_batch_size, 64);
}

TEST_F(ConfigFileTest, MissingFileIsNamed) {
  try {
    load_config(path_);
    FAIL() << "a missing file was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot read config file " + path_ + ": No such file or directory");
  }
}

TEST_F(ConfigFileTest, SyntaxErrorNamesTheFileAndLine) {
  std::ofstream(path_) << "model: resnet20\ndata: {dataset: [\n";
  try {
    load_config(path_);
    FAIL() << "broken YAML was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path_ + ": invalid YAML at line ", 0), 0u) << error.what();
  }
}

}  // namespace
}  // namespace kubetrain
