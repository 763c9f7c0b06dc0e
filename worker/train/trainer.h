#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "worker/backend/backend.h"
#include "worker/config/config.h"
#include "worker/data/dataset.h"
#include "worker/dist/collective_watchdog.h"
#include "worker/dist/communicator.h"
#include "worker/dist/gradient_reducer.h"
#include "worker/dist/shard_plan.h"
#include "worker/model/model.h"
#include "worker/train/device_batches.h"
#include "worker/train/learning_rate_schedule.h"
#include "worker/train/loss_scaler.h"
#include "worker/train/step_graph.h"
#include "worker/train/training_checkpoints.h"
#include "worker/train/training_progress.h"

namespace kubetrain {

// What a run ends with; rank 0 prints it as one JSON line.
struct TrainingSummary {
  double top1 = -1;               // final evaluation accuracy; -1 when evaluation was skipped
  double images_per_second = 0;   // global, mean over training time after the first log window
  double wall_seconds = 0;
  int64_t steps = 0;
  int64_t epochs = 0;
  double final_loss = 0;
  int64_t skipped_steps = 0;
  float loss_scale = 1;
  uint32_t weights_checksum = 0;  // CRC-32 of the final weights, verified equal on every rank
  int64_t graph_steps = 0;        // steps whose gradients were replayed from a CUDA graph
};

std::string to_json_line(const TrainingSummary& summary, const WorkerConfig& config,
                         int world_size, const std::string& device);

// Data-parallel training of one model on one rank: every rank runs this with its own shard of
// every global batch, the gradients averaged across ranks after each backward pass.
class Trainer {
 public:
  // `benchmark`: benchmark.warmupSteps + benchmark.steps steps, no evaluation or checkpoints,
  // throughput over the timed steps only.
  Trainer(const WorkerConfig& config, Communicator& communicator, Backend& backend,
          DatasetPair datasets, TrainingProgress& progress, bool benchmark);
  ~Trainer();

  TrainingSummary run();

  // For tests: the model and the number of steps in an epoch.
  Model& model() { return *model_; }
  int64_t steps_per_epoch() const { return plan_->steps_per_epoch(); }

 private:
  // Forward, backward and the gradients' average across ranks, replayed from a CUDA graph when
  // one is in use.
  void compute_gradients(const DeviceBatch& batch, float loss_scale);
  // The loss-scale check and the SGD update of `step`, once its gradients are queued.
  void apply_gradients(int64_t step);
  double evaluate();
  void log_window(int64_t epoch, int64_t step, double seconds, int64_t steps_in_window);
  void draw_progress_bar(int64_t epoch, int64_t step_in_epoch) const;

  const WorkerConfig& config_;
  Communicator& communicator_;
  Backend& backend_;
  DatasetPair datasets_;
  TrainingProgress& progress_;
  bool benchmark_;
  bool rank0_;
  bool progress_bar_;

  std::unique_ptr<Model> model_;
  std::unique_ptr<GradientReducer> reducer_;
  // Ends the rank when it waits too long on a collective. Its health check reads reducer_, so
  // ~Trainer stops that check before it destroys the reducer.
  std::unique_ptr<CollectiveWatchdog> watchdog_;
  std::unique_ptr<ShardPlan> plan_;
  std::unique_ptr<LearningRateSchedule> schedule_;
  LossScaler scaler_;
  std::unique_ptr<DeviceBatches> train_batches_;
  std::unique_ptr<DeviceBatches> eval_batches_;
  std::unique_ptr<DeviceBuffer> loss_;          // fp32 scalar on the device
  std::unique_ptr<DeviceBuffer> eval_logits_;   // fp32 copy of the logits, evaluation only
  std::unique_ptr<TrainingCheckpoints> checkpoints_;
  std::unique_ptr<StepGraph> step_graph_;  // GPUs with cudaGraphs only
  std::optional<uint64_t> previous_step_end_;  // stream point after the last step queued
  int64_t total_steps_ = 0;
  int64_t total_epochs_ = 0;
  int classes_ = 10;
  double last_loss_ = 0;
  double last_learning_rate_ = 0;
  double last_top1_ = -1;
};

}  // namespace kubetrain
