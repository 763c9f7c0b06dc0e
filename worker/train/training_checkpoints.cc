#include "worker/train/training_checkpoints.h"

#include <spdlog/spdlog.h>

#include "worker/model/model_state.h"

namespace kubetrain {
namespace {

// A number from the checkpoint's metadata; a missing or malformed one names the file and key.
template <typename Number>
Number metadata_number(const CheckpointDirectory::Loaded& loaded, const std::string& key) {
  const auto found = loaded.file.metadata.find(key);
  if (found == loaded.file.metadata.end()) {
    throw CheckpointError(loaded.path + ": metadata has no '" + key + "'");
  }
  try {
    size_t used = 0;
    const double value = std::stod(found->second, &used);
    if (used == found->second.size()) return static_cast<Number>(value);
  } catch (const std::exception&) {
  }
  throw CheckpointError(loaded.path + ": metadata '" + key + "' is not a number: '" +
                        found->second + "'");
}

}  // namespace

TrainingCheckpoints::TrainingCheckpoints(const WorkerConfig& config, Model& model)
    : config_(config),
      model_(model),
      directory_(config.checkpoint.dir, config.checkpoint.keep) {}

std::string TrainingCheckpoints::save(const TrainingPosition& position) {
  TensorFile file;
  file.metadata = {{"format", "kubetrain"},
                   {"model", config_.model},
                   {"epochsDone", std::to_string(position.epochs_done)},
                   {"step", std::to_string(position.step)},
                   {"lossScale", std::to_string(position.loss_scale)},
                   {"goodSteps", std::to_string(position.good_steps)},
                   {"globalBatchSize", std::to_string(config_.global_batch_size)},
                   {"seed", std::to_string(config_.seed)}};
  save_model_state(model_, position.step, file);
  save_optimizer_momentum(model_, file);
  return directory_.save(position.step, file);
}

std::optional<TrainingPosition> TrainingCheckpoints::restore() {
  auto loaded = directory_.load_newest_valid();
  if (!loaded) return std::nullopt;
  const auto model = loaded->file.metadata.find("model");
  if (model == loaded->file.metadata.end() || model->second != config_.model) {
    throw CheckpointError(loaded->path + ": holds model '" +
                          (model == loaded->file.metadata.end() ? "?" : model->second) +
                          "', the config asks for '" + config_.model +
                          "'; point checkpoint.dir at an empty folder to start afresh");
  }
  load_model_state(model_, loaded->file);
  load_optimizer_momentum(model_, loaded->file);
  TrainingPosition position;
  position.epochs_done = metadata_number<int64_t>(*loaded, "epochsDone");
  position.step = metadata_number<int64_t>(*loaded, "step");
  position.good_steps = metadata_number<int64_t>(*loaded, "goodSteps");
  position.loss_scale = metadata_number<float>(*loaded, "lossScale");
  spdlog::info("resuming from {} (epoch {} done, step {})", loaded->path, position.epochs_done,
               position.step);
  return position;
}

}  // namespace kubetrain
