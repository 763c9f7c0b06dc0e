// parse_config and load_config: the schema of the worker's YAML config, its value ranges and the
// combinations of settings that contradict each other.

#include <cerrno>
#include <cfloat>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "worker/config/config.h"
#include "worker/config/config_overrides.h"
#include "worker/config/config_section.h"
#include "worker/config/model_names.h"

namespace kubetrain {
namespace {

const std::vector<std::string_view> kTopKeys = {
    "model",     "data",          "globalBatchSize", "epochs",    "steps",
    "optimizer", "schedule",      "labelSmoothing",  "precision", "lossScale",
    "lossScaleGrowthInterval",    "dataFormat",      "device",    "allowTf32",
    "cudaGraphs", "collectiveTimeoutSeconds",        "eval",      "checkpoint",
    "benchmark",  "seed",         "statusPort",      "logEverySteps"};
const std::vector<std::string_view> kDataKeys = {
    "dataset",  "path",          "imageSize",          "augment",           "threads",
    "prefetch", "slack",         "trainExamples",      "validationExamples", "syntheticExamples",
    "classes"};
const std::vector<std::string_view> kOptimizerKeys = {"learningRate", "baseBatchSize", "momentum",
                                                      "weightDecay", "nesterov"};
const std::vector<std::string_view> kScheduleKeys = {"warmupEpochs", "decay", "decayEpochs",
                                                     "decayFactor"};
const std::vector<std::string_view> kEvalKeys = {"everyEpochs", "skip"};
const std::vector<std::string_view> kCheckpointKeys = {"dir", "everyEpochs", "keep"};
const std::vector<std::string_view> kBenchmarkKeys = {"warmupSteps", "steps"};

const std::vector<std::string_view> kDatasets = {"synthetic", "cifar10", "fashion-mnist", "imagefolder"};
const std::vector<std::string_view> kPrecisions = {"fp32", "fp16", "bf16"};
const std::vector<std::string_view> kDataFormats = {"channels_last", "channels_first"};
const std::vector<std::string_view> kDevices = {"auto", "cpu", "cuda"};
const std::vector<std::string_view> kDecays = {"piecewise", "cosine"};

constexpr NumberRange kPositive{};
constexpr NumberRange kNonNegative{0, true};
constexpr NumberRange kUnitInterval{0, true, 1, false};  // [0, 1)
constexpr IntRange kNonNegativeInt{0};
constexpr IntRange kPositiveInt{1};

DataConfig read_data(const ConfigSection& section, const std::string& model) {
  DataConfig data;
  if (auto dataset = section.choice("dataset", kDatasets)) data.dataset = *dataset;
  section.read("path", data.path);
  section.read("imageSize", data.image_size, IntRange{8});
  section.read("augment", data.augment);
  section.read("threads", data.threads, kPositiveInt);
  section.read("prefetch", data.prefetch, kPositiveInt);
  section.read("slack", data.slack);
  section.read("trainExamples", data.train_examples, kNonNegativeInt);
  section.read("validationExamples", data.validation_examples, kNonNegativeInt);
  section.read("syntheticExamples", data.synthetic_examples, kPositiveInt);
  section.read("classes", data.classes, IntRange{2});

  if (data.dataset == "synthetic") {
    if (section.has("path"))
      throw ConfigError("data.path is not used with data.dataset: synthetic; remove it");
    if (data.slack)
      throw ConfigError("data.slack: true needs a loaded data set (cifar10, fashion-mnist, "
                        "imagefolder): synthetic data is made on the device and has no input "
                        "pipeline to hold back");
  } else {
    if (data.path.empty())
      throw ConfigError("data.path is required with data.dataset: " + data.dataset +
                        " (the folder holding its files)");
    for (std::string_view key : {"syntheticExamples", "classes"})
      if (section.has(key))
        throw ConfigError(section.path_of(key) + " is only valid with data.dataset: synthetic (" +
                          data.dataset + " defines its own)");
  }
  if (is_imagenet_style(model) && data.image_size < 32)
    throw_expected("data.imageSize", "an integer >= 32 for " + model + " (it downsamples by 32)",
                   "'" + std::to_string(data.image_size) + "'");
  return data;
}

OptimizerConfig read_optimizer(const ConfigSection& section) {
  OptimizerConfig optimizer;
  section.read("learningRate", optimizer.learning_rate, kPositive);
  section.read("baseBatchSize", optimizer.base_batch_size, kPositiveInt);
  section.read("momentum", optimizer.momentum, kUnitInterval);
  section.read("weightDecay", optimizer.weight_decay, kNonNegative);
  section.read("nesterov", optimizer.nesterov);
  if (optimizer.nesterov && optimizer.momentum == 0)
    throw ConfigError("optimizer.nesterov needs optimizer.momentum > 0");
  return optimizer;
}

ScheduleConfig read_schedule(const ConfigSection& section) {
  ScheduleConfig schedule;
  section.read("warmupEpochs", schedule.warmup_epochs, kNonNegative);
  if (auto decay = section.choice("decay", kDecays))
    schedule.decay = *decay == "cosine" ? DecayKind::kCosine : DecayKind::kPiecewise;
  if (auto epochs = section.ascending_numbers("decayEpochs", kPositive)) schedule.decay_epochs = *epochs;
  section.read("decayFactor", schedule.decay_factor, NumberRange{0, false, 1, true});
  if (schedule.decay == DecayKind::kCosine)
    for (std::string_view key : {"decayEpochs", "decayFactor"})
      if (section.has(key))
        throw ConfigError(section.path_of(key) + " is only valid with schedule.decay: piecewise");
  return schedule;
}

DataType read_precision(const ConfigSection& top) {
  const std::string precision = top.choice("precision", kPrecisions).value_or("fp32");
  if (precision == "fp16") return DataType::kFloat16;
  if (precision == "bf16") return DataType::kBFloat16;
  return DataType::kFloat32;
}

// lossScale and lossScaleGrowthInterval: fp16 only, dynamic by default there.
std::optional<LossScaleConfig> read_loss_scale(const ConfigSection& top, DataType precision) {
  if (precision != DataType::kFloat16) {
    for (std::string_view key : {"lossScale", "lossScaleGrowthInterval"})
      if (top.has(key)) throw ConfigError(std::string(key) + " is only valid with precision: fp16");
    return std::nullopt;
  }
  LossScaleConfig scale;
  const std::string what = "dynamic or a positive number";
  if (auto text = top.scalar("lossScale", what); text && *text != "dynamic") {
    auto value = parse_number(*text);
    if (!value || *value <= 0 || *value > FLT_MAX) throw_expected("lossScale", what, "'" + *text + "'");
    scale.dynamic = false;
    scale.value = static_cast<float>(*value);
  }
  top.read("lossScaleGrowthInterval", scale.growth_interval, kPositiveInt);
  if (!scale.dynamic && top.has("lossScaleGrowthInterval"))
    throw ConfigError("lossScaleGrowthInterval is only valid with lossScale: dynamic");
  return scale;
}

DeviceChoice read_device(const ConfigSection& top) {
  const std::string device = top.choice("device", kDevices).value_or("auto");
  return device == "cpu" ? DeviceChoice::kCpu : device == "cuda" ? DeviceChoice::kCuda : DeviceChoice::kAuto;
}

EvalConfig read_eval(const ConfigSection& section) {
  EvalConfig eval;
  section.read("everyEpochs", eval.every_epochs, kPositiveInt);
  section.read("skip", eval.skip);
  if (eval.skip && section.has("everyEpochs"))
    throw ConfigError("eval.everyEpochs is only valid when eval.skip is false");
  return eval;
}

CheckpointConfig read_checkpoint(const ConfigSection& section) {
  CheckpointConfig checkpoint;
  section.read("dir", checkpoint.dir);
  section.read("everyEpochs", checkpoint.every_epochs, kPositiveInt);
  section.read("keep", checkpoint.keep, kPositiveInt);
  if (checkpoint.dir.empty())
    for (std::string_view key : {"everyEpochs", "keep"})
      if (section.has(key))
        throw ConfigError(section.path_of(key) + " needs checkpoint.dir (checkpoints are off without it)");
  return checkpoint;
}

BenchmarkConfig read_benchmark(const ConfigSection& section) {
  BenchmarkConfig benchmark;
  section.read("warmupSteps", benchmark.warmup_steps, kNonNegativeInt);
  section.read("steps", benchmark.steps, kPositiveInt);
  return benchmark;
}

WorkerConfig read_config(const YAML::Node& root) {
  const ConfigSection top(root, "", kTopKeys);
  WorkerConfig config;
  if (auto model = top.choice("model", model_names())) config.model = *model;
  config.data = read_data(top.section("data", kDataKeys), config.model);
  top.read("globalBatchSize", config.global_batch_size, kPositiveInt);
  top.read("epochs", config.epochs, kPositiveInt);
  top.read("steps", config.steps, kPositiveInt);
  if (top.has("epochs") && top.has("steps"))
    throw ConfigError("epochs and steps are both given; give one of them");
  config.optimizer = read_optimizer(top.section("optimizer", kOptimizerKeys));
  config.schedule = read_schedule(top.section("schedule", kScheduleKeys));
  top.read("labelSmoothing", config.label_smoothing, kUnitInterval);
  config.precision = read_precision(top);
  config.loss_scale = read_loss_scale(top, config.precision);
  if (auto format = top.choice("dataFormat", kDataFormats))
    config.data_format = *format == "channels_first" ? MemoryFormat::kChannelsFirst : MemoryFormat::kChannelsLast;
  config.device = read_device(top);
  if (config.device == DeviceChoice::kCpu && config.precision != DataType::kFloat32)
    throw ConfigError("precision " + std::string(to_string(config.precision)) +
                      " needs device: cuda (the CPU backend computes in fp32)");
  top.read("allowTf32", config.allow_tf32);
  top.read("cudaGraphs", config.cuda_graphs);
  top.read("collectiveTimeoutSeconds", config.collective_timeout_seconds, kNonNegativeInt);
  config.eval = read_eval(top.section("eval", kEvalKeys));
  config.checkpoint = read_checkpoint(top.section("checkpoint", kCheckpointKeys));
  config.benchmark = read_benchmark(top.section("benchmark", kBenchmarkKeys));
  top.read("seed", config.seed, kNonNegativeInt);
  top.read("statusPort", config.status_port, IntRange{0, 65535});
  top.read("logEverySteps", config.log_every_steps, kPositiveInt);
  return config;
}

WorkerConfig parse_named(const std::string& yaml_text, const std::vector<std::string>& overrides,
                         const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw ConfigError(source + ": invalid YAML at line " + std::to_string(error.mark.line + 1) +
                      ", column " + std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
  for (const std::string& assignment : overrides) apply_override(root, assignment);
  return read_config(root);
}

}  // namespace

WorkerConfig parse_config(const std::string& yaml_text, const std::vector<std::string>& overrides) {
  return parse_named(yaml_text, overrides, "config");
}

WorkerConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (std::filesystem::is_directory(path))
    throw ConfigError("cannot read config file " + path + ": it is a directory");
  std::ifstream file(path);
  if (!file) throw ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) throw ConfigError("cannot read config file " + path + ": " + std::strerror(errno));
  return parse_named(text.str(), overrides, path);
}

}  // namespace kubetrain
