#include "worker/train/learning_rate_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kubetrain {

LearningRateSchedule::LearningRateSchedule(const OptimizerConfig& optimizer,
                                           const ScheduleConfig& schedule, int64_t global_batch,
                                           int64_t steps_per_epoch, int64_t total_steps)
    : schedule_(schedule),
      peak_(optimizer.learning_rate * static_cast<double>(global_batch) /
            static_cast<double>(optimizer.base_batch_size)),
      steps_per_epoch_(std::max<int64_t>(1, steps_per_epoch)),
      total_steps_(std::max<int64_t>(1, total_steps)),
      warmup_steps_(static_cast<int64_t>(
          std::llround(schedule.warmup_epochs * static_cast<double>(steps_per_epoch_)))) {}

double LearningRateSchedule::at(int64_t step) const {
  if (step < warmup_steps_) {
    return peak_ * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  }
  if (schedule_.decay == DecayKind::kCosine) {
    const double span = static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup_steps_));
    const double done = static_cast<double>(step - warmup_steps_) / span;
    return peak_ * 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(1.0, done)));
  }
  const double epoch = static_cast<double>(step) / static_cast<double>(steps_per_epoch_);
  const auto passed = std::count_if(schedule_.decay_epochs.begin(), schedule_.decay_epochs.end(),
                                    [epoch](double boundary) { return epoch >= boundary; });
  return peak_ * std::pow(schedule_.decay_factor, static_cast<double>(passed));
}

}  // namespace kubetrain
