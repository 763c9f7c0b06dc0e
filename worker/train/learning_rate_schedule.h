#pragma once

#include <cstdint>

#include "worker/config/config.h"

namespace kubetrain {

// The learning rate at every step: the base rate scaled linearly with globalBatchSize /
// baseBatchSize (Goyal et al.), a linear warmup per step over warmupEpochs, then piecewise decay
// at decayEpochs or a cosine decay to zero at the last step.
class LearningRateSchedule {
 public:
  LearningRateSchedule(const OptimizerConfig& optimizer, const ScheduleConfig& schedule,
                       int64_t global_batch, int64_t steps_per_epoch, int64_t total_steps);

  double peak() const { return peak_; }
  double at(int64_t step) const;

 private:
  ScheduleConfig schedule_;
  double peak_;
  int64_t steps_per_epoch_;
  int64_t total_steps_;
  int64_t warmup_steps_;
};

}  // namespace kubetrain
