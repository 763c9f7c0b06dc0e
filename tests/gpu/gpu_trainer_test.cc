// The training loop on the GPU, through the real Trainer: dynamic loss scaling skips an
// overflowing step and keeps the weights, the scale grows after its run of good steps, steps
// replayed from a CUDA graph give the weights eager steps give, and ResNet-20 learns
// Fashion-MNIST.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/gpu/gpu_test_support.h"
#include "worker/config/config.h"
#include "worker/data/dataset.h"
#include "worker/dist/communicator.h"
#include "worker/train/trainer.h"

namespace kubetrain::testing {
namespace {

// ResNet-20 on synthetic 32x32 images generated on the device, fp16, no evaluation.
WorkerConfig synthetic_fp16_config() {
  WorkerConfig config = parse_config(R"(
model: resnet20
device: cuda
precision: fp16
data: {dataset: synthetic, imageSize: 32, syntheticExamples: 256}
globalBatchSize: 32
steps: 1
optimizer: {learningRate: 0.1, baseBatchSize: 32}
eval: {skip: true}
statusPort: 0
logEverySteps: 1
)");
  config.allow_tf32 = false;
  return config;
}

struct TrainingRun {
  TrainingSummary summary;
  std::vector<float> weights;
};

TrainingRun train(Backend& backend, const WorkerConfig& config, DatasetPair datasets = {}) {
  auto communicator = make_single_communicator();
  TrainingProgress progress;
  Trainer trainer(config, *communicator, backend, std::move(datasets), progress,
                  /*benchmark=*/false);
  TrainingRun run;
  run.summary = trainer.run();
  auto& store = trainer.model().parameters();
  run.weights = to_host(backend, store.weights(), DataType::kFloat32, store.parameter_count());
  return run;
}

// The weights a run starts from: the model initialised from the config's seed, untrained.
std::vector<float> initial_weights(Backend& backend, const WorkerConfig& config) {
  WorkerConfig untrained = config;
  untrained.steps = 0;
  untrained.epochs = 1;
  auto communicator = make_single_communicator();
  TrainingProgress progress;
  Trainer trainer(untrained, *communicator, backend, {}, progress, /*benchmark=*/false);
  trainer.model().initialize(config.seed);
  auto& store = trainer.model().parameters();
  return to_host(backend, store.weights(), DataType::kFloat32, store.parameter_count());
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double largest = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    largest = std::max(largest, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return largest;
}

class GpuTrainerTest : public GpuTest {};

TEST_F(GpuTrainerTest, DynamicLossScaleSkipsAnOverflowingStepAndKeepsTheWeights) {
  WorkerConfig config = synthetic_fp16_config();
  // A scale no fp16 gradient survives: the loss gradient itself overflows to inf.
  config.loss_scale = LossScaleConfig{.dynamic = true, .value = 1e12f, .growth_interval = 2000};
  const auto before = initial_weights(*backend_, config);
  const TrainingRun run = train(*backend_, config);
  EXPECT_EQ(run.summary.skipped_steps, 1);
  EXPECT_EQ(run.summary.loss_scale, 5e11f) << "an overflow halves the scale";
  ASSERT_EQ(run.weights.size(), before.size());
  EXPECT_EQ(run.weights, before) << "a skipped step must leave every weight as it was";
}

TEST_F(GpuTrainerTest, DynamicLossScaleDoublesAfterEachRunOfGoodSteps) {
  WorkerConfig config = synthetic_fp16_config();
  config.loss_scale = LossScaleConfig{.dynamic = true, .value = 256.0f, .growth_interval = 2};
  config.steps = 5;
  const auto before = initial_weights(*backend_, config);
  const TrainingRun run = train(*backend_, config);
  EXPECT_EQ(run.summary.skipped_steps, 0);
  EXPECT_EQ(run.summary.loss_scale, 1024.0f) << "two runs of 2 good steps in 5 steps";
  EXPECT_GT(max_difference(run.weights, before), 1e-3) << "good steps must update the weights";
  for (const float w : run.weights) ASSERT_TRUE(std::isfinite(w));
}

// The graph holds forward, backward and allreduce; replaying it, and recording it again each
// time the dynamic loss scale changes, must train exactly like issuing every operation.
TEST_F(GpuTrainerTest, StepsReplayedFromACudaGraphEqualEagerSteps) {
  WorkerConfig config = synthetic_fp16_config();
  config.loss_scale = LossScaleConfig{.dynamic = true, .value = 256.0f, .growth_interval = 3};
  config.steps = 10;  // eager for 2 steps, then recorded at scales 256, 512 and 1024
  const auto before = initial_weights(*backend_, config);
  config.cuda_graphs = false;
  const TrainingRun eager = train(*backend_, config);
  config.cuda_graphs = true;
  const TrainingRun replayed = train(*backend_, config);
  EXPECT_EQ(eager.summary.graph_steps, 0);
  EXPECT_EQ(replayed.summary.graph_steps, 8) << "recording failed: see the warning above";
  EXPECT_EQ(replayed.summary.loss_scale, eager.summary.loss_scale);
  EXPECT_EQ(replayed.summary.loss_scale, 2048.0f);
  const double moved = max_difference(eager.weights, before);
  const double apart = max_difference(replayed.weights, eager.weights);
  // cuDNN's backward-filter algorithms may sum in a different order from run to run; a replay
  // that read stale inputs or skipped work would be as far off as a whole update.
  EXPECT_GT(moved, 1e-2);
  EXPECT_LT(apart, 1e-3 * moved) << "moved " << moved << ", apart " << apart;
}

std::string fashion_mnist_directory() {
  if (const char* path = std::getenv("KUBETRAIN_FASHION_MNIST")) return path;
  return "/usr/share/datasets/fashion-mnist";
}

class GpuLearningTest : public GpuTest, public ::testing::WithParamInterface<DataType> {};

TEST_P(GpuLearningTest, ResNet20LearnsFashionMnist) {
  const std::string directory = fashion_mnist_directory();
  if (!std::filesystem::exists(directory + "/train-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(directory + "/train-images-idx3-ubyte")) {
    GTEST_SKIP() << "no Fashion-MNIST in " << directory << " (set KUBETRAIN_FASHION_MNIST)";
  }
  WorkerConfig config = parse_config(R"(
model: resnet20
device: cuda
data: {dataset: fashion-mnist, imageSize: 28, trainExamples: 8192, validationExamples: 2000,
       augment: false, threads: 4}
globalBatchSize: 128
epochs: 3
optimizer: {learningRate: 0.1, baseBatchSize: 128, weightDecay: 0.0005}
schedule: {warmupEpochs: 0.2, decay: cosine}
statusPort: 0
logEverySteps: 64
)");
  config.data.path = directory;
  config.precision = GetParam();
  if (config.precision == DataType::kFloat16) config.loss_scale = LossScaleConfig{};
  const TrainingRun run = train(*backend_, config, open_datasets(config.data));
  EXPECT_EQ(run.summary.steps, 3 * (8192 / 128));
  EXPECT_EQ(run.summary.graph_steps, run.summary.steps - 2) << "all but two eager steps replayed";
  // Ten classes: chance is 10%; the CPU backend reaches about 85% with these settings.
  EXPECT_GE(run.summary.top1, 0.80) << to_string(config.precision);
}

INSTANTIATE_TEST_SUITE_P(Precisions, GpuLearningTest, all_types(), type_name);

}  // namespace
}  // namespace kubetrain::testing
