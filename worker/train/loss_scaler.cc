#include "worker/train/loss_scaler.h"

#include <algorithm>

namespace kubetrain {

LossScaler::LossScaler(const std::optional<LossScaleConfig>& config) {
  if (!config) return;
  dynamic_ = config->dynamic;
  scale_ = config->value;
  growth_interval_ = config->growth_interval;
}

bool LossScaler::update(bool gradients_finite) {
  if (!dynamic_) return true;
  if (!gradients_finite) {
    // The smallest scale is 1: below it the scaled loss would lose precision instead of gaining.
    scale_ = std::max(1.0f, scale_ * 0.5f);
    good_steps_ = 0;
    ++skipped_steps_;
    return false;
  }
  if (++good_steps_ >= growth_interval_) {
    scale_ *= 2.0f;
    good_steps_ = 0;
  }
  return true;
}

void LossScaler::restore(float scale, int64_t good_steps) {
  scale_ = scale;
  good_steps_ = good_steps;
}

}  // namespace kubetrain
