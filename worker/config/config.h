#pragma once

// The worker's configuration: one schema, read from YAML (camelCase keys, listed beside each field)
// and used verbatim as TrainingJob.spec.training. Every key is documented in README.md.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker/backend/tensor.h"

namespace kubetrain {

enum class DeviceChoice { kAuto, kCpu, kCuda };

struct DataConfig {
  std::string dataset = "synthetic";  // dataset: synthetic | cifar10 | fashion-mnist | imagefolder
  std::string path;                   // path: folder holding the files (not for synthetic)
  int image_size = 32;                // imageSize: side of the square images the model sees
  bool augment = true;                // augment: pad + random crop + horizontal flip in training
  int threads = 2;                    // threads: decode/augment threads per rank
  int prefetch = 2;                   // prefetch: batches prepared ahead
  bool slack = false;                 // slack: tf.data's prefetch slack (loaded data sets only)
  int64_t train_examples = 0;         // trainExamples: use only the first N (0: all)
  int64_t validation_examples = 0;    // validationExamples: likewise for evaluation
  int64_t synthetic_examples = 1281167;  // syntheticExamples: epoch size of synthetic data
  int classes = 0;                    // classes: synthetic only (0: 10, or 1000 for resnet18+)
};

struct OptimizerConfig {
  double learning_rate = 0.1;   // learningRate: for baseBatchSize; scaled by globalBatchSize/baseBatchSize
  int64_t base_batch_size = 256;  // baseBatchSize
  double momentum = 0.9;        // momentum
  double weight_decay = 1e-4;   // weightDecay: not applied to BatchNorm parameters and biases
  bool nesterov = false;        // nesterov
};

enum class DecayKind { kPiecewise, kCosine };

struct ScheduleConfig {
  double warmup_epochs = 0;               // warmupEpochs: linear warmup, per step
  DecayKind decay = DecayKind::kPiecewise;  // decay: piecewise | cosine
  std::vector<double> decay_epochs;       // decayEpochs: piecewise boundaries
  double decay_factor = 0.1;              // decayFactor: multiplier at each boundary
};

struct LossScaleConfig {
  bool dynamic = true;            // lossScale: dynamic | a number (fp16 only)
  float value = 65536.0f;         // the static scale, or the dynamic scale's initial value
  int64_t growth_interval = 2000; // lossScaleGrowthInterval: good steps before the scale doubles
};

struct EvalConfig {
  int every_epochs = 1;  // eval.everyEpochs
  bool skip = false;     // eval.skip: no evaluation at all, and nothing allocated for it
};

struct CheckpointConfig {
  std::string dir;       // checkpoint.dir: empty disables checkpoints
  int every_epochs = 1;  // checkpoint.everyEpochs
  int keep = 3;          // checkpoint.keep: newest N kept
};

struct BenchmarkConfig {
  int64_t warmup_steps = 10;  // benchmark.warmupSteps: not timed
  int64_t steps = 50;         // benchmark.steps: timed
};

struct WorkerConfig {
  std::string model = "resnet20";  // model
  DataConfig data;                 // data
  int64_t global_batch_size = 256; // globalBatchSize: across all ranks
  int64_t epochs = 1;              // epochs (exclusive with steps)
  int64_t steps = 0;               // steps: total training steps, overrides epochs when > 0
  OptimizerConfig optimizer;       // optimizer
  ScheduleConfig schedule;         // schedule
  double label_smoothing = 0.0;    // labelSmoothing
  DataType precision = DataType::kFloat32;  // precision: fp32 | fp16 | bf16
  std::optional<LossScaleConfig> loss_scale;  // lossScale (+ lossScaleGrowthInterval); fp16 only
  MemoryFormat data_format = MemoryFormat::kChannelsLast;  // dataFormat
  DeviceChoice device = DeviceChoice::kAuto;  // device: auto | cpu | cuda
  bool allow_tf32 = true;          // allowTf32: TF32 tensor cores for fp32 on GPUs
  bool cuda_graphs = true;         // cudaGraphs: replay the training step as a CUDA graph
  // collectiveTimeoutSeconds: a rank that waits this long in a collective (the gradient allreduce,
  // the GPU stream that runs it, an MPI call around training) ends itself, so that the job
  // restarts; 0 waits forever.
  int64_t collective_timeout_seconds = 600;
  EvalConfig eval;                 // eval
  CheckpointConfig checkpoint;     // checkpoint
  BenchmarkConfig benchmark;       // benchmark (used with --benchmark)
  uint64_t seed = 1;               // seed
  int status_port = 9400;          // statusPort: /metrics and /progress on rank 0 (0 disables)
  int64_t log_every_steps = 50;    // logEverySteps
};

// Thrown for any invalid configuration; what() names the field (dotted path) and what is valid.
// The worker exits with code 2 on it.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses and validates YAML text. `overrides` are "a.b.c=value" strings (from --set) applied to the
// YAML tree before validation; their values are parsed as YAML scalars or flow collections.
WorkerConfig parse_config(const std::string& yaml_text,
                          const std::vector<std::string>& overrides = {});
// Reads the file, then parse_config; a missing or unreadable file is a ConfigError naming it, and
// YAML syntax errors name the file instead of "config".
WorkerConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The effective config as YAML in the schema's keys (for the startup log and --validate). It parses
// back to the same WorkerConfig; keys the other settings make invalid are left out.
std::string to_yaml(const WorkerConfig& config);

}  // namespace kubetrain
