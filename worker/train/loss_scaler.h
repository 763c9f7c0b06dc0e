#pragma once

#include <cstdint>
#include <optional>

#include "worker/config/config.h"

namespace kubetrain {

// Loss scaling for fp16 (Micikevicius et al.): the loss is multiplied by scale() before the
// backward pass so small gradients survive fp16, and the gradients divided by it before the update.
// A static scale never changes. A dynamic one skips every step whose gradients hold an inf or NaN
// and halves, and doubles after growth_interval good steps in a row. Without fp16 the scale is 1.
class LossScaler {
 public:
  explicit LossScaler(const std::optional<LossScaleConfig>& config);

  float scale() const { return scale_; }
  bool dynamic() const { return dynamic_; }
  int64_t good_steps() const { return good_steps_; }
  int64_t skipped_steps() const { return skipped_steps_; }

  // Records the outcome of a step; returns whether its update is to be applied.
  bool update(bool gradients_finite);

  // Checkpointed state.
  void restore(float scale, int64_t good_steps);

 private:
  bool dynamic_ = false;
  float scale_ = 1.0f;
  int64_t growth_interval_ = 0;
  int64_t good_steps_ = 0;
  int64_t skipped_steps_ = 0;
};

}  // namespace kubetrain
