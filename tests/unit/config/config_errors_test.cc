// Every refused config with its exact message: the message is the user interface of a typo.

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "worker/config/config.h"

namespace kubetrain {
namespace {

struct BadConfig {
  const char* yaml;
  std::vector<std::string> overrides;
  const char* message;
};

const std::vector<BadConfig> kBadConfigs = {
    // Unknown keys, with and without a suggestion, at every level.
    {"data: {prefetsh: 4}", {},
     "data.prefetsh: unknown key; did you mean data.prefetch? valid keys: dataset, path, imageSize, "
     "augment, threads, prefetch, slack, trainExamples, validationExamples, syntheticExamples, "
     "classes"},
    {"modle: resnet20", {},
     "modle: unknown key; did you mean model? valid keys: model, data, globalBatchSize, epochs, steps, "
     "optimizer, schedule, labelSmoothing, precision, lossScale, lossScaleGrowthInterval, dataFormat, "
     "device, allowTf32, cudaGraphs, collectiveTimeoutSeconds, eval, checkpoint, benchmark, seed, "
     "statusPort, logEverySteps"},
    {"optimizer: {learning_rate: 0.1}", {},
     "optimizer.learning_rate: unknown key; did you mean optimizer.learningRate? valid keys: "
     "learningRate, baseBatchSize, momentum, weightDecay, nesterov"},
    {"eval: {frequency: 2}", {}, "eval.frequency: unknown key; valid keys: everyEpochs, skip"},
    {"", {"checkpoint.keeps=2"},
     "checkpoint.keeps: unknown key; did you mean checkpoint.keep? valid keys: dir, everyEpochs, keep"},
    {"", {"checkpoint.directory=/x"}, "checkpoint.directory: unknown key; valid keys: dir, everyEpochs, keep"},
    {"data: {path: /d}", {"data.path.sub=1"},
     "--set data.path.sub=1: data.path holds a value, not a section of keys"},
    {"", {"data.path.sub=1"}, "data.path: expected a string, got a mapping"},
    {"data: {threads: 2, threads: 3}", {}, "data.threads: key given twice"},
    // Malformed --set.
    {"", {"globalBatchSize"}, "--set globalBatchSize: expected key.path=value (no '=')"},
    {"", {"optimizer..momentum=0.1"},
     "--set optimizer..momentum=0.1: the key path has an empty name (e.g. 'optimizer.momentum=0.9')"},
    // Wrong types.
    {"globalBatchSize: abc", {}, "globalBatchSize: expected a positive integer, got 'abc'"},
    {"epochs: 2.5", {}, "epochs: expected a positive integer, got '2.5'"},
    {"data: {augment: yes}", {}, "data.augment: expected true or false, got 'yes'"},
    {"data: [1, 2]", {},
     "data: expected a mapping of keys (dataset, path, imageSize, augment, threads, prefetch, "
     "slack, trainExamples, validationExamples, syntheticExamples, classes), got a sequence"},
    {"optimizer: {learningRate: {a: 1}}", {}, "optimizer.learningRate: expected a positive number, got a mapping"},
    {"data: {threads: }", {}, "data.threads: expected a positive integer, got an empty value"},
    {"- model", {}, "config: expected a mapping of keys (model, data, globalBatchSize, epochs, steps, "
                    "optimizer, schedule, labelSmoothing, precision, lossScale, lossScaleGrowthInterval, "
                    "dataFormat, device, allowTf32, cudaGraphs, collectiveTimeoutSeconds, eval, checkpoint, "
                    "benchmark, seed, statusPort, logEverySteps), got a sequence"},
    {"model: resnet20\n  data: 2\n", {}, "config: invalid YAML at line 2, column 7: illegal map value"},
    // Out of range.
    {"globalBatchSize: 0", {}, "globalBatchSize: expected a positive integer, got '0'"},
    {"data: {threads: 3000000000}", {}, "data.threads: expected an integer <= 2147483647, got '3000000000'"},
    {"optimizer: {momentum: 1}", {}, "optimizer.momentum: expected a number in [0, 1), got '1'"},
    {"optimizer: {learningRate: 0}", {}, "optimizer.learningRate: expected a positive number, got '0'"},
    {"optimizer: {weightDecay: -1e-4}", {}, "optimizer.weightDecay: expected a non-negative number, got '-1e-4'"},
    {"labelSmoothing: 1.0", {}, "labelSmoothing: expected a number in [0, 1), got '1.0'"},
    {"data: {imageSize: 4}", {}, "data.imageSize: expected an integer >= 8, got '4'"},
    {"model: resnet50\ndata: {imageSize: 16}", {},
     "data.imageSize: expected an integer >= 32 for resnet50 (it downsamples by 32), got '16'"},
    {"data: {prefetch: 0}", {}, "data.prefetch: expected a positive integer, got '0'"},
    {"checkpoint: {dir: /c, keep: 0}", {}, "checkpoint.keep: expected a positive integer, got '0'"},
    {"eval: {everyEpochs: 0}", {}, "eval.everyEpochs: expected a positive integer, got '0'"},
    {"statusPort: 70000", {}, "statusPort: expected an integer in [0, 65535], got '70000'"},
    {"schedule: {decayEpochs: [30, 20]}", {},
     "schedule.decayEpochs[1]: expected a number greater than 30 (the list must ascend), got '20'"},
    {"schedule: {decayEpochs: [0, 20]}", {}, "schedule.decayEpochs[0]: expected a positive number, got '0'"},
    {"schedule: {decayEpochs: 30}", {},
     "schedule.decayEpochs: expected a list of ascending numbers, each a positive number, got '30'"},
    {"schedule: {decayFactor: 1.5}", {}, "schedule.decayFactor: expected a number in (0, 1], got '1.5'"},
    {"schedule: {warmupEpochs: -1}", {}, "schedule.warmupEpochs: expected a non-negative number, got '-1'"},
    {"seed: -3", {}, "seed: expected a non-negative integer, got '-3'"},
    {"collectiveTimeoutSeconds: -1", {},
     "collectiveTimeoutSeconds: expected a non-negative integer, got '-1'"},
    {"precision: fp16\nlossScale: -8", {}, "lossScale: expected dynamic or a positive number, got '-8'"},
    {"optimizer: {learningRate: .nan}", {}, "optimizer.learningRate: expected a positive number, got '.nan'"},
    // Enumerations.
    {"model: resnet99", {},
     "model: expected one of resnet20, resnet32, resnet44, resnet56, resnet110, resnet18, resnet34, "
     "resnet50, resnet101, resnet152, got 'resnet99'"},
    {"precision: fp64", {}, "precision: expected one of fp32, fp16, bf16, got 'fp64'"},
    {"data: {dataset: mnist}", {},
     "data.dataset: expected one of synthetic, cifar10, fashion-mnist, imagefolder, got 'mnist'"},
    {"dataFormat: nhwc", {}, "dataFormat: expected one of channels_last, channels_first, got 'nhwc'"},
    {"device: gpu", {}, "device: expected one of auto, cpu, cuda, got 'gpu'"},
    {"schedule: {decay: linear}", {}, "schedule.decay: expected one of piecewise, cosine, got 'linear'"},
    // Contradictions.
    {"lossScale: dynamic", {}, "lossScale is only valid with precision: fp16"},
    {"precision: bf16\nlossScale: 128", {}, "lossScale is only valid with precision: fp16"},
    {"lossScaleGrowthInterval: 100", {}, "lossScaleGrowthInterval is only valid with precision: fp16"},
    {"precision: fp16\nlossScale: 128\nlossScaleGrowthInterval: 100", {},
     "lossScaleGrowthInterval is only valid with lossScale: dynamic"},
    {"epochs: 3\nsteps: 100", {}, "epochs and steps are both given; give one of them"},
    {"data: {dataset: synthetic, path: /data}", {}, "data.path is not used with data.dataset: synthetic; remove it"},
    {"data: {dataset: synthetic, slack: true}", {},
     "data.slack: true needs a loaded data set (cifar10, fashion-mnist, imagefolder): synthetic "
     "data is made on the device and has no input pipeline to hold back"},
    {"data: {dataset: cifar10}", {},
     "data.path is required with data.dataset: cifar10 (the folder holding its files)"},
    {"data: {dataset: cifar10, path: /d, classes: 10}", {},
     "data.classes is only valid with data.dataset: synthetic (cifar10 defines its own)"},
    {"optimizer: {momentum: 0, nesterov: true}", {}, "optimizer.nesterov needs optimizer.momentum > 0"},
    {"precision: fp16\ndevice: cpu", {}, "precision fp16 needs device: cuda (the CPU backend computes in fp32)"},
    {"precision: bf16\ndevice: cpu", {}, "precision bf16 needs device: cuda (the CPU backend computes in fp32)"},
    {"schedule: {decay: cosine, decayEpochs: [30]}", {},
     "schedule.decayEpochs is only valid with schedule.decay: piecewise"},
    {"schedule: {decay: cosine, decayFactor: 0.5}", {},
     "schedule.decayFactor is only valid with schedule.decay: piecewise"},
    {"eval: {everyEpochs: 2, skip: true}", {}, "eval.everyEpochs is only valid when eval.skip is false"},
    {"checkpoint: {keep: 5}", {}, "checkpoint.keep needs checkpoint.dir (checkpoints are off without it)"},
    {"checkpoint: {dir: /c, everyEpochs: 2}", {"checkpoint.dir="},
     "checkpoint.everyEpochs needs checkpoint.dir (checkpoints are off without it)"},
};

// Failures then show the YAML, not the struct's bytes.
void PrintTo(const BadConfig& bad, std::ostream* out) { *out << '"' << bad.yaml << '"'; }

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, IsRefusedWithItsMessage) {
  const BadConfig& bad = GetParam();
  try {
    parse_config(bad.yaml, bad.overrides);
    FAIL() << "accepted: " << bad.yaml;
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), bad.message) << "config: " << bad.yaml;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfigTest, ::testing::ValuesIn(kBadConfigs));

}  // namespace
}  // namespace kubetrain
