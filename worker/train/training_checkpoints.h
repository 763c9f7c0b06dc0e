#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "worker/config/config.h"
#include "worker/model/model.h"
#include "worker/train/checkpoint_directory.h"

namespace kubetrain {

// Where a run stands; saved with every checkpoint so a resumed run continues exactly.
struct TrainingPosition {
  int64_t epochs_done = 0;
  int64_t step = 0;
  float loss_scale = 1.0f;
  int64_t good_steps = 0;
};

// Rank 0's view of checkpoint.dir: the model's weights and BatchNorm statistics under torchvision's
// names, the optimizer's momentum, and the position, in one safetensors file per save.
class TrainingCheckpoints {
 public:
  TrainingCheckpoints(const WorkerConfig& config, Model& model);

  std::string save(const TrainingPosition& position);
  // Loads the newest valid checkpoint into the model; nullopt when there is none. A checkpoint of
  // another model or memory format is an error naming the file.
  std::optional<TrainingPosition> restore();

 private:
  const WorkerConfig& config_;
  Model& model_;
  CheckpointDirectory directory_;
};

}  // namespace kubetrain
