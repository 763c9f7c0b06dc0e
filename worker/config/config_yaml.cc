// to_yaml: the effective config, printed in the schema's own keys so that it parses back to the
// same WorkerConfig. Keys that a setting makes invalid (steps with epochs, data.path with synthetic
// data, ...) are left out rather than printed with their unused defaults.

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "worker/config/config.h"

namespace kubetrain {
namespace {

// The shortest text that reads back as the same double (yaml-cpp would print 0.10000000000000001).
std::string shortest(double value) {
  char text[32];
  auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

std::string_view device_name(DeviceChoice device) {
  switch (device) {
    case DeviceChoice::kCpu: return "cpu";
    case DeviceChoice::kCuda: return "cuda";
    case DeviceChoice::kAuto: return "auto";
  }
  return "auto";
}

void emit_data(YAML::Emitter& out, const DataConfig& data) {
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dataset" << YAML::Value << data.dataset;
  if (data.dataset != "synthetic") out << YAML::Key << "path" << YAML::Value << data.path;
  out << YAML::Key << "imageSize" << YAML::Value << data.image_size;
  out << YAML::Key << "augment" << YAML::Value << data.augment;
  out << YAML::Key << "threads" << YAML::Value << data.threads;
  out << YAML::Key << "prefetch" << YAML::Value << data.prefetch;
  if (data.dataset != "synthetic") out << YAML::Key << "slack" << YAML::Value << data.slack;
  out << YAML::Key << "trainExamples" << YAML::Value << data.train_examples;
  out << YAML::Key << "validationExamples" << YAML::Value << data.validation_examples;
  if (data.dataset == "synthetic") {
    out << YAML::Key << "syntheticExamples" << YAML::Value << data.synthetic_examples;
    if (data.classes != 0) out << YAML::Key << "classes" << YAML::Value << data.classes;
  }
  out << YAML::EndMap;
}

void emit_optimizer(YAML::Emitter& out, const OptimizerConfig& optimizer) {
  out << YAML::Key << "optimizer" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "learningRate" << YAML::Value << shortest(optimizer.learning_rate);
  out << YAML::Key << "baseBatchSize" << YAML::Value << optimizer.base_batch_size;
  out << YAML::Key << "momentum" << YAML::Value << shortest(optimizer.momentum);
  out << YAML::Key << "weightDecay" << YAML::Value << shortest(optimizer.weight_decay);
  out << YAML::Key << "nesterov" << YAML::Value << optimizer.nesterov;
  out << YAML::EndMap;
}

void emit_schedule(YAML::Emitter& out, const ScheduleConfig& schedule) {
  out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "warmupEpochs" << YAML::Value << shortest(schedule.warmup_epochs);
  const bool piecewise = schedule.decay == DecayKind::kPiecewise;
  out << YAML::Key << "decay" << YAML::Value << (piecewise ? "piecewise" : "cosine");
  if (piecewise) {
    out << YAML::Key << "decayEpochs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (double epoch : schedule.decay_epochs) out << shortest(epoch);
    out << YAML::EndSeq;
    out << YAML::Key << "decayFactor" << YAML::Value << shortest(schedule.decay_factor);
  }
  out << YAML::EndMap;
}

void emit_precision(YAML::Emitter& out, const WorkerConfig& config) {
  out << YAML::Key << "precision" << YAML::Value << std::string(to_string(config.precision));
  if (!config.loss_scale) return;
  const LossScaleConfig& scale = *config.loss_scale;
  out << YAML::Key << "lossScale" << YAML::Value
      << (scale.dynamic ? std::string("dynamic") : shortest(scale.value));
  if (scale.dynamic)
    out << YAML::Key << "lossScaleGrowthInterval" << YAML::Value << scale.growth_interval;
}

void emit_eval_and_checkpoint(YAML::Emitter& out, const WorkerConfig& config) {
  out << YAML::Key << "eval" << YAML::Value << YAML::BeginMap;
  if (!config.eval.skip) out << YAML::Key << "everyEpochs" << YAML::Value << config.eval.every_epochs;
  out << YAML::Key << "skip" << YAML::Value << config.eval.skip;
  out << YAML::EndMap;
  out << YAML::Key << "checkpoint" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dir" << YAML::Value << config.checkpoint.dir;
  if (!config.checkpoint.dir.empty()) {
    out << YAML::Key << "everyEpochs" << YAML::Value << config.checkpoint.every_epochs;
    out << YAML::Key << "keep" << YAML::Value << config.checkpoint.keep;
  }
  out << YAML::EndMap;
}

}  // namespace

std::string to_yaml(const WorkerConfig& config) {
  YAML::Emitter out;
  out.SetBoolFormat(YAML::TrueFalseBool);
  out << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << config.model;
  emit_data(out, config.data);
  out << YAML::Key << "globalBatchSize" << YAML::Value << config.global_batch_size;
  if (config.steps > 0)
    out << YAML::Key << "steps" << YAML::Value << config.steps;
  else
    out << YAML::Key << "epochs" << YAML::Value << config.epochs;
  emit_optimizer(out, config.optimizer);
  emit_schedule(out, config.schedule);
  out << YAML::Key << "labelSmoothing" << YAML::Value << shortest(config.label_smoothing);
  emit_precision(out, config);
  out << YAML::Key << "dataFormat" << YAML::Value << std::string(to_string(config.data_format));
  out << YAML::Key << "device" << YAML::Value << std::string(device_name(config.device));
  out << YAML::Key << "allowTf32" << YAML::Value << config.allow_tf32;
  out << YAML::Key << "cudaGraphs" << YAML::Value << config.cuda_graphs;
  out << YAML::Key << "collectiveTimeoutSeconds" << YAML::Value
      << config.collective_timeout_seconds;
  emit_eval_and_checkpoint(out, config);
  out << YAML::Key << "benchmark" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "warmupSteps" << YAML::Value << config.benchmark.warmup_steps;
  out << YAML::Key << "steps" << YAML::Value << config.benchmark.steps;
  out << YAML::EndMap;
  out << YAML::Key << "seed" << YAML::Value << config.seed;
  out << YAML::Key << "statusPort" << YAML::Value << config.status_port;
  out << YAML::Key << "logEverySteps" << YAML::Value << config.log_every_steps;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace kubetrain
