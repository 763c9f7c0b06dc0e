#include "worker/train/training_progress.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace kubetrain {

void TrainingProgress::update(const ProgressSnapshot& snapshot) {
  std::lock_guard lock(mutex_);
  snapshot_ = snapshot;
}

ProgressSnapshot TrainingProgress::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void TrainingProgress::set_state(const std::string& state) {
  std::lock_guard lock(mutex_);
  snapshot_.state = state;
}

std::string TrainingProgress::to_json() const {
  const auto s = snapshot();
  nlohmann::json body = {{"state", s.state},
                         {"epoch", s.epoch},
                         {"step", s.step},
                         {"totalSteps", s.total_steps},
                         {"loss", s.loss},
                         {"imagesPerSecond", s.images_per_second},
                         {"learningRate", s.learning_rate},
                         {"lossScale", s.loss_scale},
                         {"skippedSteps", s.skipped_steps},
                         {"worldSize", s.world_size}};
  body["top1"] = s.top1 < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.top1);
  return body.dump();
}

std::string TrainingProgress::to_prometheus() const {
  const auto s = snapshot();
  std::ostringstream out;
  const auto gauge = [&out](const char* name, const char* help, double value) {
    out << "# HELP kubetrain_worker_" << name << ' ' << help << '\n'
        << "# TYPE kubetrain_worker_" << name << " gauge\n"
        << "kubetrain_worker_" << name << ' ' << value << '\n';
  };
  gauge("epoch", "Epoch being trained (1-based).", static_cast<double>(s.epoch));
  gauge("step", "Global training steps done.", static_cast<double>(s.step));
  gauge("total_steps", "Training steps planned.", static_cast<double>(s.total_steps));
  gauge("loss", "Training loss at the last logged step.", s.loss);
  gauge("images_per_second", "Global training throughput over the last log window.",
        s.images_per_second);
  gauge("learning_rate", "Current learning rate.", s.learning_rate);
  gauge("loss_scale", "Current fp16 loss scale (1 without fp16).", s.loss_scale);
  gauge("skipped_steps", "Steps skipped by dynamic loss scaling.",
        static_cast<double>(s.skipped_steps));
  gauge("world_size", "MPI ranks in the job.", static_cast<double>(s.world_size));
  if (s.top1 >= 0) gauge("top1", "Top-1 accuracy of the last evaluation.", s.top1);
  return out.str();
}

}  // namespace kubetrain
